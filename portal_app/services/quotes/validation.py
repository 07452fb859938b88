"""What stops a quote request from being submitted, in a shipper's words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session

from models import (
    Location,
    QuoteCargoLine,
    QuoteRequest,
)
from models.enums import Mode
from portal_app.services.errors import FormInvalid
from portal_app.services.locations import find_location
from portal_app.services.quotes.common import _services
from portal_app.services.quotes.shapes import (
    ANY_MODE_EQUIVALENT,
    MAX_CONTAINERS_PER_LINE,
    MAX_DIMENSION_CM,
    MAX_LINES,
    MAX_PACKAGES_PER_LINE,
    MAX_READY_DAYS_AHEAD,
    MAX_WEIGHT_KG,
    NOTHING_SUBMITTED,
)
from portal_app.services.trade_codes import (
    DG_CLASSES,
    INCOTERMS,
    MODE_LABELS,
    PRICING_CURRENCIES,
    SERVICES,
    SIZE_TYPES,
    incoterm_valid_for_mode,
    location_kinds_for_mode,
    place_word,
)


def _check_place(db: Session, key: str, code: str | None, mode: str | None, role: str,
                 problems: dict[str, str]) -> Location | None:
    if not code:
        where = place_word(mode) if mode else "a port, airport or city"
        problems[key] = f"Enter where the cargo {role}: {where}."
        return None
    loc = find_location(db, code)
    if loc is None:
        problems[key] = (f"We do not know the place {code!r}. Start typing the city, port or airport name and "
                         "pick it from the list.")
        return None
    if mode and loc.kind not in location_kinds_for_mode(mode):
        kind = {"airport": "an airport", "seaport": "a seaport", "inland": "an inland place"}.get(loc.kind, loc.kind)
        problems[key] = (f"{loc.code} ({loc.name}) is {kind}; {MODE_LABELS.get(mode, mode).lower()} needs "
                         f"{place_word(mode)}.")
        return None
    return loc


def _check_line(i: int, ln: QuoteCargoLine, mode: str | None, problems: dict[str, str]) -> None:
    k = f"lines.{i}."
    n = i + 1
    fcl = mode == Mode.OCEAN_FCL
    if fcl:
        if not ln.container_size_type:
            problems[k + "container_size_type"] = f"Line {n}: choose the container type, e.g. 22G1 (20' standard)."
        elif ln.container_size_type not in SIZE_TYPES:
            problems[k + "container_size_type"] = (
                f"Line {n}: {ln.container_size_type!r} is not a container type we ship. Choose one from the list, "
                "e.g. 22G1 (20' standard) or 45G1 (40' high cube).")
        if ln.container_count is None:
            problems[k + "container_count"] = f"Line {n}: enter how many containers you need."
        elif not 1 <= ln.container_count <= MAX_CONTAINERS_PER_LINE:
            problems[k + "container_count"] = (
                f"Line {n}: the number of containers must be between 1 and {MAX_CONTAINERS_PER_LINE}.")
    else:
        if ln.container_size_type or ln.container_count:
            problems[k + "container_size_type"] = (
                f"Line {n}: containers are only for ocean full container load (FCL). Give packages, dimensions and "
                "weight instead.")
        if ln.packages is None:
            problems[k + "packages"] = f"Line {n}: enter the number of packages (pallets, cartons, crates)."
        elif not 1 <= ln.packages <= MAX_PACKAGES_PER_LINE:
            problems[k + "packages"] = (f"Line {n}: the number of packages must be between 1 and "
                                        f"{MAX_PACKAGES_PER_LINE}.")
        for name, label in (("length_cm", "length"), ("width_cm", "width"), ("height_cm", "height")):
            value = getattr(ln, name)
            if value is None:
                problems[k + name] = f"Line {n}: enter the {label} of one package in centimetres."
            elif not Decimal(0) < value <= MAX_DIMENSION_CM:
                problems[k + name] = (f"Line {n}: the {label} must be more than 0 and at most "
                                      f"{MAX_DIMENSION_CM} cm (one package).")
    if ln.weight_kg is None:
        problems[k + "weight_kg"] = f"Line {n}: enter the total gross weight of this line in kg."
    elif not Decimal(0) < ln.weight_kg <= MAX_WEIGHT_KG:
        problems[k + "weight_kg"] = f"Line {n}: the gross weight must be more than 0 and at most {MAX_WEIGHT_KG} kg."
    if ln.is_dangerous_goods:
        if not ln.un_number:
            problems[k + "un_number"] = (f"Line {n}: dangerous goods need their UN number: four digits, e.g. "
                                         "UN 1263 for paint.")
        if not ln.dg_class:
            problems[k + "dg_class"] = f"Line {n}: choose the dangerous goods class, e.g. 3 (flammable liquids)."
        elif ln.dg_class not in DG_CLASSES:
            problems[k + "dg_class"] = (f"Line {n}: {ln.dg_class!r} is not a dangerous goods class. Use 1 to 9 with "
                                        "the division where there is one, e.g. 2.1 or 6.1.")
    elif ln.un_number or ln.dg_class:
        problems[k + "is_dangerous_goods"] = (f"Line {n}: you gave a UN number or class. Tick 'dangerous goods', "
                                              "or clear them if the cargo is not dangerous.")


def _problems(db: Session, q: QuoteRequest, lines: Sequence[QuoteCargoLine], today: date) -> dict[str, str]:
    """Everything that stops a request from being submitted, by field, in a shipper's words."""
    p: dict[str, str] = {}
    mode = q.mode
    if not mode:
        p["mode"] = "Choose how the cargo travels: ocean FCL, ocean LCL, air, road FTL or road LTL."
    elif mode not in Mode._value2member_map_:
        p["mode"] = (f"{mode!r} is not a transport mode we offer. Choose ocean FCL, ocean LCL, air, road FTL or "
                     "road LTL.")
        mode = None
    origin = _check_place(db, "origin", _code(db, q.origin_id), mode, "starts", p)
    destination = _check_place(db, "destination", _code(db, q.destination_id), mode, "goes", p)
    if origin and destination and origin.id == destination.id:
        p["destination"] = "Origin and destination are the same place. Choose where the cargo goes."
    if q.ready_date is None:
        p["ready_date"] = "Enter the date the cargo is ready to be collected."
    elif q.ready_date < today:
        p["ready_date"] = (f"The ready date {q.ready_date.isoformat()} is in the past. Enter today "
                           f"({today.isoformat()}) or a later date.")
    elif q.ready_date > today + timedelta(days=MAX_READY_DAYS_AHEAD):
        p["ready_date"] = f"We price shipments up to {MAX_READY_DAYS_AHEAD} days ahead. Choose an earlier ready date."
    if not q.incoterm:
        p["incoterm"] = "Choose the Incoterm agreed with your buyer or seller, e.g. FCA or DAP."
    elif q.incoterm not in INCOTERMS:
        p["incoterm"] = f"{q.incoterm!r} is not an Incoterms 2020 rule. Choose one from the list, e.g. FCA or DAP."
    elif mode and not incoterm_valid_for_mode(q.incoterm, mode):
        p["incoterm"] = (f"{q.incoterm} ({INCOTERMS[q.incoterm].name}) is for sea transport only. For "
                         f"{MODE_LABELS[mode].lower()} use {ANY_MODE_EQUIVALENT[q.incoterm]} "
                         f"({INCOTERMS[ANY_MODE_EQUIVALENT[q.incoterm]].name}) instead.")
    services = _services(q)
    unknown = [s for s in services if s not in SERVICES]
    if unknown:
        p["services"] = f"Unknown service {unknown[0]!r}. Choose from: {', '.join(SERVICES)}."
    if q.cargo_value is not None and q.cargo_value < 0:
        p["cargo_value"] = "The cargo value cannot be negative."
    if q.cargo_currency and q.cargo_currency not in PRICING_CURRENCIES:
        p["cargo_currency"] = f"{q.cargo_currency!r} is not a currency we price in. Use a code such as EUR or USD."
    if "insurance" in services:
        if not q.cargo_value:
            p["cargo_value"] = "Insurance is priced as a percentage of the cargo value: enter the cargo value."
        if not q.cargo_currency:
            p["cargo_currency"] = "Insurance is priced as a percentage of the cargo value: enter its currency."
    elif q.cargo_value is not None and not q.cargo_currency:
        p["cargo_currency"] = "Enter the currency of the cargo value, e.g. EUR."
    if not lines:
        p["lines"] = ("Add the containers you need: type and number." if mode == Mode.OCEAN_FCL
                      else "Add at least one cargo line: packages, dimensions and weight.")
    elif len(lines) > MAX_LINES:
        p["lines"] = f"A request can have at most {MAX_LINES} cargo lines."
    for i, ln in enumerate(lines):
        _check_line(i, ln, mode, p)
    return p


def _code(db: Session, location_id: int | None) -> str | None:
    if not location_id:
        return None
    loc = db.get(Location, location_id)
    return loc.code if loc else None


def _form_error(problems: Mapping[str, str], tail: str) -> FormInvalid:
    first = next(iter(problems.values()))
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return FormInvalid(f"{first}{more} {tail}", dict(problems), saved=tail == NOTHING_SUBMITTED)
