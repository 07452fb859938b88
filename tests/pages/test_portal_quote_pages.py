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


def test_cargo_lines_read_in_words_with_their_volume():
    from portal_app.portal.booking_confirm import cargo_line_text

    pallets = svc.CargoLineView("Pallets", 3, Decimal(120), Decimal(80), Decimal(100), Decimal(250), None, None,
                                False, None, None, volume_m3=Decimal("2.880"))
    assert cargo_line_text(pallets) == "3 packages of 120 × 80 × 100 cm, 2.880 m³, 250 kg · Pallets"
    one = svc.CargoLineView(None, 1, None, None, None, Decimal(30), None, None, False, None, None)
    assert cargo_line_text(one) == "1 package, 30 kg"
    boxes = svc.CargoLineView(None, 2, None, None, None, Decimal(10), "45G1", 2, True, "1263", "3",
                              container_type="40' high cube")
    assert cargo_line_text(boxes) == "2 x 40' high cube · dangerous goods UN 1263, class 3 (flammable liquids)"


def test_the_quote_form_computes_each_lines_volume():
    from portal_app.portal.quote_form import SIZE_CHOICES, line_volume_m3, volume_text

    line = {**EMPTY_LINE, "packages": "3", "length_cm": "120", "width_cm": "80", "height_cm": "100"}
    assert volume_text(line_volume_m3(line)) == "2.880 m³"
    assert volume_text(line_volume_m3({**line, "packages": "two"})) == "—"
    assert volume_text(line_volume_m3({**line, "height_cm": ""})) == "—"
    assert ("45G1", "40' high cube") in SIZE_CHOICES  # the container as a shipper calls it, no code


def test_option_cards_show_the_free_time():
    option = svc.OptionView(7, "QT0000001", "MAEU", "Maersk", "USD", Decimal("3000"), "USD 3,000.00", 30,
                            clock.now(), "offered", False, None, None, free_time="Standard terms")
    assert option_view(option).free_time == "Standard terms"
    air = svc.OptionView(**{**option.__dict__, "free_time": None})
    assert option_view(air).free_time == ""


def test_opening_the_booking_form_shows_the_option_and_fills_in_the_parties(qworld: QuoteWorld, monkeypatch):
    """The confirm step: the option chosen in words, the cargo, and the parties of the company's last booking in
    the form's fields (a colleague's booking counts, it is the same company)."""
    from portal_app.portal.quotes import PortalQuoteState
    from tests.page_states import run, state_as, use_db
    from tests.services.test_bookings import BOOKING, fcl_quote

    first = fcl_quote(qworld)
    with qworld.session() as db:
        booked = bookings.accept_option(db, qworld.alice, first.options[0].id, BOOKING).shipment_reference
    quote = fcl_quote(qworld, qworld.bob)
    use_db(monkeypatch, qworld.engine)
    state = state_as(monkeypatch, PortalQuoteState, qworld.bob, f"/portal/quotes/{quote.reference}")
    run(PortalQuoteState.event_handlers["load"], state)
    option = quote.options[0]
    run(PortalQuoteState.event_handlers["start_booking"], state, str(option.id))
    assert state.booking_option == str(option.id) and state.error == ""
    assert (state.confirm.carrier, state.confirm.total) == (option.carrier_name, f"{option.total_text} all-in")
    assert state.confirm.transit == "38 days in transit" and state.confirm.departure.startswith("about ")
    assert booked in state.confirm.parties_note
    assert state.prefill["shipper_name"] == "Tianjin Bearings Co."
    assert state.prefill["consignee_address"] == "Unit 4, Orwell Park, Ipswich"
    assert (state.prefill["customer_reference"], state.prefill["cargo_description"]) == ("ACME-PO-4711", "Bearings")
    assert state.confirm_lines == ["2 x 20' standard · Bearings"]


def test_nina_opening_her_first_booking_form_gets_no_other_companys_parties(qworld: QuoteWorld, monkeypatch):
    from portal_app.portal.quotes import PortalQuoteState
    from tests.page_states import run, state_as, use_db
    from tests.services.test_bookings import BOOKING, fcl_quote

    with qworld.session() as db:
        bookings.accept_option(db, qworld.alice, fcl_quote(qworld).options[0].id, BOOKING)
    quote = fcl_quote(qworld, qworld.nina)
    use_db(monkeypatch, qworld.engine)
    state = state_as(monkeypatch, PortalQuoteState, qworld.nina, f"/portal/quotes/{quote.reference}")
    run(PortalQuoteState.event_handlers["load"], state)
    run(PortalQuoteState.event_handlers["start_booking"], state, str(quote.options[0].id))
    assert state.prefill["shipper_name"] == "" and state.prefill["consignee_name"] == ""
    assert "first booking" in state.confirm.parties_note
