"""The tower pages' own small pieces: SLA time left, form lines to service input, errors back to form lines, and a
form value the model refuses shown beside the form's own field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal_app.components.work_queue import fmt_time_left, line_errors
from portal_app.services import bookings
from portal_app.tower import changes, quotes

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_sla_time_left_and_breached():
    assert fmt_time_left(NOW + timedelta(hours=5, minutes=20), NOW) == ("5 h 20 min left", False)
    assert fmt_time_left(NOW + timedelta(minutes=9), NOW) == ("9 min left", False)
    assert fmt_time_left(NOW - timedelta(days=2, hours=3), NOW) == ("Breached 2 d 3 h ago", True)
    assert fmt_time_left(None, NOW) == ("No SLA", False)


def test_blank_charge_lines_are_left_out_and_errors_come_back_to_the_form_line():
    form = {"code_0": "FRT", "description_0": "Ocean freight", "basis_0": "per_container", "quantity_0": "2",
            "unit_price_0": "1500", "code_2": "DOC", "description_2": "Documents", "basis_2": "per_shipment",
            "quantity_2": "1", "unit_price_2": "-1"}
    sent, charges = quotes._charges_from(form, 3)
    assert sent == [0, 2]
    assert [c["description"] for c in charges] == ["Ocean freight (per container)", "Documents (per shipment)"]
    # the service numbers what it was sent: its line 1 is the form's line 2
    assert line_errors({"charges.1.unit_price": "negative", "currency": "bad"}, sent) == {
        "charges.2.unit_price": "negative", "currency": "bad"}


def test_change_request_shows_now_and_requested():
    amend = bookings.ChangeRequestView(id=4, shipment_reference="SH0000001", company_name="Acme", kind="amend",
                                       status="pending", changes={"customer_po": "PO-2", "packages": "3"},
                                       current={"customer_po": "PO-1"})
    assert changes.diff_view(amend) == [
        changes.DiffLine(field="Your reference (PO)", current="PO-1", requested="PO-2"),
        changes.DiffLine(field="Packages", current="—", requested="3"),
    ]
    cancel = bookings.ChangeRequestView(id=5, shipment_reference="SH0000001", company_name="Acme", kind="cancel",
                                        status="pending")
    assert changes.diff_view(cancel) == [changes.DiffLine(field="Booking", current="Booked", requested="Cancelled")]


def test_a_rate_card_value_the_model_refuses_is_shown_beside_the_form_field_and_nothing_is_saved(qworld,
                                                                                                 monkeypatch):
    """The rate card page reads its form with the model the API takes; a problem comes back under the form's own
    field name (the model's ``carrier_code`` is the form's ``carrier``) and the charge's own line."""
    from sqlmodel import select

    from models import RateCard
    from portal_app.tower.rate_card import NEW, ChargeLine, TowerRateCardState
    from tests.page_states import run, state_as, use_db

    use_db(monkeypatch, qworld.engine)
    with qworld.session() as db:
        before = len(db.exec(select(RateCard.id)).all())
    state = state_as(monkeypatch, TowerRateCardState, qworld.manager, "/tower/rates/new")
    state.card_key, state.charges = NEW, [ChargeLine(code="FRT", basis="per_shipment"), ChargeLine()]
    form = {"mode": "air", "origin": "PVG", "destination": "FRA", "carrier": "TOO-LONG-CARRIER",
            "valid_from": "2026-12-01", "valid_to": "2026-12-31", "currency": "USD", "transit_days": "three",
            "charge_code_0": "FRT", "charge_description_0": "Freight", "charge_basis_0": "per_shipment",
            "charge_rate_0": "ten"}
    run(TowerRateCardState.event_handlers["save"], state, form)
    assert state.field_errors == {"carrier": "Make this shorter: at most 10 characters.",
                                  "transit_days": "Give a whole number.",
                                  "charges.0.rate": "Give a number such as 12.50."}
    assert "Nothing was saved." in state.error and state.notice == ""
    with qworld.session() as db:
        assert len(db.exec(select(RateCard.id)).all()) == before


def test_the_rate_card_page_keeps_the_free_days(qworld, monkeypatch):
    """Free days typed on the rate card page are stored and shown again; emptied, the card gives standard terms."""
    from models import RateCard
    from portal_app.services import clock
    from portal_app.tower.rate_card import NEW, ChargeLine, TowerRateCardState
    from tests.page_states import run, state_as, use_db

    use_db(monkeypatch, qworld.engine)
    state = state_as(monkeypatch, TowerRateCardState, qworld.manager, "/tower/rates/new")
    state.card_key, state.charges = NEW, [ChargeLine(code="FRT", basis="per_container")]
    today = clock.today()
    form = {"mode": "ocean_fcl", "origin": "CNTAO", "destination": "PLGDN", "carrier": "MAEU",
            "valid_from": today.isoformat(), "valid_to": today.replace(year=today.year + 1).isoformat(),
            "currency": "USD", "transit_days": "36", "demurrage_free_days": "7", "detention_free_days": "14",
            "charge_code_0": "FRT", "charge_description_0": "Ocean freight", "charge_basis_0": "per_container",
            "charge_rate_0": "1500"}
    run(TowerRateCardState.event_handlers["save"], state, form)
    assert state.error == "" and (state.card.demurrage_free_days, state.card.detention_free_days) == ("7", "14")
    card_id = int(state.card_key)
    run(TowerRateCardState.event_handlers["save"], state, {**form, "detention_free_days": "", "demurrage_free_days":
                                                           "99"})
    assert "demurrage_free_days" in state.field_errors and "Nothing was saved." in state.error
    run(TowerRateCardState.event_handlers["save"], state, {**form, "detention_free_days": ""})
    with qworld.session() as db:
        card = db.get(RateCard, card_id)
    assert (card.demurrage_free_days, card.detention_free_days) == (7, None)
