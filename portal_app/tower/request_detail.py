"""Tower: one customer request. Its status, customer, who raised it, the shipment and invoice it is about, the
context it carries (page, what was attempted, the error, any draft) and both SLA timers; the thread, with
internal notes set apart (their own label, background and border); a reply form that sends either a reply to the
customer or an internal note, with a canned-reply picker, the status after the reply and file attachments;
triage (category, priority, team, assignee), resolve, close or reopen, merge into another request, link one of
the shipment's open exceptions, and follow.

Every change sends the version the page showed (kept on the server, never taken from the browser), so a change
made meanwhile by someone else is refused with nothing saved; the page then shows the request as it is now and
keeps what was entered (``services/requests/desk.py``). Attachments come with the reply in one upload; the
service checks and stores them privately, all or nothing with the message."""

from __future__ import annotations

import json
import logging
import re

import reflex as rx

from portal_app.components.document_upload import file_dropzone, fmt_size
from portal_app.components.formatting import fmt_local
from portal_app.components.layout import area_page
from portal_app.components.ops import (
    SEVERITY_LABELS,
    STATUS_LABELS,
    StaffDirectoryMixin,
    id_or_none,
    timer_view,
)
from portal_app.components.ui import (
    ACCENT,
    DANGER,
    LABEL_STYLE,
    MUTED_TEXT,
    NATIVE_SELECT_STYLE,
    download_link,
    error_callout,
    fact_list,
    info_callout,
    primary_button,
    responsive_grid,
    secondary_button,
)
from portal_app.components.work_queue import (
    checked_input,
    native_select,
    stacked_form,
    text_field,
)
from portal_app.edge.body_limit import message_form, upload_form_limit
from portal_app.services import clock
from portal_app.services import documents as docs
from portal_app.services import exceptions as exc_svc
from portal_app.services import requests as svc
from portal_app.services.errors import ServiceError
from portal_app.services.file_storage import ACCEPTED_DESCRIPTION
from portal_app.services.requests.opening import MAX_ATTACHMENTS
from portal_app.tower.requests import ROUTE, priority_badge
from portal_app.ui.session import SessionState, last_path_segment, run_db

log = logging.getLogger(__name__)

UPLOAD_ID = "reply-files"
BODY_ID = "reply-body"
CANNED_ID = "reply-canned"
NOTHING_SAVED = "Nothing was saved."
NOTHING_SENT = "Nothing was sent."
NOTE_BACKGROUND = "#fff4e5"  # internal notes: light amber behind dark text (AA)
NOTE_BORDER = "#b54708"
NOTE_TEXT = "#7a2e0e"  # on NOTE_BACKGROUND: 8.9:1
CUSTOMER_BACKGROUND = "#f6f8fa"
REFERENCE = re.compile(r"^[A-Z0-9-]{3,20}$")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
KIND_LABELS = {"note": "Internal note — not visible to the customer", "reply": "Reply to the customer",
               "customer": "From the customer"}
CONTEXT_LABELS = {"page": "Page", "record": "Record", "attempted": "Tried to", "error": "Error shown",
                  "draft": "Draft", "category": "Category chosen", "shipment": "Shipment", "source": "Raised from"}
REPLY_STATUS_CHOICES = list(svc.STAFF_STATUS_LABELS.items())


# ------------------------------------------------------------------------------------------ views


