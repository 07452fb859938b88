"""The shipment builder's first steps: who ships what how (route), when (timeline), what (load), under which
numbers, and between which parties."""

from __future__ import annotations

from datetime import datetime, timedelta

from portal_app.services.identifiers import make_awb, make_container_number
from seed import config_data as cfg
from seed import org_data as org
from seed.generate.common import (
    ARRIVAL_SIDE_CAUSES,
    DELAY_CAUSES,
    HOUR,
    LESSOR_OWNER_CODES,
    MODES,
    _Load,
    _midnight,
    _Numbers,
    _Parties,
    _Route,
    _Timeline,
)
from seed.reference_data import (
    air_transit_days,
    ocean_transit_days,
    road_transit_days,
)


class ShipmentPlanning:
    """A part of :class:`seed.generate.ShipmentGenerator` (see the module)."""

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
