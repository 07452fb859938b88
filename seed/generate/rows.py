"""The shipment builder's rows: ETA changes, milestones, tracking, charges, close-out, updates, the shipment
itself and its cargo."""

from __future__ import annotations

from datetime import datetime, timedelta

from portal_app.services.identifiers import format_awb
from portal_app.services.references import search_values
from seed import config_data as cfg
from seed.generate.common import (
    DAY,
    Ship,
    _Load,
    _Numbers,
    _Parties,
    _Timeline,
    money,
    qty,
)
from seed.writer import Batch


class ShipmentRows:
    """A part of :class:`seed.generate.ShipmentGenerator` (see the module)."""

    def _eta_changes(self, batch: Batch, s: Ship, line: _Timeline) -> None:
        """The ETA changes known by ``now``, each moving the arrival by its part of the slip."""
        rng = self.rng
        reason = line.reason
        running = timedelta(0)
        for inc, at in line.increments:
            if at > self.now:
                break
            prev_eta = s.planned[s.arr_idx] + running
            running += inc
            eid = self.ids.next("etachange")
            by_ops = reason not in ("PORT_CONGESTION", "WEATHER", "MECHANICAL") and rng.random() < 0.6
            text = cfg.DELAY_REASONS[reason].format(
                place=s.dest.name if reason == "PORT_CONGESTION" else s.origin.name,
                vehicle={"ocean": "vessel", "air": "aircraft", "road": "truck"}[s.family],
            )
            batch.add(
                "etachange",
                {
                    "id": eid,
                    "shipment_id": s.id,
                    "previous_eta": prev_eta,
                    "new_eta": s.planned[s.arr_idx] + running,
                    "reason_code": reason,
                    "reason_text": text[:1].upper() + text[1:],
                    "changed_by_id": s.owner_id if by_ops else None,
                    "source": "ops" if by_ops else "carrier",
                    "created_at": at,
                },
            )
            s.eta_changes.append((eid, at, prev_eta, s.planned[s.arr_idx] + running, text))

    def _milestone_rows(self, batch: Batch, s: Ship, line: _Timeline) -> datetime | None:
        """One row per template step; returns the last actual time (None when nothing has happened)."""
        location_ids = self.ctx.location_ids
        last_actual = None
        for i, step in enumerate(line.steps):
            act = s.actual[i]
            if act is not None:
                source = step.reported_by
                last_actual = act
                updated = act
            elif i >= line.cause_idx and s.known_slip:
                source = "carrier"
                updated = max(at for _inc, at in line.increments if at <= self.now)
            else:
                source = "plan"
                updated = s.created_at
            if i == 0 or step.code == "in_transit":
                loc = None
            else:
                loc = location_ids[s.origin.code] if step.anchor == "origin" else location_ids[s.dest.code]
            batch.add(
                "milestone",
                {
                    "id": self.ids.next("milestone"),
                    "shipment_id": s.id,
                    "sequence": i + 1,
                    "code": step.code,
                    "name": step.name,
                    "event_code": step.event_code,
                    "location_id": loc,
                    "planned_at": s.planned[i],
                    "estimated_at": s.estimated[i],
                    "actual_at": act,
                    "source": source,
                    "customer_visible": step.customer_visible,
                    "updated_at": updated,
                    "version": 1 if act is None else 2,
                },
            )
        return last_actual

    def _tracking(self, s: Ship, last_actual: datetime | None) -> bool:
        """When tracking last reported; True when that is stale (no news for days while moving)."""
        rng = self.rng
        now = self.now
        stale = False
        if s.status in ("in_transit", "arrived") and last_actual is not None:
            if rng.random() < 0.07 and last_actual < now - 3 * DAY:
                stale = True
                last_tracking = last_actual
            else:
                last_tracking = max(last_actual, now - timedelta(hours=rng.uniform(0.5, 30)))
        else:
            last_tracking = last_actual
        if s.eta_changes and last_tracking is not None:
            last_tracking = max(last_tracking, s.eta_changes[-1][1])
        s.last_tracking_at = last_tracking
        s.delivered_at = s.actual[s.dlv_idx]
        return stale

    def _charge_rows(self, batch: Batch, s: Ship) -> None:
        for c in s.charges:
            batch.add(
                "shipmentcharge",
                {
                    "id": self.ids.next("shipmentcharge"),
                    "shipment_id": s.id,
                    "code": c.code,
                    "description": c.description,
                    "quantity": c.quantity,
                    "unit_price": c.unit_price,
                    "amount": c.amount,
                    "currency": s.company.currency,
                },
            )

    def _close_out(self, s: Ship) -> None:
        """A shipment delivered over two weeks ago with every invoice paid is usually closed."""
        delivered = s.actual[s.dlv_idx]
        if s.status == "delivered" and delivered is not None and delivered < self.now - 14 * DAY:
            all_paid = all(inv[2] == "paid" for inv in s.invoices) and s.invoices
            if all_paid and self.rng.random() < 0.9:
                last_paid = max(inv[5] for inv in s.invoices)
                closed_at = max(delivered + timedelta(days=self.rng.uniform(7, 20)), last_paid + DAY)
                if closed_at <= self.now:
                    s.status = "closed"
                    s.closed_at = closed_at

    def _update_rows(
        self, batch: Batch, s: Ship, carrier_name: str, vessel: str | None, voyage: str | None, flight: str | None
    ) -> None:
        """The status narrative the customer and ops read."""
        for visibility, body, at, author in self._updates(s, carrier_name, vessel, voyage, flight):
            batch.add(
                "shipmentupdate",
                {
                    "id": self.ids.next("shipmentupdate"),
                    "shipment_id": s.id,
                    "company_id": s.company.id,
                    "visibility": visibility,
                    "body": body,
                    "author_id": author,
                    "created_at": at,
                },
            )

    def _shipment_row(
        self, batch: Batch, s: Ship, line: _Timeline, load: _Load, numbers: _Numbers, parties: _Parties,
        quote_option_id: int | None,
    ) -> None:
        """The shipment row itself, its dates and delay derived from the milestones."""
        rng = self.rng
        ctx = self.ctx
        company = s.company
        planned, estimated, actual = s.planned, s.estimated, s.actual
        eta_planned = planned[s.arr_idx]
        eta_estimated = estimated[s.arr_idx]
        ata = actual[s.arr_idx]
        delay_minutes = 0 if line.cancelled else int(((ata or eta_estimated) - eta_planned).total_seconds() // 60)
        times = [s.created_at, *(a for a in actual if a is not None), *(e[1] for e in s.eta_changes)]
        if line.cancelled:
            times.append(s.cutoff)
        updated_at = max(times)
        if s.status == "closed":
            updated_at = max(updated_at, s.closed_at)
        created_by = rng.choice(company.user_ids) if rng.random() < 0.4 else s.owner_id
        batch.add(
            "shipment",
            {
                "id": s.id,
                "reference": s.ref,
                "company_id": company.id,
                "quote_option_id": quote_option_id,
                "mode": s.mode,
                "status": s.status,
                "incoterm": s.incoterm,
                "shipper_name": parties.shipper,
                "shipper_address": parties.shipper_addr[:400],
                "consignee_name": parties.consignee,
                "consignee_address": parties.consignee_addr[:400],
                "notify_party": parties.notify[:200],
                "origin_id": ctx.location_ids[s.origin.code],
                "destination_id": ctx.location_ids[s.dest.code],
                "carrier_id": ctx.carrier_ids[s.carrier_code],
                "vessel_name": numbers.vessel,
                "voyage_number": numbers.voyage,
                "flight_number": numbers.flight,
                "booking_number": numbers.booking,
                "mbl_number": numbers.mbl,
                "hbl_number": numbers.hbl,
                "awb_number": numbers.awb,
                "hawb_number": numbers.hawb,
                "customer_po": numbers.customer_po,
                "cargo_description": load.cargo.description,
                "packages": load.packages,
                "package_type": load.package_type,
                "gross_weight_kg": qty(round(load.gross, 1)),
                "volume_cbm": qty(load.volume),
                "chargeable_weight_kg": qty(round(load.chargeable, 1)),
                "is_dangerous_goods": load.is_dg,
                "cargo_value": money(load.cargo_value_usd * float(s.fx)),
                "cargo_currency": company.currency,
                "ready_date": line.ready,
                "etd_planned": planned[s.dep_idx],
                "etd_estimated": estimated[s.dep_idx],
                "atd": actual[s.dep_idx],
                "eta_planned": eta_planned,
                "eta_estimated": eta_estimated,
                "ata": ata,
                "delivered_at": actual[s.dlv_idx],
                "delay_minutes": delay_minutes,
                "last_tracking_at": s.last_tracking_at,
                "owner_id": s.owner_id,
                "team_id": ctx.team_ids[s.team],
                "branch_id": ctx.team_branch[s.team],
                "created_by_id": created_by,
                "created_at": s.created_at,
                "updated_at": updated_at,
                "version": 1 + sum(1 for a in actual if a is not None) + len(s.eta_changes),
            },
        )

    def _cargo_rows(self, batch: Batch, s: Ship, load: _Load, numbers: _Numbers) -> None:
        """Cargo line, containers, references (searchable, one per kind and value) and followers."""
        rng = self.rng
        company = s.company
        cargo = load.cargo
        dims = cargo.package_type == "PX" or s.mode.startswith("road")
        batch.add(
            "cargoline",
            {
                "id": self.ids.next("cargoline"),
                "shipment_id": s.id,
                "description": cargo.description,
                "packages": load.packages,
                "package_type": load.package_type,
                "length_cm": qty(120) if dims else None,
                "width_cm": qty(80) if dims else None,
                "height_cm": qty(rng.randint(90, 180)) if dims else None,
                "weight_kg": qty(round(load.gross, 1)),
                "hs_code": cargo.hs_code,
                "un_number": cargo.un_number if load.is_dg else None,
                "dg_class": cargo.dg_class if load.is_dg else None,
            },
        )
        for (st, _s, wt, pk), number in zip(load.containers, numbers.container_numbers, strict=True):
            batch.add(
                "container",
                {
                    "id": self.ids.next("container"),
                    "shipment_id": s.id,
                    "number": number,
                    "size_type": st,
                    "seal_number": f"{s.carrier_code[:2]}{rng.randint(1_000_000, 9_999_999)}",
                    "gross_weight_kg": qty(wt),
                    "packages": pk,
                },
            )
        refs = [("shipment", s.ref), ("booking", numbers.booking), ("customer_po", numbers.customer_po)]
        for kind, value in (("mbl", numbers.mbl), ("hbl", numbers.hbl), ("awb", numbers.awb), ("hawb", numbers.hawb),
                            ("cmr", numbers.cmr)):
            if value:
                refs.append((kind, format_awb(value) if kind == "awb" else value))
        refs.extend(("container", n) for n in numbers.container_numbers)
        seen = set()
        for kind, display in refs:
            for value in search_values(display):
                if (kind, value) in seen:
                    continue
                seen.add((kind, value))
                batch.add(
                    "shipmentreference",
                    {
                        "id": self.ids.next("shipmentreference"),
                        "shipment_id": s.id,
                        "company_id": company.id,
                        "kind": kind,
                        "value": value,
                        "display_value": display[:40],
                    },
                )
        samples = self.sample_refs[company.id]
        if len(samples) < 40:
            samples.append(s.ref if rng.random() < 0.5 else rng.choice([d for _k, d in refs]))
        if rng.random() < 0.08:
            batch.add(
                "shipmentfollower",
                {"shipment_id": s.id, "user_id": rng.choice(company.user_ids), "created_at": s.created_at},
            )
