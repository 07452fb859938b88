"""Requests (tickets): customers raise them with context; staff work them from the queue. See docs/requests.md.

- :mod:`.opening`: how a request is born (SLA, routing, context, attachments)
- :mod:`.context`: the context a request carries, stored whole within its limit
- :mod:`.reading`: lists and one request with its thread (internal notes never reach customers)
- :mod:`.desk`: replies, notes, status, triage, merge, exception link, reopen, rating, following
- :mod:`.canned`: canned replies
- :mod:`.common`: labels, statuses, the desk's settings (routing, reopen window), SLA targets
"""

from portal_app.services.requests.canned import (
    CannedView,
    PlaceholderValues,
    fill_placeholders,
    list_canned,
    placeholder_values,
    save_canned,
)
from portal_app.services.requests.common import (
    ACTIVE_STATUSES,
    CATEGORY_LABELS,
    DONE_STATUSES,
    PRIORITY_LABELS,
    STAFF_STATUS_LABELS,
    STATUS_LABELS,
    DeskSettings,
    desk_settings,
    save_desk_settings,
    sla_targets,
)
from portal_app.services.requests.context import (
    MAX_CONTEXT_CHARS,
    ContextTooLarge,
    decode_context,
    encode_context,
    fit_context,
)
from portal_app.services.requests.desk import (
    link_exception,
    merge,
    post_message,
    rate,
    reopen,
    set_following,
    set_status,
    triage,
)
from portal_app.services.requests.opening import (
    Attachment,
    new_ticket,
    open_request,
    ticket_reference,
)
from portal_app.services.requests.reading import (
    LIST_SORTS,
    AttachmentView,
    MessageView,
    RequestDetail,
    RequestFilters,
    RequestRow,
    get_request,
    list_requests,
)

__all__ = [
    "ACTIVE_STATUSES",
    "CATEGORY_LABELS",
    "DONE_STATUSES",
    "LIST_SORTS",
    "MAX_CONTEXT_CHARS",
    "PRIORITY_LABELS",
    "STAFF_STATUS_LABELS",
    "STATUS_LABELS",
    "Attachment",
    "AttachmentView",
    "CannedView",
    "ContextTooLarge",
    "DeskSettings",
    "MessageView",
    "PlaceholderValues",
    "RequestDetail",
    "RequestFilters",
    "RequestRow",
    "decode_context",
    "desk_settings",
    "encode_context",
    "fill_placeholders",
    "fit_context",
    "get_request",
    "link_exception",
    "list_canned",
    "list_requests",
    "merge",
    "new_ticket",
    "open_request",
    "placeholder_values",
    "post_message",
    "rate",
    "reopen",
    "save_canned",
    "save_desk_settings",
    "set_following",
    "set_status",
    "sla_targets",
    "ticket_reference",
    "triage",
]