def request_view(d: svc.RequestDetail, now, tz: str, me: int = 0) -> dict[str, str]:  # noqa: ANN001
    """One request as the page's strings."""
    r = d.row
    active = r.status in svc.ACTIVE_STATUSES
    answered = r.first_response.label.startswith(("Met", "Missed"))  # the service's words once answered
    first = timer_view(r.first_response, now, active and not answered)
    resolution = timer_view(r.resolution, now, active)
    satisfaction = ""
    if d.satisfaction:
        satisfaction = f"{d.satisfaction} of 5" + (f": “{d.satisfaction_comment}”" if d.satisfaction_comment else "")
    return {
        "reference": r.reference,
        "subject": r.subject,
        "status": r.status,
        "status_label": svc.STAFF_STATUS_LABELS.get(r.status, r.status_label),
        "category": r.category,
        "category_label": r.category_label,
        "priority": r.priority,
        "priority_label": svc.PRIORITY_LABELS.get(r.priority, r.priority),
        "customer": r.company_name,
        "raised_by": r.raised_by,
        "team": r.team_name or "No team",
        "team_id": str(d.team_id or ""),
        "assignee": r.assignee_name or "Unassigned",
        "assignee_id": str(d.assignee_id or ""),
        "mine": "yes" if me and d.assignee_id == me else "",
        "shipment": r.shipment_reference or "",
        "shipment_href": f"/tower/shipments/{r.shipment_reference}" if r.shipment_reference else "",
        "invoice": r.invoice_number or "",
        "invoice_href": f"/api/v1/invoices/{r.invoice_number}/pdf" if r.invoice_number else "",
        "opened": fmt_local(r.created_at, tz),
        "updated": fmt_local(r.updated_at, tz),
        "first_left": first["left"], "first_breached": first["breached"], "first_due": first["due"],
        "res_left": resolution["left"], "res_breached": resolution["breached"], "res_due": resolution["due"],
        "exception_id": str(d.exception_id or ""),
        "exception_title": d.exception_title or "",
        "exception_href": f"/tower/exceptions/{d.exception_id}" if d.exception_id else "",
        "merged_into": d.merged_into or "",
        "merged_into_href": f"{ROUTE}/{d.merged_into}" if d.merged_into else "",
        "merged_from": ", ".join(d.merged_from),
        "following": "yes" if d.following else "",
        "done": "" if active else "yes",
        "can_reopen": "yes" if d.can_reopen else "",
        "reopen_until": fmt_local(d.reopen_until, tz) if d.reopen_until else "",
        "satisfaction": satisfaction,
        "reply_status": r.status if r.status in svc.DONE_STATUSES else "waiting_on_customer",
    }


def message_view(m: svc.MessageView, tz: str) -> dict[str, str]:
    kind = "note" if m.internal else "reply" if m.author_is_staff else "customer"
    return {"id": str(m.id), "author": m.author, "who": "staff" if m.author_is_staff else "customer",
            "kind": kind, "kind_label": KIND_LABELS[kind], "internal": "yes" if m.internal else "",
            "body": m.body, "at": fmt_local(m.created_at, tz)}


def attachment_views(messages: list[svc.MessageView]) -> list[dict[str, str]]:
    return [{"message_id": str(m.id), "name": a.filename, "size": fmt_size(a.size_bytes),
             "href": f"/api/v1/documents/{a.document_id}/download"} for m in messages for a in m.attachments]


