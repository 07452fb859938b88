"""Carrier connections: who may send events, and how each request proves it comes from that carrier.

A staff administrator creates one per carrier: a name, the carrier's code (SCAC) and the shared secret agreed with
the carrier. The portal makes the subscription id (a UUID the carrier sends as ``Subscription-ID``) and an
integration key for DCSA 3.0 (shown once, only its SHA-256 kept). The secret is stored encrypted with
``PORTAL_SSO_KEY`` (``services/secret_box.py``) and never read back. Deleting a connection stops it at once (its
events and log stay, for the record). Each change writes an audit row.

DCSA 2.2 callbacks prove themselves with ``Notification-Signature: sha256=<hex>``: the HMAC-SHA256 of the raw body
with the connection's secret, compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from pydantic import Field
from sqlmodel import Session, col, select

from models import CarrierConnection, CarrierEvent, CarrierEventRefusal
from portal_app.auth.principal import Principal
from portal_app.auth.sessions import hash_token
from portal_app.services import audit, clock, secret_box
from portal_app.services.config.common import NOTHING_SAVED, refuse_if, require_admin
from portal_app.services.errors import ErrorCode, NotAuthenticated, NotFound, ServiceError
from portal_app.services.inputs import Body
from portal_app.settings import settings

CALLBACK_PATH = "/api/v1/integrations/dcsa/v2/callback"
V3_PATH = "/api/v1/integrations/dcsa/v3/events"
KEY_PREFIX = "ck_"
MIN_SECRET, MAX_SECRET = 16, 500
_CARRIER_CODE = re.compile(r"^[A-Z0-9]{2,10}$")
_SIGNATURE = re.compile(r"^\s*sha256=([0-9a-fA-F]{64})\s*$")


class KeyMissing(ServiceError):
    status_code = 503
    code = ErrorCode.SSO_KEY_MISSING


class NewConnection(Body):
    name: str = Field(max_length=120, description="What the connection is, e.g. 'Maersk track & trace'")
    carrier_code: str = Field(max_length=10, description="The carrier's SCAC, e.g. MAEU")
    secret: str = Field(max_length=MAX_SECRET, description=f"The shared secret agreed with the carrier for the "
                        f"Notification-Signature ({MIN_SECRET} to {MAX_SECRET} characters); never shown again")


@dataclass(frozen=True)
class CreatedConnection:
    """A new connection: what to give the carrier. ``api_key`` is in this answer only."""

    id: int
    name: str
    carrier_code: str
    subscription_id: str
    callback_url: str
    events_url: str
    api_key: str


@dataclass(frozen=True)
class ConnectionRow:
    """A connection as administrators see it (never its secret)."""

    id: int
    name: str
    carrier_code: str
    subscription_id: str
    callback_url: str
    events_url: str
    api_key_prefix: str | None
    active: bool
    created_by: int | None
    created_at: datetime
    events: int
    refused: int


def callback_url() -> str:
    return settings.public_url.rstrip("/") + CALLBACK_PATH


def events_url() -> str:
    return settings.public_url.rstrip("/") + V3_PATH


def create_connection(db: Session, principal: Principal, new: NewConnection) -> CreatedConnection:
    """Administrators only (signed in, not with an API key); a fresh subscription id and key every time."""
    require_admin(principal)
    return _create(db, principal, new, subscription_id=None, api_key=None)


def seed_connection(db: Session, new: NewConnection, *, subscription_id: str, api_key: str, at: datetime
                    ) -> CreatedConnection:
    """The demo seed's connection with its fixed, published subscription id and key (seed/carrier_demo.py); made
    at the seed's own time and without an audit row, so seeding twice gives the same rows (but for the secret's
    encryption, which is random by design)."""
    return _create(db, None, new, subscription_id=subscription_id, api_key=api_key, at=at)


def _create(db: Session, principal: Principal | None, new: NewConnection, *, subscription_id: str | None,
            api_key: str | None, at: datetime | None = None) -> CreatedConnection:
    if not secret_box.available():
        raise KeyMissing("The carrier connection cannot be saved: the server has no key to encrypt its secret with. "
                         f"{secret_box.NO_KEY_ADVICE} {NOTHING_SAVED}")
    problems: dict[str, str] = {}
    name = " ".join(new.name.split())
    if not 2 <= len(name) <= 120:
        problems["name"] = "use 2 to 120 characters, e.g. Maersk track & trace"
    code = new.carrier_code.strip().upper()
    if not _CARRIER_CODE.match(code):
        problems["carrier_code"] = "give the carrier's SCAC, 2 to 10 letters or digits, e.g. MAEU"
    secret = new.secret.strip()
    if not MIN_SECRET <= len(secret) <= MAX_SECRET:
        problems["secret"] = f"use the secret agreed with the carrier, {MIN_SECRET} to {MAX_SECRET} characters"
    refuse_if(problems, "The carrier connection")
    key = api_key or KEY_PREFIX + secrets.token_urlsafe(32)
    row = CarrierConnection(name=name, carrier_code=code, secret_encrypted=secret_box.encrypt(secret),
                            subscription_id=subscription_id or str(uuid.uuid4()), api_key_hash=hash_token(key),
                            api_key_prefix=key[:12], created_by_id=principal.user_id if principal else None,
                            created_at=at or clock.now())
    db.add(row)
    db.flush()
    assert row.id is not None
    if at is None:
        audit.record(db, principal, "carrier_connection_created", "carrier_connection", row.id, None, None,
                     {"name": name, "carrier_code": code, "subscription_id": row.subscription_id,
                      "api_key_prefix": row.api_key_prefix})
    db.commit()
    return CreatedConnection(id=row.id, name=name, carrier_code=code, subscription_id=row.subscription_id,
                             callback_url=callback_url(), events_url=events_url(), api_key=key)


def list_connections(db: Session, principal: Principal) -> list[ConnectionRow]:
    require_admin(principal)
    rows = db.exec(select(CarrierConnection).where(col(CarrierConnection.deleted_at).is_(None))
                   .order_by(col(CarrierConnection.name), col(CarrierConnection.id))).all()
    out = []
    for row in rows:
        events = db.exec(select(sa.func.count()).select_from(CarrierEvent)
                         .where(col(CarrierEvent.connection_id) == row.id)).one()
        refused = db.exec(select(sa.func.count()).select_from(CarrierEventRefusal)
                          .where(col(CarrierEventRefusal.connection_id) == row.id)).one()
        out.append(ConnectionRow(id=row.id or 0, name=row.name, carrier_code=row.carrier_code,
                                 subscription_id=row.subscription_id, callback_url=callback_url(),
                                 events_url=events_url(), api_key_prefix=row.api_key_prefix, active=row.active,
                                 created_by=row.created_by_id, created_at=row.created_at, events=events,
                                 refused=refused))
    return out


def delete_connection(db: Session, principal: Principal, connection_id: int) -> None:
    """Stop the connection: its subscription id, secret and key stop working at once; its events stay."""
    require_admin(principal)
    row = db.get(CarrierConnection, connection_id)
    if row is None or row.deleted_at is not None:
        raise NotFound("No carrier connection has this id; nothing was removed.")
    row.active = False
    row.deleted_at = clock.now()
    db.add(row)
    audit.record(db, principal, "carrier_connection_deleted", "carrier_connection", row.id, None,
                 {"name": row.name, "carrier_code": row.carrier_code, "subscription_id": row.subscription_id}, None)
    db.commit()


def refusal_log(db: Session, principal: Principal, connection_id: int, limit: int = 100) -> list[CarrierEventRefusal]:
    require_admin(principal)
    return list(db.exec(select(CarrierEventRefusal).where(CarrierEventRefusal.connection_id == connection_id)
                        .order_by(col(CarrierEventRefusal.id).desc()).limit(limit)).all())


# ------------------------------------------------------------------------------------------------ proving who sends

UNSIGNED = ("The request is not signed by a carrier connection of this portal: send the Subscription-ID the portal "
            "gave you and Notification-Signature: sha256=<HMAC-SHA256 of the body with the shared secret>. Nothing "
            "was stored.")


def signed_connection(db: Session, subscription_id: str | None, signature: str | None, body: bytes
                      ) -> CarrierConnection:
    """The active connection whose secret signed ``body``, or 401 (the same answer whatever was wrong, so nobody
    learns which subscription ids exist)."""
    found = None
    if subscription_id and len(subscription_id) <= 64:
        found = db.exec(select(CarrierConnection).where(
            CarrierConnection.subscription_id == subscription_id.strip(), col(CarrierConnection.active).is_(True),
            col(CarrierConnection.deleted_at).is_(None))).first()
    if found is None:
        raise NotAuthenticated(UNSIGNED, code=ErrorCode.SUBSCRIPTION_UNKNOWN)
    given = _SIGNATURE.match(signature or "")
    try:
        secret = secret_box.decrypt(found.secret_encrypted)
    except (secret_box.SecretUnreadable, secret_box.SecretKeyMissing):
        raise NotAuthenticated(UNSIGNED, code=ErrorCode.SIGNATURE_INVALID) from None
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if given is None or not hmac.compare_digest(expected, given.group(1).lower()):
        raise NotAuthenticated(UNSIGNED, code=ErrorCode.SIGNATURE_INVALID)
    return found


def sign(secret: str, body: bytes) -> str:
    """The Notification-Signature a carrier sends with ``body`` (for tests, the demo and the README's example)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def keyed_connection(db: Session, key: str | None) -> CarrierConnection:
    """The active connection whose integration key this is (DCSA 3.0), or 401."""
    found = None
    if key and key.startswith(KEY_PREFIX) and len(key) <= 200:
        found = db.exec(select(CarrierConnection).where(
            CarrierConnection.api_key_hash == hash_token(key), col(CarrierConnection.active).is_(True),
            col(CarrierConnection.deleted_at).is_(None))).first()
    if found is None:
        raise NotAuthenticated("Send the integration key of your carrier connection as Authorization: Bearer ck_... "
                               "(shown once when the connection was created). Nothing was stored.")
    return found
