"""Customer requests (tickets) and change requests about a shipment."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from seed import config_data as cfg
from seed import org_data as org
from seed.generate.common import Ship, _fmt
from seed.writer import Batch


class Requests:
    """A part of :class:`seed.generate.ShipmentGenerator` (see the module)."""

    def _tickets(self, batch: Batch, s: Ship) -> None:
        rng = self.rng
        now = self.now
        plans: list[
            tuple[str, str, str, datetime, int | None, str]
        ] = []  # category, priority, subject, at, invoice, body
        if s.eta_changes and rng.random() < 0.35:
            at = s.eta_changes[-1][1] + timedelta(hours=rng.uniform(1, 30))
            plans.append(
                (
                    "tracking",
                    rng.choice(("normal", "high", "high", "urgent")),
                    f"New ETA for {s.ref}: what does it mean for our delivery?",
                    at,
                    None,
                    (f"We saw the ETA for {s.ref} has moved. Can you confirm the new delivery date? "
                     "Our warehouse needs to rebook the unloading slot."),
                )
            )
        if s.rejected_docs and rng.random() < 0.3:
            _did, dt, at, reason = s.rejected_docs[0]
            plans.append(
                (
                    "documents",
                    "normal",
                    f"Why was our {dt.replace('_', ' ')} rejected?",
                    at + timedelta(hours=rng.uniform(1, 20)),
                    None,
                    f"The {dt.replace('_', ' ')} for {s.ref} was rejected ({reason}). Which version do you need?",
                )
            )
        if s.disputed:
            iid, number, reason, at = s.disputed
            plans.append(
                (
                    "billing",
                    "normal",
                    f"Query on invoice {number}",
                    at,
                    iid,
                    f"We dispute invoice {number}: {reason}. Please check and send a corrected invoice.",
                )
            )
        if s.status in ("booked", "confirmed") and rng.random() < 0.06:
            plans.append(
                (
                    "booking_change",
                    "high",
                    f"Please change the delivery address for {s.ref}",
                    s.created_at + (now - s.created_at) * rng.uniform(0.3, 0.95),
                    None,
                    "Our consignee moved warehouses. Please deliver to the new address in the attached note.",
                )
            )
        if rng.random() < 0.01:
            plans.append(
                (
                    "other",
                    "low",
                    "CO2 emissions report for last quarter",
                    s.created_at + timedelta(days=rng.uniform(0, 5)),
                    None,
                    "Could you send us the CO2 emissions for our shipments of last quarter?",
                )
            )
        for category, priority, subject, at, invoice_id, body in plans:
            if at >= now:
                continue
            self._ticket(batch, s, category, priority, subject, at, invoice_id, body)

    def _ticket(
        self,
        batch: Batch,
        s: Ship,
        category: str,
        priority: str,
        subject: str,
        created: datetime,
        invoice_id: int | None,
        body: str,
    ) -> None:
        rng = self.rng
        now = self.now
        tid = self.ids.next("ticket")
        raiser = rng.choice(s.company.user_ids)
        fr_hours, res_hours = cfg.sla_hours("ticket", category, priority)
        fr_due = created + timedelta(hours=fr_hours or 8)
        res_due = created + timedelta(hours=res_hours)
        responded = created + timedelta(hours=(fr_hours or 8) * rng.uniform(0.1, 1.4))
        if responded > now:
            responded = None
        age = now - created
        status = "open"
        resolved = closed = None
        if responded is not None:
            if (age > timedelta(days=10) and rng.random() < 0.9) or (age > timedelta(days=2) and rng.random() < 0.4):
                resolved = responded + (now - responded) * rng.uniform(0.05, 0.6)
                if rng.random() < 0.6 and resolved + timedelta(days=2) < now:
                    closed = resolved + timedelta(days=rng.uniform(2, 5))
                    if closed > now:
                        closed = None
                status = "closed" if closed else "resolved"
            else:
                status = rng.choice(("open", "waiting_on_customer", "waiting_on_us"))
        team = self.ctx.team_ids[s.team]
        messages = [(raiser, "customer", body, created)]
        if responded is not None:
            messages.append(
                (
                    s.owner_id,
                    "customer",
                    rng.choice(
                        [r["body"] for r in cfg.CANNED_REPLIES if r["category"] == category]
                        or ["Thank you, we are looking into it and will come back to you shortly."]
                    ).format(eta=_fmt(s.estimated[s.arr_idx]), reason="see the note on the document"),
                    responded,
                )
            )
            if rng.random() < 0.4:
                messages.append(
                    (
                        s.owner_id,
                        "internal",
                        rng.choice(
                            (
                                "Checked with the carrier, waiting for written confirmation.",
                                "Finance asked to review the charge lines before we answer.",
                                "Customer is a key account; keep the manager in copy.",
                            )
                        ),
                        responded + timedelta(minutes=rng.randint(5, 120)),
                    )
                )
        if resolved is not None:
            thanks_at = max(responded + timedelta(minutes=5), resolved - timedelta(minutes=rng.randint(10, 240)))
            messages.append((raiser, "customer", "Thanks, that answers our question.", thanks_at))
        updated = max(m[3] for m in messages)
        if resolved:
            updated = max(updated, resolved)
        if closed:
            updated = max(updated, closed)
        messages = [m for m in messages if m[3] <= now]
        batch.add(
            "ticket",
            {
                "id": tid,
                "reference": f"REQ-{tid:06d}",
                "company_id": s.company.id,
                "raised_by_id": raiser,
                "shipment_id": s.id,
                "invoice_id": invoice_id,
                "document_id": None,
                "merged_into_id": None,
                "category": category,
                "priority": priority,
                "status": status,
                "subject": subject[:200],
                "context": json.dumps({"page": "invoice" if invoice_id else "shipment", "record": s.ref}),
                "assignee_id": s.owner_id if rng.random() < 0.9 else None,
                "team_id": team,
                "first_response_due_at": fr_due,
                "first_responded_at": responded,
                "resolution_due_at": res_due,
                "resolved_at": resolved,
                "closed_at": closed,
                "satisfaction": rng.randint(3, 5) if closed and rng.random() < 0.6 else None,
                "created_at": created,
                "updated_at": min(updated, now),
                "version": len(messages),
            },
        )
        for author, visibility, text, at in messages:
            batch.add(
                "ticketmessage",
                {
                    "id": self.ids.next("ticketmessage"),
                    "ticket_id": tid,
                    "author_id": author,
                    "visibility": visibility,
                    "body": text,
                    "created_at": at,
                },
            )
        batch.add("ticketfollower", {"ticket_id": tid, "user_id": raiser})
        if category == "booking_change":
            self._change_request(batch, s, raiser, created, tid)

    def _change_request(self, batch: Batch, s: Ship, requester: int, at: datetime, ticket_id: int) -> None:
        rng = self.rng
        now = self.now
        crid = self.ids.next("changerequest")
        status = rng.choice(("pending", "pending", "approved", "rejected"))
        decided = at + timedelta(hours=rng.uniform(2, 30)) if status != "pending" else None
        if decided is not None and decided > now:
            status, decided = "pending", None
        changes = {"consignee_address": f"{rng.randint(1, 300)} {rng.choice(org.STREETS)}, {s.dest.name}"}
        batch.add(
            "changerequest",
            {
                "id": crid,
                "shipment_id": s.id,
                "company_id": s.company.id,
                "kind": "amend",
                "status": status,
                "changes": json.dumps(changes),
                "reason": "Consignee moved warehouses",
                "decision_reason": None
                if status == "pending"
                else ("Carrier confirmed the amendment" if status == "approved" else "Too late: cargo already loaded"),
                "requested_by_id": requester,
                "decided_by_id": s.owner_id if decided else None,
                "created_at": at,
                "decided_at": decided,
                "version": 1 if status == "pending" else 2,
            },
        )
        if status == "pending":
            self._exception(
                batch,
                s,
                "change_requested",
                f"cr:{crid}",
                "medium",
                f"Change requested on {s.ref}: new delivery address",
                f"Change request #{crid} (ticket REQ-{ticket_id:06d}) waits for a decision.",
                at,
                None,
                None,
            )
