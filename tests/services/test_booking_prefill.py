"""The confirm step of a booking and what feeds it: the parties filled in from the same company's last booking
(never another company's), cargo volume computed from the lines' dimensions, container types in words, and the
free days carried from the rate card to the option (and shown as "standard terms" when the card has none)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from models import QuoteOption, RateCard
from portal_app.services import bookings, clock, quotes, rate_cards, rating
from portal_app.services.bookings import BookingInput
from portal_app.services.errors import NotFound
from portal_app.services.quotes import CargoLineInput, QuoteInput
from tests.quote_world import QuoteWorld, add_card, submitted
from tests.services.test_bookings import BOOKING, fcl_quote

D = Decimal
FREE_LANE = ("ocean_fcl", "CNTAO", "PLGDN")


def _free_time_lane(world: QuoteWorld) -> int:
    """Qingdao -> Gdansk: a card with 7/14 free days (MAEU) and one without (MSCU). Returns the MAEU card's id."""
    with world.session() as db:
        card = add_card(db, world, *FREE_LANE, "USD", 36, [
            {"code": "FRT", "basis": "per_container", "rate": "1500", "size_type": "22G1"}], carrier="MAEU",
            free_days=(7, 14))
        add_card(db, world, *FREE_LANE, "USD", 35, [
            {"code": "FRT", "basis": "per_container", "rate": "1600", "size_type": "22G1"}], carrier="MSCU")
    return card


def _free_time_quote(world: QuoteWorld) -> quotes.QuoteView:
    with world.session() as db:
        return submitted(db, world.alice, QuoteInput(
            mode="ocean_fcl", origin="CNTAO", destination="PLGDN", ready_date=clock.today() + timedelta(days=7),
            incoterm="FOB", lines=(CargoLineInput(description="Tiles", container_size_type="22G1",
                                                  container_count=1, weight_kg="18000"),)))


# ---------------------------------------------------------------------------------------------------- free time


def test_free_days_go_from_the_rate_card_to_the_option(qworld: QuoteWorld):
    card_id = _free_time_lane(qworld)
    view = _free_time_quote(qworld)
    by_carrier = {o.carrier_code: o for o in view.options}
    maersk, msc = by_carrier["MAEU"], by_carrier["MSCU"]
    assert (maersk.demurrage_free_days, maersk.detention_free_days) == (7, 14)
    assert maersk.free_time == "Demurrage 7 free days, detention 14 free days"
    assert (msc.demurrage_free_days, msc.detention_free_days, msc.free_time) == (None, None, "Standard terms")
    with qworld.session() as db:
        stored = db.get(QuoteOption, maersk.id)
        assert (stored.demurrage_free_days, stored.detention_free_days) == (7, 14)
        # the card is edited afterwards: the offer already made keeps the free days it was given
        card = rate_cards.get_rate_card(db, qworld.manager, card_id)
        assert (card.demurrage_free_days, card.detention_free_days) == (7, 14)
        rate_cards.update_rate_card(db, qworld.manager, card_id, rate_cards.RateCardInput(
            mode="ocean_fcl", origin="CNTAO", destination="PLGDN", valid_from=card.valid_from,
            valid_to=card.valid_to, currency="USD", transit_days=36, carrier_code="MAEU", demurrage_free_days=3,
            charges=(rate_cards.RateChargeInput(code="FRT", description="FRT", basis="per_container", rate="1500",
                                                size_type="22G1"),)))
        assert db.get(RateCard, card_id).demurrage_free_days == 3
        assert db.get(RateCard, card_id).detention_free_days is None  # emptied: standard terms
        again = quotes.get_quote(db, qworld.alice, view.reference)
    assert next(o for o in again.options if o.id == maersk.id).free_time == (
        "Demurrage 7 free days, detention 14 free days")


def test_the_quote_pdf_shows_the_free_time_and_the_container_in_words(qworld: QuoteWorld):
    from portal_app.services.quote_pdf import quote_pdf

    _free_time_lane(qworld)
    view = _free_time_quote(qworld)
    with qworld.session() as db:
        _name, body = quote_pdf(db, qworld.alice, view.reference, compress=False)
    for text in ("Free time: Demurrage 7 free days, detention 14 free days.", "Free time: Standard terms.",
                 "1 x 20' standard"):
        assert text.replace("'", "\\'").encode() in body or text.encode() in body, text


