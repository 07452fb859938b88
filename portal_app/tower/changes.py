"""Tower: customers' change and cancellation requests. Each shows what would change (the booking's value when
the customer asked next to the value asked for); ops approve or reject it with a reason the customer reads
(``bookings.decide_change``: only an approval changes the shipment)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.formatting import fmt_datetime
from portal_app.components.layout import area_page
from portal_app.components.ui import (
    MUTED_TEXT,
    NATIVE_SELECT_STYLE,
    secondary_button,
)
from portal_app.components.work_queue import (
    LABEL_STYLE,
    PAGE_SIZE,
    PagedQueueBase,
    decision_panel,
    field_error,
    queue_page,
    queue_table,
    reason_field,
    submit_or_close,
)
from portal_app.services import bookings as svc
from portal_app.services.errors import ServiceError
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db

STATUS_CHOICES = [("pending", "Waiting for a decision"), ("approved", "Approved"), ("rejected", "Rejected"),
                  ("all", "All")]


@dataclass(frozen=True)
class ChangeLine:
    """A change request as the queue shows it (``decision``, ``decided_*`` empty until decided)."""

    id: str
    reference: str
    href: str
    company: str
    kind: str
    status: str
    reason: str
    decision: str
    requested_by: str
    decided_by: str
    requested_at: str
    decided_at: str


def change_row_view(cr: svc.ChangeRequestView) -> ChangeLine:
    return ChangeLine(
        id=str(cr.id),
        reference=cr.shipment_reference,
        href=routes.link(routes.TOWER_SHIPMENT, reference=cr.shipment_reference),
        company=cr.company_name,
        kind="Cancellation" if cr.kind == "cancel" else "Amendment",
        status=cr.status,
        reason=cr.reason or "—",
        decision=cr.decision_reason or "",
        requested_by=cr.requested_by or "—",
        decided_by=cr.decided_by or "",
        requested_at=fmt_datetime(cr.created_at),
        decided_at=fmt_datetime(cr.decided_at) if cr.decided_at else "",
    )


@dataclass(frozen=True)
class DiffLine:
    """One field a change request would change: its value when requested and the value asked for."""

    field: str
    current: str
    requested: str


def diff_view(cr: svc.ChangeRequestView) -> list[DiffLine]:
    """What would change: one line per field, the value when requested next to the value asked for."""
    if cr.kind == "cancel":
        return [DiffLine("Booking", "Booked", "Cancelled")]
    return [DiffLine(svc.AMENDABLE_FIELDS.get(key, key), cr.current.get(key) or "—", value or "—")
            for key, value in cr.changes.items()]


class TowerChangesState(PagedQueueBase, SessionState):
    rows: list[ChangeLine] = []
    status: str = "pending"
    diffs: dict[str, list[DiffLine]] = {}
    _diffs: dict[str, list[DiffLine]] = {}

    def _query(self):  # noqa: ANN202
        return svc.list_change_requests, {"status": self.status, "page": self.page, "page_size": PAGE_SIZE}

    def _row(self, item: svc.ChangeRequestView) -> ChangeLine:
        self._diffs[str(item.id)] = diff_view(item)
        return change_row_view(item)

    async def _fetch(self, principal) -> None:  # noqa: ANN001
        self._diffs = {}
        await super()._fetch(principal)
        self.diffs = dict(self._diffs)

    def _start(self, principal) -> None:  # noqa: ANN001
        status = (parse_qs(self.router.url.query).get("status") or ["pending"])[0]
        self.status = status if status in {s for s, _ in STATUS_CHOICES} else "pending"

    @page_event("tower")
    async def set_status(self, principal: Principal, value: str) -> None:
        self.status = value if value in {s for s, _ in STATUS_CHOICES} else "pending"
        self.page, self.selected, self.field_errors, self.notice = 1, "", {}, ""
        await self._fetch(principal)

    @page_event("tower")
    async def decide(self, principal: Principal, form: dict) -> None:
        decision = str(form.get("decision", ""))
        if not self.selected.isdigit():
            self.error = "Choose a request to decide first. Nothing was changed."
            return
        if decision not in ("approve", "reject"):
            self.field_errors = {"decision": "Choose approve or reject. Nothing was changed."}
            return
        approve = decision == "approve"
        try:
            result = await run_db(svc.decide_change, principal, int(self.selected), approve,
                                  str(form.get("reason", "")))
        except ServiceError as exc:
            self._refusal(exc)
            return
        what = "Cancellation" if result.kind == "cancel" else "Change"
        outcome = ("approved: the shipment is updated" if approve else "rejected: the booking stays as it was")
        await self._decided(principal, f"{what} request #{result.id} on {result.shipment_reference} {outcome}. "
                                       "The customer reads your reason and was notified.")


S = TowerChangesState


def _diff_table(lines: rx.Var, caption: rx.Var | str) -> rx.Component:
    return rx.table.root(
        rx.el.caption(caption, class_name="sr-only"),
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col")
                                       for h in ("Field", "Now", "Requested")])),
        rx.table.body(rx.foreach(lines, lambda d: rx.table.row(
            rx.table.row_header_cell(d.field), rx.table.cell(d.current),
            rx.table.cell(rx.text(d.requested, weight="bold")),
        ))),
        size="1",
        variant="ghost",
    )


def _choice(value: str, text: str) -> rx.Component:
    return rx.el.label(
        rx.el.input(type="radio", name="decision", value=value, id=f"decision-{value}"),
        rx.text(text, as_="span", margin_left="6px"),
        html_for=f"decision-{value}",
        style={"display": "inline-flex", "align_items": "center", "cursor": "pointer"},
    )


def _decision_panel() -> rx.Component:
    return decision_panel(
        S, "Decide change request #", "change-decision",
        rx.el.form(
            rx.vstack(
                _diff_table(S.diffs[S.selected], "What would change"),
                rx.el.fieldset(
                    rx.el.legend("Decision", style=LABEL_STYLE),
                    rx.hstack(
                        _choice("approve", "Approve: change the booking"),
                        _choice("reject", "Reject: keep the booking as it is"),
                        spacing="5",
                        wrap="wrap",
                    ),
                    field_error(S.field_errors, "decision", "decision-error"),
                    aria_describedby="decision-error",
                    style={"border": "none", "padding": "0", "margin": "0"},
                ),
                reason_field("Reason for the customer", S.field_errors,
                             hint="Required either way; the customer reads it with the decision."),
                submit_or_close(S, "Record decision"),
                spacing="3",
                width="100%",
            ),
            on_submit=S.decide,
            aria_label="Decide change request",
        ),
    )


def _row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell("#", r.id),
        rx.table.cell(rx.link(r.reference, href=r.href, weight="bold"), rx.text(r.company, size="1")),
        rx.table.cell(r.kind),
        rx.table.cell(_diff_table(S.diffs[r.id], "What would change on " + r.reference)),
        rx.table.cell(rx.text(r.reason), rx.text(r.requested_by, " · ", r.requested_at, size="1", color=MUTED_TEXT)),
        rx.table.cell(
            rx.cond(
                r.status == "pending",
                secondary_button("Decide", on_click=S.select_row(r.id), size="1",
                                 aria_label="Decide change request #" + r.id),
                rx.vstack(rx.badge(r.status, variant="soft", high_contrast=True),
                          rx.text(r.decision, size="1"),
                          rx.text(r.decided_by, " · ", r.decided_at, size="1", color=MUTED_TEXT),
                          spacing="1"),
            )
        ),
    )


@area_page("tower", routes.TOWER_CHANGES, "Change requests", TowerChangesState.load)
def tower_changes() -> rx.Component:
    headers = ["Request", "Shipment", "Kind", "What would change", "Customer's reason", "Decision"]
    return queue_page(
        S, "Change and cancellation requests",
        rx.text("Nothing changes on a booking until you approve. The customer reads your reason either way.",
                color=MUTED_TEXT),
        _decision_panel(),
        queue_table(S, "Change requests", headers, _row, "No requests here."),
        rx.box(
            rx.el.label("Show", html_for="change-status-filter", style=LABEL_STYLE),
            rx.el.select(
                *[rx.el.option(text, value=v) for v, text in STATUS_CHOICES],
                id="change-status-filter", value=S.status, on_change=S.set_status,
                style={**NATIVE_SELECT_STYLE, "width": "auto"},
            ),
        ),
        rx.text(S.total, " requests", color=MUTED_TEXT, data_testid="change-count"),
    )
