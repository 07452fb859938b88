"""Closed vocabularies stored as short strings (portable across SQLite and PostgreSQL, no native enum types)."""

from enum import StrEnum


class Role(StrEnum):
    CUSTOMER_USER = "customer_user"
    CUSTOMER_ADMIN = "customer_admin"
    OPS_AGENT = "ops_agent"
    OPS_MANAGER = "ops_manager"
    ADMIN = "admin"


class CompanyKind(StrEnum):
    CUSTOMER = "customer"
    FORWARDER = "forwarder"


class Mode(StrEnum):
    OCEAN_FCL = "ocean_fcl"
    OCEAN_LCL = "ocean_lcl"
    AIR = "air"
    ROAD_FTL = "road_ftl"
    ROAD_LTL = "road_ltl"

    @property
    def is_ocean(self) -> bool:
        return self in (Mode.OCEAN_FCL, Mode.OCEAN_LCL)

    @property
    def is_road(self) -> bool:
        return self in (Mode.ROAD_FTL, Mode.ROAD_LTL)


class LocationKind(StrEnum):
    SEAPORT = "seaport"
    AIRPORT = "airport"
    INLAND = "inland"


class ShipmentStatus(StrEnum):
    BOOKED = "booked"          # booking requested, awaiting ops confirmation
    CONFIRMED = "confirmed"    # booking confirmed with the carrier
    IN_TRANSIT = "in_transit"
    ARRIVED = "arrived"
    DELIVERED = "delivered"
    CLOSED = "closed"
    CANCELLED = "cancelled"


ACTIVE_SHIPMENT_STATUSES = (
    ShipmentStatus.BOOKED,
    ShipmentStatus.CONFIRMED,
    ShipmentStatus.IN_TRANSIT,
    ShipmentStatus.ARRIVED,
)


class ReferenceKind(StrEnum):
    SHIPMENT = "shipment"
    BOOKING = "booking"
    MBL = "mbl"
    HBL = "hbl"
    AWB = "awb"
    HAWB = "hawb"
    CONTAINER = "container"
    CUSTOMER_PO = "customer_po"
    CMR = "cmr"


class MilestoneSource(StrEnum):
    PLAN = "plan"
    CARRIER = "carrier"
    OPS = "ops"
    CUSTOMER = "customer"
    SYSTEM = "system"
    IMPORT = "import"  # from the forwarder's TMS through a shipment import


class DocumentStatus(StrEnum):
    RECEIVED = "received"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"


class Visibility(StrEnum):
    CUSTOMER = "customer"
    INTERNAL = "internal"


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    OVERDUE = "overdue"
    DISPUTED = "disputed"
    VOID = "void"


OPEN_INVOICE_STATUSES = (
    InvoiceStatus.ISSUED,
    InvoiceStatus.PARTIALLY_PAID,
    InvoiceStatus.OVERDUE,
    InvoiceStatus.DISPUTED,
)


class QuoteStatus(StrEnum):
    DRAFT = "draft"
    REQUESTED = "requested"
    QUOTED = "quoted"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    DECLINED = "declined"


class TicketCategory(StrEnum):
    TRACKING = "tracking"
    DOCUMENTS = "documents"
    BILLING = "billing"
    BOOKING_CHANGE = "booking_change"
    OTHER = "other"


class TicketStatus(StrEnum):
    OPEN = "open"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    WAITING_ON_US = "waiting_on_us"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class ExceptionKind(StrEnum):
    ETA_SLIP = "eta_slip"
    DOCUMENT_MISSING = "document_missing"
    NO_TRACKING_UPDATE = "no_tracking_update"
    CUSTOMS_HOLD = "customs_hold"
    CARRIER_HOLD = "carrier_hold"
    CHANGE_REQUESTED = "change_requested"
    INVOICE_OVERDUE = "invoice_overdue"
    OTHER = "other"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class ExceptionStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"


class TaskStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


class ChangeRequestKind(StrEnum):
    AMEND = "amend"
    CANCEL = "cancel"


class ChangeRequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Channel(StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"


class PortalEventKind(StrEnum):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    LOCKOUT = "lockout"
    PASSWORD_CHANGED = "password_changed"
    SEARCH = "search"
    QUOTE_STARTED = "quote_started"
    QUOTE_SUBMITTED = "quote_submitted"
    QUOTE_ABANDONED = "quote_abandoned"
    QUOTE_FAILED = "quote_failed"
    BOOKING_STARTED = "booking_started"
    BOOKING_SUBMITTED = "booking_submitted"
    BOOKING_ABANDONED = "booking_abandoned"
    BOOKING_FAILED = "booking_failed"
    UPLOAD_STARTED = "upload_started"
    UPLOAD_COMPLETED = "upload_completed"
    UPLOAD_FAILED = "upload_failed"
    PAGE_ERROR = "page_error"
