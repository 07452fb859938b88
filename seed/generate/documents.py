"""The documents a shipment needs: received, reviewed, rejected, missing or late."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from seed import config_data as cfg
from seed import org_data as org
from seed.generate.common import DAY, REJECTION_REASONS, Ship
from seed.pdf import tiny_pdf
from seed.writer import Batch


class Documents:
    """A part of :class:`seed.generate.ShipmentGenerator` (see the module)."""

    def _documents(
        self, batch: Batch, s: Ship, cargo: org.Cargo, containers: list, gross: float, packages: int,
        awaiting_confirmation: bool,
    ) -> None:
        rng = self.rng
        now = self.now
        cutoff = s.cutoff
        etd = s.planned[s.dep_idx]
        atd = s.actual[s.dep_idx]
        company = s.company
        users = company.user_ids
        active = s.status in ("booked", "confirmed", "in_transit")
        for incoterm, doc_type, due_days, provided_by in self.requirements[s.mode]:
            if incoterm is not None and incoterm != s.incoterm:
                continue
            if doc_type == "dangerous_goods_declaration" and not s.is_dg:
                continue
            due_at = etd - timedelta(days=due_days)
            if provided_by == "forwarder":
                if doc_type == "export_declaration":
                    at = etd - timedelta(hours=rng.uniform(12, 36))
                else:
                    if atd is None:
                        continue
                    at = atd + timedelta(hours=rng.uniform(2, 40))
                if at > cutoff or at <= s.created_at:
                    continue
                self._document(
                    batch,
                    s,
                    doc_type,
                    1,
                    at,
                    "approved",
                    s.owner_id,
                    s.owner_id,
                    at,
                    None,
                    "customer",
                    cargo,
                    gross,
                    packages,
                )
                continue
            # customer documents
            if rng.random() < 0.85:
                upload = due_at - timedelta(days=rng.uniform(0.2, 6))
            else:
                upload = due_at + timedelta(days=rng.uniform(0.2, 3))
            if upload <= s.created_at:
                upload = s.created_at + timedelta(hours=rng.uniform(1, 48))
            never = active and rng.random() < 0.05
            if never or upload > cutoff or (awaiting_confirmation and rng.random() < 0.5):
                if due_at < now and s.status != "cancelled" and active:
                    s.missing_docs.append((doc_type, due_at))
                continue
            if upload > due_at:
                s.late_docs.append((doc_type, due_at, upload))
            uploader = rng.choice(users)
            review_at = upload + timedelta(hours=rng.uniform(1, 96))
            version = 1
            if review_at > now:
                self._document(
                    batch,
                    s,
                    doc_type,
                    version,
                    upload,
                    "received",
                    uploader,
                    None,
                    None,
                    None,
                    "customer",
                    cargo,
                    gross,
                    packages,
                )
                continue
            r = rng.random()
            if r < 0.1:
                reason = rng.choice(REJECTION_REASONS)
                did = self._document(
                    batch,
                    s,
                    doc_type,
                    1,
                    upload,
                    "rejected",
                    uploader,
                    s.owner_id,
                    review_at,
                    reason,
                    "customer",
                    cargo,
                    gross,
                    packages,
                )
                s.rejected_docs.append((did, doc_type, review_at, reason))
                upload2 = review_at + timedelta(hours=rng.uniform(2, 72))
                if upload2 <= now and rng.random() < 0.85:
                    review2 = upload2 + timedelta(hours=rng.uniform(1, 24))
                    st = "approved" if review2 <= now else "received"
                    self._document(
                        batch,
                        s,
                        doc_type,
                        2,
                        upload2,
                        st,
                        uploader,
                        s.owner_id if st == "approved" else None,
                        review2 if st == "approved" else None,
                        None,
                        "customer",
                        cargo,
                        gross,
                        packages,
                    )
            elif r < 0.13:
                self._document(
                    batch,
                    s,
                    doc_type,
                    1,
                    upload,
                    "superseded",
                    uploader,
                    s.owner_id,
                    review_at,
                    None,
                    "customer",
                    cargo,
                    gross,
                    packages,
                )
                upload2 = review_at + timedelta(hours=rng.uniform(2, 72))
                if upload2 <= now:
                    review2 = upload2 + timedelta(hours=rng.uniform(1, 24))
                    st = "approved" if review2 <= now else "received"
                    self._document(
                        batch,
                        s,
                        doc_type,
                        2,
                        upload2,
                        st,
                        uploader,
                        s.owner_id if st == "approved" else None,
                        review2 if st == "approved" else None,
                        None,
                        "customer",
                        cargo,
                        gross,
                        packages,
                    )
            else:
                self._document(
                    batch,
                    s,
                    doc_type,
                    1,
                    upload,
                    "approved",
                    uploader,
                    s.owner_id,
                    review_at,
                    None,
                    "customer",
                    cargo,
                    gross,
                    packages,
                )
        # forwarder's own papers
        if s.family == "ocean" and s.actual[0] is not None:
            at = s.actual[0] + timedelta(minutes=rng.randint(5, 90))
            if at <= cutoff:
                self._document(
                    batch,
                    s,
                    "booking_confirmation",
                    1,
                    at,
                    "approved",
                    s.owner_id,
                    s.owner_id,
                    at,
                    None,
                    "internal",
                    cargo,
                    gross,
                    packages,
                )
        if s.family == "ocean" and atd is not None:
            at = s.planned[s.arr_idx] - timedelta(days=rng.uniform(1, 3))
            if atd < at <= now:
                self._document(
                    batch,
                    s,
                    "arrival_notice",
                    1,
                    at,
                    "approved",
                    s.owner_id,
                    s.owner_id,
                    at,
                    None,
                    "customer",
                    cargo,
                    gross,
                    packages,
                )
        if s.delivered_at is not None:
            at = s.delivered_at + timedelta(hours=rng.uniform(2, 48))
            if at <= now:
                self._document(
                    batch,
                    s,
                    "proof_of_delivery",
                    1,
                    at,
                    "approved",
                    s.owner_id,
                    s.owner_id,
                    at,
                    None,
                    "customer",
                    cargo,
                    gross,
                    packages,
                )

    def _document(
        self,
        batch: Batch,
        s: Ship,
        doc_type: str,
        version: int,
        at: datetime,
        status: str,
        uploaded_by: int | None,
        reviewed_by: int | None,
        reviewed_at: datetime | None,
        reason: str | None,
        visibility: str,
        cargo: org.Cargo,
        gross: float,
        packages: int,
    ) -> int:
        did = self.ids.next("document")
        title = cfg.DOCUMENT_TYPE_NAMES.get(doc_type, doc_type.replace("_", " ").capitalize())
        named_place = s.dest.name if s.incoterm[0] in "CD" else s.origin.name
        lines = [
            f"Shipment: {s.ref}    Mode: {s.mode}    Incoterm: {s.incoterm} {named_place}",
            f"From: {s.origin.name} ({s.origin.code}), {s.origin.country}",
            f"To: {s.dest.name} ({s.dest.code}), {s.dest.country}",
            f"Customer: {s.company.name}",
            f"Consignee: {s.consignee}",
            f"Cargo: {cargo.description}, HS {cargo.hs_code}",
            f"Packages: {packages}    Gross weight: {gross:.1f} kg",
            f"Version {version}",
            "",
            "Demo document generated by the Harbor & Sky Portal seed. Not a real shipping document.",
        ]
        content = tiny_pdf(f"{title} - {s.ref}", lines)
        key = f"seed/{s.company.code}/{s.ref}/{doc_type}-v{version}.pdf"
        if self.write_files:
            path = self.files_dir / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            self.files_written += 1
        batch.add(
            "document",
            {
                "id": did,
                "company_id": s.company.id,
                "shipment_id": s.id,
                "doc_type": doc_type,
                "version_no": version,
                "filename": f"{doc_type}_{s.ref}_v{version}.pdf",
                "content_type": "application/pdf",
                "size_bytes": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
                "storage_key": key,
                "visibility": visibility,
                "status": status,
                "rejection_reason": reason,
                "uploaded_by_id": uploaded_by,
                "reviewed_by_id": reviewed_by,
                "reviewed_at": reviewed_at,
                "created_at": at,
                "version": 1 if reviewed_at is None else 2,
            },
        )
        if status == "rejected" and at > self.now - 30 * DAY:
            for uid in s.company.user_ids:
                self._notify(
                    batch,
                    uid,
                    "document_rejected",
                    f"{title} for {s.ref} needs a new version",
                    f"Reason: {reason}.",
                    f"/portal/shipments/{s.ref}",
                    f"document_rejected:{did}",
                    reviewed_at or at,
                )
        return did
