"""Charges and invoices (with payments, credit notes and disputes)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from seed import config_data as cfg
from seed.generate.common import (
    _EU,
    BUYER_TERMS,
    CENT,
    DAY,
    DISPUTE_REASONS,
    HOUR,
    PAYMENT_METHODS,
    ZERO,
    Charge,
    Ship,
    _midnight,
    money,
    qty,
)
from seed.reference_data import (
    distance_km,
)
from seed.writer import Batch


class Money:
    """A part of :class:`seed.generate.ShipmentGenerator` (see the module)."""

    def _charges(
        self, s: Ship, containers: list, volume: float, gross: float, chargeable: float, transit: int
    ) -> list[Charge]:
        rng = self.rng
        fx = float(s.fx)
        lines: list[tuple[str, str, float, float, bool]] = []  # code, desc, qty, unit USD, local
        buyer = s.incoterm in BUYER_TERMS
        d_term = s.incoterm in ("DAP", "DPU", "DDP")
        pays_origin = s.incoterm == "EXW" or not buyer
        pays_dest = buyer or d_term
        if s.mode == "ocean_fcl":
            by_type: dict[str, int] = {}
            for c in containers:
                by_type[c[0]] = by_type.get(c[0], 0) + 1
            base = 250 + 55 * transit
            for st, n in sorted(by_type.items()):
                factor = (1.0 if st.startswith("2") else 1.6) * (1.8 if st[2] == "R" else 1.0)
                lines.append(("FRT", f"Ocean freight {st}", n, base * factor * rng.uniform(0.85, 1.15), False))
            n_all = len(containers)
            lines.append(("BAF", "Bunker adjustment factor", n_all, base * 0.18, False))
            if pays_origin:
                lines.append(("THO", "Terminal handling, origin", n_all, rng.uniform(150, 260), False))
            if pays_dest:
                lines.append(("THD", "Terminal handling, destination", n_all, rng.uniform(210, 340), True))
            lines.append(("ISPS", "ISPS security surcharge", n_all, 12, False))
        elif s.mode == "ocean_lcl":
            wm = max(1.0, volume, gross / 1000)
            lines.append(("FRT", "Ocean freight (per W/M)", round(wm, 3), rng.uniform(35, 95), False))
            if pays_origin:
                lines.append(("CFO", "CFS handling, origin", round(wm, 3), 18, False))
            if pays_dest:
                lines.append(("CFS", "CFS handling, destination", round(wm, 3), 28, True))
        elif s.mode == "air":
            cw = round(chargeable, 1)
            lines.append(("FRT", "Air freight (per kg chargeable)", cw, rng.uniform(2.2, 5.8), False))
            lines.append(("FSC", "Fuel surcharge", cw, 0.95, False))
            lines.append(("SSC", "Security surcharge", cw, 0.18, False))
            lines.append(("AWB", "Air waybill fee", 1, 35, False))
            if pays_dest:
                lines.append(("THD", "Terminal handling, destination", cw, 0.12, True))
        else:
            km = distance_km(s.origin, s.dest) * 1.25
            if s.mode == "road_ftl":
                lines.append(("FRT", "Road freight, full truck", 1, max(450, km * rng.uniform(1.4, 2.1)), False))
                if s.origin.road_region == "eu":
                    lines.append(("TOLL", "Road toll", 1, km * 0.16, False))
            else:
                cwt = round(chargeable / 100, 2)
                frt = max(95, cwt * rng.uniform(9, 22))
                lines.append(("FRT", "Groupage freight (per 100 kg)", cwt, frt / cwt, False))
                lines.append(("FSC", "Fuel surcharge", 1, frt * 0.12, False))
        lines.append(("DOC", "Documentation fee", 1, 65 if s.family == "ocean" else 25, True))
        cross_border = s.origin.country != s.dest.country and not (
            s.family == "road" and s.origin.country in _EU and s.dest.country in _EU
        )
        if cross_border and (pays_dest or s.incoterm == "DDP"):
            lines.append(("CUS", "Import customs clearance", 1, rng.uniform(95, 165), True))
        if s.incoterm == "EXW":
            lines.append(("PUP", "Pick-up at shipper", 1, rng.uniform(180, 650), True))
        if d_term or (buyer and s.family != "road" and rng.random() < 0.5):
            lines.append(("DEL", "Delivery to consignee", 1, rng.uniform(160, 900), True))
        if s.incoterm in ("CIF", "CIP"):
            lines.append(("INS", "Cargo insurance (0.35% of value)", 1, max(35, s.cargo_value_usd * 0.0035), False))
        charges = []
        for code, desc, q, unit_usd, local in lines:
            quantity = qty(q)
            unit = money(unit_usd * fx)
            charges.append(Charge(code, desc, quantity, unit, (quantity * unit).quantize(CENT), local))
        return charges

    def _invoices(self, batch: Batch, s: Ship) -> None:
        rng = self.rng
        now = self.now
        company = s.company
        if s.status == "cancelled":
            issued = s.cutoff + timedelta(days=rng.uniform(1, 3))
            if rng.random() < 0.3 and issued <= now:
                fee = money(150 * float(s.fx))
                self._invoice(
                    batch, s, issued, [Charge("CXL", "Cancellation fee", qty(1), fee, fee, False)], local_vat=False
                )
            return
        atd = s.actual[s.dep_idx]
        if atd is None:
            return
        issue = atd + timedelta(days=rng.uniform(1, 4))
        if issue <= now:
            self._invoice(batch, s, issue, s.charges, local_vat=True)
        if s.incoterm == "DDP" and s.family != "road":
            customs_idx = next((i for i, st in enumerate(cfg.TEMPLATES[s.mode].steps) if "customs" in st.code), None)
            if customs_idx is not None and s.actual[customs_idx] is not None:
                issue2 = s.actual[customs_idx] + timedelta(days=rng.uniform(1, 3))
                if issue2 <= now:
                    value = s.cargo_value_usd * float(s.fx)
                    duty = value * rng.uniform(0.02, 0.08)
                    lines = [Charge("DUT", "Import duty (disbursement)", qty(1), money(duty), money(duty), False)]
                    vat = float(self.vat[company.id])
                    if vat:
                        import_vat = money((value + duty) * vat)
                        lines.append(Charge("VAT", "Import VAT (disbursement)", qty(1), import_vat, import_vat, False))
                    self._invoice(batch, s, issue2, lines, local_vat=False)

    def _invoice(self, batch: Batch, s: Ship, issued_at: datetime, charges: list[Charge], *, local_vat: bool) -> None:
        rng = self.rng
        now = self.now
        today = self.today
        company = s.company
        iid = self.ids.next("invoice")
        self.invoice_seq += 1
        number = f"INV-{issued_at.year}-{self.invoice_seq:06d}"
        issue_date = issued_at.date()
        due_date = issue_date + timedelta(days=company.payment_terms_days)
        vat = self.vat[company.id] if local_vat else ZERO
        subtotal = ZERO
        tax_total = ZERO
        for n, c in enumerate(charges, start=1):
            rate = vat if c.local else ZERO
            tax = (c.amount * rate).quantize(CENT)
            subtotal += c.amount
            tax_total += tax
            batch.add(
                "invoiceline",
                {
                    "id": self.ids.next("invoiceline"),
                    "invoice_id": iid,
                    "line_no": n,
                    "code": c.code,
                    "description": c.description,
                    "quantity": c.quantity,
                    "unit_price": c.unit_price,
                    "tax_rate": rate,
                    "amount": c.amount,
                    "tax_amount": tax,
                },
            )
        total = subtotal + tax_total
        payments: list[tuple[Decimal, datetime]] = []
        disputed_reason = None
        updated = issued_at
        r = rng.random()
        if issued_at > now - 2 * DAY and r < 0.15:
            status = "draft"
        elif r < 0.05 and issued_at < now - 2 * HOUR:
            status = "disputed"
            disputed_reason = rng.choice(DISPUTE_REASONS)
            updated = min(now - HOUR, issued_at + timedelta(days=rng.uniform(1, 10)))
        elif due_date < today:
            r2 = rng.random()
            days_late = (today - due_date).days
            if r2 < (0.75 if days_late < 30 else 0.88 if days_late < 90 else 0.95):
                status = "paid"
            elif r2 < 0.97:
                status = "overdue"
            else:
                status = "overdue"
                payments.append((money(float(total) * rng.uniform(0.2, 0.6)), None))  # type: ignore[arg-type]
        else:
            r2 = rng.random()
            age_days = (now - issued_at).days
            if r2 < 0.55 or age_days < 3:
                status = "issued"
            elif r2 < 0.8:
                status = "paid"
            else:
                status = "partially_paid"
                payments.append((money(float(total) * rng.uniform(0.3, 0.7)), None))  # type: ignore[arg-type]
        if status == "paid":
            if rng.random() < 0.15 and total > 1:
                first = money(float(total) * rng.uniform(0.3, 0.7))
                payments = [(first, None), (total - first, None)]  # type: ignore[list-item]
            else:
                payments = [(total, None)]  # type: ignore[list-item]
        # payment dates: between issue + 2 days and min(due + 10 days, now)
        latest = min(_midnight(due_date) + timedelta(days=10), now - HOUR)
        earliest = issued_at + timedelta(days=2)
        if latest <= earliest:
            earliest = issued_at + HOUR
            latest = max(earliest + HOUR, now - timedelta(minutes=30))
        span = latest - earliest
        dated = []
        fractions = sorted(rng.uniform(0.1, 1.0) for _ in payments)
        for (amount, _), frac in zip(payments, fractions, strict=True):
            dated.append((amount, earliest + span * frac))
        amount_paid = sum((a for a, _t in dated), ZERO)
        for amount, paid_at in dated:
            batch.add(
                "payment",
                {
                    "id": self.ids.next("payment"),
                    "invoice_id": iid,
                    "company_id": company.id,
                    "amount": amount,
                    "currency": company.currency,
                    "paid_at": paid_at,
                    "method": rng.choice(PAYMENT_METHODS),
                    "reference": f"{company.code}-{rng.randint(100000, 999999)}",
                    "created_at": paid_at,
                },
            )
            updated = max(updated, paid_at)
        balance = total - amount_paid
        batch.add(
            "invoice",
            {
                "id": iid,
                "number": number,
                "company_id": company.id,
                "shipment_id": s.id,
                "status": status,
                "currency": company.currency,
                "issue_date": issue_date,
                "due_date": due_date,
                "subtotal": subtotal,
                "tax_total": tax_total,
                "total": total,
                "amount_paid": amount_paid,
                "balance": balance,
                "disputed_reason": disputed_reason,
                "created_at": issued_at,
                "updated_at": updated,
                "version": 1 + len(dated),
            },
        )
        s.invoices.append((iid, number, status, due_date, balance, updated))
        if status == "disputed":
            s.disputed = (iid, number, disputed_reason, updated)
        if status != "draft" and issued_at > now - 30 * DAY:
            for uid in s.company.user_ids:
                self._notify(
                    batch,
                    uid,
                    "invoice_issued",
                    f"New invoice {number}",
                    f"Invoice {number} for shipment {s.ref}: {company.currency} {total}.",
                    f"/portal/invoices/{number}",
                    f"invoice:{iid}",
                    issued_at,
                )
