"""The shipment workspace: what ops staff change on one shipment.

Milestones (planned, estimated, actual, location), ETA changes with a reason code (they reach the customer's
timeline, ETA history and followers' notifications), owner and team, internal notes versus customer-visible
updates, document review, closing the shipment once it is done (its checklist), and the record's audit trail.

Every edit of the shipment takes the ``expected_version`` the editor saw. The change is applied by one
conditional UPDATE on ``Shipment.version``; when someone saved in between, nothing is written and
:class:`EditConflict` (HTTP 409) says what changed since (from the audit log) and hands the caller's input back.

Edits are built in two steps so bulk actions (:mod:`portal_app.services.bulk`) reuse them inside a savepoint per
shipment: a ``plan_*`` function validates and adds the related rows, :func:`apply_plan` takes the lock and writes
the audit row. Public functions commit; bulk commits once for the batch.
"""

from portal_app.services.errors import Conflict  # the base of EditConflict; callers catch it from here
from portal_app.services.workspace.closeout import (
    CLOSEOUT_ITEMS,
    FINAL_DOCUMENTS,
    CloseInput,
    Closeout,
    CloseoutItem,
    close_shipment,
    closeout,
)
from portal_app.services.workspace.common import (
    ARRIVAL_STEP,
    ARRIVAL_STEPS,
    DELIVERY_STEP,
    DELIVERY_STEPS,
    DEPARTURE_STEP,
    DEPARTURE_STEPS,
    NOTHING_SAVED,
    EditConflict,
    EditResult,
    Planned,
    StaleVersion,
    Together,
    _after_change,
    _after_changes,
    apply_plan,
    apply_plan_together,
    changes_since,
    load_shipment,
    write_together,
)
from portal_app.services.workspace.eta import (
    ETA_REASONS,
    change_eta,
    eta_reasons,
    plan_eta,
)
from portal_app.services.workspace.history import (
    MAX_PAGE_SIZE,
    AuditRow,
    audit_trail,
)
from portal_app.services.workspace.milestones import (
    FUTURE_SLACK,
    MILESTONE_FIELDS,
    edit_milestone,
    plan_milestone,
)
from portal_app.services.workspace.notes import (
    NOTE_MAX,
    NoteResult,
    add_note,
    add_update,
)
from portal_app.services.workspace.ownership import (
    ASSIGN_FIELDS,
    Assignment,
    assign,
    assignment,
    plan_assign,
)
from portal_app.services.workspace.review import (
    REASON_MIN,
    ReviewResult,
    review_document,
)

__all__ = [
    "ARRIVAL_STEP",
    "ARRIVAL_STEPS",
    "ASSIGN_FIELDS",
    "CLOSEOUT_ITEMS",
    "DELIVERY_STEP",
    "DELIVERY_STEPS",
    "DEPARTURE_STEP",
    "DEPARTURE_STEPS",
    "ETA_REASONS",
    "FINAL_DOCUMENTS",
    "FUTURE_SLACK",
    "MAX_PAGE_SIZE",
    "MILESTONE_FIELDS",
    "NOTE_MAX",
    "NOTHING_SAVED",
    "REASON_MIN",
    "Assignment",
    "AuditRow",
    "CloseInput",
    "Closeout",
    "CloseoutItem",
    "Conflict",
    "EditConflict",
    "EditResult",
    "NoteResult",
    "Planned",
    "ReviewResult",
    "StaleVersion",
    "Together",
    "_after_change",
    "_after_changes",
    "add_note",
    "add_update",
    "apply_plan",
    "apply_plan_together",
    "assign",
    "assignment",
    "audit_trail",
    "change_eta",
    "changes_since",
    "close_shipment",
    "closeout",
    "edit_milestone",
    "eta_reasons",
    "load_shipment",
    "plan_assign",
    "plan_eta",
    "plan_milestone",
    "review_document",
    "write_together",
]
