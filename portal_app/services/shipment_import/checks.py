"""Checking one shipment row or one milestone row of an import file, in plain words, without writing anything."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from sqlmodel import Session, col, select

from models import Carrier, Company, Location, Milestone, Shipment
from models.enums import CompanyKind, Mode, ShipmentStatus
from portal_app.services.bookings.common import template_steps
from portal_app.services.identifiers import (
    is_valid_awb,
    is_valid_container_number,
    iso6346_check_digit,
)
from portal_app.services.locations import find_location
from portal_app.services.trade_codes import (
    INCOTERMS,
    SIZE_TYPES,
    incoterm_valid_for_mode,
    is_ocean,
    location_kinds_for_mode,
    place_word,
)

REFERENCE_RE = re.compile(r"^[A-Z0-9][A-Z0-9\-/._]{2,19}$")
MODE_ALIASES = {"fcl": Mode.OCEAN_FCL.value, "lcl": Mode.OCEAN_LCL.value, "ftl": Mode.ROAD_FTL.value,
                "ltl": Mode.ROAD_LTL.value, "ocean": Mode.OCEAN_FCL.value, "sea_fcl": Mode.OCEAN_FCL.value,
                "sea_lcl": Mode.OCEAN_LCL.value}
# What shippers call a size-type ("40HC") -> its ISO 6346 code ("45G1"): the first code that names it.
SIZE_ALIASES: dict[str, str] = {}
for _code, _words in SIZE_TYPES.items():
    _alias = re.search(r"\(([0-9A-Z]+)\)$", _words)
    if _alias:
        SIZE_ALIASES.setdefault(_alias.group(1), _code)
CLOSED_STATUSES = (ShipmentStatus.CLOSED.value, ShipmentStatus.CANCELLED.value)
FUTURE_SLACK = timedelta(minutes=10)
FAR = timedelta(days=730)

# File column -> (Shipment attribute, longest text). Text columns only; the rest are checked one by one.
TEXT_COLUMNS: dict[str, tuple[str, int]] = {
    "vessel": ("vessel_name", 80), "voyage": ("voyage_number", 20), "flight": ("flight_number", 12),
    "booking": ("booking_number", 40), "mbl": ("mbl_number", 40), "hbl": ("hbl_number", 40),
    "hawb": ("hawb_number", 20), "customer_po": ("customer_po", 40), "shipper": ("shipper_name", 200),
    "shipper_address": ("shipper_address", 400), "consignee": ("consignee_name", 200),
    "consignee_address": ("consignee_address", 400), "notify_party": ("notify_party", 200),
    "cargo_description": ("cargo_description", 400),
}
OCEAN_ONLY = ("vessel", "voyage", "mbl", "hbl", "containers")
AIR_ONLY = ("flight", "awb", "hawb")


def blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value) or str(value).strip() == ""


def text(value: object) -> str:
    """A cell as text: whitespace collapsed; a whole number Excel stored as 123.0 is '123'."""
    if blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return " ".join(str(value).split())


def number(value: object) -> Decimal | None:
    """A number from a cell. A comma is refused, never guessed: 18,450 is a thousands separator in one locale and
    a decimal comma in another."""
    raw = text(value)
    if "," in raw:
        return None
    try:
        result = Decimal(raw)
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def moment(value: object) -> datetime | None:
    """A time from a cell: ISO 8601 with an offset as given, without one as UTC; a day alone is 12:00 UTC;
    an Excel date-time (no zone) is UTC. None when it is not a time."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(12, 0), tzinfo=UTC)
    raw = text(value)
    if not raw:
        return None
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), time(12, 0), tzinfo=UTC)
        found = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def day(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(text(value)[:10])
    except ValueError:
        return None


def container_problem(number_text: str) -> str | None:
    """What is wrong with a container number, or None when it is a valid ISO 6346 number."""
    if is_valid_container_number(number_text):
        return None
    if re.fullmatch(r"[A-Z]{3}[UJZ][0-9]{7}", number_text):
        expected = iso6346_check_digit(number_text[:10])
        return (f"{number_text}: the ISO 6346 check digit is {number_text[10]} but should be {expected}. "
                "Check the number on the container or the booking.")
    return (f"{number_text!r} is not an ISO 6346 container number: 3 letters of the owner, U, J or Z, 6 digits "
            "and the check digit, e.g. MSKU9070323.")


def parse_containers(cell: str) -> tuple[list[tuple[str, str]], list[str]]:
    """``MSKU9070323:40HC; TGHU1234560:45G1`` -> [(number, ISO size-type)] and the problems found."""
    found: list[tuple[str, str]] = []
    problems: list[str] = []
    seen: set[str] = set()
    for raw in re.split(r"[;,\n|]+", cell):
        item = raw.strip()
        if not item:
            continue
        number_part, _, size_part = item.partition(":")
        number_text = re.sub(r"[\s\-]", "", number_part).upper()
        size = re.sub(r"\s", "", size_part).upper().strip("'")
        wrong = container_problem(number_text)
        if wrong:
            problems.append(wrong)
            continue
        iso = size if size in SIZE_TYPES else SIZE_ALIASES.get(size)
        if not size:
            problems.append(f"{number_text}: give its size-type after a colon, e.g. {number_text}:45G1 or "
                            f"{number_text}:40HC.")
            continue
        if iso is None:
            problems.append(f"{number_text}: {size!r} is not a size-type we know. Use an ISO 6346 code (22G1, 42G1, "
                            "45G1, ...) or 20GP, 40GP, 40HC, 45HC, 20RF, 40RF, 40RH, 20OT, 40OT, 20FR, 40FR.")
            continue
        if number_text in seen:
            problems.append(f"{number_text} is listed twice.")
            continue
        seen.add(number_text)
        found.append((number_text, iso))
    return found, problems


@dataclass
class ShipmentRow:
    """A shipment row that passed its checks: the shipment columns it sets and what it replaces."""

    row: int
    reference: str
    company_id: int
    mode: str
    values: dict[str, object]  # Shipment attribute -> value (only what the file gives)
    containers: list[tuple[str, str]] | None  # None: the file leaves the containers as they are
    existing: Shipment | None


@dataclass
class MilestoneRow:
    row: int
    reference: str
    code: str
    times: dict[str, datetime]  # planned_at / estimated_at / actual_at as given
    location_id: int | None = None
    location_given: bool = False


@dataclass
class Step:
    """A step of a shipment's journey while the file is checked (stored, or from the template for a new one)."""

    sequence: int
    code: str
    name: str
    event_code: str | None
    anchor: str
    customer_visible: bool
    planned_at: datetime | None = None
    estimated_at: datetime | None = None
    actual_at: datetime | None = None
    location_id: int | None = None
    stored: Milestone | None = None
    changed: dict[str, object] = field(default_factory=dict)


class Lookups:
    """Companies, places, carriers, stored shipments and templates, each read once per import."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.companies = list(db.exec(select(Company).where(Company.kind == CompanyKind.CUSTOMER.value)).all())
        self.places: dict[str, Location | None] = {}
        self.carriers: dict[str, Carrier | None] = {}
        self.templates: dict[str, list] = {}

    def company(self, value: str) -> tuple[Company | None, str | None]:
        wanted = value.strip()
        by_code = [c for c in self.companies if c.code.upper() == wanted.upper()]
        found = by_code or [c for c in self.companies if c.name.casefold() == wanted.casefold()]
        if not found:
            return None, (f"No customer has the code or name {wanted!r}. Use the customer's account code (e.g. "
                          "ACME) or its exact name as the portal has it.")
        if len(found) > 1:
            return None, f"Several customers are named {wanted!r}; use the account code instead."
        if not found[0].is_active:
            return None, f"Customer {found[0].code} is deactivated; reactivate it before importing its shipments."
        return found[0], None

    def place(self, code: str) -> Location | None:
        key = code.strip().upper()
        if key not in self.places:
            self.places[key] = find_location(self.db, key)
        return self.places[key]

    def carrier(self, code: str) -> Carrier | None:
        key = code.strip().upper()
        if key not in self.carriers:
            self.carriers[key] = self.db.exec(select(Carrier).where(Carrier.code == key)).first()
        return self.carriers[key]

    def template(self, mode: str) -> list:
        if mode not in self.templates:
            self.templates[mode] = template_steps(self.db, mode)
        return self.templates[mode]

    def shipments(self, references: list[str]) -> dict[str, Shipment]:
        out: dict[str, Shipment] = {}
        for start in range(0, len(references), 500):
            chunk = references[start:start + 500]
            for s in self.db.exec(select(Shipment).where(col(Shipment.reference).in_(chunk))).all():
                out[s.reference] = s
        return out


def carrier_family(mode: str) -> str:
    return "ocean" if is_ocean(mode) else "air" if mode == Mode.AIR else "road"


def check_shipment(look: Lookups, row_no: int, values: Mapping[str, object], existing: Shipment | None
                   ) -> tuple[dict[str, str], ShipmentRow | None]:
    """Problems by column, and the checked row when there are none."""
    p: dict[str, str] = {}
    out: dict[str, object] = {}
    reference = text(values.get("reference")).upper()
    company, wrong = look.company(text(values.get("customer"))) if text(values.get("customer")) else (
        None, "Give the customer's account code (e.g. ACME) or its name.")
    if wrong:
        p["customer"] = wrong
    raw_mode = text(values.get("mode")).lower().replace(" ", "_")
    mode = MODE_ALIASES.get(raw_mode, raw_mode)
    if mode not in {m.value for m in Mode}:
        p["mode"] = (f"{raw_mode or 'empty'!r} is not a mode. Use one of: {', '.join(m.value for m in Mode)} "
                     "(or FCL, LCL, FTL, LTL).")
        mode = ""
    elif not look.template(mode):
        p["mode"] = f"There is no active milestone template for {mode}. An admin sets one up under Configuration."
    if existing is not None:
        if company is not None and existing.company_id != company.id:
            p["customer"] = (f"Shipment {reference} belongs to another customer; an import does not move a shipment. "
                             "Check the reference or the customer.")
        if mode and existing.mode != mode:
            p["mode"] = (f"Shipment {reference} is {existing.mode}; an import does not change a shipment's mode. "
                         "Check the reference, or cancel it and book a new shipment.")
        if existing.status in CLOSED_STATUSES:
            p["reference"] = (f"Shipment {reference} is {existing.status}; a closed or cancelled shipment is not "
                              "changed.")
    places = {}
    for column in ("origin", "destination"):
        code = text(values.get(column)).upper()
        place = look.place(code) if code else None
        if place is None:
            wanted = place_word(mode) if mode else "a UN/LOCODE"
            p[column] = f"{code or 'empty'!r} is not a place we know. Give {wanted}."
        elif mode and place.kind not in location_kinds_for_mode(mode):
            p[column] = f"{code} is a {place.kind}; a {mode} shipment goes from and to {place_word(mode)}."
        else:
            places[column] = place
            out[f"{column}_id"] = place.id
    if len(places) == 2 and places["origin"].id == places["destination"].id:
        p["destination"] = "The destination is the same place as the origin."
    carrier_code = text(values.get("carrier")).upper()
    if carrier_code:
        carrier = look.carrier(carrier_code)
        if carrier is None:
            p["carrier"] = (f"{carrier_code!r} is not a carrier we know. Use its SCAC (ocean, e.g. MAEU), IATA code "
                            "(air, e.g. LH) or the code on the carriers list.")
        elif mode and carrier.mode != carrier_family(mode):
            p["carrier"] = f"{carrier_code} is a {carrier.mode} carrier; this is a {mode} shipment."
        else:
            out["carrier_id"] = carrier.id
    for column, (attribute, limit) in TEXT_COLUMNS.items():
        value = text(values.get(column))
        if not value:
            continue
        if len(value) > limit:
            p[column] = f"At most {limit} characters (this has {len(value)})."
        else:
            out[attribute] = value.upper() if column in ("voyage", "flight", "booking", "mbl", "hbl", "hawb") \
                else value
    for column in OCEAN_ONLY:
        if mode and not is_ocean(mode) and text(values.get(column)):
            p[column] = f"{column} is for ocean shipments; leave it empty for {mode}."
    for column in AIR_ONLY:
        if mode and mode != Mode.AIR and text(values.get(column)):
            p[column] = f"{column} is for air shipments; leave it empty for {mode}."
    awb = text(values.get("awb"))
    if awb and "awb" not in p:
        if not is_valid_awb(awb):
            p["awb"] = (f"{awb!r} is not an air waybill number: 3-digit airline prefix and 8 digits whose last is the "
                        "check digit (serial modulo 7), e.g. 020-12345675.")
        else:
            out["awb_number"] = re.sub(r"[-\s]", "", awb)
    incoterm = text(values.get("incoterm")).upper()
    if incoterm:
        if incoterm not in INCOTERMS:
            p["incoterm"] = f"{incoterm!r} is not an Incoterms 2020 term. Use one of: {', '.join(INCOTERMS)}."
        elif mode and not incoterm_valid_for_mode(incoterm, mode):
            p["incoterm"] = f"{incoterm} is for sea transport only; use FCA, CPT, CIP, DAP, DPU, DDP or EXW."
        else:
            out["incoterm"] = incoterm
    raw_packages = values.get("packages")
    if not blank(raw_packages):
        packages = number(raw_packages)
        if packages is None or packages < 0 or packages != packages.to_integral_value() or packages > 10**7:
            p["packages"] = "The number of packages is a whole number, 0 or more, without separators (e.g. 1240)."
        else:
            out["packages"] = int(packages)
    for column in ("gross_weight_kg", "volume_cbm"):
        raw = values.get(column)
        if blank(raw):
            continue
        amount = number(raw)
        if amount is None or amount < 0 or amount >= Decimal("1e9"):
            p[column] = (f"{text(raw)!r} is not a quantity: give a number of 0 or more with a dot for decimals and no "
                         "thousands separator, e.g. 12500.5.")
        else:
            out[column] = amount.quantize(Decimal("0.001"))
    raw_ready = values.get("ready_date")
    if not blank(raw_ready):
        ready = day(raw_ready)
        if ready is None:
            p["ready_date"] = f"{text(raw_ready)!r} is not a day. Use the form 2026-11-30."
        else:
            out["ready_date"] = ready
    containers: list[tuple[str, str]] | None = None
    cell = text(values.get("containers"))
    if cell and "containers" not in p:
        containers, wrong_list = parse_containers(cell)
        if wrong_list:
            p["containers"] = " ".join(wrong_list[:5]) + (f" (and {len(wrong_list) - 5} more)"
                                                          if len(wrong_list) > 5 else "")
        elif len(containers) > 200:
            p["containers"] = "At most 200 containers per shipment."
    if p or company is None or company.id is None:
        return p, None
    out["company_id"] = company.id
    out["mode"] = mode
    return p, ShipmentRow(row_no, reference, company.id, mode, out, containers, existing)


def check_milestone(look: Lookups, values: Mapping[str, object], steps: list[Step] | None, now: datetime
                    ) -> tuple[dict[str, str], tuple[Step, dict[str, datetime], int | None, bool] | None]:
    """One milestone row against its shipment's steps: the step, the times given and the location given."""
    p: dict[str, str] = {}
    wanted = text(values.get("milestone"))
    step = None
    if steps is not None:
        key = wanted.lower().replace(" ", "_")
        step = next((s for s in steps if s.code == key), None) or next(
            (s for s in steps if s.name.casefold() == wanted.casefold()), None)
        if step is None:
            p["milestone"] = (f"{wanted or 'empty'!r} is not a step of this shipment's milestone template. Its steps "
                              f"are: {', '.join(s.code for s in steps)}.")
    times: dict[str, datetime] = {}
    for column in ("planned", "estimated", "actual"):
        raw = values.get(column)
        if blank(raw):
            continue
        value = moment(raw)
        if value is None:
            p[column] = (f"{text(raw)!r} is not a date and time. Use ISO 8601, e.g. 2026-11-30T14:00:00Z or "
                         "2026-11-30T22:00:00+08:00 (a time without an offset is read as UTC).")
        elif abs(value - now) > FAR:
            p[column] = f"{value:%Y-%m-%d} is more than two years away. Check the year."
        elif column == "actual" and value > now + FUTURE_SLACK:
            p[column] = (f"An actual time cannot be in the future ({value:%Y-%m-%d %H:%M} UTC). Put it in the "
                         "estimated column instead.")
        else:
            times[f"{column}_at"] = value
    location_id: int | None = None
    code = text(values.get("location")).upper()
    if code:
        place = look.place(code)
        if place is None:
            p["location"] = f"{code!r} is not a place we know. Use a UN/LOCODE (e.g. NLRTM) or an IATA code (e.g. FRA)."
        else:
            location_id = place.id
    if not times and not code and "milestone" not in p and not p:
        p["milestone"] = "The row gives no time and no location: fill planned, estimated, actual or location."
    if p or step is None:
        return p, None
    return p, (step, times, location_id, bool(code))
