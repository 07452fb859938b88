"""A request's context is stored whole or not at all, so every request can be opened: the API refuses a context
over the limit, the pages make theirs fit, and a row stored cut by an older version opens without its context."""

from __future__ import annotations

import io
import json
from pathlib import Path

import reflex as rx
import sqlalchemy as sa
from sqlmodel import select

from models import Ticket
from portal_app.auth.sessions import _principal_for
from portal_app.portal.shipment_detail import PortalShipmentDetailState
from portal_app.services import requests as svc
from portal_app.services.requests import MAX_CONTEXT_CHARS, decode_context, encode_context, fit_context
from tests.api.test_api import client_for
from tests.page_states import run, state_as, use_db

ALFA_USER = "customer_user@alfa.test"
AGENT = "ops_agent@fwd.test"


def _new_request(world, context: dict) -> dict:
    return {"category": "other", "subject": "Context of a long page", "body": "See the context.",
            "shipment_reference": world.shipments["ALFA"][1], "context": context}


def _ticket_count(db) -> int:
    return db.exec(select(sa.func.count()).select_from(Ticket)).one()


def test_the_api_refuses_a_context_over_the_limit_and_stores_nothing(world, db):
    before = _ticket_count(db)
    resp = client_for(ALFA_USER).post("/api/v1/requests", json=_new_request(world, {"draft": "x" * 4100}))
    assert resp.status_code == 422, resp.text
    error = resp.json()["error"]
    assert error["code"] == "context_too_large" and error["saved"] is False
    assert "4,000" in error["message"] and "Nothing was sent" in error["message"]
    db.expire_all()
    assert _ticket_count(db) == before


def test_a_context_up_to_the_limit_is_stored_whole_and_staff_read_it(world):
    filler = "y" * (MAX_CONTEXT_CHARS - 200)
    created = client_for(ALFA_USER).post("/api/v1/requests", json=_new_request(world, {"draft": filler, "n": 1}))
    assert created.status_code == 201, created.text
    read = client_for(AGENT).get(f"/api/v1/requests/{created.json()['reference']}")
    assert read.status_code == 200, read.text
    assert read.json()["context"] == {"draft": filler, "n": 1, "source": "api"}


def test_a_context_is_counted_in_characters_not_escapes(world):
    """Text in any script counts one character per character: a 3,000-character Greek note fits."""
    note = "α" * 3000
    created = client_for(ALFA_USER).post("/api/v1/requests", json=_new_request(world, {"note": note}))
    assert created.status_code == 201, created.text
    assert client_for(AGENT).get(f"/api/v1/requests/{created.json()['reference']}").json()["context"]["note"] == note


def test_a_request_stored_with_a_cut_context_still_opens(world, db):
    """Rows written before contexts were checked may hold JSON cut in the middle: staff open the request
    (without its context) instead of a 500, and its list still shows it."""
    created = client_for(ALFA_USER).post("/api/v1/requests", json=_new_request(world, {"page": "/portal"}))
    reference = created.json()["reference"]
    cut = json.dumps({"page": "/portal/shipments", "draft": "z" * 5000})[:MAX_CONTEXT_CHARS]
    db.execute(sa.update(Ticket).where(Ticket.reference == reference).values(context=cut))
    db.commit()
    agent = client_for(AGENT)
    read = agent.get(f"/api/v1/requests/{reference}")
    assert read.status_code == 200, read.text
    assert read.json()["context"] == {} and read.json()["messages"][0]["body"] == "See the context."
    assert client_for(ALFA_USER).get(f"/api/v1/requests/{reference}").status_code == 200
    assert reference in {r["reference"] for r in agent.get("/api/v1/requests", params={"q": reference}).json()["items"]}


def test_reading_tolerates_anything_stored():
    assert decode_context(None) == {} and decode_context("") == {}
    assert decode_context('{"page": "/portal", "dra') == {}
    assert decode_context("[1, 2]") == {} and decode_context("nonsense") == {}
    assert decode_context('{"page": "/portal"}') == {"page": "/portal"}


def test_fitting_keeps_what_it_can_and_always_fits():
    small = {"page": "/portal/shipments/SH1", "attempted": "follow", "draft": {"a": 1}}
    assert fit_context(small) == small
    big = {"page": "/portal/shipments/SH1", "attempted": "upload " + "n" * 6000, "error": "refused",
           "draft": {"filename": "n" * 6000, "doc_type": "packing_list"}}
    fitted = fit_context(big)
    assert len(encode_context(fitted)) <= MAX_CONTEXT_CHARS
    assert fitted["shortened"] is True and fitted["page"] == big["page"] and fitted["error"] == "refused"
    assert fitted["draft"]["doc_type"] == "packing_list" and fitted["attempted"].startswith("upload nnn")
    wide = {"draft": {f"field{i}": "v" for i in range(2000)}, "page": "/portal"}
    fitted = fit_context(wide)
    assert len(encode_context(fitted)) <= MAX_CONTEXT_CHARS and fitted["page"] == "/portal"
    many = {f"key{i:04d}": "w" * 50 for i in range(400)}
    assert len(encode_context(fit_context(many))) <= MAX_CONTEXT_CHARS
    assert len(encode_context(fit_context({"k" * 9000: 1}))) <= MAX_CONTEXT_CHARS


def test_the_pages_handoff_sends_a_context_that_fits(world, db, engine, monkeypatch):
    """A refused upload with a very long file name, handed to a person from the shipment page: the request is
    sent (its context shortened to fit) and staff can open it."""
    use_db(monkeypatch, engine)
    alice = _principal_for(db, world.users["ALFA:customer_user"], None)
    reference = world.shipments["ALFA"][2]
    st = state_as(monkeypatch, PortalShipmentDetailState, alice, f"/portal/shipments/{reference}")
    st.upload_doc_type = "packing_list"
    long_name = "packing list " + "n" * 5000 + ".pdf"
    upload = rx.UploadFile(file=io.BytesIO(b""), path=Path(long_name))
    st._offer_upload_handoff(reference, [upload], "The file is empty. Nothing was stored.")
    run(PortalShipmentDetailState.send_handoff, st, {"note": "Please help"})
    assert st.handoff_error == "" and "Sent to our team as request" in st.handoff_done
    ticket_ref = st.handoff_done.split("request ")[1].split(",")[0]
    stored = db.exec(select(Ticket).where(Ticket.reference == ticket_ref)).one()
    assert len(stored.context) <= MAX_CONTEXT_CHARS
    context = svc.get_request(db, _principal_for(db, world.users["FWD:ops_agent"], None), ticket_ref).context
    assert context["shortened"] is True and context["draft"]["doc_type"] == "packing_list"
    assert context["page"] == f"/portal/shipments/{reference}"

