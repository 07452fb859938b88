"""Ops exceptions, tasks and notifications."""

from __future__ import annotations

from datetime import datetime, timedelta

from portal_app.services import words
from portal_app.services.shipment_activity import REASON_LABELS
from seed import config_data as cfg
from seed.generate.common import DAY, HOUR, Ship, _fmt, _midnight
from seed.writer import Batch


class Exceptions:
    """A part of :class:`seed.generate.ShipmentGenerator` (see the module)."""

    def _exceptions(self, batch: Batch, s: Ship, stale: bool) -> None:
        rng = self.rng
        now = self.now
        a = s.actual
        arrived = a[s.arr_idx] is not None
        # ETA slip
        if s.eta_changes and s.known_slip >= DAY:
            first_at = s.eta_changes[0][1]
            sev = "high" if s.known_slip >= 5 * DAY else "medium"
            resolved_at = None
            if arrived:
                resolved_at = min(a[s.arr_idx], first_at + timedelta(hours=rng.uniform(2, 48)))
            elif rng.random() < 0.3:
                resolved_at = first_at + timedelta(hours=rng.uniform(2, 48))
            if resolved_at is not None and resolved_at > now:
                resolved_at = None
            self._exception(
                batch,
                s,
                "eta_slip",
                s.delay_reason or "eta",
                sev,
                f"ETA of {s.ref} moved by {words.count(s.known_slip.days, 'day')}",
                f"New ETA {_fmt(s.estimated[s.arr_idx])} (planned {_fmt(s.planned[s.arr_idx])}); "
                f"reason: {REASON_LABELS.get(s.delay_reason or '', 'not given').lower()}.",
                first_at + timedelta(minutes=5),
                resolved_at,
                "Customer informed of the new ETA; delivery rebooked." if resolved_at else None,
            )
        # documents missing or late
        for doc_type, due in s.missing_docs:
            sev = "high" if s.planned[s.dep_idx] - now < 2 * DAY else "medium"
            self._exception(
                batch,
                s,
                "document_missing",
                doc_type,
                sev,
                f"{cfg.DOCUMENT_TYPE_NAMES.get(doc_type, doc_type)} missing for {s.ref}",
                f"Due {_fmt(due)}; not received.",
                due + HOUR,
                None,
                None,
            )
        for doc_type, due, uploaded in s.late_docs:
            if due + HOUR < uploaded <= now and rng.random() < 0.7:
                self._exception(
                    batch,
                    s,
                    "document_missing",
                    doc_type,
                    "medium",
                    f"{cfg.DOCUMENT_TYPE_NAMES.get(doc_type, doc_type)} missing for {s.ref}",
                    f"Due {_fmt(due)}.",
                    due + HOUR,
                    uploaded,
                    "Document received.",
                    auto=True,
                )
        # customs and carrier holds
        customs_idx = next((i for i, st in enumerate(cfg.TEMPLATES[s.mode].steps) if "customs" in st.code), None)
        if (
            customs_idx is not None
            and arrived
            and rng.random() < (0.3 if a[customs_idx] is None and s.status == "arrived" else 0.04)
        ):
            start = a[s.arr_idx] + timedelta(hours=rng.uniform(2, 20))
            release = a[customs_idx]
            if start < now:
                if release is not None and release <= start:
                    start = a[s.arr_idx] + (release - a[s.arr_idx]) * 0.5
                self._exception(
                    batch,
                    s,
                    "customs_hold",
                    "customs",
                    rng.choice(("high", "critical")),
                    f"Customs hold on {s.ref}",
                    "Selected for physical inspection by import customs.",
                    start,
                    release,
                    "Released by customs after inspection." if release else None,
                )
        if s.family == "ocean" and arrived and rng.random() < 0.01:
            start = a[s.arr_idx] + timedelta(hours=2)
            end = a[s.dlv_idx]
            if start < now:
                self._exception(
                    batch,
                    s,
                    "carrier_hold",
                    "freight_release",
                    "high",
                    f"Carrier hold on {s.ref}",
                    "Carrier has not released the cargo: original B/L not surrendered.",
                    start,
                    end,
                    "Telex release received." if end else None,
                )
        if stale and s.last_tracking_at is not None:
            start = s.last_tracking_at + timedelta(hours=72)
            if start < now:
                self._exception(
                    batch,
                    s,
                    "no_tracking_update",
                    "stale",
                    "medium",
                    f"No tracking update for {s.ref} since {_fmt(s.last_tracking_at)}",
                    "The carrier feed has sent nothing for more than 72 hours.",
                    start,
                    None,
                    None,
                )
        for _iid, number, status, due, balance, _upd in s.invoices:
            if status == "overdue" and (self.today - due).days >= 14:
                start = _midnight(due) + timedelta(days=14, hours=6)
                sev = "medium" if (self.today - due).days > 30 else "low"
                self._exception(
                    batch,
                    s,
                    "invoice_overdue",
                    number,
                    sev,
                    f"Invoice {number} overdue",
                    f"Balance {s.company.currency} {balance}, due {due.isoformat()}.",
                    start,
                    None,
                    None,
                )
        if s.delivered_at is not None and rng.random() < 0.01:
            start = s.delivered_at + timedelta(hours=rng.uniform(1, 30))
            if start < now:
                end = start + timedelta(days=rng.uniform(1, 6))
                self._exception(
                    batch,
                    s,
                    "other",
                    "damage",
                    "medium",
                    f"Damage reported at delivery of {s.ref}",
                    "Consignee noted two damaged cartons on the delivery receipt.",
                    start,
                    end if end <= now else None,
                    "Claim file opened with the carrier." if end <= now else None,
                )
        # routine tasks
        if s.status in ("confirmed", "in_transit", "arrived") and rng.random() < 0.2:
            title, due = {
                "confirmed": ("Check VGM and cut-off with the carrier", s.planned[s.dep_idx] - DAY),
                "in_transit": ("Send pre-alert to the destination agent", s.planned[s.dep_idx] + DAY),
                "arrived": ("Book the delivery slot with the consignee", s.planned[s.arr_idx] + DAY),
            }[s.status]
            self._task(batch, s, title, None, due, s.created_at + DAY if s.created_at + DAY < now else s.created_at)

    def _exception(
        self,
        batch: Batch,
        s: Ship,
        kind: str,
        cause: str,
        severity: str,
        title: str,
        detail: str,
        created: datetime,
        resolved: datetime | None,
        note: str | None,
        *,
        auto: bool = False,
    ) -> None:
        rng = self.rng
        now = self.now
        if created > now:
            return
        xid = self.ids.next("opsexception")
        _fr, hours = cfg.sla_hours("exception", kind, severity)
        if resolved is not None and resolved <= created:
            resolved = created + timedelta(minutes=30)
        if resolved is not None and resolved > now:
            resolved = None
        if resolved is None:
            status = "in_progress" if rng.random() < 0.4 else "open"
            open_key = f"{s.id}|{kind}|{cause}"
        else:
            status, open_key = "resolved", None
        owner = s.owner_id if (resolved is not None or rng.random() < 0.9) else None
        batch.add(
            "opsexception",
            {
                "id": xid,
                "shipment_id": s.id,
                "company_id": s.company.id,
                "kind": kind,
                "cause_key": cause[:120],
                "severity": severity,
                "status": status,
                "title": title[:200],
                "detail": detail,
                "owner_id": owner,
                "team_id": self.ctx.team_ids[s.team],
                "sla_due_at": created + timedelta(hours=hours),
                "created_by_rule": kind not in ("other", "carrier_hold"),
                "resolution_note": note if resolved else None,
                "resolved_by_id": (None if auto else s.owner_id) if resolved else None,
                "resolved_at": resolved,
                "auto_resolved": bool(auto and resolved),
                "open_key": open_key,
                "created_at": created,
                "updated_at": resolved or created,
                "version": 2 if resolved else 1,
            },
        )
        if owner is not None and created > now - 30 * DAY:
            self._notify(
                batch,
                owner,
                "exception_assigned",
                title[:200],
                detail,
                f"/tower/exceptions/{xid}",
                f"exception:{xid}",
                created,
            )
        if resolved is None and rng.random() < 0.5:
            title_t = {
                "eta_slip": f"Inform the customer about the new ETA of {s.ref}",
                "document_missing": f"Chase the {cause.replace('_', ' ')} for {s.ref}",
                "customs_hold": f"Follow up the customs inspection of {s.ref}",
                "carrier_hold": f"Get the carrier release for {s.ref}",
                "no_tracking_update": f"Ask the carrier for a status update on {s.ref}",
                "invoice_overdue": f"Send a payment reminder for {cause}",
                "change_requested": f"Decide the change request on {s.ref}",
                "other": f"Follow up the issue on {s.ref}",
            }[kind]
            self._task(batch, s, title_t, xid, created + timedelta(hours=hours), created, assignee=owner)
        if kind == "eta_slip" and s.eta_changes:
            for eid, at, _prev, new, text in s.eta_changes:
                if at > now - 30 * DAY:
                    for uid in s.company.user_ids:
                        self._notify(
                            batch,
                            uid,
                            "eta_changed",
                            f"New ETA for {s.ref}: {_fmt(new)}",
                            f"Reason: {text}.",
                            f"/portal/shipments/{s.ref}",
                            f"eta_change:{eid}",
                            at,
                        )

    def _task(
        self,
        batch: Batch,
        s: Ship,
        title: str,
        exception_id: int | None,
        due: datetime,
        created: datetime,
        assignee: int | None = -1,
    ) -> None:
        rng = self.rng
        now = self.now
        if assignee == -1:
            assignee = s.owner_id
        if exception_id is None:
            status = "done" if due < now and rng.random() < 0.8 else rng.choice(("open", "in_progress"))
        else:
            status = rng.choice(("open", "open", "in_progress"))
        completed = None
        if status == "done":
            completed = min(now - HOUR, max(created + HOUR, due - timedelta(hours=rng.uniform(0, 20))))
        batch.add(
            "task",
            {
                "id": self.ids.next("task"),
                "title": title[:200],
                "detail": None,
                "shipment_id": s.id,
                "exception_id": exception_id,
                "assignee_id": assignee,
                "team_id": self.ctx.team_ids[s.team],
                "status": status,
                "due_at": due,
                "completed_at": completed,
                "created_by_id": None if exception_id else s.owner_id,
                "created_at": created,
                "updated_at": completed or created,
                "version": 2 if completed else 1,
            },
        )

    def _notify(
        self, batch: Batch, user_id: int, kind: str, title: str, body: str | None, link: str, dedup: str, at: datetime
    ) -> None:
        rng = self.rng
        if at > self.now:
            return
        read_at = at + timedelta(hours=rng.uniform(0.5, 72)) if rng.random() < 0.6 else None
        if read_at is not None and read_at > self.now:
            read_at = None
        batch.add(
            "notification",
            {
                "id": self.ids.next("notification"),
                "user_id": user_id,
                "event_kind": kind,
                "title": title[:200],
                "body": body,
                "link": link,
                "dedup_key": dedup,
                "read_at": read_at,
                "created_at": at,
            },
        )