def _context_value(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= 600 else text[:599] + "…"


def context_pairs(context: dict) -> list[list[str]]:
    """What the request carries about where it came from, as labelled pairs: known keys first, in a fixed order,
    then any others; empty values are left out."""
    keys = [k for k in CONTEXT_LABELS if k in context] + sorted(k for k in context if k not in CONTEXT_LABELS)
    return [[CONTEXT_LABELS.get(k, k.replace("_", " ").capitalize()), _context_value(context[k])]
            for k in keys if context[k] not in (None, "", {}, [])]


def exception_option(e: exc_svc.ExceptionRow) -> dict[str, str]:
    return {"value": str(e.id), "label": f"#{e.id} {e.title} · {SEVERITY_LABELS.get(e.severity, e.severity)} · "
                                         f"{STATUS_LABELS.get(e.status, e.status)}"}


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


def placeholder_left(body: str) -> str | None:
    """A canned reply's ``{placeholder}`` still in the text, if any."""
    found = PLACEHOLDER.search(body or "")
    return found.group(0) if found else None


def _read(db, principal, reference: str):  # noqa: ANN001, ANN202
    """The request, the canned replies (its category's first) and its shipment's open exceptions, in one trip
    to the worker thread."""
    detail = svc.get_request(db, principal, reference)
    canned = svc.list_canned(db, principal, detail.row.category)
    found: list[exc_svc.ExceptionRow] = []
    if detail.row.shipment_reference:
        found = exc_svc.list_exceptions(db, principal, exc_svc.ExceptionFilters(
            status="active", shipment_reference=detail.row.shipment_reference), page_size=50).rows
    return detail, canned, found


# ------------------------------------------------------------------------------------------ state


class TowerRequestState(StaffDirectoryMixin, SessionState):
    req: dict[str, str] = {}
    context: list[list[str]] = []
    messages: list[dict[str, str]] = []
    files: list[dict[str, str]] = []
    canned: list[dict[str, str]] = []
    exceptions: list[dict[str, str]] = []
    reply_kind: str = "reply"
    load_error: str = ""
    errors: dict[str, str] = {}  # per section: reply, triage, status, merge, exception, follow
    notices: dict[str, str] = {}
    field_errors: dict[str, str] = {}
    form_key: int = 0
    reply_key: int = 0
    _reference: str = ""
    _version: int = 0
    _canned_bodies: dict[str, str] = {}

    async def _reload(self, principal, *, keep_forms: bool = False) -> bool:  # noqa: ANN001
        try:
            detail, canned, found = await run_db(_read, principal, self._reference)
        except ServiceError as exc:
            self.req, self.messages, self.files, self.context = {}, [], [], []
            self.load_error = exc.message
            return False
        now = clock.now()
        self._version = detail.row.version
        self.req = request_view(detail, now, self._tz, self._me)
        self.context = context_pairs(detail.context)
        self.messages = [message_view(m, self._tz) for m in detail.messages]
        self.files = attachment_views(detail.messages)
        labels = svc.CATEGORY_LABELS
        self.canned = [{"value": str(c.id), "label": c.title + (f" ({labels.get(c.category, c.category)})"
                                                                  if c.category else "")} for c in canned]
        self._canned_bodies = {str(c.id): c.body for c in canned}
        self.exceptions = [exception_option(e) for e in found]
        self.load_error = ""
        if not keep_forms:
            self.form_key += 1
        return True

    async def load(self):  # noqa: ANN201
        principal = await self._authorize("tower")
        if principal is None:
            return self._refused()
        key = last_path_segment(self.router.url.path).strip().upper()
        self.errors, self.notices, self.field_errors, self.reply_kind = {}, {}, {}, "reply"
        if not REFERENCE.match(key):
            self.req, self.load_error = {}, ("That is not a request reference (they look like REQ-000123). Go back "
                                             "to the queue and open one from there.")
            return None
        self._reference = key
        await self._load_directory(principal)
        await self._reload(principal)
        self.reply_key += 1
        return None

    def _said(self, section: str, notice: str = "", error: str = "") -> None:
        self.notices = {section: notice} if notice else {}
        self.errors = {section: error} if error else {}

    def _conflict_text(self, what: str) -> str:
        r = self.req
        return (f"{r.get('reference', 'This request')} was changed by someone else after you opened it (now: "
                f"{r.get('status_label', '')}, {r.get('category_label', '')}, priority "
                f"{r.get('priority_label', '').lower()}, {r.get('assignee', '')}, {r.get('team', '')}). {what} "
                "The page shows the request as it is now and your entry is still in the form: check it and try "
                "again to apply it on top.")

    async def _act(self, section: str, call, done: str, *, field: str = "", versioned: bool = True,  # noqa: ANN001
                   **kwargs):
        """Run a change with the version the page showed; say what happened in the section, read the request
        again. A refusal keeps what was typed; a conflict shows the request as it is now."""
        principal = await self._authorize("tower")
        if principal is None:
            return self._refused()
        if not self.req:
            self._said(section, error=f"The request is not loaded. Reload the page. {NOTHING_SAVED}")
            return None
        if versioned:
            kwargs["expected_version"] = self._version
        try:
            await run_db(call, principal, self._reference, **kwargs)
        except ServiceError as exc:
            self.field_errors = {field: exc.message} if field and exc.status_code in (404, 422) else {}
            if exc.status_code == 409 and exc.code == "conflict":
                await self._reload(principal, keep_forms=True)
                self._said(section, error=self._conflict_text(NOTHING_SAVED))
            else:
                self._said(section, error="" if self.field_errors else exc.message)
                if exc.status_code == 409:
                    await self._reload(principal, keep_forms=True)
            return None
        except Exception:  # a failure on our side still ends with a clear message (the session rolled back)
            log.exception("request change failed")
            self.field_errors = {}
            self._said(section, error=f"That failed on our side. {NOTHING_SAVED} Try again in a minute.")
            return None
        self.field_errors = {}
        self._said(section, notice=done)
        await self._reload(principal)
        return None

    # ---------------------------------------------------------------- reply or note

    async def set_reply_kind(self, value: str):  # noqa: ANN201
        principal = await self._authorize("tower")
        if principal is None:
            return self._refused()
        self.reply_kind = "note" if value == "note" else "reply"
        self._said("reply")  # the last result was about the other kind of message
        return None

    async def insert_canned(self, canned_id: str):  # noqa: ANN201
        """Put the chosen canned reply's text into the message box (the agent adapts it before sending)."""
        principal = await self._authorize("tower")
        if principal is None:
            return self._refused()
        body = self._canned_bodies.get(str(canned_id)[:12])
        if body is None:
            return None
        return rx.call_script(insert_script(body))

    async def files_rejected(self, _rejected: list[dict]):  # noqa: ANN201
        principal = await self._authorize("tower")
        if principal is None:
            return self._refused()
        self._said("reply", error=(f"Those files cannot be attached: at most {MAX_ATTACHMENTS} files of "
                                   f"{docs.max_upload_mb()} MB each ({ACCEPTED_DESCRIPTION}). Nothing was sent; "
                                   "choose the files again."))
        return rx.clear_selected_files(UPLOAD_ID)

    async def clear_files(self):  # noqa: ANN201
        principal = await self._authorize("tower")
        if principal is None:
            return self._refused()
        return rx.clear_selected_files(UPLOAD_ID)

    @upload_form_limit(message_form)
    async def send_reply(self, files: list[rx.UploadFile], form: dict):  # noqa: ANN201
        """The reply form and its files arrive together: a reply to the customer (with the status after it) or an
        internal note; the service stores the message and files all or nothing."""
        principal = await self._authorize_upload("tower")
        if principal is None:
            return self._refused()
        form = form if isinstance(form, dict) else {}
        internal = str(form.get("kind", "")) == "note"
        body = str(form.get("body", ""))
        status = None if internal else (str(form.get("status", "")) or None)
        self.field_errors = {}
        if not self.req:
            self._said("reply", error=f"The request is not loaded. Reload the page. {NOTHING_SENT}")
            return None
        left = None if internal else placeholder_left(body)
        if left:
            self.field_errors = {"body": f"The message still has the placeholder {left}: replace it with the real "
                                         f"value, then send again. {NOTHING_SENT}"}
            self._said("reply")
            return None
        if len(files) > MAX_ATTACHMENTS:
            self._said("reply", error=f"Attach at most {MAX_ATTACHMENTS} files to one message; remove some and "
                                      f"send again. {NOTHING_SENT}")
            return None
        attachments = [(f.filename or "attachment", f.file) for f in files]
        try:
            await run_db(svc.post_message, principal, self._reference, body, internal=internal,
                         attachments=attachments, status=status,
                         expected_version=None if internal else self._version)
        except ServiceError as exc:
            if exc.status_code == 409 and exc.code == "conflict":
                await self._reload(principal, keep_forms=True)
                self._said("reply", error=self._conflict_text(
                    f"{NOTHING_SENT} Read the latest messages in the thread below."))
            elif "body" in exc.fields:
                self.field_errors = {"body": exc.fields["body"]}
                self._said("reply")
            else:
                self._said("reply", error=exc.message)
            return None
        except Exception:  # a failure on our side still ends with a clear message
            log.exception("request reply failed")
            self._said("reply", error=f"Sending failed on our side. {NOTHING_SENT} Your text is still in the box; "
                                      "try again in a minute.")
            return None
        count = f" with {len(files)} attachment{'s' if len(files) != 1 else ''}" if files else ""
        if internal:
            done = f"Internal note added{count}. The customer does not see it and was not notified."
        else:
            label = svc.STAFF_STATUS_LABELS.get(status or "waiting_on_customer", status)
            done = f"Reply sent to the customer{count}; they were notified. Status: {label}."
        self._said("reply", notice=done)
        await self._reload(principal)
        self.reply_key += 1  # an empty form for the next message
        return rx.clear_selected_files(UPLOAD_ID)

    # ---------------------------------------------------------------- triage and status

    async def save_triage(self, form: dict):  # noqa: ANN201
        assignee = form.get("assignee_id")
        return await self._act(
            "triage", svc.triage, "Triage saved. A new assignee was notified; a new category or priority "
            "recalculated the SLA due times.",
            category=str(form.get("category", "")), priority=str(form.get("priority", "")),
            team_id=id_or_none(form.get("team_id")), assignee_id=self._me if assignee == "me" else id_or_none(assignee))

    async def take(self):  # noqa: ANN201
        r = self.req
        return await self._act("triage", svc.triage, "You are the assignee now.", category=r.get("category", ""),
                               priority=r.get("priority", ""), team_id=id_or_none(r.get("team_id")),
                               assignee_id=self._me)

    async def resolve(self):  # noqa: ANN201
        return await self._act("status", svc.set_status, "Marked resolved; the customer was told and can reply to "
                               "reopen it.", status="resolved")

    async def close(self):  # noqa: ANN201
        return await self._act("status", svc.set_status, "Closed.", status="closed")

    async def reopen(self, form: dict):  # noqa: ANN201
        return await self._act("status", svc.reopen, "Reopened with a new resolution time; the reason is in the "
                               "thread.", field="reason", reason=str(form.get("reason", "")))

    async def merge(self, form: dict):  # noqa: ANN201
        into = str(form.get("into", "")).strip().upper()[:20]
        if not into:
            self.field_errors = {"into": f"Type the reference of the request to merge into, e.g. REQ-000123. "
                                        f"{NOTHING_SAVED}"}
            self._said("merge")
            return None
        return await self._act("merge", svc.merge, f"Merged into {into}; this request is closed and points there.",
                               field="into", into_reference=into)

    async def link_exception(self, form: dict):  # noqa: ANN201
        chosen = id_or_none(form.get("exception_id"))
        if chosen is None:
            self.field_errors = {"exception": f"Choose one of the shipment's open exceptions. {NOTHING_SAVED}"}
            self._said("exception")
            return None
        return await self._act("exception", svc.link_exception, f"Linked to exception #{chosen}.",
                               field="exception", exception_id=chosen)

    async def unlink_exception(self):  # noqa: ANN201
        return await self._act("exception", svc.link_exception, "The exception is no longer linked.",
                               exception_id=None)

    async def toggle_follow(self):  # noqa: ANN201
        follow = self.req.get("following") != "yes"
        done = ("You follow this request: you hear about the customer's replies." if follow
                else "You no longer follow this request.")
        return await self._act("follow", svc.set_following, done, versioned=False, follow=follow)


S = TowerRequestState


# ------------------------------------------------------------------------------------------ page


def _fact(label: str, value: rx.Component | rx.Var | str) -> rx.Component:
    return rx.box(rx.text(label, size="1", color=MUTED_TEXT, as_="div"), rx.box(value, font_weight="500"))


def _timer(title: str, left: rx.Var, breached: rx.Var, due: rx.Var, test_id: str) -> rx.Component:
    return _fact(title, rx.vstack(
        rx.text(left, weight="bold", color=rx.cond(breached == "yes", DANGER, "inherit"), data_testid=test_id),
        rx.text("Due ", due, size="1", color=MUTED_TEXT),
        spacing="0",
    ))


def _section_messages(section: str) -> rx.Component:
    return rx.fragment(
        rx.cond(S.notices.contains(section), info_callout(S.notices[section], data_testid=f"{section}-notice"),
                rx.fragment()),
        rx.cond(S.errors.contains(section), error_callout(S.errors[section], data_testid=f"{section}-error"),
                rx.fragment()),
    )


def _card(title: str, test_id: str, *children: rx.Component, **props) -> rx.Component:
    return rx.card(rx.vstack(rx.heading(title, size="4", as_="h2"), *children, spacing="3", width="100%"),
                   width="100%", data_testid=test_id, **props)


def _summary() -> rx.Component:
    r = S.req
    return rx.card(
        rx.vstack(
            responsive_grid(
                _fact("Status", rx.text(r["status_label"], data_testid="request-status")),
                _fact("Customer", r["customer"]),
                _fact("Raised by", r["raised_by"]),
                _fact("Category and priority", rx.hstack(rx.text(r["category_label"]),
                                                          priority_badge(r["priority"], r["priority_label"]),
                                                          spacing="2", align="center")),
                _fact("Assignee", rx.text(r["assignee"], data_testid="request-assignee")),
                _fact("Team", r["team"]),
                _fact("Shipment", rx.cond(r["shipment_href"] != "",
                                          rx.link(r["shipment"], href=r["shipment_href"], color=ACCENT,
                                                  data_testid="request-shipment"),
                                          rx.text("—"))),
                _fact("Invoice", rx.cond(r["invoice_href"] != "",
                                         download_link(r["invoice"], r["invoice_href"],
                                                       "Invoice " + r["invoice"] + " (PDF)"),
                                         rx.text("—"))),
                _timer("First response", r["first_left"], r["first_breached"], r["first_due"], "first-response"),
                _timer("Resolution", r["res_left"], r["res_breached"], r["res_due"], "resolution"),
                _fact("Opened", r["opened"]),
                _fact("Linked exception", rx.cond(r["exception_href"] != "",
                                                  rx.link("#" + r["exception_id"] + " " + r["exception_title"],
                                                          href=r["exception_href"], color=ACCENT,
                                                          data_testid="request-exception"),
                                                  rx.text("None"))),
                narrow=2, middle=3, wide=4,
                spacing="3",
            ),
            rx.cond(r["merged_from"] != "", rx.text("Merged into this request: ", r["merged_from"], size="2"),
                    rx.fragment()),
            rx.cond(r["satisfaction"] != "", rx.text("Customer's rating: ", r["satisfaction"], size="2"),
                    rx.fragment()),
            rx.hstack(
                rx.cond(r["mine"] == "", secondary_button("Assign to me", type="button", on_click=S.take),
                        rx.text("You are the assignee.", size="2", color=MUTED_TEXT)),
                secondary_button(rx.cond(r["following"] == "yes", "Stop following", "Follow this request"),
                                 type="button", on_click=S.toggle_follow),
                spacing="3",
                wrap="wrap",
            ),
            _section_messages("follow"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _context() -> rx.Component:
    return rx.cond(
        S.context.length() > 0,
        _card("Where the request came from", "request-context",
              rx.text("Recorded by the portal when the customer raised it.", size="2", color=MUTED_TEXT),
              fact_list(S.context)),
        rx.fragment(),
    )


def _message(m: rx.Var) -> rx.Component:
    internal = m["internal"] == "yes"
    return rx.el.li(
        rx.el.article(
            rx.hstack(
                rx.cond(internal, rx.icon("lock", size=15, color=NOTE_TEXT, aria_hidden="true"), rx.fragment()),
                rx.text(m["kind_label"], weight="bold",
                        color=rx.match(m["kind"], ("note", NOTE_TEXT), ("reply", ACCENT), "#24292f"),
                        data_testid="message-kind"),
                spacing="1",
                align="center",
            ),
            rx.text(m["author"], " (", m["who"], ") · ", m["at"], size="1", color=MUTED_TEXT),
            rx.text(m["body"], style={"white_space": "pre-wrap", "overflow_wrap": "anywhere"}, margin_top="6px"),
            rx.foreach(S.files, lambda f: rx.cond(
                f["message_id"] == m["id"],
                rx.box(download_link(f["name"], f["href"], "Download " + f["name"]),
                       rx.text(" (", f["size"], ")", as_="span", size="1", color=MUTED_TEXT), margin_top="4px"),
                rx.fragment(),
            )),
            aria_label=m["kind_label"] + " by " + m["author"],
            style={"padding": "10px 14px", "border_radius": "6px", "border": "1px solid #d0d7de"},
            background=rx.match(m["kind"], ("note", NOTE_BACKGROUND), ("reply", "white"), CUSTOMER_BACKGROUND),
            border_left=rx.match(m["kind"], ("note", f"4px solid {NOTE_BORDER}"), ("reply", f"4px solid {ACCENT}"),
                                 "4px solid #6e7781"),
        ),
        data_testid=rx.cond(internal, "internal-note", "thread-message"),
        style={"margin_bottom": "10px", "list_style": "none"},
    )


def _thread() -> rx.Component:
    return _card(
        "Conversation", "request-thread",
        rx.text("Oldest first. Internal notes (amber, with a lock and their own label) are for staff only; the "
                "customer sees the rest.",
                size="2", color=MUTED_TEXT),
        rx.cond(S.messages.length() > 0,
                rx.el.ol(rx.foreach(S.messages, _message), style={"padding": "0", "margin": "0", "width": "100%"}),
                rx.text("No messages yet.", color=MUTED_TEXT)),
    )


def _kind_choice(value: str, label: str) -> rx.Component:
    field_id = f"reply-kind-{value}"
    return rx.el.label(
        # The browser keeps the choice (it is sent with the form); the server hears of it to restyle the form.
        rx.el.input(type="radio", name="kind", value=value, id=field_id, default_checked=S.reply_kind == value,
                    on_change=S.set_reply_kind),
        " " + label,
        html_for=field_id,
        style={"display": "flex", "gap": "6px", "align_items": "center", "font_weight": "500"},
    )


def _reply_form() -> rx.Component:
    limit = docs.max_upload_mb()
    note = S.reply_kind == "note"
    return rx.card(
        rx.el.form(
            rx.vstack(
                rx.heading("Reply or add a note", size="4", as_="h2"),
                rx.el.fieldset(
                    rx.el.legend("Message type", style=LABEL_STYLE),
                    rx.hstack(_kind_choice("reply", "Reply to customer"),
                              _kind_choice("note", "Internal note"), spacing="5", wrap="wrap"),
                    style={"border": "none", "padding": "0", "margin": "0"},
                ),
                rx.cond(note,
                        rx.hstack(rx.icon("lock", size=15, color=NOTE_TEXT, aria_hidden="true"),
                                  rx.text("Internal note — not visible to the customer. Nobody is notified.",
                                          weight="bold", color=NOTE_TEXT, data_testid="reply-mode"),
                                  spacing="1", align="center"),
                        rx.text("The customer reads this in the portal and is notified.", weight="medium",
                                data_testid="reply-mode")),
                rx.box(
                    rx.el.label("Insert a canned reply", html_for=CANNED_ID, style=LABEL_STYLE),
                    rx.el.select(
                        rx.el.option("Choose a canned reply…", value=""),
                        rx.foreach(S.canned, lambda c: rx.el.option(c["label"], value=c["value"])),
                        id=CANNED_ID, name="canned", default_value="", on_change=S.insert_canned,
                        style=NATIVE_SELECT_STYLE,
                    ),
                    rx.text("The text goes into the message box at the cursor; adapt it before sending.", size="1",
                            color=MUTED_TEXT),
                    width="100%",
                ),
                rx.box(
                    rx.el.label(rx.cond(note, "Internal note (staff only)", "Message to the customer"),
                                html_for=BODY_ID, style=LABEL_STYLE),
                    rx.el.textarea(id=BODY_ID, name="body", rows=7, max_length=10000,
                                   aria_describedby=f"{BODY_ID}-error",
                                   aria_invalid=rx.cond(S.field_errors.contains("body"), "true", "false"),
                                   style={"width": "100%", "padding": "8px", "border": "1px solid #8b949e",
                                          "border_radius": "6px", "font": "inherit", "background": "white"}),
                    rx.cond(S.field_errors.contains("body"),
                            rx.text(S.field_errors["body"], id=f"{BODY_ID}-error", color=DANGER, size="2",
                                    role="alert"),
                            rx.fragment()),
                    width="100%",
                ),
                # Keyed by the request's version on the page: a status change elsewhere on the page updates
                # its default without clearing the message being written.
                rx.cond(note, rx.fragment(),
                        rx.box(native_select("Status after the reply", "status", REPLY_STATUS_CHOICES,
                                             value=S.req["reply_status"], select_id="reply-status"),
                               key=S.form_key, width="100%")),
                file_dropzone("Attachments (optional)", UPLOAD_ID,
                              f"Up to {MAX_ATTACHMENTS} files of {limit} MB each: {ACCEPTED_DESCRIPTION}. Files "
                              "on an internal note stay internal.", limit * 1024 * 1024, S.files_rejected,
                              max_files=MAX_ATTACHMENTS),
                rx.hstack(
                    primary_button(rx.cond(note, "Add internal note", "Send reply to customer"), type="submit"),
                    rx.cond(rx.selected_files(UPLOAD_ID).length() > 0,
                            secondary_button("Remove the chosen files", type="button", on_click=S.clear_files),
                            rx.fragment()),
                    spacing="3",
                    wrap="wrap",
                ),
                _section_messages("reply"),
                spacing="3",
                width="100%",
            ),
            on_submit=S.send_reply(rx.upload_files(upload_id=UPLOAD_ID), rx.event.FORM_DATA),
            aria_label="Reply or add an internal note",
            id="reply-form",
            key=S.reply_key,
            style={"width": "100%"},
        ),
        width="100%",
        data_testid="reply-card",
        style={"background": rx.cond(note, NOTE_BACKGROUND, "white"),
               "border_left": rx.cond(note, f"4px solid {NOTE_BORDER}", f"4px solid {ACCENT}")},
    )


def _triage() -> rx.Component:
    r = S.req
    return _card(
        "Triage", "request-triage",
        rx.text("A new category or priority recalculates both SLA due times from when the request was opened.",
                size="2", color=MUTED_TEXT),
        stacked_form(
            responsive_grid(
                native_select("Category", "category", list(svc.CATEGORY_LABELS.items()), value=r["category"],
                              select_id="triage-category"),
                native_select("Priority", "priority", list(svc.PRIORITY_LABELS.items()), value=r["priority"],
                              select_id="triage-priority"),
                native_select("Team", "team_id", [("", "No team")], value=r["team_id"], select_id="triage-team",
                              more=S.teams),
                native_select("Assignee", "assignee_id", [("", "Unassigned"), ("me", "Me")],
                              value=r["assignee_id"], select_id="triage-assignee", more=S.people),
                narrow=1, middle=2, wide=2,
                spacing="3",
            ),
            primary_button("Save triage", type="submit"),
            on_submit=S.save_triage, label="Triage", key=S.form_key,
        ),
        _section_messages("triage"),
    )


def _status() -> rx.Component:
    r = S.req
    return _card(
        "Resolve, close or reopen", "request-status-actions",
        rx.cond(
            r["done"] == "yes",
            rx.cond(
                r["can_reopen"] == "yes",
                stacked_form(
                    rx.text("It can be reopened until ", r["reopen_until"], ". The reason goes into the thread, "
                            "where the customer reads it.", size="2", color=MUTED_TEXT),
                    text_field("Why it is reopened", "reason", "reopen-reason", S.field_errors),
                    secondary_button("Reopen request", type="submit"),
                    on_submit=S.reopen, label="Reopen the request", key=S.form_key,
                ),
                rx.text("The reopen window has ended. If the customer needs more, they open a new request "
                        "mentioning ", r["reference"], ".", size="2", color=MUTED_TEXT),
            ),
            rx.vstack(
                rx.text("Resolving tells the customer, who can reply to reopen it. To send an answer with it, reply "
                        "and choose Resolved as the status after the reply.", size="2", color=MUTED_TEXT),
                rx.hstack(
                    primary_button("Mark resolved", type="button", on_click=S.resolve),
                    secondary_button("Close request", type="button", on_click=S.close),
                    spacing="3",
                    wrap="wrap",
                ),
                spacing="2",
                width="100%",
            ),
        ),
        _section_messages("status"),
    )


def _merge() -> rx.Component:
    return _card(
        "Merge a duplicate", "request-merge",
        rx.text("Merge this request into another request of the same customer: this one closes and points there, "
                "its followers follow the other one, and both threads say so.", size="2", color=MUTED_TEXT),
        stacked_form(
            checked_input("Merge into (reference)", "into", S.field_errors, input_id="merge-into",
                          placeholder="REQ-000123", max_length=20),
            secondary_button("Merge into that request", type="submit"),
            on_submit=S.merge, label="Merge into another request", key=S.form_key,
        ),
        _section_messages("merge"),
    )


def _exception_link() -> rx.Component:
    r = S.req
    return _card(
        "Shipment exception", "request-exception-link",
        rx.cond(
            r["shipment"] == "",
            rx.text("This request is not about a shipment, so there is no exception to link.", size="2",
                    color=MUTED_TEXT),
            rx.vstack(
                rx.cond(
                    r["exception_href"] != "",
                    rx.hstack(
                        rx.text("Linked: "),
                        rx.link("Exception #" + r["exception_id"] + " " + r["exception_title"],
                                href=r["exception_href"], color=ACCENT),
                        secondary_button("Unlink", type="button", size="1", on_click=S.unlink_exception,
                                         aria_label="Unlink exception #" + r["exception_id"]),
                        spacing="2", align="center", wrap="wrap",
                    ),
                    rx.text("No exception is linked.", size="2", color=MUTED_TEXT),
                ),
                rx.cond(
                    S.exceptions.length() > 0,
                    stacked_form(
                        native_select("Open exceptions of " + r["shipment"], "exception_id",
                                      [("", "Choose an exception…")], select_id="link-exception",
                                      more=S.exceptions, errors=S.field_errors, key="exception"),
                        secondary_button("Link exception", type="submit"),
                        on_submit=S.link_exception, label="Link an exception", key=S.form_key,
                    ),
                    rx.text("The shipment has no open exceptions.", size="2", color=MUTED_TEXT),
                ),
                spacing="3",
                width="100%",
            ),
        ),
        _section_messages("exception"),
    )


@area_page("tower", "/tower/requests/[reference]", "Request", TowerRequestState.load)
def tower_request_detail() -> rx.Component:
    r = S.req
    return rx.vstack(
        rx.link("← Requests", href=ROUTE, color=ACCENT),
        rx.heading(rx.cond(r.contains("reference"), r["reference"] + ": " + r["subject"], "Request"), size="7",
                   as_="h1"),
        rx.cond(S.load_error != "",
                rx.vstack(error_callout(S.load_error, data_testid="request-error"),
                          rx.link("Back to the request queue", href=ROUTE, color=ACCENT), spacing="2",
                          width="100%"),
                rx.fragment()),
        rx.cond(
            r.contains("reference"),
            rx.vstack(
                rx.cond(r["merged_into"] != "",
                        rx.callout(rx.text("This request was merged into ",
                                           rx.link(r["merged_into"], href=r["merged_into_href"]),
                                           "; work continues there. Nothing here can be changed any more."),
                                   icon="info", width="100%", data_testid="merged-notice"),
                        rx.fragment()),
                _summary(),
                _context(),
                _thread(),
                rx.cond(r["merged_into"] == "",
                        rx.vstack(
                            _reply_form(),
                            responsive_grid(_triage(), _status(), _exception_link(), _merge(), wide=2, spacing="4"),
                            spacing="4",
                            width="100%",
                        ),
                        rx.fragment()),
                spacing="4",
                width="100%",
            ),
            rx.fragment(),
        ),
        spacing="4",
        width="100%",
    )
