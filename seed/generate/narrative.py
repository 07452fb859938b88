"""The status narrative of a shipment (customer and internal updates)."""

from __future__ import annotations

from datetime import datetime, timedelta

from seed.generate.common import HOUR, INTERNAL_DELAY_NOTES, Ship, _fmt


class Narrative:
    """A part of :class:`seed.generate.ShipmentGenerator` (see the module)."""

    def _updates(
        self, s: Ship, carrier_name: str, vessel: str | None, voyage: str | None, flight: str | None
    ) -> list[tuple[str, str, datetime, int | None]]:
        rng = self.rng
        out: list[tuple[str, str, datetime, int | None]] = []
        a = s.actual
        owner = s.owner_id
        if a[0] is not None:
            if s.family == "ocean":
                body = (
                    f"Booking confirmed with {carrier_name} on {vessel} voyage {voyage}. Planned departure from "
                    f"{s.origin.name} on {_fmt(s.planned[s.dep_idx])}."
                )
            elif s.family == "air":
                body = (
                    f"Booked with {carrier_name} on flight {flight}, planned departure from {s.origin.name} "
                    f"({s.origin.code}) on {_fmt(s.planned[s.dep_idx])}."
                )
            else:
                body = f"Truck booked with {carrier_name}; pick-up planned on {_fmt(s.planned[s.dep_idx])}."
            out.append(("customer", body, a[0] + timedelta(minutes=10), owner))
        for _eid, at, prev, new, text in s.eta_changes:
            out.append(
                (
                    "customer",
                    f"New estimated arrival at {s.dest.name}: {_fmt(new)} (was {_fmt(prev)}). Reason: {text}.",
                    at + timedelta(minutes=30),
                    owner,
                )
            )
            if rng.random() < 0.7 and s.delay_reason in INTERNAL_DELAY_NOTES:
                out.append(("internal", INTERNAL_DELAY_NOTES[s.delay_reason], at + timedelta(minutes=15), owner))
        if a[s.dep_idx] is not None:
            verb = "Picked up" if s.family == "road" else "Departed"
            out.append(
                (
                    "customer",
                    (f"{verb} {s.origin.name} on {_fmt(a[s.dep_idx])}. Estimated arrival at "
                     f"{s.dest.name}: {_fmt(s.estimated[s.arr_idx])}."),
                    a[s.dep_idx] + HOUR,
                    owner,
                )
            )
        if a[s.arr_idx] is not None:
            extra = " Customs clearance is in progress." if s.family != "road" else ""
            out.append(
                ("customer", f"Arrived at {s.dest.name} on {_fmt(a[s.arr_idx])}.{extra}", a[s.arr_idx] + HOUR, owner)
            )
        if s.delivered_at is not None:
            out.append(
                ("customer", f"Delivered to {s.consignee} on {_fmt(s.delivered_at)}.", s.delivered_at + HOUR, owner)
            )
        if s.status == "cancelled":
            out.append(
                ("customer", "Booking cancelled at the customer's request. No further charges apply.", s.cutoff, owner)
            )
            out.append(
                (
                    "internal",
                    "Carrier booking cancelled; equipment release withdrawn.",
                    s.cutoff + timedelta(minutes=20),
                    owner,
                )
            )
        elif rng.random() < 0.15 and s.actual[0] is not None:
            out.append(
                (
                    "internal",
                    rng.choice(
                        (
                            "Customer prefers updates by e-mail to the logistics desk.",
                            "VGM received from shipper.",
                            "Checked cut-off times with the carrier; all on schedule.",
                            "Destination agent pre-alerted.",
                        )
                    ),
                    s.actual[0] + timedelta(hours=3),
                    owner,
                )
            )
        return [u for u in out if u[2] <= self.now]
