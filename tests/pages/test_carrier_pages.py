"""The tower's carrier pages (their states, the session check stubbed to a known principal, the database a copy of
the demo world's): an administrator connects a carrier (callback URL and subscription id shown, the key revealed
once, never kept in state) and deletes it; staff match a waiting event to a shipment and the container is
remembered."""

from __future__ import annotations

from sqlmodel import select

from models import CarrierConnection, CarrierMatch
from portal_app.services.carrier_events import intake
from portal_app.tower.carrier_events import CarrierEventsState
from portal_app.tower.config_carriers import ConfigCarriersState
from seed.carrier_demo import DEMO_SUBSCRIPTION_ID
from tests.config_world import ConfigWorld
from tests.dcsa import CALLBACK, at, equipment_event, ocean_shipment, step
from tests.page_states import revealed, run, use_db


def _as(monkeypatch, cls, principal):
    async def authorize(self, area):
        assert area == "tower"
        return principal

    monkeypatch.setattr(cls, "_authorize", authorize)
    return cls(_reflex_internal_init=True)


def test_only_administrators_see_the_carrier_connections(cworld: ConfigWorld, monkeypatch):
    use_db(monkeypatch, cworld.world.engine)
    for who in (cworld.world.manager, cworld.world.agent):
        st = _as(monkeypatch, ConfigCarriersState, who)
        run(ConfigCarriersState.load, st)
        assert st.denied is True and st.rows == []


def test_an_administrator_connects_a_carrier_and_deletes_it(cworld: ConfigWorld, monkeypatch):
    use_db(monkeypatch, cworld.world.engine)
    S = ConfigCarriersState
    st = _as(monkeypatch, S, cworld.admin)
    run(S.load, st)
    assert st.callback_url.endswith(CALLBACK)
    assert [r.subscription_id for r in st.rows] == [DEMO_SUBSCRIPTION_ID]  # the demo's own
    run(S.create, st, {"name": "C", "carrier_code": "MAEU", "secret": "short"})
    assert set(st.field_errors) == {"name", "secret"} and "Nothing was saved" in st.error
    answer = run(S.create, st, {"name": "CMA CGM events", "carrier_code": "cmdu",
                                "secret": "a-long-enough-shared-secret"})
    assert st.error == "" and st.key_shown and st.made_subscription in st.notice
    key = revealed(answer)
    assert key.startswith("ck_") and key not in str(vars(st))  # written into the field, never kept in state
    made = next(r for r in st.rows if r.name == "CMA CGM events")
    assert made.carrier_code == "CMDU" and made.subscription_id == st.made_subscription
    run(S.show_log, st, made.id)
    assert st.log_name == "CMA CGM events" and st.refusals == []
    run(S.delete, st, made.id)
    assert "deleted" in st.notice and all(r.id != made.id for r in st.rows)
    with cworld.session() as db:
        assert db.get(CarrierConnection, made.id).active is False


def test_staff_match_a_waiting_event_and_the_container_is_remembered(cworld: ConfigWorld, monkeypatch):
    use_db(monkeypatch, cworld.world.engine)
    world = cworld.world
    shipment = ocean_shipment(world)
    gated_in = at(-3)
    with world.session() as db:
        connection = db.exec(select(CarrierConnection)).first()
        intake.receive(db, connection, [equipment_event("GTIN", "TGHU1234567", gated_in, place="CNSHA")], "2.2")
    S = CarrierEventsState
    customer = _as(monkeypatch, S, world.alice)
    run(S.load, customer)
    assert customer.denied and customer.rows == []
    st = _as(monkeypatch, S, world.agent)
    run(S.load, st)
    assert len(st.rows) == 1 and "TGHU1234567" in st.rows[0].references
    run(S.match, st, {"event_id": str(st.rows[0].id), "shipment_reference": "NOPE123", "remember": "on"})
    assert "No shipment has the reference" in st.error and len(st.rows) == 1
    run(S.match, st, {"event_id": str(st.rows[0].id), "shipment_reference": shipment.reference.lower(),
                      "remember": "on"})
    assert st.error == "" and shipment.reference in st.notice and "TGHU1234567" in st.notice and st.rows == []
    assert step(world, shipment, "gate_in_full_at_pol").actual_at == gated_in
    with world.session() as db:
        assert db.exec(select(CarrierMatch.shipment_id)).one() == shipment.id
