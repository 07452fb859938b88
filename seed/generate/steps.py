"""The shipment builder's steps: route, timeline, load, numbers, parties, then the rows."""

from __future__ import annotations

from datetime import datetime, timedelta

from portal_app.services.identifiers import format_awb, make_awb, make_container_number
from portal_app.services.references import normalize_reference
from seed import config_data as cfg
from seed import org_data as org
from seed.generate.common import (
    ARRIVAL_SIDE_CAUSES,
    DAY,
    DELAY_CAUSES,
    HOUR,
    LESSOR_OWNER_CODES,
    MODES,
    Ship,
    _Load,
    _midnight,
    _Numbers,
    _Parties,
    _Route,
    _Timeline,
    money,
    qty,
)
from seed.reference_data import (
    air_transit_days,
    ocean_transit_days,
    road_transit_days,
)
from seed.writer import Batch


class ShipmentSteps:
    """A part of :class:`seed.generate.ShipmentGenerator` (see the module)."""

    def shipment(self, batch: Batch) -> None:
        """One shipment and everything that hangs off it. The steps draw from the generator in this order."""
        sid = self.ids.next("shipment")
        route = self._route()
        line = self._timeline(route)
        load = self._load(route)
        numbers = self._numbers(sid, route, line, load)
        parties = self._parties(route)
        company = route.company
        ship = Ship(
            id=sid,
            ref=f"SH{sid:07d}",
            company=company,
            mode=route.mode,
            family=route.family,
            origin=route.origin,
            dest=route.dest,
            carrier_code=route.carrier_code,
            incoterm=route.incoterm,
            owner_id=route.owner_id,
            team=route.team,
            created_at=line.created,
            status=line.status,
            planned=line.planned,
            estimated=line.estimated,
            actual=line.actual,
            dep_idx=line.dep_idx,
            arr_idx=line.arr_idx,
            dlv_idx=line.dlv_idx,
            cutoff=line.cutoff,
            consignee=parties.consignee,
            is_dg=load.is_dg,
            cargo_value_usd=load.cargo_value_usd,
            fx=self.fx[company.id],
            customer_is_consignee=route.customer_is_consignee,
            delay_reason=line.reason,
            known_slip=line.known_slip,
        )
        self._eta_changes(batch, ship, line)
        last_actual = self._milestone_rows(batch, ship, line)
        stale = self._tracking(ship, last_actual)

        # charges (needed by quotes and invoices)
        ship.charges = self._charges(ship, load.containers, load.volume, load.gross, load.chargeable, route.transit)
        self._charge_rows(batch, ship)

        # the quote that led to this booking (some shipments)
        quote_option_id = None
        if self.rng.random() < 0.1:
            quote_option_id = self._quote_for_shipment(
                batch, ship, line.ready, load.containers, load.gross, load.volume, load.cargo
            )

        # documents, invoices, close-out
        self._documents(batch, ship, load.cargo, load.containers, load.gross, load.packages, line.awaiting_confirmation)
        self._invoices(batch, ship)
        self._close_out(ship)

        self._update_rows(batch, ship, route.carrier.name, numbers.vessel, numbers.voyage, numbers.flight)
        # requests, exceptions, tasks, notifications
        self._tickets(batch, ship)
        self._exceptions(batch, ship, stale)

        self._shipment_row(batch, ship, line, load, numbers, parties, quote_option_id)
        self._cargo_rows(batch, ship, load, numbers)

    def _route(self) -> _Route:
        """Who ships what how: the company, mode, lane, Incoterm, carrier, transit time and the owning agent."""
        rng = self.rng
        ctx = self.ctx
        company = self._pick_company()
        prof = company.profile
        mode = rng.choices(MODES, weights=prof.mode_weights)[0]
        family = "ocean" if mode.startswith("ocean") else "air" if mode == "air" else "road"
        origin, dest = self._lane(company, mode)
        if dest.country == company.country:
            customer_is_consignee = True
        elif origin.country == company.country:
            customer_is_consignee = False
        else:
            customer_is_consignee = rng.random() < 0.5
        incoterm = self._incoterm(mode, customer_is_consignee)
        carrier_code = self._carrier(family, origin, dest)

        if family == "ocean":
            transit = ocean_transit_days(origin, dest) + rng.choice((-1, 0, 0, 1, 2))
            team = "Ocean Import" if dest.region in ("north_europe", "med") else "Ocean Export"
        elif family == "air":
            transit = air_transit_days(origin, dest)
            team = "Air Freight"
        else:
            transit = road_transit_days(origin, dest, mode == "road_ltl")
            team = "Road & Customs"
        transit = max(1, transit)
        owner_id = rng.choices(ctx.agents_by_team[team], weights=ctx.agent_weights_by_team[team])[0]
        return _Route(
            company=company, mode=mode, family=family, origin=origin, dest=dest,
            customer_is_consignee=customer_is_consignee, incoterm=incoterm, carrier_code=carrier_code,
            carrier=ctx.carriers[carrier_code], transit=transit, team=team, owner_id=owner_id,
        )

    def _timeline(self, route: _Route) -> _Timeline:
        """The planned milestones, a possible cancellation or delay, what has happened by ``now`` and the status."""
        rng = self.rng
        now = self.now
        mode, family, transit = route.mode, route.family, route.transit

        # planned timeline
        steps = cfg.TEMPLATES[mode].steps
        dep_idx, arr_idx, dlv_idx = self.template_index[mode]
        ready = self.today + timedelta(days=rng.randint(-120, 30))
        ready_dt = _midnight(ready)
        arr_day = ready_dt + timedelta(days=steps[dep_idx].offset_days + transit)
        minute = rng.randint(0, 50)
        # booked 3-35 days before the cargo is ready (never in the future); the carrier confirms within two days
        created = ready_dt - timedelta(days=rng.uniform(3, 35), hours=rng.uniform(-8, 8))
        if created > now - HOUR:
            created = now - timedelta(days=rng.uniform(0.05, 12))
        created = created.replace(microsecond=0)
        planned: list[datetime] = []
        prev = None
        for i, s in enumerate(steps):
            if i == 0:
                t = (created + timedelta(hours=rng.uniform(3, 40))).replace(second=0, microsecond=0)
            else:
                base = ready_dt if s.anchor == "origin" else arr_day
                t = base + timedelta(days=s.offset_days, hours=s.hour, minutes=minute)
            if prev is not None and t <= prev:
                t = prev + HOUR
            planned.append(t)
            prev = t

        # cancellation
        cancelled = False
        cutoff = now
        if rng.random() < 0.03:
            latest = min(planned[dep_idx] - 6 * HOUR, now)
            if latest > created + 2 * HOUR:
                cancelled = True
                cutoff = created + (latest - created) * rng.uniform(0.3, 1.0)

        # delay: a slip from one step onward, learned in one or two ETA changes
        slip = timedelta(0)
        cause_idx = len(steps)
        reason = None
        increments: list[tuple[timedelta, datetime]] = []
        if not cancelled and rng.random() < 0.3:
            causes = DELAY_CAUSES[family]
            reason, first_step, lo, hi, _w = rng.choices(causes, weights=[c[4] for c in causes])[0]
            cause_idx = arr_idx if first_step == "@arrival" else [s.code for s in steps].index(first_step)
            days = rng.randint(lo, hi)
            slip = timedelta(days=days, hours=rng.randint(0, 6) if family == "ocean" else 0)
            p_cause = planned[cause_idx]
            if reason in ARRIVAL_SIDE_CAUSES:
                first_known = p_cause - timedelta(days=rng.uniform(1, min(6, transit + 0.5)))
            else:
                first_known = p_cause - timedelta(hours=rng.uniform(4, 48))
            if first_known <= created:
                first_known = created + (p_cause - created) * 0.5
            first_known = first_known.replace(microsecond=0)
            if days >= 3 and rng.random() < 0.4:
                part = timedelta(days=days // 2)
                second_known = (first_known + (p_cause - first_known) * rng.uniform(0.3, 0.9)).replace(microsecond=0)
                increments = [(part, first_known), (slip - part, second_known)]
            else:
                increments = [(slip, first_known)]

        # true times, actuals, estimates
        n_steps = len(steps)
        true_times: list[datetime] = []
        prev = None
        for i in range(n_steps):
            t = planned[i] + (slip if i >= cause_idx else timedelta(0))
            if i not in (dep_idx, arr_idx):
                t += timedelta(minutes=rng.randint(-75, 75))
            if prev is not None and t <= prev:
                t = prev + timedelta(minutes=20)
            true_times.append(t)
            prev = t
        known_slip = sum((inc for inc, at in increments if at <= now), timedelta(0))
        actual: list[datetime | None] = [t if t <= cutoff else None for t in true_times]
        estimated = [
            true_times[i] if actual[i] is not None else planned[i] + (known_slip if i >= cause_idx else timedelta(0))
            for i in range(n_steps)
        ]

        # status
        awaiting_confirmation = False
        if cancelled:
            status = "cancelled"
        elif actual[0] is None:
            status = "booked"
        elif actual[dep_idx] is None:
            status = "confirmed"
            if actual[1] is None and rng.random() < 0.2:
                awaiting_confirmation = True
                actual[0] = None
                estimated[0] = planned[0]
                status = "booked"
        elif actual[arr_idx] is None:
            status = "in_transit"
        elif actual[dlv_idx] is None:
            status = "arrived"
        else:
            status = "delivered"
        return _Timeline(
            steps=steps, dep_idx=dep_idx, arr_idx=arr_idx, dlv_idx=dlv_idx, ready=ready, created=created,
            planned=planned, cancelled=cancelled, cutoff=cutoff, reason=reason, cause_idx=cause_idx,
            increments=increments, known_slip=known_slip, actual=actual, estimated=estimated, status=status,
            awaiting_confirmation=awaiting_confirmation,
        )

    def _load(self, route: _Route) -> _Load:
        """The cargo: goods from the company's profile, containers (FCL), weight, volume and packages."""
        rng = self.rng
        mode, prof = route.mode, route.company.profile
        cargo_pool = [c for c in prof.cargo if c.un_number is None]
        dg_pool = [c for c in prof.cargo if c.un_number is not None]
        is_dg = bool(dg_pool) and rng.random() < 0.06
        cargo = rng.choice(dg_pool if is_dg else cargo_pool)
        containers: list[tuple[str, str, float, int]] = []
        if mode == "ocean_fcl":
            n_cont = rng.choices((1, 2, 3), weights=(55, 30, 15))[0]
            for _ in range(n_cont):
                if prof.reefer and rng.random() < 0.8:
                    st = rng.choice(("45R1", "45R1", "22R1", "42R1"))
                else:
                    st = rng.choices(("22G1", "42G1", "45G1", "22U1", "42P1"), weights=(32, 15, 48, 3, 2))[0]
                twenty = st.startswith("2")
                wt = rng.uniform(7000, 18000) if twenty else rng.uniform(9000, 24000)
                if cargo.package_type == "PX":
                    pk = rng.randint(10, 11) if twenty else rng.randint(20, 24)
                elif cargo.package_type == "BG":
                    pk = int(wt / 60)
                elif cargo.package_type == "DR":
                    pk = 80 if twenty else 160
                else:
                    pk = rng.randint(300, 900) if twenty else rng.randint(600, 1800)
                containers.append((st, "", round(wt, 1), pk))
            gross = sum(c[2] for c in containers)
            packages = sum(c[3] for c in containers)
            volume = sum(rng.uniform(24, 32) if c[0].startswith("2") else rng.uniform(55, 74) for c in containers)
            chargeable = gross
        elif mode == "ocean_lcl":
            volume = rng.uniform(0.8, 15)
            gross = volume * rng.uniform(120, 420)
            packages = (
                max(1, int(volume * rng.uniform(6, 20))) if cargo.package_type != "PX" else max(1, int(volume / 1.6))
            )
            chargeable = max(gross, volume * 1000)
        elif mode == "air":
            gross = min(8000.0, rng.lognormvariate(5.6, 1.0) + 20)
            volume = gross / rng.uniform(110, 260)
            packages = max(1, int(gross / rng.uniform(8, 40)))
            chargeable = max(gross, volume * 166.67)
        elif mode == "road_ftl":
            gross = rng.uniform(6000, 24000)
            volume = rng.uniform(40, 88)
            packages = rng.randint(18, 33)
            chargeable = max(gross, volume * 333)
        else:
            packages = rng.randint(1, 8)
            gross = packages * rng.uniform(200, 900)
            volume = packages * rng.uniform(1.1, 1.8)
            chargeable = max(gross, volume * 333)
        package_type = "PX" if mode.startswith("road") else cargo.package_type
        cargo_value_usd = gross * rng.uniform(3, 40)
        return _Load(
            cargo=cargo, is_dg=is_dg, containers=containers, gross=gross, packages=packages, volume=volume,
            chargeable=chargeable, package_type=package_type, cargo_value_usd=cargo_value_usd,
        )

    def _numbers(self, sid: int, route: _Route, line: _Timeline, load: _Load) -> _Numbers:
        """Booking, bill and waybill numbers, the voyage or flight, the customer's PO and the container numbers."""
        rng = self.rng
        family, origin, dest = route.family, route.origin, route.dest
        carrier_code, carrier = route.carrier_code, route.carrier
        branch_code = {"Ocean Export": "SHA", "Ocean Import": "RTM", "Air Freight": "CHI", "Road & Customs": "RTM"}[
            route.team
        ]
        nbk = self._perm(sid, 10_000_000, 6_151_003, 11)
        vessel = voyage = flight = mbl = hbl = awb = hawb = None
        if family == "ocean":
            booking = self._ocean_booking(carrier_code, origin, nbk)
            vessel = rng.choice(carrier.fleet)
            dep_t = line.planned[line.dep_idx]
            dlon = (dest.longitude - origin.longitude + 540) % 360 - 180
            dlat = dest.latitude - origin.latitude
            direction = ("N" if dlat > 0 else "S") if abs(dlat) > abs(dlon) else ("E" if dlon > 0 else "W")
            voyage = f"{dep_t.year % 10}{dep_t.isocalendar()[1]:02d}{direction}"
            mbl = f"{carrier_code}{self._perm(sid, 1_000_000_000, 387_420_489, 13):09d}"
            hbl = f"HSL{branch_code}{self._perm(sid, 10_000_000, 2_718_281, 17):07d}"
        elif family == "air":
            booking = f"{carrier_code}{nbk:08d}"
            flight = f"{carrier_code}{rng.randint(100, 9899)}"
            awb = make_awb(carrier.awb_prefix, self._perm(sid, 10_000_000, 4_837_219, 19))
            hawb = f"HSLA{self._perm(sid, 10_000_000, 3_141_593, 23):07d}"
        else:
            booking = f"{carrier_code}-{nbk:07d}"
        cmr = f"CMR{self._perm(sid, 100_000_000, 16_180_339, 29):08d}" if family == "road" else None
        customer_po = route.company.profile.po_format.format(n=self._perm(sid, 1_000_000, 999_983, 31))
        container_numbers: list[str] = []
        for _ in load.containers:
            self.container_seq += 1
            owner = rng.choice(carrier.equipment_owner_codes) if rng.random() < 0.8 else rng.choice(LESSOR_OWNER_CODES)
            serial = self._perm(self.container_seq, 1_000_000, 738_157, 37)
            container_numbers.append(make_container_number(owner[:3], owner[3], serial))
        return _Numbers(
            booking=booking, vessel=vessel, voyage=voyage, flight=flight, mbl=mbl, hbl=hbl, awb=awb, hawb=hawb,
            cmr=cmr, customer_po=customer_po, container_numbers=container_numbers,
        )

    def _parties(self, route: _Route) -> _Parties:
        """Shipper and consignee (the customer is one of them) and the notify party."""
        rng = self.rng
        company, origin, dest = route.company, route.origin, route.dest
        prof = company.profile
        region_key = (origin.road_region or "eu") if route.family == "road" else None
        if route.customer_is_consignee:
            consignee, consignee_addr = company.name, prof.address
            shipper = rng.choice(org.COUNTERPARTIES[region_key or origin.region])
            shipper_addr = f"{rng.randint(1, 480)} {rng.choice(org.STREETS)}, {origin.name}, {origin.country}"
        else:
            shipper, shipper_addr = company.name, prof.address
            consignee = rng.choice(org.COUNTERPARTIES[region_key or dest.region])
            consignee_addr = f"{rng.randint(1, 480)} {rng.choice(org.STREETS)}, {dest.name}, {dest.country}"
        notify = consignee if rng.random() < 0.7 else f"{consignee} c/o Harbor & Sky Logistics customs desk"
        return _Parties(shipper=shipper, shipper_addr=shipper_addr, consignee=consignee,
                        consignee_addr=consignee_addr, notify=notify)

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
            value = normalize_reference(display)
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
