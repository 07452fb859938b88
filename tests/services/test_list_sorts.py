"""Every list a person works through sorts by its column headers in the service's query (services/sorting.py):
each key ascending and descending, empty values last, pages that neither overlap nor skip (the row id breaks
ties), the same rows as the default order (tenancy unchanged), and an unknown key refused with a message.
Run over the demo seed as its demo accounts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from portal_app.services import documents, exceptions, finance, quotes, requests, tasks
from portal_app.services.errors import ValidationFailed
from portal_app.services.sorting import SortKeys
from tests.quote_world import QuoteWorld

PRIORITY = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
SEVERITY = {"low": 0, "medium": 1, "high": 2, "critical": 3}

# (list name, the call, whose list, its sort keys, key -> the row's value it orders by, the row's id)
Lister = Callable[..., Any]
LISTS: list[tuple[str, Lister, str, SortKeys | tuple[str, ...], dict[str, Callable[[Any], Any]], Callable]] = [
    ("documents", lambda db, p, **kw: documents.list_documents(db, p, status="all", **kw), "alice",
     documents.LIST_SORTS,
     {"shipment": lambda r: r.shipment_reference, "type": lambda r: r.doc_type, "file": lambda r: r.filename,
      "status": lambda r: r.status, "uploaded": lambda r: r.uploaded_at}, lambda r: r.id),
    ("invoices", finance.list_invoices, "alice", finance.LIST_SORTS,
     {"number": lambda r: r.number, "shipment": lambda r: r.shipment_reference, "issued": lambda r: r.issue_date,
      "due": lambda r: r.due_date}, lambda r: r.number),
    ("customer requests", lambda db, p, **kw: requests.list_requests(
        db, p, requests.RequestFilters(status="all"), **kw), "alice", requests.LIST_SORTS,
     {"reference": lambda r: r.reference, "subject": lambda r: r.subject, "status": lambda r: r.status,
      "updated": lambda r: r.updated_at, "opened": lambda r: r.created_at}, lambda r: r.reference),
    ("request queue", lambda db, p, **kw: requests.list_requests(
        db, p, requests.RequestFilters(status="all"), **kw), "agent", requests.LIST_SORTS,
     {"reference": lambda r: r.reference, "priority": lambda r: PRIORITY[r.priority],
      "resolution": lambda r: r.resolution.due_at, "opened": lambda r: r.created_at}, lambda r: r.reference),
    ("quotes", quotes.list_quotes, "alice", quotes.LIST_SORTS,
     {"reference": lambda r: r.reference, "ready": lambda r: r.ready_date}, lambda r: r.reference),
    ("exceptions", lambda db, p, **kw: exceptions.list_exceptions(
        db, p, exceptions.ExceptionFilters(status="all"), **kw), "agent", exceptions.LIST_SORTS,
     {"id": lambda r: r.id, "shipment": lambda r: r.shipment_reference, "kind": lambda r: r.kind,
      "severity": lambda r: SEVERITY[r.severity], "opened": lambda r: r.created_at,
      "sla": lambda r: r.timer.due_at}, lambda r: r.id),
    ("tasks", lambda db, p, **kw: tasks.list_tasks(db, p, tasks.TaskFilters(status="all"), **kw), "agent",
     tasks.LIST_SORTS,
     {"id": lambda r: r.id, "title": lambda r: r.title, "shipment": lambda r: r.shipment_reference,
      "status": lambda r: r.status, "due": lambda r: r.due.due_at}, lambda r: r.id),
]


def _in_order(values: list[Any], descending: bool) -> bool:
    """Ordered one way, empty values last."""
    present = [v for v in values if v is not None]
    if values[:len(present)] != present:
        return False
    return present == sorted(present, reverse=descending)


def _all(lister: Lister, db, principal, sort: str | None) -> list[Any]:
    """Every row of the list, page after page."""
    kwargs = {} if sort is None else {"sort": sort}
    first = lister(db, principal, page=1, page_size=100, **kwargs)
    rows = list(first.rows)
    for page in range(2, first.pages + 1):
        rows += lister(db, principal, page=page, page_size=100, **kwargs).rows
    return rows


@pytest.mark.parametrize("name,lister,who,keys,values,ident", LISTS, ids=[entry[0] for entry in LISTS])
def test_each_sort_key_orders_the_list_over_the_demo_seed(demo: QuoteWorld, name, lister, who, keys, values, ident):
    principal = getattr(demo, who)
    with demo.session() as db:
        default = _all(lister, db, principal, None)
        assert default, f"the demo seed has {name} for {who}"
        everyone = sorted(map(ident, default))
        for key, value in values.items():
            for sort, descending in ((key, False), (f"-{key}", True)):
                rows = _all(lister, db, principal, sort)
                assert sorted(map(ident, rows)) == everyone, (name, sort)  # the same rows: only the order moves
                assert _in_order([value(r) for r in rows], descending), (name, sort)


@pytest.mark.parametrize("name,lister,who,keys,values,ident", LISTS, ids=[entry[0] for entry in LISTS])
def test_pages_of_a_sorted_list_neither_overlap_nor_skip(demo: QuoteWorld, name, lister, who, keys, values, ident):
    """Many rows share a value (a status, a type): the id decides between them, so page after page is stable."""
    principal = getattr(demo, who)
    key = next(iter(values))
    with demo.session() as db:
        whole = [ident(r) for r in _all(lister, db, principal, f"-{key}")]
        paged: list[Any] = []
        for page in range(1, min(len(whole), 60) // 3 + 1):
            paged += [ident(r) for r in lister(db, principal, page=page, page_size=3, sort=f"-{key}").rows]
        assert paged == whole[:len(paged)] and len(set(paged)) == len(paged)


@pytest.mark.parametrize("name,lister,who,keys,values,ident", LISTS, ids=[entry[0] for entry in LISTS])
def test_an_unknown_sort_is_refused_with_the_keys_it_offers(demo: QuoteWorld, name, lister, who, keys, values,
                                                            ident):
    with demo.session() as db, pytest.raises(ValidationFailed) as refused:
        lister(db, getattr(demo, who), page=1, page_size=5, sort="password_hash")
    offered = keys.keys if isinstance(keys, SortKeys) else keys
    assert "Unknown sort" in refused.value.message and offered[0] in refused.value.message


def test_a_customer_sorted_list_holds_only_its_own_company(demo: QuoteWorld):
    with demo.session() as db:
        theirs = {r.number for r in _all(finance.list_invoices, db, demo.nina, None)}
        for sort in finance.LIST_SORTS.keys:
            mine = {r.number for r in _all(finance.list_invoices, db, demo.alice, sort)}
            assert mine and not mine & theirs
        docs_of = LISTS[0][1]
        their_docs = {r.id for r in _all(docs_of, db, demo.nina, None)}
        for sort in documents.LIST_SORTS.keys:
            assert not {r.id for r in _all(docs_of, db, demo.alice, sort)} & their_docs


def test_the_default_orders_are_the_lists_own():
    """Without a header chosen each list keeps the order it always had (newest first, the nearest due first)."""
    assert documents.list_documents.__kwdefaults__["sort"] == "-uploaded"
    assert finance.list_invoices.__kwdefaults__["sort"] == "-issued"
    assert exceptions.list_exceptions.__kwdefaults__["sort"] == "sla"
    assert requests.list_requests.__kwdefaults__["sort"] is None and tasks.my_queue.__kwdefaults__["sort"] is None
