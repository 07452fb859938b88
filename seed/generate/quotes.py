"""Quote requests and options: those that led to a booking and standalone ones."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal

from seed import org_data as org
from seed.generate.common import CENT, HOUR, MODES, ZERO, Ship, money, qty
from seed.reference_data import (
    Place,
    air_transit_days,
    ocean_transit_days,
    road_transit_days,
)
from seed.static_rows import CompanyCtx
from seed.writer import Batch


class Quotes:
    """A part of :class:`seed.generate.ShipmentGenerator` (see the module)."""

    def _quote_for_shipment(
        self, batch: Batch, s: Ship, ready: date, containers: list, gross: float, volume: float, cargo: org.Cargo,
    ) -> int:
        rng = self.rng
        qid = self.ids.next("quoterequest")
        q_created = s.created_at - timedelta(days=rng.uniform(1, 6))
        requester = rng.choice(s.company.user_ids)
        self._quote_request_row(
            batch,
            qid,
            s.company,
            requester,
            "accepted",
            s.mode,
            s.origin,
            s.dest,
            ready,
            s.incoterm,
            q_created,
            s.created_at,
            manual=False,
        )
        self._quote_cargo_row(batch, qid, cargo.description, containers, gross, volume, s.is_dg, cargo)
        total = sum((c.amount for c in s.charges), ZERO)
        accepted_id = 0
        carriers = [s.carrier_code] + [self._carrier(s.family, s.origin, s.dest) for _ in range(rng.randint(1, 2))]
        card_id = self.ctx.rate_cards.get(
            (s.mode, self.ctx.location_ids[s.origin.code], self.ctx.location_ids[s.dest.code]))
        for n, code in enumerate(dict.fromkeys(carriers)):
            oid = self.ids.next("quoteoption")
            accepted = n == 0
            factor = 1.0 if accepted else rng.uniform(0.9, 1.25)
            charges = [(c.code, c.description, c.quantity, c.unit_price * Decimal(f"{factor:.4f}")) for c in s.charges]
            amounts = [(q * p).quantize(CENT) for _c, _d, q, p in charges]
            opt_total = total if accepted else sum(amounts, ZERO)
            batch.add(
                "quoteoption",
                {
                    "id": oid,
                    "quote_request_id": qid,
                    "rate_card_id": card_id,
                    **self._free_days(card_id),
                    "carrier_id": self.ctx.carrier_ids[code],
                    "currency": s.company.currency,
                    "total": opt_total,
                    "transit_days": max(
                        1,
                        (s.planned[s.arr_idx] - s.planned[s.dep_idx]).days
                        + rng.randint(-2, 3) * (0 if accepted else 1),
                    ),
                    "valid_until": q_created + timedelta(days=14),
                    "status": "accepted" if accepted else "declined",
                    "accepted_at": s.created_at if accepted else None,
                    "created_at": q_created + timedelta(minutes=1),
                    "version": 2 if accepted else 1,
                },
            )
            for (code_, desc, q, price), amount in zip(charges, amounts, strict=True):
                batch.add(
                    "quoteoptioncharge",
                    {
                        "id": self.ids.next("quoteoptioncharge"),
                        "quote_option_id": oid,
                        "code": code_,
                        "description": desc,
                        "quantity": q,
                        "unit_price": price.quantize(Decimal("0.0001")),
                        "amount": amount if not accepted else (q * price).quantize(CENT),
                    },
                )
            if accepted:
                accepted_id = oid
        return accepted_id

    def _free_days(self, card_id: int | None) -> dict[str, int | None]:
        """The free days of the card an option was priced from (none without a card)."""
        demurrage, detention = self.ctx.card_free_days.get(card_id, (None, None)) if card_id else (None, None)
        return {"demurrage_free_days": demurrage, "detention_free_days": detention}

    def _quote_request_row(
        self,
        batch: Batch,
        qid: int,
        company: CompanyCtx,
        requester: int,
        status: str,
        mode: str | None,
        origin: Place | None,
        dest: Place | None,
        ready: date | None,
        incoterm: str | None,
        created: datetime,
        updated: datetime,
        *,
        manual: bool,
    ) -> None:
        rng = self.rng
        services = [s for s in ("pickup", "customs", "insurance", "delivery") if rng.random() < 0.4]
        batch.add(
            "quoterequest",
            {
                "id": qid,
                "reference": f"QT{qid:07d}",
                "company_id": company.id,
                "requested_by_id": requester,
                "status": status,
                "mode": mode,
                "origin_id": self.ctx.location_ids[origin.code] if origin else None,
                "destination_id": self.ctx.location_ids[dest.code] if dest else None,
                "ready_date": ready,
                "incoterm": incoterm,
                "services": json.dumps(services),
                "cargo_value": money(rng.uniform(5000, 250000)) if rng.random() < 0.6 else None,
                "cargo_currency": company.currency,
                "customer_reference": company.profile.po_format.format(n=rng.randint(0, 999_999))
                if rng.random() < 0.5
                else None,
                "is_manual": manual,
                "manual_due_at": created + timedelta(hours=24) if manual else None,
                "created_at": created,
                "updated_at": updated,
                "version": 1 if status in ("draft", "requested") else 2,
            },
        )

    def _quote_cargo_row(
        self,
        batch: Batch,
        qid: int,
        description: str,
        containers: list,
        gross: float,
        volume: float,
        is_dg: bool,
        cargo: org.Cargo,
    ) -> None:
        rng = self.rng
        if containers:
            by_type: dict[str, int] = {}
            for c in containers:
                by_type[c[0]] = by_type.get(c[0], 0) + 1
            items = list(by_type.items())
        else:
            items = [(None, None)]
        for st, count in items:
            batch.add(
                "quotecargoline",
                {
                    "id": self.ids.next("quotecargoline"),
                    "quote_request_id": qid,
                    "description": description,
                    "packages": None if st else rng.randint(1, 40),
                    "length_cm": None if st else qty(120),
                    "width_cm": None if st else qty(80),
                    "height_cm": None if st else qty(rng.randint(80, 170)),
                    "weight_kg": qty(round(gross, 1)),
                    "container_size_type": st,
                    "container_count": count,
                    "is_dangerous_goods": is_dg,
                    "un_number": cargo.un_number if is_dg else None,
                    "dg_class": cargo.dg_class if is_dg else None,
                },
            )

    def standalone_quotes(self, batch: Batch, count: int) -> None:
        """Quotes that did not (yet) become bookings: drafts, manual pricing, offered, expired, declined."""
        rng = self.rng
        now = self.now
        for _ in range(count):
            company = self._pick_company()
            prof = company.profile
            mode = rng.choices(MODES, weights=prof.mode_weights)[0]
            if mode.startswith("road") and not prof.road_region:
                mode = "air"
            family = "ocean" if mode.startswith("ocean") else "air" if mode == "air" else "road"
            origin, dest = self._lane(company, mode)
            incoterm = self._incoterm(mode, dest.country == company.country)
            status = rng.choices(("draft", "requested", "quoted", "expired", "declined"), weights=(10, 15, 40, 25, 10))[
                0
            ]
            age = rng.uniform(0.2, 10) if status in ("draft", "requested", "quoted") else rng.uniform(15, 90)
            created = now - timedelta(days=age)
            ready = (created + timedelta(days=rng.randint(5, 30))).date()
            qid = self.ids.next("quoterequest")
            manual = status == "requested"
            self._quote_request_row(
                batch,
                qid,
                company,
                rng.choice(company.user_ids),
                status,
                mode,
                origin,
                dest if status != "draft" or rng.random() < 0.5 else None,
                ready,
                incoterm if status != "draft" else None,
                created,
                created + HOUR,
                manual=manual,
            )
            cargo = rng.choice([c for c in prof.cargo if c.un_number is None])
            containers = [(rng.choice(("22G1", "45G1")), "", 0, 0)] * rng.randint(1, 3) if mode == "ocean_fcl" else []
            gross = rng.uniform(300, 20000)
            self._quote_cargo_row(batch, qid, cargo.description, containers, gross, gross / 250, False, cargo)
            if status in ("quoted", "expired", "declined"):
                if family == "ocean":
                    transit = ocean_transit_days(origin, dest)
                elif family == "air":
                    transit = air_transit_days(origin, dest)
                else:
                    transit = road_transit_days(origin, dest, mode == "road_ltl")
                fx = float(self.fx[company.id])
                card_id = self.ctx.rate_cards.get(
                    (mode, self.ctx.location_ids[origin.code], self.ctx.location_ids[dest.code]))
                for n in range(rng.randint(1, 3)):
                    oid = self.ids.next("quoteoption")
                    carrier = self._carrier(family, origin, dest)
                    base = (250 + 55 * transit) * (len(containers) or max(1, gross / 1000)) * rng.uniform(0.8, 1.3)
                    lines = [
                        ("FRT", "Freight", qty(1), money(base * fx)),
                        ("DOC", "Documentation fee", qty(1), money(65 * fx)),
                    ]
                    if rng.random() < 0.5:
                        lines.append(("CUS", "Import customs clearance", qty(1), money(rng.uniform(95, 165) * fx)))
                    total = sum((p for _c, _d, _q, p in lines), ZERO)
                    valid_until = created + timedelta(days=14)
                    opt_status = {"quoted": "offered", "expired": "expired", "declined": "declined"}[status]
                    if status == "quoted" and valid_until < now:
                        valid_until = now + timedelta(days=rng.randint(2, 10))
                    batch.add(
                        "quoteoption",
                        {
                            "id": oid,
                            "quote_request_id": qid,
                            "rate_card_id": card_id,
                            **self._free_days(card_id),
                            "carrier_id": self.ctx.carrier_ids[carrier],
                            "currency": company.currency,
                            "total": total,
                            "transit_days": transit + n,
                            "valid_until": valid_until,
                            "status": opt_status,
                            "accepted_at": None,
                            "created_at": created + timedelta(minutes=1 + n),
                            "version": 1,
                        },
                    )
                    for code, desc, q, p in lines:
                        batch.add(
                            "quoteoptioncharge",
                            {
                                "id": self.ids.next("quoteoptioncharge"),
                                "quote_option_id": oid,
                                "code": code,
                                "description": desc,
                                "quantity": q,
                                "unit_price": p,
                                "amount": p,
                            },
                        )