def test_free_time_words():
    assert quotes.free_time_words(None, None) == "Standard terms"
    assert quotes.free_time_words(1, None) == "Demurrage 1 free day, detention standard terms"
    assert quotes.free_time_words(0, 10) == "Demurrage 0 free days, detention 10 free days"


def test_air_options_have_no_container_free_time(qworld: QuoteWorld):
    with qworld.session() as db:
        view = submitted(db, qworld.alice, QuoteInput(
            mode="air", origin="PVG", destination="FRA", ready_date=clock.today() + timedelta(days=3),
            incoterm="FCA", lines=(CargoLineInput(description="Pallets", packages=3, length_cm="120",
                                                  width_cm="80", height_cm="100", weight_kg="250"),)))
    assert view.options and all(o.free_time is None for o in view.options)


def test_free_days_are_checked_and_imported(qworld: QuoteWorld):
    template = rate_cards.import_template_csv()
    rows = list(csv.reader(io.StringIO(template.decode("utf-8-sig"))))
    assert rows[0][10:12] == ["demurrage_free_days", "detention_free_days"]
    with qworld.session() as db:
        report = rate_cards.import_rate_cards(db, qworld.manager, "rates.csv", template)
        cards = [db.get(RateCard, i) for i in report.card_ids]
    assert {(c.mode, c.demurrage_free_days, c.detention_free_days) for c in cards} == {
        ("ocean_fcl", 7, 14), ("air", None, None)}
    rows[1][10] = "-3"
    bad = io.StringIO()
    csv.writer(bad).writerows(rows)
    with qworld.session() as db, pytest.raises(rate_cards.ImportRefused) as refused:
        rate_cards.import_rate_cards(db, qworld.manager, "rates.csv", bad.getvalue().encode())
    problem = refused.value.report.problems[0]
    assert (problem.row, problem.column) == (2, "demurrage_free_days")
    assert "whole number from 0 to 90" in problem.problem and "standard terms" in problem.problem


# ---------------------------------------------------------------------------------------------------- volume


def test_volume_is_length_width_height_times_packages():
    assert rating.line_volume_m3(3, D(120), D(80), D(100)) == D("2.88")
    assert rating.line_volume_m3(2, D("50.5"), D(40), D(30)) == D("0.1212")
    assert rating.line_volume_m3(3, D(120), None, D(100)) is None
    assert rating.line_volume_m3(0, D(120), D(80), D(100)) is None


def test_quote_lines_carry_their_computed_volume_and_container_words(qworld: QuoteWorld):
    with qworld.session() as db:
        air = submitted(db, qworld.bob, QuoteInput(
            mode="air", origin="PVG", destination="FRA", ready_date=clock.today() + timedelta(days=3),
            incoterm="FCA", lines=(
                CargoLineInput(description="Pallets", packages=3, length_cm="120", width_cm="80", height_cm="100",
                               weight_kg="250"),
                CargoLineInput(description="Cartons", packages=10, length_cm="60", width_cm="40", height_cm="40",
                               weight_kg="90"))))
    assert [ln.volume_m3 for ln in air.lines] == [D("2.880"), D("0.960")]
    assert air.volume_m3 == D("3.840") and all(ln.container_type is None for ln in air.lines)
    fcl = fcl_quote(qworld)
    assert (fcl.lines[0].container_type, fcl.lines[0].volume_m3) == ("20' standard", None)


# ---------------------------------------------------------------------------------------------------- prefill


def _book(world: QuoteWorld, principal, option_id: int, **parties: str) -> str:
    with world.session() as db:
        data = BookingInput(**{**BOOKING.model_dump(), **parties})
        return bookings.accept_option(db, principal, option_id, data).shipment_reference


