"""Tower, one customer request: the request, its thread and its choices as the page's rows."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from portal_app.components.document_upload import fmt_size
from portal_app.components.formatting import fmt_local
from portal_app.components.ops import (
    SEVERITY_LABELS,
    STATUS_LABELS,
    timer_view,
)
from portal_app.services import exceptions as exc_svc
from portal_app.services import requests as svc
from portal_app.services import words
from portal_app.tower.choices import Option
from portal_app.ui import routes

UPLOAD_ID = "reply-files"
BODY_ID = "reply-body"
CANNED_ID = "reply-canned"
NOTHING_SAVED = "Nothing was saved."
NOTHING_SENT = "Nothing was sent."
NOTE_BACKGROUND = "var(--portal-note)"  # internal notes: light amber behind dark text (AA)
NOTE_BORDER = "#b54708"
NOTE_TEXT = "var(--portal-note-text)"  # on NOTE_BACKGROUND: 8.9:1
CUSTOMER_BACKGROUND = "var(--portal-page)"
REFERENCE = re.compile(r"^[A-Z0-9-]{3,20}$")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
KIND_LABELS = {"note": "Internal note — not visible to the customer", "reply": "Reply to the customer",
               "customer": "From the customer"}
CONTEXT_LABELS = {"page": "Page", "record": "Record", "attempted": "Tried to", "error": "Error shown",
                  "draft": "Draft", "category": "Category chosen", "shipment": "Shipment", "source": "Raised from",
                  "doc_type": "Document type"}
REPLY_STATUS_CHOICES = list(svc.STAFF_STATUS_LABELS.items())


# ------------------------------------------------------------------------------------------ rows


@dataclass(frozen=True)
class RequestSummary:
    """One request as the page shows it (display strings; "yes" or "" for the page's switches)."""

    reference: str
    subject: str
    status: str
    status_label: str
    category: str
    category_label: str
    priority: str
    priority_label: str
    customer: str
    raised_by: str
    team: str
    team_id: str
    assignee: str
    assignee_id: str
    mine: str
    shipment: str
    shipment_href: str
    invoice: str
    invoice_href: str
    opened: str
    updated: str
    first_left: str
    first_breached: str
    first_due: str
    res_left: str
    res_breached: str
    res_due: str
    exception_id: str
    exception_title: str
    exception_href: str
    merged_into: str
    merged_into_href: str
    merged_from: str
    following: str
    done: str
    can_reopen: str
    reopen_until: str
    satisfaction: str
    reply_status: str


@dataclass(frozen=True)
class MessageRow:
    """One message of the thread: a customer's, a reply to the customer or an internal note."""

    id: str
    author: str
    who: str
    kind: str
    kind_label: str
    internal: str
    body: str
    at: str


@dataclass(frozen=True)
class AttachmentRow:
    """A file sent with a message, and where to download it."""

    message_id: str
    name: str
    size: str
    href: str


def request_view(d: svc.RequestDetail, now, tz: str, me: int = 0) -> RequestSummary:  # noqa: ANN001
    """One request as the page's strings."""
    r = d.row
    active = r.status in svc.ACTIVE_STATUSES
    answered = r.first_response.settled
    first = timer_view(r.first_response, now, active and not answered)
    resolution = timer_view(r.resolution, now, active)
    satisfaction = ""
    if d.satisfaction:
        satisfaction = f"{d.satisfaction} of 5" + (f": “{d.satisfaction_comment}”" if d.satisfaction_comment else "")
    return RequestSummary(
        reference=r.reference,
        subject=r.subject,
        status=r.status,
        status_label=svc.STAFF_STATUS_LABELS.get(r.status, r.status_label),
        category=r.category,
        category_label=r.category_label,
        priority=r.priority,
        priority_label=svc.PRIORITY_LABELS.get(r.priority, r.priority),
        customer=r.company_name,
        raised_by=r.raised_by,
        team=r.team_name or "No team",
        team_id=str(d.team_id or ""),
        assignee=r.assignee_name or "Unassigned",
        assignee_id=str(d.assignee_id or ""),
        mine="yes" if me and d.assignee_id == me else "",
        shipment=r.shipment_reference or "",
        shipment_href=(routes.link(routes.TOWER_SHIPMENT, reference=r.shipment_reference)
                       if r.shipment_reference else ""),
        invoice=r.invoice_number or "",
        invoice_href=f"/api/v1/invoices/{r.invoice_number}/pdf" if r.invoice_number else "",
        opened=fmt_local(r.created_at, tz),
        updated=fmt_local(r.updated_at, tz),
        first_left=first["left"], first_breached=first["breached"], first_due=first["due"],
        res_left=resolution["left"], res_breached=resolution["breached"], res_due=resolution["due"],
        exception_id=str(d.exception_id or ""),
        exception_title=d.exception_title or "",
        exception_href=routes.link(routes.TOWER_EXCEPTION, exception_id=d.exception_id) if d.exception_id else "",
        merged_into=d.merged_into or "",
        merged_into_href=routes.link(routes.TOWER_REQUEST, reference=d.merged_into) if d.merged_into else "",
        merged_from=", ".join(d.merged_from),
        following="yes" if d.following else "",
        done="" if active else "yes",
        can_reopen="yes" if d.can_reopen else "",
        reopen_until=fmt_local(d.reopen_until, tz) if d.reopen_until else "",
        satisfaction=satisfaction,
        reply_status=r.status if r.status in svc.DONE_STATUSES else "waiting_on_customer",
    )


def message_view(m: svc.MessageView, tz: str) -> MessageRow:
    kind = "note" if m.internal else "reply" if m.author_is_staff else "customer"
    return MessageRow(id=str(m.id), author=m.author, who="staff" if m.author_is_staff else "customer", kind=kind,
                      kind_label=KIND_LABELS[kind], internal="yes" if m.internal else "", body=m.body,
                      at=fmt_local(m.created_at, tz))


def attachment_views(messages: list[svc.MessageView]) -> list[AttachmentRow]:
    return [AttachmentRow(message_id=str(m.id), name=a.filename, size=fmt_size(a.size_bytes),
                          href=f"/api/v1/documents/{a.document_id}/download")
            for m in messages for a in m.attachments]


def _label(key: object) -> str:
    return CONTEXT_LABELS.get(str(key), str(key).replace("_", " ").capitalize())


def _words(value: object) -> str:
    """A context value in words: a mapping as "Label: value · Label: value", a list joined with commas, never
    JSON (a request once showed ``Opened from {"shipment": ...}``)."""
    if isinstance(value, dict):
        return " · ".join(f"{_label(k)}: {_words(v)}" for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))
                          if v not in (None, "", {}, []))
    if isinstance(value, list | tuple):
        return ", ".join(_words(v) for v in value if v not in (None, "", {}, []))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return words.code_words(str(value))  # a stored code such as packing_list reads "Packing list"


