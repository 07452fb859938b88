"""The shipment builder's steps in order: route, timeline, load, numbers, parties (:mod:`seed.generate.planning`),
then the rows (:mod:`seed.generate.rows` and the other parts)."""

from __future__ import annotations

from seed.generate.common import Ship
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
