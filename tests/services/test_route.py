"""The journey as a line (services/route.py): the places in order from the milestones, and where the cargo is;
checked on the demo data for a shipment not yet picked up, one at sea and one delivered."""

from __future__ import annotations

from sqlmodel import select

from models import Shipment
from portal_app.components.shipment_detail import route_lines
from portal_app.services import route, shipments
from tests.quote_world import QuoteWorld


def _route_of(demo: QuoteWorld, status: str) -> tuple[shipments.ShipmentDetail, route.Route]:
    with demo.session() as db:
        ref = db.exec(select(Shipment.reference).where(Shipment.company_id == demo.alice.company_id,
                                                       Shipment.status == status).order_by(Shipment.id)).first()
        assert ref is not None, f"the demo has an Acme shipment that is {status}"
        detail = shipments.get_shipment(db, demo.alice, ref)
    return detail, route.route_of(detail)


def test_the_route_runs_from_origin_to_destination_and_marks_the_cargo(demo: QuoteWorld):
    detail, at_sea = _route_of(demo, "in_transit")
    codes = [s.code for s in at_sea.stops]
    assert codes[0] == detail.origin and codes[-1] == detail.destination
    assert at_sea.moving_after is not None and at_sea.position.startswith("On the way from")
    assert [s.state for s in at_sea.stops][: at_sea.moving_after + 1] == [route.PASSED] * (at_sea.moving_after + 1)
    assert all(s.state == route.AHEAD for s in at_sea.stops[at_sea.moving_after + 1:])
    lines = route_lines(at_sea)
    assert lines[at_sea.moving_after].said == "the cargo left here and is on its way"

    _, booked = _route_of(demo, "booked")
    assert booked.position.startswith("Not yet picked up") and booked.stops[0].state == route.HERE

    delivered_detail, delivered = _route_of(demo, "delivered")
    assert delivered.position == f"Delivered at {delivered.stops[-1].name}"
    assert delivered.stops[-1].state == route.HERE and delivered.stops[-1].code == delivered_detail.destination
    assert all(s.state == route.PASSED for s in delivered.stops[:-1])


def test_a_transshipment_port_is_a_stop_of_its_own():
    from datetime import UTC, datetime

    from portal_app.services.shipments import MilestoneView

    t = datetime(2026, 11, 1, tzinfo=UTC)
    steps = [MilestoneView(1, "vessel_departure", "Departed", None, "CNSHA", t, None, t, "ops"),
             MilestoneView(2, "vessel_arrival", "Arrived", None, "SGSIN", t, None, t, "ops"),
             MilestoneView(3, "vessel_departure", "Departed", None, "SGSIN", t, None, None, "plan"),
             MilestoneView(4, "vessel_arrival", "Arrived", None, "NLRTM", t, None, None, "plan")]
    detail = _detail("CNSHA", "NLRTM", steps)
    r = route.route_of(detail)
    assert [s.code for s in r.stops] == ["CNSHA", "SGSIN", "NLRTM"]
    assert [s.state for s in r.stops] == [route.PASSED, route.HERE, route.AHEAD]
    assert r.position == "At SGSIN"


def _detail(origin: str, destination: str, steps: list) -> shipments.ShipmentDetail:
    from dataclasses import fields

    values = {f.name: None for f in fields(shipments.ShipmentDetail)}
    values.update(reference="SH1", company_name="X", mode="ocean_fcl", status="in_transit", origin=origin,
                  origin_name=origin, destination=destination, destination_name=destination, delay_minutes=0,
                  updated_at=None, version=1, milestones=steps, containers=[])
    return shipments.ShipmentDetail(**values)
