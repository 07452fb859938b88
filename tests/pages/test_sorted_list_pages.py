"""The lists a person works through sort by their column headers and keep filters, sort and page in the address
(components/sortable.py): a header sorts ascending then descending and the address bar is rewritten; an address
with a sort and a page opens the list as it says; a sort the list does not offer is ignored, never an error.
Driven over the demo seed as its demo accounts."""

from __future__ import annotations

import re

import pytest

from portal_app.components.sortable import list_address, read_page, read_sort
from portal_app.portal.documents import PortalDocumentsState, portal_documents
from portal_app.portal.invoices.listing import PortalInvoicesState, portal_invoices
from portal_app.portal.quotes import PortalQuotesState, portal_quotes
from portal_app.portal.requests import PortalRequestsState, portal_requests
from portal_app.tower.exceptions import TowerExceptionsState, tower_exceptions
from portal_app.tower.requests import TowerRequestsState, tower_requests
from portal_app.tower.tasks import TowerTasksState, tower_tasks
from tests.page_states import run, state_as, use_db
from tests.quote_world import QuoteWorld

# (state, its page, who, its address with a filter, a sortable key, the row's value that key orders by)
LISTS = [
    (PortalDocumentsState, portal_documents, "alice", "/portal/documents?status=all", "file",
     lambda r: r.filename),
    (PortalInvoicesState, portal_invoices, "alice", "/portal/invoices?status=open", "number", lambda r: r.number),
    (PortalRequestsState, portal_requests, "alice", "/portal/requests?status=all", "reference",
     lambda r: r.reference),
    (PortalQuotesState, portal_quotes, "alice", "/portal/quotes", "reference", lambda r: r.reference),
    (TowerRequestsState, tower_requests, "agent", "/tower/requests?status=all", "reference", lambda r: r.reference),
    (TowerExceptionsState, tower_exceptions, "agent", "/tower/exceptions?status=all", "id", lambda r: int(r.id)),
    (TowerTasksState, tower_tasks, "agent", "/tower/tasks?view=all&status=all", "id", lambda r: int(r.id)),
]
IDS = [entry[3].split("?")[0] for entry in LISTS]


@pytest.fixture()
def on_demo(demo: QuoteWorld, monkeypatch):
    use_db(monkeypatch, demo.engine)
    yield demo


@pytest.mark.parametrize("S,page,who,url,key,value", LISTS, ids=IDS)
def test_a_header_sorts_and_the_address_keeps_it(on_demo: QuoteWorld, monkeypatch, S, page, who, url, key, value):
    w = on_demo
    st = state_as(monkeypatch, S, getattr(w, who), url)
    run(S.load, st)
    assert st.rows and not st.error, url
    glue = "&" if "?" in url else "?"

    event = run(S.sort_by, st, key)
    shown = [value(r) for r in st.rows]
    assert st.sort == key and shown == sorted(shown) and st.page == 1
    assert st.address() == f"{url}{glue}sort={key}"
    assert "replaceState" in str(event) and f"sort={key}" in str(event)
    run(S.sort_by, st, key)
    backwards = [value(r) for r in st.rows]
    assert st.sort == f"-{key}" and backwards == sorted(backwards, reverse=True) and backwards[0] >= shown[-1]
    assert run(S.sort_by, st, "password_hash") is None and st.sort == f"-{key}"  # not a header: nothing changes

    # A shared link opens the list as it says; past its end, the last page.
    shared = state_as(monkeypatch, S, getattr(w, who), f"{url}{glue}sort=-{key}&page=999")
    run(S.load, shared)
    assert shared.sort == f"-{key}" and shared.page == shared.pages and not shared.error
    assert shared.address().startswith(f"{url}{glue}sort=-{key}")
    if shared.pages > 1:
        assert f"page={shared.pages}" in shared.address()
        event = run(S.go_to_page, shared, -1)  # paging rewrites the address too
        assert "replaceState" in str(event) and shared.page == shared.pages - 1


@pytest.mark.parametrize("S,page,who,url,key,value", LISTS, ids=IDS)
def test_an_unknown_sort_in_the_address_is_ignored(on_demo: QuoteWorld, monkeypatch, S, page, who, url, key, value):
    w = on_demo
    plain = state_as(monkeypatch, S, getattr(w, who), url)
    run(S.load, plain)
    odd = state_as(monkeypatch, S, getattr(w, who), f"{url}{'&' if '?' in url else '?'}sort=drop%20table&page=abc")
    run(S.load, odd)
    assert not odd.error and odd.sort == S.DEFAULT_SORT and odd.page == 1
    assert odd.rows == plain.rows
    assert "sort=" not in odd.address()


@pytest.mark.parametrize("S,page,who,url,key,value", LISTS, ids=IDS)
def test_sortable_headers_are_buttons_in_headers_that_say_their_order(S, page, who, url, key, value):
    code = str(page())
    assert re.search(r'"aria-sort":\(\(\S+\.sort_rx_state_\S+ === "' + key + '"', code), "the header says its order"
    assert '"aria-label":"Sort by ' in code and 'type:"button"' in code


def test_the_address_format():
    assert list_address("/portal/invoices", {"status": "open", "q": ""}, sort="-issued", default_sort="-issued",
                        page=1) == "/portal/invoices?status=open"
    assert list_address("/portal/invoices", {}, sort="due", default_sort="-issued", page=3) == \
        "/portal/invoices?sort=due&page=3"
    assert read_sort({"sort": ["due"]}, {"due", "-due"}, "-issued") == "due"
    assert read_sort({"sort": ["password"]}, {"due", "-due"}, "-issued") == "-issued"
    assert read_page({"page": ["-2"]}) == 1 and read_page({"page": ["x"]}) == 1 and read_page({"page": ["4"]}) == 4