def test_the_first_booking_shows_the_option_and_the_quote_with_no_parties_yet(qworld: QuoteWorld):
    quote = fcl_quote(qworld)
    option = quote.options[0]
    with qworld.session() as db:
        details = bookings.booking_details(db, qworld.alice, option.id)
    assert (details.carrier_code, details.carrier_name) == ("MAEU", option.carrier_name)
    assert (details.total, details.currency, details.total_text) == (option.total, "USD", option.total_text)
    assert details.transit_days == 38 and details.ready_date == quote.ready_date
    assert details.planned_departure is not None and details.planned_departure >= quote.ready_date
    assert (details.customer_reference, details.cargo_description) == ("ACME-PO-4711", "Bearings")
    assert details.shipper_name is None and details.consignee_name is None and details.parties_from is None
    assert details.lines == quote.lines and details.gross_weight_kg == D("30000.000")


def test_parties_come_from_the_same_companys_last_booking(qworld: QuoteWorld):
    first = _book(qworld, qworld.alice, fcl_quote(qworld).options[0].id)
    latest = _book(qworld, qworld.alice, fcl_quote(qworld).options[0].id, shipper_name="Ningbo Steel Works",
                   notify_party="Acme Logistics Desk", shipper_address="88 Harbour Road, Ningbo")
    option = fcl_quote(qworld, qworld.bob).options[0]  # a colleague of the same company
    with qworld.session() as db:
        details = bookings.booking_details(db, qworld.bob, option.id)
    assert details.parties_from == latest != first
    assert (details.shipper_name, details.shipper_address, details.notify_party) == (
        "Ningbo Steel Works", "88 Harbour Road, Ningbo", "Acme Logistics Desk")
    assert (details.consignee_name, details.consignee_address) == ("Acme Home Goods Ltd",
                                                                   "Unit 4, Orwell Park, Ipswich")


def test_another_companys_parties_are_never_offered(qworld: QuoteWorld):
    _book(qworld, qworld.alice, fcl_quote(qworld).options[0].id)  # Acme has a booking, Nordwind none
    nina_quote = fcl_quote(qworld, qworld.nina)
    with qworld.session() as db:
        details = bookings.booking_details(db, qworld.nina, nina_quote.options[0].id)
        acme = qworld.alice.company_id
        assert bookings.last_booking(db, qworld.alice, acme) is not None
        assert bookings.last_booking(db, qworld.nina, acme) is None  # asking for Acme's by id gives nothing
    assert (details.shipper_name, details.consignee_name, details.parties_from) == (None, None, None)
    nina_ref = _book(qworld, qworld.nina, nina_quote.options[0].id, shipper_name="Hamburg Maschinen GmbH")
    with qworld.session() as db:
        mine = bookings.booking_details(db, qworld.alice, fcl_quote(qworld).options[0].id)
        theirs = bookings.booking_details(db, qworld.nina, fcl_quote(qworld, qworld.nina).options[0].id)
    assert mine.shipper_name == "Tianjin Bearings Co." and mine.parties_from != nina_ref
    assert (theirs.shipper_name, theirs.parties_from) == ("Hamburg Maschinen GmbH", nina_ref)


def test_another_companys_option_is_not_found(qworld: QuoteWorld):
    option = fcl_quote(qworld).options[0]
    with qworld.session() as db, pytest.raises(NotFound):
        bookings.booking_details(db, qworld.nina, option.id)


def test_booked_container_lines_name_the_container_in_words(qworld: QuoteWorld):
    from models import CargoLine, Shipment

    reference = _book(qworld, qworld.alice, fcl_quote(qworld).options[0].id)
    with qworld.session() as db:
        shipment = db.exec(select(Shipment).where(Shipment.reference == reference)).one()
        line = db.exec(select(CargoLine).where(CargoLine.shipment_id == shipment.id)).one()
    assert line.description == "Bearings (2 x 20' standard)"


def test_the_api_serves_the_booking_details(qworld: QuoteWorld):
    option = fcl_quote(qworld).options[0]
    client = qworld.client("alice@acme.example")
    body = client.get(f"/api/v1/quote-options/{option.id}/booking-details").json()
    assert (body["option_id"], body["carrier_code"], body["customer_reference"]) == (option.id, "MAEU",
                                                                                     "ACME-PO-4711")
    assert body["lines"][0]["container_type"] == "20' standard" and body["parties_from"] is None
    other = qworld.client("nina@nordwind.example")
    assert other.get(f"/api/v1/quote-options/{option.id}/booking-details").status_code == 404
