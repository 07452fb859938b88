"""The demo's carrier connection (DCSA Track & Trace), with a fixed subscription id, secret and integration key so
the README's example can post a signed event to a fresh installation. Its secret is stored encrypted like any
other, so it is made only when there is a key to encrypt it (``PORTAL_SSO_KEY``, or the installation's own key in
its data directory); without one it is added on a later start once there is.
Never use these values outside a demo: delete the connection and create a real one."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

DEMO_SUBSCRIPTION_ID = "d0c5a000-0000-4000-8000-00000000de01"
DEMO_SECRET = "demo-carrier-secret-change-me"
DEMO_API_KEY = "ck_demo-carrier-key-change-me"
DEMO_NAME = "Maersk track & trace (demo)"
DEMO_CARRIER = "MAEU"


def ensure_demo_connection(engine: sa.Engine, now: datetime) -> bool:
    """Add the demo connection unless it exists (or no key is set to encrypt its secret); whether it was added."""
    from models import CarrierConnection
    from portal_app.services import secret_box
    from portal_app.services.carrier_events import connections

    if not secret_box.available():
        return False
    with Session(engine, expire_on_commit=False) as db:
        found = db.exec(select(CarrierConnection.id).where(
            CarrierConnection.subscription_id == DEMO_SUBSCRIPTION_ID)).first()
        if found is not None:
            return False
        connections.seed_connection(db, connections.NewConnection(name=DEMO_NAME, carrier_code=DEMO_CARRIER,
                                                                  secret=DEMO_SECRET),
                                    subscription_id=DEMO_SUBSCRIPTION_ID, api_key=DEMO_API_KEY, at=now)
    return True
