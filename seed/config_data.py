"""Configuration the product ships with: milestone templates, required documents, exception rules, SLA
policies, help articles, canned replies and branding. Admins edit all of it later without code.

Milestone event codes come from the public code lists in seed/data/: DCSA Track & Trace event type codes for
ocean (ocean_milestones_dcsa_mapping.csv), IATA status codes for air (iata_status_codes.csv) and UN/CEFACT
Recommendation 24 transport status codes for road (uncefact_rec24_road_codes.csv).

Template step timing: ``offset_days`` counts from the shipment's ready date for steps anchored at the origin,
and from the planned arrival date (the ``arrival`` step's day) for steps anchored at the destination.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from seed import help_articles
from seed.org_data import FX_PER_USD


@dataclass(frozen=True)
class Step:
    code: str
    name: str
    event_code: str | None
    offset_days: int
    anchor: str  # origin or destination
    hour: int  # typical local hour of day used by the seed for planned times (UTC here)
    customer_visible: bool = True
    reported_by: str = "carrier"  # who records the actual: carrier or ops


@dataclass(frozen=True)
class Template:
    mode: str
    name: str
    steps: tuple[Step, ...]
    departure: str  # step code that is the ETD/ATD
    arrival: str  # step code that is the ETA/ATA
    delivery: str  # step code that completes delivery


OCEAN_FCL = Template(
    mode="ocean_fcl",
    name="Ocean FCL (DCSA Track & Trace)",
    steps=(
        Step("booking_confirmed", "Booking confirmed", "CONF", -7, "origin", 9),
        Step("empty_container_released_to_shipper", "Empty container released to shipper", "GTOT", -2, "origin", 10),
        Step("gate_in_full_at_pol", "Full container gated in at port of loading", "GTIN", 2, "origin", 14),
        Step("loaded_on_vessel", "Loaded on vessel", "LOAD", 4, "origin", 20),
        Step("vessel_departure", "Vessel departed", "DEPA", 5, "origin", 6),
        Step("vessel_arrival", "Vessel arrived", "ARRI", 0, "destination", 8),
        Step("discharged_at_pod", "Discharged at port of discharge", "DISC", 1, "destination", 4),
        Step("customs_released", "Customs released", "CUSR", 2, "destination", 11, reported_by="ops"),
        Step("gate_out_full_from_pod", "Full container gated out of port", "GTOT", 3, "destination", 9),
        Step("delivered_to_consignee", "Delivered to consignee", "DROP", 4, "destination", 13, reported_by="ops"),
        Step("empty_returned", "Empty container returned", "GTIN", 7, "destination", 15),
    ),
    departure="vessel_departure",
    arrival="vessel_arrival",
    delivery="delivered_to_consignee",
)

OCEAN_LCL = Template(
    mode="ocean_lcl",
    name="Ocean LCL consolidation (DCSA Track & Trace)",
    steps=(
        Step("booking_confirmed", "Booking confirmed", "CONF", -7, "origin", 9),
        Step("cargo_received_at_cfs", "Cargo received at origin CFS", None, 0, "origin", 15, reported_by="ops"),
        Step("stuffed", "Consolidation container stuffed", "STUF", 2, "origin", 12, reported_by="ops"),
        Step("loaded_on_vessel", "Loaded on vessel", "LOAD", 4, "origin", 20),
        Step("vessel_departure", "Vessel departed", "DEPA", 5, "origin", 6),
        Step("vessel_arrival", "Vessel arrived", "ARRI", 0, "destination", 8),
        Step("discharged_at_pod", "Discharged at port of discharge", "DISC", 1, "destination", 4),
        Step("stripped", "Devanned at destination CFS", "STRP", 3, "destination", 10, reported_by="ops"),
        Step("customs_released", "Customs released", "CUSR", 4, "destination", 11, reported_by="ops"),
        Step("available_for_pickup", "Available for pick-up", "AVPU", 4, "destination", 15, reported_by="ops"),
        Step("delivered_to_consignee", "Delivered to consignee", "DROP", 6, "destination", 13, reported_by="ops"),
    ),
    departure="vessel_departure",
    arrival="vessel_arrival",
    delivery="delivered_to_consignee",
)

AIR = Template(
    mode="air",
    name="Air freight (IATA status codes)",
    steps=(
        Step("booking_confirmed", "Booked on flight", "BKD", -2, "origin", 10),
        Step("received_from_shipper", "Received from shipper, ready for carriage", "RCS", 0, "origin", 16),
        Step("manifested", "Manifested on flight", "MAN", 1, "origin", 8),
        Step("departed", "Flight departed", "DEP", 1, "origin", 22),
        Step("arrived", "Flight arrived", "ARR", 0, "destination", 8),
        Step("received_from_flight", "Received from flight", "RCF", 0, "destination", 12),
        Step("consignee_notified", "Consignee notified of arrival", "NFD", 0, "destination", 15),
        Step("customs_cleared", "Customs cleared", "CCD", 1, "destination", 11, reported_by="ops"),
        Step("delivered", "Delivered to consignee", "DLV", 1, "destination", 16, reported_by="ops"),
    ),
    departure="departed",
    arrival="arrived",
    delivery="delivered",
)

ROAD_FTL = Template(
    mode="road_ftl",
    name="Road full truckload (UN/CEFACT Rec 24)",
    steps=(
        Step("booking_confirmed", "Truck booked", "6", -3, "origin", 10, reported_by="ops"),
        Step("pickup_completed", "Picked up from shipper", "13", 0, "origin", 9),
        Step("in_transit", "En route", "31", 0, "origin", 18),
        Step("arrived_at_destination", "Arrived at destination", "1", 0, "destination", 8),
        Step("delivered", "Delivered to consignee", "21", 0, "destination", 11),
        Step("pod_received", "Proof of delivery received", "123", 1, "destination", 10, reported_by="ops"),
    ),
    departure="pickup_completed",
    arrival="arrived_at_destination",
    delivery="delivered",
)

ROAD_LTL = Template(
    mode="road_ltl",
    name="Road groupage / LTL (UN/CEFACT Rec 24)",
    steps=(
        Step("booking_confirmed", "Pick-up booked", "6", -3, "origin", 10, reported_by="ops"),
        Step("pickup_completed", "Picked up from shipper", "13", 0, "origin", 11),
        Step("received_at_origin_hub", "Received at origin hub", "1", 0, "origin", 17, customer_visible=False),
        Step("linehaul_departed", "Linehaul departed", "24", 0, "origin", 22),
        Step("arrived_at_destination_hub", "Arrived at destination hub", "1", 0, "destination", 6),
        Step("out_for_delivery", "Out for delivery", "113", 1, "destination", 8),
        Step("delivered", "Delivered to consignee", "21", 1, "destination", 14),
        Step("pod_received", "Proof of delivery received", "123", 2, "destination", 10, reported_by="ops"),
    ),
    departure="linehaul_departed",
    arrival="arrived_at_destination_hub",
    delivery="delivered",
)

TEMPLATES: dict[str, Template] = {t.mode: t for t in (OCEAN_FCL, OCEAN_LCL, AIR, ROAD_FTL, ROAD_LTL)}


# (mode, incoterm or None for every Incoterm, doc_type, due days before departure, provided_by)
# provided_by: customer (uploaded in the portal) or forwarder (issued by ops).
# dangerous_goods_declaration rows are stored with dangerous_goods_only=True: required only for DG cargo.
DOCUMENT_REQUIREMENTS: list[tuple[str, str | None, str, int, str]] = []
for _mode in ("ocean_fcl", "ocean_lcl"):
    DOCUMENT_REQUIREMENTS += [
        (_mode, None, "commercial_invoice", 5, "customer"),
        (_mode, None, "packing_list", 5, "customer"),
        (_mode, None, "shipping_instructions", 3, "customer"),
        (_mode, None, "dangerous_goods_declaration", 7, "customer"),
        (_mode, None, "bill_of_lading", 0, "forwarder"),
        (_mode, "CIF", "insurance_certificate", 3, "customer"),
        (_mode, "DDP", "certificate_of_origin", 3, "customer"),
        (_mode, "EXW", "export_declaration", 2, "forwarder"),
    ]
DOCUMENT_REQUIREMENTS += [
    ("air", None, "commercial_invoice", 2, "customer"),
    ("air", None, "packing_list", 2, "customer"),
    ("air", None, "dangerous_goods_declaration", 3, "customer"),
    ("air", None, "air_waybill", 0, "forwarder"),
    ("air", "CIP", "insurance_certificate", 2, "customer"),
    ("air", "DDP", "certificate_of_origin", 2, "customer"),
    ("air", "EXW", "export_declaration", 1, "forwarder"),
]
for _mode in ("road_ftl", "road_ltl"):
    DOCUMENT_REQUIREMENTS += [
        (_mode, None, "commercial_invoice", 1, "customer"),
        (_mode, None, "packing_list", 1, "customer"),
        (_mode, None, "dangerous_goods_declaration", 2, "customer"),
        (_mode, None, "cmr_consignment_note", 0, "forwarder"),
        (_mode, "DDP", "certificate_of_origin", 1, "customer"),
    ]

DOCUMENT_TYPE_NAMES = {
    "commercial_invoice": "Commercial invoice",
    "packing_list": "Packing list",
    "shipping_instructions": "Shipping instructions",
    "dangerous_goods_declaration": "Dangerous goods declaration",
    "bill_of_lading": "Bill of lading",
    "air_waybill": "Air waybill",
    "cmr_consignment_note": "CMR consignment note",
    "insurance_certificate": "Insurance certificate",
    "certificate_of_origin": "Certificate of origin",
    "export_declaration": "Export declaration",
    "booking_confirmation": "Carrier booking confirmation",
    "arrival_notice": "Arrival notice",
    "proof_of_delivery": "Proof of delivery",
}

# kind -> (name, threshold_hours, threshold_days, default severity)
EXCEPTION_RULES: dict[str, tuple[str, int | None, int | None, str]] = {
    "eta_slip": ("ETA moved by more than the threshold", 24, None, "medium"),
    "document_missing": ("Required document not received by its due date", None, 0, "medium"),
    "no_tracking_update": ("No tracking update on an active shipment", 72, None, "medium"),
    "customs_hold": ("Customs hold or inspection", None, None, "high"),
    "carrier_hold": ("Carrier hold (payment, documentation or equipment)", None, None, "high"),
    "change_requested": ("Customer asked to amend or cancel a booking", None, None, "medium"),
    "invoice_overdue": ("Invoice unpaid after its due date", None, 14, "low"),
    "other": ("Other operational issue", None, None, "medium"),
}

# (subject, kind, severity, first_response_hours, resolution_hours). '*' matches any kind/severity.
# Lookup order: exact kind+severity, kind+'*', '*'+severity, '*'+'*'.
SLA_POLICIES: list[tuple[str, str, str, int | None, int]] = [
    ("exception", "*", "*", None, 48),
    ("exception", "*", "critical", None, 4),
    ("exception", "*", "high", None, 12),
    ("exception", "*", "medium", None, 24),
    ("exception", "*", "low", None, 72),
    ("exception", "customs_hold", "*", None, 8),
    ("exception", "carrier_hold", "*", None, 12),
    ("exception", "document_missing", "*", None, 24),
    ("exception", "eta_slip", "*", None, 24),
    ("exception", "eta_slip", "high", None, 8),
    ("exception", "no_tracking_update", "*", None, 12),
    ("exception", "change_requested", "*", None, 8),
    ("exception", "invoice_overdue", "*", None, 120),
    ("ticket", "*", "*", 8, 72),
    ("ticket", "*", "urgent", 1, 8),
    ("ticket", "*", "high", 4, 24),
    ("ticket", "*", "normal", 8, 72),
    ("ticket", "*", "low", 24, 120),
    ("ticket", "billing", "*", 8, 120),
    ("ticket", "tracking", "*", 4, 24),
    ("ticket", "booking_change", "*", 4, 24),
    # quote requests no rate card matched: priced by hand (kind = transport mode)
    ("quote", "*", "*", None, 24),
    ("quote", "air", "*", None, 8),
    ("quote", "road_ftl", "*", None, 8),
    ("quote", "road_ltl", "*", None, 8),
]


def sla_hours(subject: str, kind: str, severity: str) -> tuple[int | None, int]:
    """(first_response_hours, resolution_hours) for a subject/kind/severity, with '*' fallbacks."""
    table = {(s, k, v): (f, r) for s, k, v, f, r in SLA_POLICIES}
    for key in ((subject, kind, severity), (subject, kind, "*"), (subject, "*", severity), (subject, "*", "*")):
        if key in table:
            return table[key]
    raise KeyError((subject, kind, severity))


BRANDING = {"product_name": "Harbor & Sky Portal", "accent_color": "#0b5cad"}
# Units of each currency per US dollar: compares quote options priced in different currencies and converts a
# cargo value for insurance. Admins keep it current; the demo uses the seed's fixed demo rates.
# Who bills and where to pay, printed on every invoice (the demo's numbers pass their checks; the account is made
# up).
INVOICE_IDENTITY = {
    "legal_name": "Harbor & Sky Logistics B.V.",
    "address": "Waalhaven Zuidzijde 21\n3089 JH Rotterdam\nThe Netherlands",
    "vat_number": "NL854891742B01",
    "account_holder": "Harbor & Sky Logistics B.V.",
    "iban": "NL02ABNA0123456789",
    "bic": "ABNANL2A",
    "bank_name": "ABN AMRO Bank N.V.",
    "payment_reference": "{invoice}",
}
APP_SETTINGS: dict[str, str] = {"branding": json.dumps(BRANDING), "exchange_rates": json.dumps(FX_PER_USD),
                                "invoice_identity": json.dumps(INVOICE_IDENTITY)}

# The help centre's starting articles live in their own module (they are long); imported here with the rest
# of the configuration the product ships with.
HELP_ARTICLES: list[dict[str, str]] = help_articles.HELP_ARTICLES

CANNED_REPLIES: list[dict[str, str | None]] = [
    {
        "title": "ETA update",
        "category": "tracking",
        "body": "Thank you for your message. The carrier now expects arrival on {eta}. We are following the "
        "shipment closely and will update you as soon as anything changes.",
    },
    {
        "title": "Document rejected - please re-upload",
        "category": "documents",
        "body": "We could not accept the document you uploaded: {reason}. Please upload a corrected version on the "
        "shipment's Documents tab; it replaces the previous one as a new version.",
    },
    {
        "title": "Invoice copy",
        "category": "billing",
        "body": "You can download a copy of every invoice from Invoices in the portal. The balance shown there "
        "includes all payments we have received up to today.",
    },
    {
        "title": "Invoice query received",
        "category": "billing",
        "body": "Thank you, we have put the invoice on hold while our finance team checks the charges. We will "
        "come back to you within five working days.",
    },
    {
        "title": "Customs hold",
        "category": "tracking",
        "body": "Customs have selected the shipment for inspection. This usually adds one to three working days. "
        "There is nothing you need to do now; we will tell you as soon as it is released.",
    },
    {
        "title": "Booking change received",
        "category": "booking_change",
        "body": "We have received your change request and asked the carrier to amend the booking. You will see "
        "the result on the shipment page once the carrier confirms.",
    },
]

# Reasons for ETA changes: code -> customer-facing text.
DELAY_REASONS = {
    "PORT_CONGESTION": "port congestion at {place}",
    "WEATHER": "adverse weather",
    "ROLLED_OVER": "cargo rolled over to the next sailing",
    "CUSTOMS_INSPECTION": "customs inspection",
    "MECHANICAL": "technical problem with the {vehicle}",
    "CAPACITY": "offloaded due to capacity; rebooked on the next flight",
    "TRAFFIC": "traffic and road works",
    "BORDER_DELAY": "waiting time at the border",
}
