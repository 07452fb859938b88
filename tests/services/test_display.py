"""One instant, one reading (services/display.py): times at a place in that place's zone with its name, other
times in the reader's zone, in the reader's language, money in its currency's decimals; and on the demo data the
same ETA reads the same in the customer's update, the ETA table and the timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import select

from models import Location, Shipment, ShipmentUpdate
from portal_app.components.formatting import fmt_datetime
from portal_app.components.shipment_detail import _milestone_view
from portal_app.services import display, shipments, workspace
from portal_app.services.display import Reader, at_place, day, money, reading_as, utc, when
from tests.quote_world import QuoteWorld

T = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)


def test_the_readers_zone_and_language():
    assert when(T, Reader("America/New_York", "de")) == "15 Dez. 2026 04:00 EST"
    assert when(T, Reader("Europe/Amsterdam", "en")) == "15 Dec 2026 10:00 CET"
    assert day(T, Reader("Asia/Tokyo", "en")) == "15 Dec 2026"
    with reading_as(Reader("America/New_York", "de")):
        assert fmt_datetime(T) == "15 Dez. 2026 04:00 EST"  # the pages' helper writes for the reader in context
    assert fmt_datetime(T) == "15 Dec 2026 09:00 UTC"


def test_a_place_keeps_its_own_zone_and_an_unknown_zone_is_utc():
    assert at_place(T, "Asia/Shanghai", Reader("America/New_York", "en")) == "15 Dec 2026 17:00 CST"
    assert at_place(T, "Not/AZone") == "15 Dec 2026 09:00 UTC"


def test_a_typed_local_time_is_converted_before_it_is_called_utc():
    typed = datetime(2026, 12, 15, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
    assert utc(typed) == "15 Dec 2026 09:00 UTC"  # never "10:00 UTC"


def test_money_has_its_currencys_decimals_in_the_readers_language():
    assert money(Decimal("1235"), "JPY", Reader()) == "JPY 1,235"  # no ".00": the yen has no minor unit
    assert money(Decimal("1234.5"), "EUR", Reader(locale="de")) == "1.234,50 EUR"
    assert money(Decimal("1234.5"), "USD", Reader()) == "USD 1,234.50"
    assert money(Decimal("7.25"), "KWD", Reader()) == "KWD 7.250"  # three decimals


def test_the_same_eta_reads_the_same_in_the_update_the_eta_table_and_the_timeline(demo: QuoteWorld):
    """The reported case: an agent in Amsterdam typed the new ETA of SH0000209 in local time; the update said
    10:00 "UTC" while the ETA table said 09:00 UTC. Now both (and the timeline) show the destination's time with
    its zone's name."""
    with demo.session() as db:
        s = db.exec(select(Shipment).where(Shipment.reference == "SH0000209")).one()
        place = db.exec(select(Location.timezone).where(Location.id == s.destination_id)).one()
        typed = ((s.eta_estimated or s.eta_planned) + timedelta(hours=69)).astimezone(ZoneInfo("Europe/Amsterdam"))
        workspace.change_eta(db, demo.agent, s.reference, typed, "PORT_CONGESTION", expected_version=s.version)
        update = db.exec(select(ShipmentUpdate).where(ShipmentUpdate.shipment_id == s.id)
                         .order_by(ShipmentUpdate.id.desc())).first()
        expected = at_place(typed, place, Reader())
        assert expected in update.body
        detail = shipments.get_shipment(db, demo.alice, s.reference)
        assert detail.destination_timezone == place
        arrival = next(m for m in detail.milestones if m.code == "vessel_arrival")
        with reading_as(Reader("America/New_York", "en")):  # whoever reads it, the arrival is the place's time
            assert _milestone_view(arrival).estimated == expected
            assert display.at_place(arrival.estimated_at, detail.destination_timezone) == expected
