"""The system of record: every table of the product (SQLModel), imported here so metadata is complete."""

from models.activity import (
    AuditLog,
    EmailAttempt,
    EmailMessage,
    ErrorRecord,
    Notification,
    NotificationPreference,
    PortalEvent,
    SavedView,
    UserPreference,
    WebhookDelivery,
    WebhookSubscription,
)
from models.auth import ApiKey, LoginAttempt, MfaRecoveryCode, UserSession
from models.base import UTCDateTime, utcnow
from models.carrier_events import (
    CarrierConnection,
    CarrierEvent,
    CarrierEventRefusal,
    CarrierEventShipment,
    CarrierMatch,
)
from models.commercial import (
    IdempotencyKey,
    QuoteCargoLine,
    QuoteOption,
    QuoteOptionCharge,
    QuoteRequest,
    RateCard,
    RateCharge,
)
from models.documents import Document
from models.finance import Invoice, InvoiceLine, Payment
from models.ops import OpsException, Task
from models.org import Branch, Company, Team, User
from models.reference import (
    AppSetting,
    Carrier,
    DocumentRequirement,
    ExceptionRule,
    Location,
    MilestoneTemplate,
    MilestoneTemplateStep,
    SlaPolicy,
)
from models.shipments import (
    CargoLine,
    ChangeRequest,
    Container,
    EtaChange,
    Milestone,
    Shipment,
    ShipmentCharge,
    ShipmentFollower,
    ShipmentReference,
    ShipmentUpdate,
    TrackingEvent,
)
from models.sso import SsoConnection, SsoDomain, SsoPending
from models.support import (
    CannedReply,
    HelpArticle,
    HelpSearch,
    Ticket,
    TicketAttachment,
    TicketFollower,
    TicketMessage,
)

__all__ = [
    "ApiKey", "AppSetting", "AuditLog", "Branch", "CannedReply", "CargoLine", "Carrier", "CarrierConnection",
    "CarrierEvent", "CarrierEventRefusal", "CarrierEventShipment", "CarrierMatch", "ChangeRequest",
    "Company", "Container", "Document", "DocumentRequirement", "EmailAttempt", "EmailMessage", "ErrorRecord",
    "EtaChange",
    "ExceptionRule", "HelpArticle", "HelpSearch", "IdempotencyKey", "Invoice", "InvoiceLine", "Location",
    "LoginAttempt", "MfaRecoveryCode", "Milestone", "MilestoneTemplate", "MilestoneTemplateStep", "Notification",
    "NotificationPreference", "OpsException", "Payment", "PortalEvent", "QuoteCargoLine", "QuoteOption",
    "QuoteOptionCharge", "QuoteRequest", "RateCard", "RateCharge", "SavedView", "Shipment", "ShipmentCharge",
    "ShipmentFollower", "ShipmentReference", "ShipmentUpdate", "SlaPolicy",
    "SsoConnection", "SsoDomain", "SsoPending", "Task", "Team", "Ticket",
    "TicketAttachment", "TicketFollower", "TicketMessage", "TrackingEvent", "UTCDateTime", "User", "UserPreference",
    "UserSession",
    "WebhookDelivery", "WebhookSubscription", "utcnow",
]
