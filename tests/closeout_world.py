"""A delivered shipment ready for closeout, and the rows that flip each item of its checklist (shared by the
service, API and page tests)."""

from __future__ import annotations

import io
import itertools
from datetime import date, timedelta
from decimal import Decimal

from reportlab.pdfgen import canvas
from sqlmodel import Session, col, select

from models import Invoice, Milestone, OpsException, Shipment, Task
from portal_app.auth.principal import Principal
from portal_app.services import documents
from tests.tower_world import T0, make_shipment

NOW = T0 + timedelta(days=40)  # after the planned delivery of a shipment that left at T0
_numbers = itertools.count(1)


def pdf_bytes(text: str) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    c.drawString(72, 720, text)
    c.save()
    return buf.getvalue()


def delivered_shipment(db: Session, *, company: str = "ACME", reached: bool = True) -> Shipment:
    """An ocean FCL shipment whose every milestone has happened (``reached``), or all but the last one."""
    s = make_shipment(db, company=company, status="delivered" if reached else "arrived",
                      atd=T0, ata=T0 + timedelta(days=20))
    steps = db.exec(select(Milestone).where(Milestone.shipment_id == s.id).order_by(col(Milestone.sequence))).all()
    for step in steps:
        step.actual_at = step.planned_at
        db.add(step)
    if not reached:
        steps[-1].actual_at = None
    db.commit()
    db.refresh(s)
    return s


def upload(db: Session, staff: Principal, s: Shipment, doc_type: str, name: str, *,
           visibility: str = "customer", text: str = "") -> documents.DocumentRow:
    return documents.upload_document(db, staff, s.reference, doc_type, name, pdf_bytes(text or name),
                                     visibility=visibility)


def add_final_documents(db: Session, staff: Principal, s: Shipment) -> None:
    upload(db, staff, s, "bill_of_lading", "bl.pdf")
    upload(db, staff, s, "proof_of_delivery", "pod.pdf")


def add_invoice(db: Session, s: Shipment, status: str = "paid") -> Invoice:
    inv = Invoice(number=f"INV-CO-{next(_numbers):05d}-{s.id}", company_id=s.company_id, shipment_id=s.id,
                  status=status, currency="EUR", issue_date=date(2026, 11, 20), due_date=date(2027, 1, 20),
                  subtotal=Decimal("100"), tax_total=Decimal("0"), total=Decimal("100"),
                  amount_paid=Decimal("100") if status == "paid" else Decimal("0"),
                  balance=Decimal("0") if status == "paid" else Decimal("100"))
    db.add(inv)
    db.commit()
    return inv


def add_task(db: Session, s: Shipment, status: str = "open") -> Task:
    task = Task(title="Chase the POD scan", shipment_id=s.id, status=status)
    db.add(task)
    db.commit()
    return task


def add_exception(db: Session, s: Shipment, status: str = "open") -> OpsException:
    exc = OpsException(shipment_id=s.id, company_id=s.company_id, kind="other", title="Damaged pallet",
                       status=status)
    db.add(exc)
    db.commit()
    return exc


def ready_to_close(db: Session, staff: Principal, **kwargs: object) -> Shipment:
    """A delivered shipment with every checklist item done."""
    s = delivered_shipment(db, **kwargs)  # type: ignore[arg-type]
    add_final_documents(db, staff, s)
    add_invoice(db, s)
    db.refresh(s)
    return s
