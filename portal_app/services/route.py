"""The journey as a line: the places a shipment passes (origin, any transshipment, destination), in order, drawn
from its milestones, and where the cargo is now.

The stops are the milestones' places in sequence (a place repeated by consecutive steps is one stop), with the
shipment's origin first and destination last. The cargo is at the place of the last step that happened, or, when
that step was a departure (the vessel, the flight or the truck left), on its way from there to the next stop.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal_app.services.shipments import ShipmentDetail
from portal_app.services.workspace.common import DELIVERY_STEPS, DEPARTURE_STEPS

PASSED, HERE, AHEAD = "passed", "here", "ahead"


@dataclass(frozen=True)
class Stop:
    code: str
    name: str
    state: str  # passed, here (the cargo is at this stop) or ahead


@dataclass(frozen=True)
class Route:
    stops: list[Stop]
    position: str  # in words: "At Shanghai (CNSHA)", "On the way from Shanghai (CNSHA) to Rotterdam (NLRTM)", ...
    moving_after: int | None  # the index of the stop the cargo left, while it travels to the next one


def _label(code: str, names: dict[str, str]) -> str:
    name = names.get(code, "")
    return f"{name} ({code})" if name and name != code else code


def route_of(detail: ShipmentDetail) -> Route:
    names = {detail.origin: detail.origin_name, detail.destination: detail.destination_name}
    codes: list[str] = [detail.origin]
    for m in detail.milestones:
        if m.location and m.location != codes[-1]:
            codes.append(m.location)
    if codes[-1] != detail.destination:
        codes.append(detail.destination)
    done = [m for m in detail.milestones if m.actual_at is not None]
    if not done:
        stops = [Stop(c, _label(c, names), HERE if i == 0 else AHEAD) for i, c in enumerate(codes)]
        return Route(stops, f"Not yet picked up: at {_label(codes[0], names)}", None)
    last = done[-1]
    # The stop of the last step that happened: the last occurrence of its place up to that step's order.
    place = last.location or codes[0]
    at = max((i for i, c in enumerate(codes) if c == place), default=0)
    moving = last.code in DEPARTURE_STEPS and at + 1 < len(codes)
    if moving:
        stops = [Stop(c, _label(c, names), PASSED if i <= at else AHEAD) for i, c in enumerate(codes)]
        text = f"On the way from {_label(codes[at], names)} to {_label(codes[at + 1], names)}"
        return Route(stops, text, at)
    stops = [Stop(c, _label(c, names), PASSED if i < at else HERE if i == at else AHEAD) for i, c in enumerate(codes)]
    verb = "Delivered at" if any(m.code in DELIVERY_STEPS for m in done) else "At"
    return Route(stops, f"{verb} {_label(codes[at], names)}", None)
