"""The customer quote pages' own logic: the form's fields to the service's input and back (a draft round trip
through the database), the place typed or picked from suggestions, the list and option rows, and the change
request lines on the shipment page."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from portal_app.components.booking_changes import change_view
from portal_app.portal.quote_form import EMPTY_LINE, _place_code, form_from_view, input_from_form
from portal_app.portal.quotes import option_view, quote_row_view
from portal_app.services import bookings, clock
from portal_app.services import quotes as svc
from tests.quote_world import QuoteWorld


def test_place_typed_or_picked_is_its_code():
    assert _place_code("FRA · Frankfurt am Main International Airport") == "FRA"
    assert _place_code(" pvg ") == "PVG"
    assert _place_code("") == ""


def test_form_fields_round_trip_through_a_saved_draft(qworld: QuoteWorld):
    ready = (clock.today() + timedelta(days=5)).isoformat()
    top = {"mode": "air", "origin": "PVG", "destination": "FRA", "ready_date": ready, "incoterm": "FCA",
           "cargo_value": "12500.50", "cargo_currency": "EUR", "customer_reference": "PO-77"}
    lines = [{**EMPTY_LINE, "description": "Pallets", "packages": "3", "length_cm": "120", "width_cm": "80",
              "height_cm": "100", "weight_kg": "250"},
             {**EMPTY_LINE, "description": "Batteries", "packages": "1", "length_cm": "40", "width_cm": "30",
              "height_cm": "20", "weight_kg": "12.5", "dg": "yes", "un_number": "UN 3480", "dg_class": "9"}]
    with qworld.session() as db:
        saved = svc.save_draft(db, qworld.alice, input_from_form(top, lines, ["insurance", "bogus"]))
        assert saved.problems == {}
        back_top, back_lines, back_services = form_from_view(svc.get_draft(db, qworld.alice))
    assert back_top == top
    assert back_services == ["insurance"]  # unknown services never reach the service
    assert back_lines[0]["packages"] == "3" and back_lines[0]["weight_kg"] == "250"
    assert (back_lines[1]["dg"], back_lines[1]["un_number"], back_lines[1]["weight_kg"]) == ("yes", "3480", "12.5")


def test_a_half_filled_form_saves_with_the_problems_keyed_by_field(qworld: QuoteWorld):
    with qworld.session() as db:
        view = svc.save_draft(db, qworld.bob, input_from_form({"mode": "air", "origin": "NLRTM"},
                                                               [dict(EMPTY_LINE)], []))
    assert "seaport" in view.problems["origin"]
    assert "destination" in view.problems and "lines.0.weight_kg" in view.problems
    top, lines, _services = form_from_view(view)
    assert (top["mode"], top["origin"], lines) == ("air", "NLRTM", [dict(EMPTY_LINE)])


def test_list_and_option_rows():
    row = svc.QuoteRow("QT0000001", "quoted", "air", "PVG", "FRA", date(2026, 11, 26), "Acme", "Alice", 2,
                       "EUR 2,041.40", False, None, False, clock.now(), clock.now())
    view = quote_row_view(row)
    assert (view.href, view.pdf, view.route, view.best) == (
        "/portal/quotes/QT0000001", "/api/v1/quote-requests/QT0000001/pdf", "PVG → FRA", "EUR 2,041.40")
    draft = quote_row_view(svc.QuoteRow(**{**row.__dict__, "status": "draft", "best_total_text": None}))
    assert (draft.href, draft.pdf, draft.best) == ("/portal/quotes/new", "", "—")
    option = svc.OptionView(7, "QT0000001", "LH", "Lufthansa Cargo", "EUR", Decimal("2041.40"), "EUR 2,041.40", 2,
                            clock.now(), "offered", False, None, None)
    assert option_view(option).carrier == "Lufthansa Cargo" and option_view(option).transit == "2 days"


def test_change_request_lines_say_what_changes():
    amend = bookings.ChangeRequestView(3, "SH1", "Acme", "amend", "pending",
                                       changes={"consignee_name": "New GmbH"}, current={"consignee_name": "Old GmbH"})
    assert change_view(amend).what == "Consignee: Old GmbH → New GmbH"
    assert change_view(amend).status_words == "Waiting for our decision"
    cancel = bookings.ChangeRequestView(4, "SH1", "Acme", "cancel", "rejected", reason="Order cancelled",
                                        decision_reason="Cargo already loaded")
    assert (change_view(cancel).what, change_view(cancel).decision) == ("Cancel the booking",
                                                                              "Cargo already loaded")


def test_a_value_the_model_refuses_is_shown_beside_its_field_and_nothing_is_saved(qworld: QuoteWorld, monkeypatch):
    """The form is read by the model the API takes: a number that is not one comes back in plain words under its
    own field (never a raw path), with the page's message saying nothing was saved; no draft is written."""
    from portal_app.portal.quote_form import PLACE_NOT_PICKED, TOP_FIELDS, QuoteFormState
    from tests.page_states import run, state_as, use_db
    from tests.quote_world import start_fresh

    use_db(monkeypatch, qworld.engine)
    with qworld.session() as db:
        start_fresh(db, qworld.bob)
    state = state_as(monkeypatch, QuoteFormState, qworld.bob, "/portal/quotes/new")
    state.top = {**dict.fromkeys(TOP_FIELDS, ""), "mode": "air", "origin": "PVG", "cargo_value": "lots",
                 "destination": "Frankfurt am Main"}  # typed out, no suggestion picked
    state.lines = [{**EMPTY_LINE, "description": "Pallets", "packages": "two", "weight_kg": "250"}]
    run(QuoteFormState.event_handlers["save"], state)
    assert state.problems == {"cargo_value": "Give a number such as 12.50.", "lines.0.packages": "Give a whole number.",
                              "destination": PLACE_NOT_PICKED}
    assert "Nothing was saved." in state.error and state.notice == ""
    with qworld.session() as db:
        assert svc.get_draft(db, qworld.bob) is None
    state.lines = [{**EMPTY_LINE, "description": "Pallets", "packages": "2", "weight_kg": "250"}]
    state.top = {**state.top, "cargo_value": "", "destination": "FRA"}
    run(QuoteFormState.event_handlers["save"], state)  # fixed: the draft is saved, the service's own checks follow
    assert state.error == "" and state.reference and "lines.0.packages" not in state.problems
    with qworld.session() as db:
        svc.discard_draft(db, qworld.bob, state.reference)
