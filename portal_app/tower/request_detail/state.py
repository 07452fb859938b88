"""Tower, one customer request: the page's state (what it shows, the changes it sends)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.ops import (
    StaffDirectoryMixin,
    id_or_none,
)
from portal_app.edge.body_limit import message_form, upload_form_limit
from portal_app.services import clock
from portal_app.services import documents as docs
from portal_app.services import exceptions as exc_svc
from portal_app.services import requests as svc
from portal_app.services.errors import ErrorCode, ServiceError
from portal_app.services.file_storage import ACCEPTED_DESCRIPTION
from portal_app.services.requests.opening import MAX_ATTACHMENTS
from portal_app.tower.choices import Option
from portal_app.tower.request_detail.rows import (
    NOTHING_SAVED,
    NOTHING_SENT,
    REFERENCE,
    UPLOAD_ID,
    AttachmentRow,
    MessageRow,
    RequestSummary,
    attachment_views,
    canned_option,
    context_pairs,
    exception_option,
    insert_script,
    message_view,
    placeholder_left,
    placeholder_words,
    request_view,
)
from portal_app.ui.session import SessionState, last_path_segment, page_event, run_db

log = logging.getLogger(__name__)


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


class TowerRequestState(StaffDirectoryMixin, SessionState):
    req: RequestSummary | None = None
    context: list[list[str]] = []
    messages: list[MessageRow] = []
    files: list[AttachmentRow] = []
    canned: list[Option] = []
    exceptions: list[Option] = []
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
            self.req, self.messages, self.files, self.context = None, [], [], []
            self.load_error = exc.message
            return False
        now = clock.now()
        self._version = detail.row.version
        self.req = request_view(detail, now, self._tz, self._me)
        self.context = context_pairs(detail.context)
        self.messages = [message_view(m, self._tz) for m in detail.messages]
        self.files = attachment_views(detail.messages)
        self.canned = [canned_option(c) for c in canned]
        self._canned_bodies = {str(c.id): c.body for c in canned}
        self.exceptions = [exception_option(e) for e in found]
        self.load_error = ""
        if not keep_forms:
            self.form_key += 1
        return True

    @page_event("tower")
    async def load(self, principal: Principal) -> None:
        key = last_path_segment(self.router.url.path).strip().upper()
        self.errors, self.notices, self.field_errors, self.reply_kind = {}, {}, {}, "reply"
        if not REFERENCE.match(key):
            self.req, self.load_error = None, ("That is not a request reference (they look like REQ-000123). Go "
                                               "back to the queue and open one from there.")
            return
        self._reference = key
        await self._load_directory(principal)
        await self._reload(principal)
        self.reply_key += 1

    def _said(self, section: str, notice: str = "", error: str = "") -> None:
        self.notices = {section: notice} if notice else {}
        self.errors = {section: error} if error else {}

    def _conflict_text(self, what: str) -> str:
        r = self.req
        if r is None:  # the page could not read the request again
            return (f"This request was changed by someone else after you opened it (now: , , priority , , ). {what} "
                    "The page shows the request as it is now and your entry is still in the form: check it and try "
                    "again to apply it on top.")
        return (f"{r.reference} was changed by someone else after you opened it (now: {r.status_label}, "
                f"{r.category_label}, priority {r.priority_label.lower()}, {r.assignee}, {r.team}). {what} "
                "The page shows the request as it is now and your entry is still in the form: check it and try "
                "again to apply it on top.")

    async def _act(self, principal: Principal, section: str, call: Callable[..., Any], done: str, *,
                   field: str = "", versioned: bool = True, **kwargs: Any) -> None:
        """Run a change with the version the page showed; say what happened in the section, read the request
        again. A refusal keeps what was typed; a conflict shows the request as it is now."""
        if not self.req:
            self._said(section, error=f"The request is not loaded. Reload the page. {NOTHING_SAVED}")
            return
        if versioned:
            kwargs["expected_version"] = self._version
        try:
            await run_db(call, principal, self._reference, **kwargs)
        except ServiceError as exc:
            self.field_errors = {field: exc.message} if field and exc.status_code in (404, 422) else {}
            if exc.code == ErrorCode.CONFLICT:
                await self._reload(principal, keep_forms=True)
                self._said(section, error=self._conflict_text(NOTHING_SAVED))
            else:
                self._said(section, error="" if self.field_errors else exc.message)
                if exc.status_code == 409:
                    await self._reload(principal, keep_forms=True)
            return
        except Exception:  # a failure on our side still ends with a clear message (the session rolled back)
            log.exception("request change failed")
            self.field_errors = {}
            self._said(section, error=f"That failed on our side. {NOTHING_SAVED} Try again in a minute.")
            return
        self.field_errors = {}
        self._said(section, notice=done)
        await self._reload(principal)

    # ---------------------------------------------------------------- reply or note

    @page_event("tower")
    async def set_reply_kind(self, principal: Principal, value: str) -> None:
        self.reply_kind = "note" if value == "note" else "reply"
        self._said("reply")  # the last result was about the other kind of message

    @page_event("tower")
    async def insert_canned(self, principal: Principal, canned_id: str) -> Any:
        """Put the chosen canned reply's text into the message box (the agent adapts it before sending)."""
        body = self._canned_bodies.get(str(canned_id)[:12])
        if body is None:
            return None
        found = await run_db(svc.placeholder_values, principal, self._reference)
        return rx.call_script(insert_script(svc.fill_placeholders(body, placeholder_words(found))))

    @page_event("tower")
    async def files_rejected(self, principal: Principal, _rejected: list[dict]) -> Any:
        self._said("reply", error=(f"Those files cannot be attached: at most {MAX_ATTACHMENTS} files of "
                                   f"{docs.max_upload_mb()} MB each ({ACCEPTED_DESCRIPTION}). Nothing was sent; "
                                   "choose the files again."))
        return rx.clear_selected_files(UPLOAD_ID)

    @page_event("tower")
    async def clear_files(self, principal: Principal) -> Any:
        return rx.clear_selected_files(UPLOAD_ID)

    @upload_form_limit(message_form)
    @page_event("tower", upload=True)
    async def send_reply(self, principal: Principal, files: list[rx.UploadFile], form: dict) -> Any:
        """The reply form and its files arrive together: a reply to the customer (with the status after it) or an
        internal note; the service stores the message and files all or nothing."""
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
            if exc.code == ErrorCode.CONFLICT:
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

    @page_event("tower")
    async def save_triage(self, principal: Principal, form: dict) -> None:
        assignee = form.get("assignee_id")
        await self._act(
            principal, "triage", svc.triage, "Triage saved. A new assignee was notified; a new category or priority "
            "recalculated the SLA due times.",
            category=str(form.get("category", "")), priority=str(form.get("priority", "")),
            team_id=id_or_none(form.get("team_id")), assignee_id=self._me if assignee == "me" else id_or_none(assignee))

    @page_event("tower")
    async def take(self, principal: Principal) -> None:
        r = self.req
        await self._act(principal, "triage", svc.triage, "You are the assignee now.",
                        category=r.category if r else "", priority=r.priority if r else "",
                        team_id=id_or_none(r.team_id if r else None), assignee_id=self._me)

    @page_event("tower")
    async def resolve(self, principal: Principal) -> None:
        await self._act(principal, "status", svc.set_status, "Marked resolved; the customer was told and can reply "
                        "to reopen it.", status="resolved")

    @page_event("tower")
    async def close(self, principal: Principal) -> None:
        await self._act(principal, "status", svc.set_status, "Closed.", status="closed")

    @page_event("tower")
    async def reopen(self, principal: Principal, form: dict) -> None:
        await self._act(principal, "status", svc.reopen, "Reopened with a new resolution time; the reason is in the "
                        "thread.", field="reason", reason=str(form.get("reason", "")))

    @page_event("tower")
    async def merge(self, principal: Principal, form: dict) -> None:
        into = str(form.get("into", "")).strip().upper()[:20]
        if not into:
            self.field_errors = {"into": f"Type the reference of the request to merge into, e.g. REQ-000123. "
                                         f"{NOTHING_SAVED}"}
            self._said("merge")
            return
        await self._act(principal, "merge", svc.merge, f"Merged into {into}; this request is closed and points "
                        "there.", field="into", into_reference=into)

    @page_event("tower")
    async def link_exception(self, principal: Principal, form: dict) -> None:
        chosen = id_or_none(form.get("exception_id"))
        if chosen is None:
            self.field_errors = {"exception": f"Choose one of the shipment's open exceptions. {NOTHING_SAVED}"}
            self._said("exception")
            return
        await self._act(principal, "exception", svc.link_exception, f"Linked to exception #{chosen}.",
                        field="exception", exception_id=chosen)

    @page_event("tower")
    async def unlink_exception(self, principal: Principal) -> None:
        await self._act(principal, "exception", svc.link_exception, "The exception is no longer linked.",
                        exception_id=None)

    @page_event("tower")
    async def toggle_follow(self, principal: Principal) -> None:
        follow = not (self.req is not None and self.req.following == "yes")
        done = ("You follow this request: you hear about the customer's replies." if follow
                else "You no longer follow this request.")
        await self._act(principal, "follow", svc.set_following, done, versioned=False, follow=follow)
