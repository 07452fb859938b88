"""Handing a problem to a person: a request with the context attached, inside the user's own company."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from models import Ticket, TicketMessage
from portal_app.auth.sessions import _principal_for
from portal_app.services.errors import NotFound, ValidationFailed
from portal_app.services.requests import open_request


def test_request_carries_the_context(world, db):
    alice = _principal_for(db, world.users["ALFA:customer_user"], None)
    ref = world.shipments["ALFA"][0]
    ticket = open_request(
        db, alice, category="documents", subject="Upload keeps failing", body="It says the file type is wrong.",
        context={"page": f"/portal/shipments/{ref}", "attempted": "upload packing_list", "error": "type not allowed"},
        shipment_reference=ref.lower(),
    )
    assert ticket.reference == f"REQ-{ticket.id:06d}"
    stored = db.exec(select(Ticket).where(Ticket.id == ticket.id)).one()
    assert stored.company_id == world.companies["ALFA"] and stored.raised_by_id == alice.user_id
    assert json.loads(stored.context)["attempted"] == "upload packing_list"
    assert db.exec(select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)).one().body.startswith("It says")


def test_request_cannot_point_at_another_companys_shipment(world, db):
    alice = _principal_for(db, world.users["ALFA:customer_user"], None)
    before = len(db.exec(select(Ticket)).all())
    with pytest.raises(NotFound):
        open_request(db, alice, category="tracking", subject="Where is it", body="?",
                     shipment_reference=world.shipments["BETA"][0])
    with pytest.raises(ValidationFailed):
        open_request(db, alice, category="gossip", subject="Hello there", body="x")
    with pytest.raises(ValidationFailed):
        open_request(db, alice, category="other", subject="", body="")
    db.rollback()
    assert len(db.exec(select(Ticket)).all()) == before
