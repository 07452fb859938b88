"""A timeline that cannot contradict itself (services/workspace/timeline.py): moving an estimate moves the
estimates that follow it by the plan's gaps, an estimate before what comes first is refused, and no sequence of
estimate changes leaves the expected times running backwards along the template."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from models import Milestone, Shipment
from portal_app.services import workspace
from portal_app.services.errors import ValidationFailed
from portal_app.services.workspace.timeline import expected
from tests.quote_world import QuoteWorld
from tests.tower_world import T0, make_shipment

ARRIVAL = "vessel_arrival"


def _steps(db: Session, shipment: Shipment) -> list[Milestone]:
    db.expire_all()
    return list(db.exec(select(Milestone).where(Milestone.shipment_id == shipment.id)
                        .order_by(col(Milestone.sequence))).all())


def _runs_forward(steps: list[Milestone]) -> bool:
    times = [expected(s) for s in steps if expected(s) is not None]
    return all(a <= b for a, b in pairwise(times))


def _version(db: Session, shipment: Shipment) -> int:
    db.refresh(shipment)
    return shipment.version


def test_the_reported_case_discharge_and_customs_follow_the_eta(demo: QuoteWorld):
    """SH0000209 on the demo data: after the ETA moved by 69 hours, discharge and customs release said 13 and 14
    Dec while arrival said 15 Dec. Now each following step keeps its planned distance after arrival."""
    with demo.session() as db:
        s = db.exec(select(Shipment).where(Shipment.reference == "SH0000209")).one()
        assert s.ata is None
        new_eta = (s.eta_estimated or s.eta_planned) + timedelta(hours=69)
        workspace.change_eta(db, demo.agent, s.reference, new_eta, "PORT_CONGESTION",
                             expected_version=s.version)
        steps = _steps(db, s)
        arrival = next(m for m in steps if m.code == ARRIVAL)
        assert arrival.estimated_at == new_eta
        for later in (m for m in steps if m.sequence > arrival.sequence):
            assert later.estimated_at == new_eta + (later.planned_at - arrival.planned_at), later.code
        assert _runs_forward(steps)


def test_an_eta_before_the_departure_is_refused_and_nothing_is_saved(tworld: QuoteWorld):
    with tworld.session() as db:
        s = make_shipment(db, vessel="BACK ONE", voyage="1B")
        before = [(m.code, m.estimated_at) for m in _steps(db, s)]
        with pytest.raises(ValidationFailed) as refused:
            workspace.change_eta(db, tworld.agent, s.reference, T0 - timedelta(days=1), "WEATHER",
                                 expected_version=s.version)
        assert "is before Vessel departed" in refused.value.message and "Nothing was saved" in refused.value.message
        assert refused.value.fields.keys() == {"new_eta"}
        assert [(m.code, m.estimated_at) for m in _steps(db, s)] == before


def test_a_step_estimate_moves_the_steps_up_to_arrival_and_the_etd(tworld: QuoteWorld):
    with tworld.session() as db:
        s = make_shipment(db, vessel="STEP ONE", voyage="1S", status="booked")
        steps = _steps(db, s)
        loading = next(m for m in steps if m.code == "loaded_on_vessel")
        departure = next(m for m in steps if m.code == "vessel_departure")
        late = loading.planned_at + timedelta(days=2)
        workspace.edit_milestone(db, tworld.agent, s.reference, "loaded_on_vessel", {"estimated_at": late},
                                 expected_version=s.version)
        steps = _steps(db, s)
        departure = next(m for m in steps if m.code == "vessel_departure")
        assert departure.estimated_at == late + (departure.planned_at - loading.planned_at)
        db.refresh(s)
        assert s.etd_estimated == departure.estimated_at  # the list's ETD tells the same story
        arrival = next(m for m in steps if m.code == ARRIVAL)
        assert arrival.estimated_at is None  # the ETA changes only as an ETA change, with a reason

        with pytest.raises(ValidationFailed) as refused:
            workspace.edit_milestone(db, tworld.agent, s.reference, "vessel_departure",
                                     {"estimated_at": s.eta_estimated + timedelta(days=1)},
                                     expected_version=_version(db, s))
        assert "Change the ETA first" in refused.value.message
        assert refused.value.fields.keys() == {"estimated_at"}


def test_no_sequence_of_estimate_changes_runs_backwards(tworld: QuoteWorld):
    engine = tworld.engine
    with Session(engine, expire_on_commit=False) as db:
        codes = [m.code for m in _steps(db, make_shipment(db, vessel="PROP", voyage="0P"))]

    moves = st.lists(st.tuples(st.sampled_from(codes), st.integers(-20 * 24, 20 * 24)), min_size=1, max_size=6)

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(moves=moves)
    def check(moves: list[tuple[str, int]]) -> None:
        with Session(engine, expire_on_commit=False) as db:
            s = make_shipment(db, vessel="PROP", voyage="1P", status="booked")
            assert _runs_forward(_steps(db, s))
            for code, hours in moves:
                step = next(m for m in _steps(db, s) if m.code == code)
                new: datetime = (expected(step) or T0) + timedelta(hours=hours)
                try:
                    if code == ARRIVAL:
                        workspace.change_eta(db, tworld.agent, s.reference, new, "WEATHER",
                                             expected_version=_version(db, s))
                    else:
                        workspace.edit_milestone(db, tworld.agent, s.reference, code, {"estimated_at": new},
                                                 expected_version=_version(db, s))
                except ValidationFailed:
                    pass  # refused, nothing saved: the timeline must still run forward
                assert _runs_forward(_steps(db, s)), [(m.code, expected(m)) for m in _steps(db, s)]

    check()
