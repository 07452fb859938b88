"""Tenancy as a property: for any principal and any filter, no service read returns another company's row."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from models import Company, Shipment, User
from models.enums import Mode, Role, ShipmentStatus
from portal_app.auth.permissions import Permission, has_permission
from portal_app.auth.principal import Principal
from portal_app.services import shipments as svc
from portal_app.services.errors import NotFound
from portal_app.services.overview import portal_summary


def _principal(db: Session, user: User) -> Principal:
    company = db.get(Company, user.company_id)
    return Principal(user.id, user.company_id, Role(user.role), user.email, user.full_name, company.name)


def _filters(world):
    all_refs = world.references["ALFA"] + world.references["BETA"]
    return st.builds(
        svc.ShipmentFilters,
        statuses=st.lists(st.sampled_from([s.value for s in ShipmentStatus]), max_size=3, unique=True).map(tuple),
        mode=st.none() | st.sampled_from([m.value for m in Mode]),
        search=(st.none() | st.sampled_from(all_refs) | st.sampled_from(all_refs).map(lambda r: r[:4])
                | st.text(max_size=6)),
        company_id=st.none() | st.sampled_from(list(world.companies.values())),
    )


def test_no_service_read_leaks_across_companies(world, engine):
    users = list(world.users.values())

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(user=st.sampled_from(users), filters=_filters(world), page_size=st.integers(1, 50),
           sort=st.sampled_from(list(svc.SORTS)))
    def check(user, filters, page_size, sort):
        with Session(engine) as db:
            principal = _principal(db, user)
            page = svc.list_shipments(db, principal, filters, page_size=page_size, sort=sort)
            companies = {c.name: c.id for c in db.exec(select(Company)).all()}
            seen = {companies[r.company_name] for r in page.rows}
            if principal.is_customer:
                assert seen <= {principal.company_id}
                assert page.total <= len(world.shipments["ALFA"]) + len(world.shipments["BETA"])
                own_total = db.exec(select(Shipment).where(Shipment.company_id == principal.company_id)).all()
                assert page.total <= len(own_total)
            else:
                assert has_permission(principal.role, Permission.VIEW_ALL_COMPANIES)
                if filters.company_id is not None:
                    assert seen <= {filters.company_id}
            for row in page.rows:
                if principal.is_customer:
                    assert row.reference in world.shipments[principal.company_name[:4].upper()]

    check()


def test_detail_reads_respect_the_company(world, engine):
    all_refs = world.shipments["ALFA"] + world.shipments["BETA"]

    @settings(max_examples=80, deadline=None)
    @given(user=st.sampled_from(list(world.users.values())), reference=st.sampled_from(all_refs))
    def check(user, reference):
        with Session(engine) as db:
            principal = _principal(db, user)
            owner = db.exec(select(Shipment.company_id).where(Shipment.reference == reference)).one()
            if principal.sees_all_companies or owner == principal.company_id:
                assert svc.get_shipment(db, principal, reference).row.reference == reference
            else:
                try:
                    svc.get_shipment(db, principal, reference)
                except NotFound:
                    pass
                else:
                    raise AssertionError(f"{principal.email} read {reference} of company {owner}")

    check()


def test_portal_figures_count_only_own_company(world, engine):
    with Session(engine) as db:
        alfa = _principal(db, world.users["ALFA:customer_user"])
        beta = _principal(db, world.users["BETA:customer_user"])
        a, b = portal_summary(db, alfa), portal_summary(db, beta)
        active = [s.value for s in (ShipmentStatus.BOOKED, ShipmentStatus.CONFIRMED, ShipmentStatus.IN_TRANSIT,
                                    ShipmentStatus.ARRIVED)]
        for principal, summary in ((alfa, a), (beta, b)):
            expected = len(db.exec(select(Shipment).where(Shipment.company_id == principal.company_id,
                                                          Shipment.status.in_(active))).all())
            assert summary.active_shipments == expected


def test_list_statements_are_shared_but_the_company_is_bound_per_call(world, engine):
    """The list's statements are built once per filter shape; the company scope is a value of each call, so the
    same statement serves two companies and each still sees only its own shipments."""
    first_two = tuple(s.value for s in list(ShipmentStatus)[:2])
    filters = svc.ShipmentFilters(statuses=first_two, origin="CNSHA", eta_from=date(2026, 11, 1))
    with Session(engine) as db:
        alfa = _principal(db, world.users["ALFA:customer_user"])
        beta = _principal(db, world.users["BETA:customer_user"])
        staff = _principal(db, world.users["FWD:ops_agent"])
        queries = {p.email: svc.list_query(p, filters, page=1, page_size=50, sort="updated")
                   for p in (alfa, beta, staff)}
        assert queries[alfa.email].rows is queries[beta.email].rows
        assert queries[alfa.email].values["company_id"] == alfa.company_id
        assert queries[beta.email].values["company_id"] == beta.company_id
        assert "company_id" not in queries[staff.email].values  # staff read every company
        for principal, code in ((alfa, "ALFA"), (beta, "BETA")):
            refs = {r.reference for r in svc.list_shipments(db, principal, filters, page_size=50).rows}
            assert refs and refs <= set(world.shipments[code])


def test_a_richer_filter_cannot_replace_the_company_scope(world, engine):
    """A filter class whose own values or clauses reuse a name of the list's (``company_id`` above all) is refused
    instead of silently replacing the scope the principal gives."""

    class Widening(svc.ShipmentFilters):
        def extra_values(self, principal):
            return {"company_id": world.companies["BETA"]}

    class Unscoping(svc.ShipmentFilters):
        @classmethod
        def extra_clauses(cls):
            return {"company_id": lambda _: sa.true()}

    with Session(engine) as db:
        alfa = _principal(db, world.users["ALFA:customer_user"])
        for filters in (Widening(), Unscoping()):
            with pytest.raises(RuntimeError, match="company_id"):
                svc.list_shipments(db, alfa, filters)
