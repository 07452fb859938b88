"""The carrier event bench's batches (bench/carrier_events.py) are what the figure claims: valid DCSA 2.2 events,
fresh eventIDs, a mix of equipment, shipment and transport events, ACT and EST, each at a time that fits the
shipment's other steps. (`make bench` measures them; this checks only how they are made.)"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from bench.carrier_events import Step, Target, make_batch
from portal_app.services.carrier_events import schema
from portal_app.services.identifiers import make_container_number
from seed.config_data import OCEAN_FCL

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _target(i: int) -> Target:
    """An FCL shipment on one of twenty voyages (those with an even number departed three days ago, the others
    leave in four days), its steps before now done."""
    departure = NOW + timedelta(days=-3 if i % 20 % 2 == 0 else 4)
    codes = [s.code for s in OCEAN_FCL.steps]
    dep = codes.index("vessel_departure")
    steps = {}
    for seq, code in enumerate(codes, 1):
        planned = departure + timedelta(days=(seq - 1 - dep) * 2)
        steps[code] = Step(seq, planned, None, planned if planned < NOW - timedelta(days=1) else None)
    return Target(i, make_container_number("MSK", "U", i), f"BKG{i:06d}", f"MBL{i:06d}", "MAERSK EDMONTON",
                  f"4{i % 20:02d}W", "CNSHA", "NLRTM", steps)


def test_a_batch_is_valid_fresh_and_mixed():
    targets = [_target(i) for i in range(400)]
    rng = random.Random(1)
    first = make_batch(targets, 1000, rng, NOW)
    second = make_batch(targets, 1000, rng, NOW + timedelta(minutes=1))
    assert len(first) == len(second) == 1000
    assert len({e["eventID"] for e in first + second}) == 2000
    read = [schema.read_v2(e, NOW + timedelta(minutes=1)) for e in first]
    assert [r.reason for r in read if isinstance(r, schema.Refused)] == []
    kinds = Counter((e["eventType"], e["eventClassifierCode"]) for e in first)
    assert {("EQUIPMENT", "ACT"), ("EQUIPMENT", "EST"), ("SHIPMENT", "ACT"), ("TRANSPORT", "ACT"),
            ("TRANSPORT", "EST")} <= set(kinds)
    voyages = [e["transportCall"]["exportVoyageNumber"] for e in first if e["eventType"] == "TRANSPORT"]
    assert len(voyages) == len(set(voyages))  # one transport event per voyage
