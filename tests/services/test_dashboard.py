"""The customer dashboard: per-user widget layout and figures scoped to the user's company."""

from __future__ import annotations

import pytest

from portal_app.auth.sessions import _principal_for
from portal_app.services import dashboard as dash
from portal_app.services.errors import PermissionDenied, ValidationFailed


def test_layout_defaults_then_saves_per_user(world, db):
    alice = _principal_for(db, world.users["ALFA:customer_user"], None)
    colleague = _principal_for(db, world.users["ALFA:customer_admin"], None)
    default = dash.get_layout(db, alice)
    assert [w.id for w in default] == list(dash.WIDGETS) and all(w.visible for w in default)

    order = ["invoices", "status", "arriving", "delayed", "documents", "requests", "updates"]
    saved = dash.save_layout(db, alice, order, ["updates"])
    assert [w.id for w in saved] == order
    assert [w.id for w in saved if not w.visible] == ["updates"]
    assert [w.id for w in dash.get_layout(db, colleague)] == list(dash.WIDGETS)  # someone else's layout is untouched

    with pytest.raises(ValidationFailed):
        dash.save_layout(db, alice, ["invoices", "invoices"], [])
    with pytest.raises(ValidationFailed):
        dash.save_layout(db, alice, order, ["secret_admin_widget"])
    dash.save_layout(db, alice, list(dash.WIDGETS), [])


def test_dashboard_figures_are_the_companys_own(world, db):
    alfa = dash.dashboard(db, _principal_for(db, world.users["ALFA:customer_user"], None))
    beta = dash.dashboard(db, _principal_for(db, world.users["BETA:customer_user"], None))
    assert sum(alfa.by_status.values()) == alfa.summary.active_shipments
    for line in alfa.arriving + alfa.delayed:
        assert line.reference in world.shipments["ALFA"]
    for line in beta.arriving + beta.delayed:
        assert line.reference in world.shipments["BETA"]


def test_staff_have_no_customer_dashboard(world, db):
    with pytest.raises(PermissionDenied):
        dash.dashboard(db, _principal_for(db, world.users["FWD:ops_agent"], None))


def test_documents_owed_counts_missing_customer_documents(world, db):
    from sqlmodel import select

    from models import Document, DocumentRequirement, Shipment

    alice = _principal_for(db, world.users["ALFA:customer_user"], None)
    before = dash.documents_owed(db, alice)
    waiting = db.exec(select(Shipment).where(Shipment.company_id == world.companies["ALFA"],
                                             Shipment.status.in_(["booked", "confirmed"]))).all()
    mode = waiting[0].mode
    expected_new = sum(1 for s in waiting if s.mode == mode)
    req = DocumentRequirement(mode=mode, doc_type="test_packing_list", provided_by="customer")
    forwarder_req = DocumentRequirement(mode=mode, doc_type="test_bl", provided_by="forwarder")
    db.add_all([req, forwarder_req])
    db.commit()
    try:
        assert dash.documents_owed(db, alice) == before + expected_new
        doc = Document(company_id=waiting[0].company_id, shipment_id=waiting[0].id, doc_type="test_packing_list",
                       filename="pl.pdf", content_type="application/pdf", size_bytes=10, sha256="0" * 64,
                       storage_key="test/owed-check", status="received")
        db.add(doc)
        db.commit()
        assert dash.documents_owed(db, alice) == before + expected_new - 1
        doc.status = "rejected"  # a rejected document is still owed
        db.add(doc)
        db.commit()
        assert dash.documents_owed(db, alice) == before + expected_new
        db.delete(doc)
    finally:
        db.delete(req)
        db.delete(forwarder_req)
        db.commit()
