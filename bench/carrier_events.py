"""Carrier events in (DCSA Track & Trace) on the scale data set, through the real ASGI app: signed DCSA 2.2
callbacks posted to ``POST /api/v1/integrations/dcsa/v2/callback`` by a carrier connection made for the bench.

- ``carrier_events_batch_1000``: a batch of 1,000 events naming shipments of the data set (container numbers,
  carrier bookings, master B/Ls, vessel and voyage taken from the database), so each event is matched, applied to
  its shipments' milestones (exception rules, the customer's timeline, notifications and the audit trail follow):
  equipment events (ACT gate-in and load at the port of loading, EST load, EST discharge at the port of
  discharge), shipment events (ACT booking confirmed, ACT B/L issued) and transport events (ACT departure,
  EST arrival; one per voyage, so each moves every open shipment on its vessel and voyage). Fresh eventIDs in
  every batch; p50 and p95 seconds per batch. Target: p95 <= 2 s on SQLite at 100,000 shipments.
- ``carrier_events_voyage_300``: one transport event (an EST arrival) for a vessel and voyage that 300 open ocean
  shipments of the carrier share (the bench gives a fresh voyage to 300 of them), the time of the request and the
  number of shipments whose ETA it moved (must be 300).

The events name only shipments booked with the connection's carrier (:data:`CARRIER`) or with none recorded: the
portal never lets a carrier move another carrier's shipments.

This group writes to the database it measures (events, milestone and ETA changes, notifications; 300 shipments
get the bench's voyage), so `python -m bench` runs it after every other figure.

Quick run on a small data set (seeds bench/data/scale-2000.db on first use):

    .venv/bin/python -m bench.carrier_events --shipments 2000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.stats import percentile

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
CALLBACK = "/api/v1/integrations/dcsa/v2/callback"
CONNECTIONS = "/api/v1/integrations/dcsa/connections"
ADMIN = ("admin@harborsky.example", "demo-Pass-2026")
SECRET = "bench-carrier-secret-0123456789"
OPEN = ("confirmed", "in_transit")  # booked, not yet arrived: every step ahead can still move
OCEAN = ("ocean_fcl", "ocean_lcl")
VOYAGE_VESSEL = "BENCH EXPRESS"
# The bench connection's carrier: its events may only move shipments booked with it or with no carrier recorded
# (services/carrier_events/intake.py), so those are the shipments the batches name.
CARRIER = "MAEU"

# The make-up of one batch: shares of shipment and transport events (one per distinct voyage); equipment events
# make up the rest (about 60 %).
SHIPMENT_SHARE, TRANSPORT_SHARE = 0.35, 0.05


@dataclass
class Step:
    sequence: int
    planned: datetime | None
    estimated: datetime | None
    actual: datetime | None

    def expected(self) -> datetime | None:
        return self.actual or self.estimated or self.planned


@dataclass
class Target:
    """An open ocean shipment as the carrier knows it, with its milestones (kept up to date by the bench as it
    sends events, so each event's time fits the shipment's other steps as a real carrier's would)."""
    id: int
    container: str | None
    booking: str | None
    mbl: str | None
    vessel: str | None
    voyage: str | None
    origin: str | None
    destination: str | None
    steps: dict[str, Step] = field(default_factory=dict)

    def window(self, code: str, kind: str, now: datetime) -> tuple[datetime, datetime] | None:
        """When an ``actual`` or ``estimate`` of step ``code`` can be: after the steps before it (their actual
        times; for an estimate, when they happened or are expected), before the actual times of the steps after
        it; an actual not after ``now``, an estimate not before it."""
        step = self.steps.get(code)
        if step is None:
            return None
        low, high = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
        for other in self.steps.values():
            if other.sequence < step.sequence:
                when = other.actual if kind == "actual" else other.expected()
                if when is not None:
                    low = max(low, when)
            elif other.sequence > step.sequence and other.actual is not None:
                high = min(high, other.actual)
        if kind == "actual":
            high = min(high, now - timedelta(minutes=1))
        else:
            low = max(low, now)
        return (low, high) if low + timedelta(minutes=2) < high else None


def _iso(value: datetime) -> str:
    return value.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _base(kind: str, classifier: str, when: datetime, created: datetime) -> dict:
    return {"eventID": str(uuid.uuid4()), "eventCreatedDateTime": _iso(created), "eventType": kind,
            "eventClassifierCode": classifier, "eventDateTime": _iso(when)}


def equipment_event(target: Target, code: str, classifier: str, when: datetime, created: datetime,
                    place: str | None) -> dict:
    event = {**_base("EQUIPMENT", classifier, when, created), "equipmentEventTypeCode": code,
             "equipmentReference": target.container, "emptyIndicatorCode": "LADEN"}
    if place:
        event["eventLocation"] = {"UNLocationCode": place}
    return event


def shipment_event(code: str, document_type: str, document_id: str, when: datetime, created: datetime) -> dict:
    return {**_base("SHIPMENT", "ACT", when, created), "shipmentEventTypeCode": code,
            "documentTypeCode": document_type, "documentID": document_id}


def transport_event(code: str, classifier: str, vessel: str, voyage: str, place: str | None, when: datetime,
                    created: datetime) -> dict:
    call: dict = {"transportCallID": str(uuid.uuid4()), "modeOfTransport": "VESSEL", "exportVoyageNumber": voyage,
                  "vessel": {"vesselIMONumber": "9321483", "vesselName": vessel}}
    if place:
        call["UNLocationCode"] = place
    return {**_base("TRANSPORT", classifier, when, created), "transportEventTypeCode": code, "transportCall": call}


def carried():
    """Shipments the bench connection's carrier may speak for: booked with :data:`CARRIER` or with none recorded."""
    import sqlalchemy as sa

    from models import Carrier, Shipment

    return sa.or_(Shipment.carrier_id.is_(None),
                  Shipment.carrier_id.in_(sa.select(Carrier.id).where(sa.func.upper(Carrier.code) == CARRIER)))


def load_targets(limit: int = 12_000) -> list[Target]:
    """Open ocean shipments of the bench's carrier (a random ``limit`` of them) with their first container, booking,
    master B/L, voyage, ports and milestones."""
    import sqlalchemy as sa
    from sqlmodel import Session

    from models import Container, Location, Milestone, Shipment
    from portal_app.db import get_engine

    origin, destination = sa.orm.aliased(Location), sa.orm.aliased(Location)
    first_container = (sa.select(sa.func.min(Container.number)).where(Container.shipment_id == Shipment.id)
                       .correlate(Shipment).scalar_subquery())
    stmt = (sa.select(Shipment.id, first_container, Shipment.booking_number, Shipment.mbl_number,
                      Shipment.vessel_name, Shipment.voyage_number,
                      sa.func.coalesce(origin.unlocode, origin.code), sa.func.coalesce(destination.unlocode,
                                                                                       destination.code))
            .outerjoin(origin, origin.id == Shipment.origin_id)
            .outerjoin(destination, destination.id == Shipment.destination_id)
            .where(Shipment.status.in_(OPEN), Shipment.mode.in_(OCEAN), carried())
            .order_by(sa.func.random()).limit(limit))
    with Session(get_engine()) as db:
        targets = {row[0]: Target(*row) for row in db.execute(stmt).all()}
        ids = list(targets)
        for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
            for sid, code, seq, planned, estimated, actual in db.execute(
                    sa.select(Milestone.shipment_id, Milestone.code, Milestone.sequence, Milestone.planned_at,
                              Milestone.estimated_at, Milestone.actual_at).where(Milestone.shipment_id.in_(chunk))):
                targets[sid].steps[code] = Step(seq, _aware(planned), _aware(estimated), _aware(actual))
    return list(targets.values())


def _pick(rng: random.Random, window: tuple[datetime, datetime], near: datetime | None) -> datetime:
    """A time in ``window``, close to ``near`` when that is inside it."""
    low, high = window[0] + timedelta(minutes=1), window[1] - timedelta(minutes=1)
    if near is not None and low <= near <= high:
        low, high = max(low, near - timedelta(hours=12)), min(high, near + timedelta(hours=12))
    span = (high - low).total_seconds()
    return (low + timedelta(seconds=rng.uniform(0, span))).replace(microsecond=0)


def _note(target: Target, code: str, kind: str, when: datetime) -> None:
    step = target.steps[code]
    if kind == "actual":
        step.actual = when
    else:
        step.estimated = when


# Equipment events: (DCSA code, classifier, portal step, place: the shipment's origin or destination)
EQUIPMENT_MIX = (("GTIN", "ACT", "gate_in_full_at_pol", "origin"), ("LOAD", "ACT", "loaded_on_vessel", "origin"),
                 ("LOAD", "EST", "loaded_on_vessel", "origin"), ("DISC", "EST", "discharged_at_pod", "destination"))


def make_batch(targets: list[Target], size: int, rng: random.Random, now: datetime) -> list[dict]:
    """``size`` valid DCSA 2.2 events naming ``targets``, each at a time that fits the shipment's other steps: a mix
    of equipment, shipment and transport events, ACT and EST, fresh eventIDs, created just now. One event per
    shipment and step in a batch; transport events one per voyage."""
    created = now - timedelta(seconds=5)
    events: list[dict] = []
    n_transport = max(1, round(size * TRANSPORT_SHARE))
    n_shipment = round(size * SHIPMENT_SHARE)
    by_voyage: dict[tuple[str, str], list[Target]] = {}
    for t in targets:
        if t.vessel and t.voyage:
            by_voyage.setdefault((t.vessel, t.voyage), []).append(t)
    voyages = sorted(by_voyage)
    rng.shuffle(voyages)
    for (vessel, voyage) in voyages:
        if len(events) >= n_transport:
            break
        on_board = by_voyage[(vessel, voyage)]
        arrival = len(events) % 2 == 0
        code, kind, step = ("ARRI", "estimate", "vessel_arrival") if arrival else ("DEPA", "actual", "vessel_departure")
        windows = [t.window(step, kind, now) for t in on_board]
        if any(w is None for w in windows):
            continue
        window = (max(w[0] for w in windows), min(w[1] for w in windows))  # type: ignore[index]
        if window[0] + timedelta(minutes=2) >= window[1]:
            continue
        when = _pick(rng, window, on_board[0].steps[step].expected())
        place = on_board[0].destination if arrival else on_board[0].origin
        events.append(transport_event(code, "EST" if arrival else "ACT", vessel, voyage, place, when, created))
        for t in on_board:
            _note(t, step, kind, when)
    order = list(targets)
    used: set[tuple[str, int]] = set()
    shipment_events = 0
    progress = True
    while len(events) < size and progress:  # rounds over the shipments: one more event for each in every round
        progress = False
        rng.shuffle(order)
        for t in order:
            if len(events) >= size:
                break
            if shipment_events < n_shipment and ("booking_confirmed", t.id) not in used:
                used.add(("booking_confirmed", t.id))
                if rng.random() < 0.25 and t.mbl:  # B/L issued: kept and matched; the ocean templates have no step
                    events.append(shipment_event("ISSU", "TRD", t.mbl,
                                                 now - timedelta(minutes=rng.randint(5, 600)), created))
                    shipment_events += 1
                    progress = True
                    continue
                window = t.window("booking_confirmed", "actual", now)
                if t.booking and window:
                    when = _pick(rng, window, t.steps["booking_confirmed"].expected())
                    events.append(shipment_event("CONF", "BKG", t.booking, when, created))
                    _note(t, "booking_confirmed", "actual", when)
                    shipment_events += 1
                    progress = True
                    continue
            if not t.container:
                continue
            for code, classifier, step, side in rng.sample(EQUIPMENT_MIX, len(EQUIPMENT_MIX)):
                kind = "actual" if classifier == "ACT" else "estimate"
                window = t.window(step, kind, now)
                if window is None or (step, t.id) in used:
                    continue
                when = _pick(rng, window, t.steps[step].expected())
                events.append(equipment_event(t, code, classifier, when, created,
                                              t.origin if side == "origin" else t.destination))
                _note(t, step, kind, when)
                used.add((step, t.id))
                progress = True
                break
    rng.shuffle(events)
    return events[:size]


def _admin_client():
    from fastapi.testclient import TestClient

    from portal_app.api.app import build_api

    client = TestClient(build_api())
    client.post("/api/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]}).raise_for_status()
    return client


def connect(client) -> dict:
    """A carrier connection made for the bench through the API (its secret is encrypted with PORTAL_SSO_KEY or the
    installation's key in the data directory)."""
    resp = client.post(CONNECTIONS, json={"name": f"Bench carrier {uuid.uuid4().hex[:6]}", "carrier_code": CARRIER,
                                          "secret": SECRET})
    if resp.status_code != 201:
        raise RuntimeError(f"creating the bench's carrier connection failed: {resp.status_code} {resp.text}")
    return resp.json()


def post(client, connection: dict, events: list[dict]) -> float:
    from portal_app.services.carrier_events import connections

    body = json.dumps(events).encode()
    headers = {"Content-Type": "application/json", "Subscription-ID": connection["subscription_id"],
               "Notification-Signature": connections.sign(SECRET, body)}
    start = time.perf_counter()
    resp = client.post(CALLBACK, content=body, headers=headers)
    seconds = time.perf_counter() - start
    if resp.status_code != 204:
        raise RuntimeError(f"the callback answered {resp.status_code}: {resp.text[:500]}")
    return seconds


def outcomes(connection_id: int, event_ids: list[str]) -> dict[str, int]:
    """What the events did: how many were kept, refused, matched nothing, and the shipment changes by outcome."""
    import sqlalchemy as sa
    from sqlmodel import Session

    from models import CarrierEvent, CarrierEventRefusal, CarrierEventShipment
    from portal_app.db import get_engine

    out: dict[str, int] = {}
    with Session(get_engine()) as db:
        for chunk in (event_ids[i:i + 500] for i in range(0, len(event_ids), 500)):
            mine = sa.and_(CarrierEvent.connection_id == connection_id, CarrierEvent.event_id.in_(chunk))
            for status, n in db.execute(sa.select(CarrierEvent.status, sa.func.count()).where(mine)
                                        .group_by(CarrierEvent.status)).all():
                out[f"events_{status}"] = out.get(f"events_{status}", 0) + n
            for outcome, n in db.execute(
                    sa.select(CarrierEventShipment.outcome, sa.func.count())
                    .join(CarrierEvent, CarrierEvent.id == CarrierEventShipment.carrier_event_id)
                    .where(mine).group_by(CarrierEventShipment.outcome)).all():
                out[f"shipments_{outcome}"] = out.get(f"shipments_{outcome}", 0) + n
            out["refused"] = out.get("refused", 0) + db.execute(
                sa.select(sa.func.count()).select_from(CarrierEventRefusal).where(
                    CarrierEventRefusal.connection_id == connection_id,
                    CarrierEventRefusal.event_id.in_(chunk))).scalar_one()
    return out


def voyage_of(size: int, rng: random.Random) -> tuple[str, str, str | None, list[int], datetime]:
    """Give ``size`` open ocean shipments a fresh voyage of the bench's vessel (one port of discharge when that
    many share one); the vessel, voyage, port, the shipments' ids and the latest time a step before their arrival
    happened or is expected (an arrival estimate before it would be refused)."""
    import sqlalchemy as sa
    from sqlmodel import Session

    from models import Location, Milestone, Shipment
    from portal_app.db import get_engine

    has_arrival = sa.exists().where(Milestone.shipment_id == Shipment.id, Milestone.code == "vessel_arrival")
    candidates = sa.and_(Shipment.status.in_(OPEN), Shipment.mode.in_(OCEAN), Shipment.ata.is_(None), has_arrival,
                         carried())
    voyage = f"B{rng.randrange(16 ** 6):06X}"
    with Session(get_engine()) as db:
        top = db.execute(sa.select(Shipment.destination_id, sa.func.count()).where(candidates)
                         .group_by(Shipment.destination_id).order_by(sa.func.count().desc()).limit(1)).first()
        place = None
        stmt = sa.select(Shipment.id).where(candidates)
        if top is not None and top[1] >= size:
            location = db.get(Location, top[0])
            place = location.unlocode or location.code if location else None
            stmt = stmt.where(Shipment.destination_id == top[0])
        ids = list(db.execute(stmt.order_by(sa.func.random()).limit(size)).scalars())
        arrival, before = sa.orm.aliased(Milestone), sa.orm.aliased(Milestone)
        latest = db.execute(
            sa.select(sa.func.max(sa.func.coalesce(before.actual_at, before.estimated_at, before.planned_at)))
            .join(arrival, sa.and_(arrival.shipment_id == before.shipment_id, arrival.code == "vessel_arrival"))
            .where(before.shipment_id.in_(ids), before.sequence < arrival.sequence)).scalar()
        db.execute(sa.update(Shipment).where(Shipment.id.in_(ids)).values(vessel_name=VOYAGE_VESSEL,
                                                                           voyage_number=voyage))
        db.commit()
    after = max(_aware(latest) or datetime.now(UTC), datetime.now(UTC))
    return VOYAGE_VESSEL, voyage, place, ids, after


def require_tables() -> None:
    """A scale database seeded before carrier events existed lacks their tables: say what to do."""
    import sqlalchemy as sa

    from portal_app.db import get_engine

    if not sa.inspect(get_engine()).has_table("carrier_event"):
        raise RuntimeError("The bench database has no carrier event tables (it was seeded by an older version): "
                           "apply the migrations to it (REFLEX_DB_URL=<its url> .venv/bin/reflex db migrate) or "
                           "seed it again (python -m bench without --reuse).")


def measure_carrier_events(batches: int = 6, batch_size: int = 1000, voyage_size: int = 300,
                           seed: int = 2026) -> tuple[list[tuple[str, float, str]], dict[str, int]]:
    """The figures (name, value, unit) and the batches' summed outcomes (for a reader checking the events did work)."""
    rng = random.Random(seed)
    require_tables()
    client = _admin_client()
    connection = connect(client)
    targets = load_targets()
    if not targets:
        raise RuntimeError("the database has no open ocean shipments to send carrier events for")
    # Warm up: a small batch (schema checkers, caches) not counted.
    post(client, connection, make_batch(targets, 20, rng, datetime.now(UTC)))
    timings: list[float] = []
    totals: dict[str, int] = {}
    for _ in range(batches):
        events = make_batch(targets, batch_size, rng, datetime.now(UTC))
        timings.append(post(client, connection, events))
        for name, n in outcomes(connection["id"], [e["eventID"] for e in events]).items():
            totals[name] = totals.get(name, 0) + n
    vessel, voyage, place, ids, after = voyage_of(voyage_size, rng)
    now = datetime.now(UTC)
    arrival = transport_event("ARRI", "EST", vessel, voyage, place, after + timedelta(days=1, hours=rng.randint(0, 23)),
                              now - timedelta(seconds=5))
    voyage_seconds = post(client, connection, [arrival])
    moved = outcomes(connection["id"], [arrival["eventID"]]).get("shipments_applied", 0)
    if moved != len(ids):
        print(f"carrier events: the voyage's arrival moved {moved} of the {len(ids)} shipments on it")
    name = f"carrier_events_batch_{batch_size}"
    values = [(f"{name}_p50", round(statistics.median(timings), 3), "s"),
              (f"{name}_p95", round(percentile(timings, 95), 3), "s"),
              (f"{name}_shipment_changes", round(totals.get("shipments_applied", 0) / batches), "per batch"),
              (f"carrier_events_voyage_{voyage_size}_seconds", round(voyage_seconds, 3), "s"),
              ("carrier_events_voyage_shipments_moved", moved, "shipments")]
    return values, totals


def profile_batch(batch_size: int, path: str) -> None:
    """cProfile of one batch as the callback takes it (the API runs it in a worker thread, out of a profiler's
    sight in this process, so the service is called here directly)."""
    import cProfile
    import pstats

    from sqlmodel import Session

    from models import CarrierConnection
    from portal_app.db import get_engine
    from portal_app.services.carrier_events import intake

    rng = random.Random(7)
    require_tables()
    connection_id = connect(_admin_client())["id"]
    targets = load_targets()
    with Session(get_engine(), expire_on_commit=False) as db:
        connection = db.get(CarrierConnection, connection_id)
        assert connection is not None
        intake.receive(db, connection, make_batch(targets, 20, rng, datetime.now(UTC)), "2.2")  # warm up
        events = make_batch(targets, batch_size, rng, datetime.now(UTC))
        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.enable()
        intake.receive(db, connection, events, "2.2")
        profiler.disable()
        print(f"one batch of {len(events)} events: {time.perf_counter() - start:.2f} s (under the profiler)")
    profiler.dump_stats(path)
    pstats.Stats(path).sort_stats("cumulative").print_stats(40)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.carrier_events", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shipments", type=int, default=2000)
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file under bench/data/")
    parser.add_argument("--profile", default=None,
                        help="instead of the figures, profile one batch taken by the intake service (what the route "
                             "runs after the signature check) and write the cProfile stats to this file")
    args = parser.parse_args(argv)
    DATA.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{DATA / f'scale-{args.shipments}.db'}"
    os.environ["REFLEX_DB_URL"] = url
    os.environ.setdefault("PORTAL_DATA_DIR", str(DATA))
    os.environ["PORTAL_LOGIN_IP_LIMIT"] = "100000"
    from bench import scenarios

    if scenarios.has_data(url):
        print(f"Reusing {url}")
    else:
        print(f"Seeding {args.shipments} shipments into {url} ...")
        print(f"seeded in {scenarios.seed_fresh(url, args.shipments):.1f} s")
    if args.profile:
        profile_batch(args.batch_size, args.profile)
        return 0
    values, totals = measure_carrier_events(args.batches, args.batch_size)
    for name, value, unit in values:
        print(f"{name}  {value:>10} {unit}")
    print("outcomes over the batches:", json.dumps(totals, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
