"""Webhooks from the tower's work on the demo seed's tower world: a milestone reached, a bulk ETA change over one
voyage that carries two companies' shipments (each company hears only of its own), and a milestone the customer
does not see (only the forwarder's own subscription hears of it)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import select

from models import Milestone, WebhookDelivery
from portal_app.services import bulk, webhooks, workspace
from tests.quote_world import QuoteWorld, principal_for
from tests.tower_world import T0, make_shipment


@pytest.fixture(autouse=True)
def _private_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhooks, "settings", replace(webhooks.settings, webhook_allow_private=True))


def _payloads(db, sub_id: int) -> list[dict]:
    rows = db.exec(select(WebhookDelivery).where(WebhookDelivery.subscription_id == sub_id)
                   .order_by(WebhookDelivery.id)).all()
    return [json.loads(r.payload) for r in rows]


def test_milestones_and_bulk_eta_reach_each_company_only(tworld: QuoteWorld):
    w = tworld
    admin = principal_for(w.engine, "admin@harborsky.example")
    with w.session() as db:
        acme = webhooks.create_subscription(db, w.alice, webhooks.NewWebhook(url="http://127.0.0.1:9/acme",
                                                                             events=["*"]))
        nord = webhooks.create_subscription(db, w.nina, webhooks.NewWebhook(url="http://127.0.0.1:9/nord",
                                                                            events=["eta_changed"]))
        staff = webhooks.create_subscription(db, admin, webhooks.NewWebhook(url="http://127.0.0.1:9/fwd",
                                                                            events=["milestone_reached"]))
        s = make_shipment(db, status="confirmed")
        workspace.edit_milestone(db, w.agent, s.reference, "vessel_departure", {"actual_at": T0 + timedelta(hours=5)},
                                 expected_version=s.version)
        reached = _payloads(db, acme.id)
        assert [p["kind"] for p in reached] == ["milestone_reached"]
        assert reached[0]["data"]["milestone"]["code"] == "vessel_departure"
        assert reached[0]["data"]["shipment"]["reference"] == s.reference
        assert reached[0]["data"]["shipment"]["status"] == "in_transit"  # the record as the change left it
        assert [p["data"]["shipment"]["reference"] for p in _payloads(db, staff.id)] == [s.reference]
        assert _payloads(db, nord.id) == []

        # A step the customer does not see: only the forwarder's own subscription hears of it.
        departure = db.exec(select(Milestone).where(Milestone.shipment_id == s.id,
                                                    Milestone.code == "vessel_departure")).one()
        hidden = db.exec(select(Milestone).where(Milestone.shipment_id == s.id, Milestone.actual_at.is_(None),
                                                 Milestone.sequence > departure.sequence)
                         .order_by(Milestone.sequence)).first()
        assert hidden is not None
        hidden.customer_visible = False
        db.add(hidden)
        db.commit()
        db.refresh(s)
        workspace.edit_milestone(db, w.agent, s.reference, hidden.code, {"actual_at": T0 + timedelta(hours=6)},
                                 expected_version=s.version)
        assert len(_payloads(db, acme.id)) == 1
        assert [p["data"]["milestone"]["code"] for p in _payloads(db, staff.id)][-1] == hidden.code

        on_board = {c: make_shipment(db, vessel="CMA CGM JULES", voyage="0FL3W", company=c) for c in ("ACME", "NORD")}
        report = bulk.bulk_eta(db, w.agent, bulk.Voyage(vessel="CMA CGM Jules", voyage="0FL3W"),
                               T0 + timedelta(days=25), "PORT_CONGESTION", "Congestion at Rotterdam")
        assert len(report.succeeded) == 2
        acme_eta = [p for p in _payloads(db, acme.id) if p["kind"] == "eta_changed"]
        nord_eta = _payloads(db, nord.id)
        assert [p["data"]["shipment"]["reference"] for p in acme_eta] == [on_board["ACME"].reference]
        assert [p["data"]["shipment"]["reference"] for p in nord_eta] == [on_board["NORD"].reference]
        assert nord_eta[0]["data"]["eta_change"]["reason_code"] == "PORT_CONGESTION"
