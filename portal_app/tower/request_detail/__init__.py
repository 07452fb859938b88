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

from portal_app.tower.choices import Option
from portal_app.tower.request_detail.rows import (
    AttachmentRow,
    MessageRow,
    RequestSummary,
    context_pairs,
    insert_script,
    placeholder_left,
    placeholder_words,
)
from portal_app.tower.request_detail.state import TowerRequestState
from portal_app.tower.request_detail.view import tower_request_detail

__all__ = [
    "AttachmentRow",
    "MessageRow",
    "Option",
    "RequestSummary",
    "TowerRequestState",
    "context_pairs",
    "insert_script",
    "placeholder_left",
    "placeholder_words",
    "tower_request_detail",
]