def _context_value(value: object) -> str:
    text = _words(value)
    return text if len(text) <= 600 else text[:599] + "…"


def context_pairs(context: dict) -> list[list[str]]:
    """What the request carries about where it came from, as labelled pairs: known keys first, in a fixed order,
    then any others; empty values are left out."""
    keys = [k for k in CONTEXT_LABELS if k in context] + sorted(k for k in context if k not in CONTEXT_LABELS)
    return [[_label(k), _context_value(context[k])]
            for k in keys if context[k] not in (None, "", {}, [])]


def exception_option(e: exc_svc.ExceptionRow) -> Option:
    return Option(str(e.id), f"#{e.id} {e.title} · {SEVERITY_LABELS.get(e.severity, e.severity)} · "
                             f"{STATUS_LABELS.get(e.status, e.status)}")


def canned_option(c: svc.CannedView) -> Option:
    """A canned reply in the picker: its title and, when it has one, its category."""
    labels = svc.CATEGORY_LABELS
    return Option(str(c.id), c.title + (f" ({labels.get(c.category, c.category)})" if c.category else ""))


def insert_script(text: str) -> str:
    """JavaScript that inserts ``text`` into the message box at the cursor (on a line of its own) and puts the
    picker back to its prompt. ``json.dumps`` makes the text a safe string literal (ASCII only)."""
    return (
        "(() => { const box = document.getElementById('" + BODY_ID + "'); if (!box) { return; } "
        "const text = " + json.dumps(text) + "; "
        "const start = box.selectionStart ?? box.value.length; const end = box.selectionEnd ?? start; "
        "const before = box.value.slice(0, start); "
        "const gap = before && !before.endsWith('\\n') ? '\\n' : ''; "
        "box.value = before + gap + text + box.value.slice(end); "
        "const at = (before + gap + text).length; box.focus(); box.setSelectionRange(at, at); "
        "const pick = document.getElementById('" + CANNED_ID + "'); if (pick) { pick.value = ''; } })()"
    )


def placeholder_words(found: svc.PlaceholderValues) -> dict[str, str]:
    """The values a canned reply's placeholders take for this request, in words; the ETA in the customer's zone."""
    values = {"request": found.request, "customer": found.customer, "company": found.company}
    if found.shipment:
        values["shipment"] = found.shipment
    if found.eta is not None:
        values["eta"] = fmt_local(found.eta, found.timezone)
    return values


def placeholder_left(body: str) -> str | None:
    """A canned reply's ``{placeholder}`` still in the text, if any."""
    found = PLACEHOLDER.search(body or "")
    return found.group(0) if found else None
