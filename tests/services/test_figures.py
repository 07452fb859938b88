"""Every figure equals the list it opens: on the demo data, as every demo account, each headline figure of the
portal home and the tower overview is compared with the total of the list behind its link, read the way that
page reads its address (the same parsing, the same service). A figure that counted one thing while its link
listed another ("Delayed 1" opening 8 shipments, "Documents we still need 42" opening 220 received ones) fails
here."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import Session

from portal_app.auth.principal import Principal
from portal_app.portal import documents as documents_page
from portal_app.portal import home as portal_home
from portal_app.portal.invoices import listing as invoices_page
from portal_app.services import (
    board,
    clock,
    dashboard,
    documents_owed,
    exceptions,
    finance,
    overview,
    requests,
    tasks,
)
from portal_app.services import shipments as shipments_svc
from portal_app.services.bookings import pending_bookings
from portal_app.tower import exceptions as exceptions_page
from portal_app.tower import home as tower_home
from portal_app.tower import requests as requests_page
from portal_app.ui import routes
from tests.quote_world import QuoteWorld, principal_for

CUSTOMERS = ["alice@acme.example", "bob@acme.example", "nina@nordwind.example", "omar@nordwind.example"]
STAFF = ["agent@harborsky.example", "manager@harborsky.example", "admin@harborsky.example"]


def _page_filters(params: dict, names: tuple[str, ...], parse) -> object:
    """What a shipment list page does with its address: keep its parameters, parse, write them back, parse again."""
    first = parse({k: v for k, v in params.items() if k in names})
    return parse(first.to_params())


def list_total(db: Session, principal: Principal, href: str) -> int:
    """The total the page at ``href`` shows, read as that page reads its address."""
    url = urlsplit(href)
    params = parse_qs(url.query)
    path = url.path
    if path == routes.PORTAL_SHIPMENTS:
        filters = _page_filters(params, shipments_svc.FILTER_PARAMS, shipments_svc.ShipmentFilters.from_params)
        return shipments_svc.list_shipments(db, principal, filters, page_size=1).total
    if path == routes.TOWER_SHIPMENTS:
        filters = _page_filters(params, board.BOARD_PARAMS, lambda p: board.BoardFilters.from_params(p, principal))
        return board.list_board(db, principal, filters, page_size=1).total
    if path == routes.PORTAL_INVOICES:
        status = (params.get("status") or [invoices_page.ALL])[0]
        status = status if status in finance.FILTER_STATUSES else invoices_page.ALL
        return finance.list_invoices(db, principal, status=None if status == invoices_page.ALL else status,
                                     page_size=1).total
    if path == routes.PORTAL_DOCUMENTS:
        assert params.get("status") == [documents_page.MISSING], href
        return documents_owed.list_missing(db, principal, page_size=1).total
    if path == routes.PORTAL_REQUESTS:
        status = (params.get("status") or ["active"])[0]
        return requests.list_requests(db, principal, requests.RequestFilters(status=status), page_size=1).total
    if path == routes.TOWER_REQUESTS:
        f = requests_page.service_filters(requests_page.clean_filters(params), principal.user_id)
        return requests.list_requests(db, principal, f, page_size=1).total
    if path == routes.TOWER_EXCEPTIONS:
        f = exceptions_page.service_filters(exceptions_page.clean_filters(params), principal.user_id)
        return exceptions.list_exceptions(db, principal, f, page_size=1).total
    if path == routes.TOWER_TASKS:
        assert params.get("view") == ["mine"], href
        return tasks.my_queue(db, principal, page_size=1).total
    if path == routes.TOWER_BOOKINGS:
        return pending_bookings(db, principal, page_size=1).total
    raise AssertionError(f"no list known for {href}: teach this test how that page reads its address")


@pytest.mark.parametrize("email", CUSTOMERS)
def test_every_portal_figure_is_the_total_of_the_list_it_opens(demo: QuoteWorld, email: str):
    principal = principal_for(demo.engine, email)
    with demo.session() as db:
        d = dashboard.dashboard(db, principal)
        s = d.summary
        figures = {
            "active": s.active_shipments, "arriving": s.arriving_this_week, "delayed": s.delayed_shipments,
            "open_invoices": s.open_invoices, "overdue_invoices": s.overdue_invoices,
            "documents_owed": d.documents_owed, "open_requests": d.open_requests,
            **{f"status:{st}": d.by_status.get(st, 0) for st in shipments_svc.ACTIVE_STATUS_VALUES},
        }
        links = portal_home.figure_links(clock.today())
        assert set(links) == set(figures)
        wrong = {key: (figures[key], list_total(db, principal, href)) for key, href in links.items()
                 if figures[key] != list_total(db, principal, href)}
        assert not wrong, f"figure vs the list it opens: {wrong}"
        assert d.documents_owed > 0 or email.endswith("nordwind.example")  # the demo has owed documents at Acme


@pytest.mark.parametrize("email", STAFF)
def test_every_tower_tile_is_the_total_of_the_list_it_opens(demo: QuoteWorld, email: str):
    principal = principal_for(demo.engine, email)
    with demo.session() as db:
        summary = overview.tower_summary(db, principal)
        links = tower_home.figure_links()
        assert {field for _label, field, _hint in tower_home.TILES} == set(links)
        wrong = {field: (getattr(summary, field), list_total(db, principal, href)) for field, href in links.items()
                 if href is not None and getattr(summary, field) != list_total(db, principal, href)}
        assert not wrong, f"tile vs the list it opens: {wrong}"
        assert summary.delayed_shipments > 0  # the demo has shipments running late


def test_delayed_means_running_late_and_not_yet_delivered(demo: QuoteWorld):
    with demo.session() as db:
        rows = shipments_svc.list_shipments(db, demo.manager, overview.delayed_filters(), page_size=100).rows
        assert rows and all(r.delay_minutes > 0 and r.status in shipments_svc.ACTIVE_STATUS_VALUES for r in rows)


@pytest.mark.parametrize("email", STAFF)
def test_your_work_comes_first_and_each_count_is_the_list_it_opens(demo: QuoteWorld, email: str):
    principal = principal_for(demo.engine, email)
    with demo.session() as db:
        lists = tower_home.work_lists(overview.my_work(db, principal), clock.now())
        assert set(lists) == set(tower_home.WORK_LINKS)
        for key, href in tower_home.WORK_LINKS.items():
            assert lists[key].total == list_total(db, principal, href), key
            assert len(lists[key].rows) == min(lists[key].total, overview.MY_WORK_ROWS)
        if email.startswith("agent"):
            assert lists["my_exceptions"].total > 0  # the demo agent owns exceptions
