"""The portal's shipments list page: its filter form is rebuilt only when what it shows changes, and the page is
drawn with plain elements where it repeats (docs/decisions.md, "Plain elements where a page renders many of them")."""

from __future__ import annotations

import re

import pytest

from portal_app.portal.shipments import PortalShipmentsState, portal_shipments
from tests.ops_world import make_shipment
from tests.page_states import run, state_as, use_db
from tests.quote_world import QuoteWorld

S = PortalShipmentsState


@pytest.fixture()
def on_ops_db(oworld: QuoteWorld, monkeypatch):
    use_db(monkeypatch, oworld.engine)
    with oworld.session() as db:
        make_shipment(db)
    yield oworld


def test_the_filter_form_is_rebuilt_only_when_its_values_change(on_ops_db: QuoteWorld, monkeypatch):
    w = on_ops_db
    st = state_as(monkeypatch, S, w.alice, "/portal/shipments")
    run(S.load, st)
    assert st.total > 0 and st.rows and st.form_key == 0  # the form the page was drawn with already fits

    run(S.apply_filters, st, {"q": "", "status": "all", "mode": "all"})  # nothing narrowed: same filters
    assert st.form_key == 0
    run(S.apply_filters, st, {"q": "", "status": "in_transit", "mode": "all"})
    assert st.params == {"status": "in_transit"} and st.form_key == 1
    run(S.go_to_page, st, 1)
    assert st.form_key == 1
    run(S.clear_filters, st)  # also empties what was typed but not applied
    assert st.params == {} and st.form_key == 2
    run(S.clear_filters, st)
    assert st.form_key == 3

    linked = state_as(monkeypatch, S, w.alice, "/portal/shipments?status=in_transit")  # from a dashboard figure
    run(S.load, linked)
    assert linked.params == {"status": "in_transit"} and linked.form_key == 1


def test_the_list_page_draws_rows_and_fields_as_plain_elements():
    code = str(portal_shipments())
    themed = set(re.findall(r"RadixThemes(Table|TextField|Checkbox|Badge)\b", code))
    # The area badge in the header is the page's one themed badge; rows, fields and the checkbox are plain.
    assert themed <= {"Badge"}, themed
    assert 'className:"plain-table"' in code and 'className:"tone-badge"' in code and 'type:"checkbox"' in code


def test_sort_and_page_are_kept_in_the_address(on_ops_db: QuoteWorld, monkeypatch):
    """A header sorts (ascending, then descending) and the address bar is rewritten with the filters, sort and page,
    so a reload, Back and a shared link show the same list; an address with them opens the list as it says."""
    w = on_ops_db
    with w.session() as db:
        for _ in range(3):
            make_shipment(db)
    st = state_as(monkeypatch, S, w.alice, "/portal/shipments?status=in_transit")
    run(S.load, st)
    event = run(S.sort_by, st, "reference")
    refs = [r.reference for r in st.rows]
    assert st.sort == "reference" and refs == sorted(refs)
    assert st.address() == "/portal/shipments?status=in_transit&sort=reference"
    assert "replaceState" in str(event) and "sort=reference" in str(event)
    run(S.sort_by, st, "reference")
    assert st.sort == "-reference" and [r.reference for r in st.rows] == sorted(refs, reverse=True)
    assert run(S.sort_by, st, "customer_po") is None and st.sort == "-reference"  # not a sortable column

    shared = state_as(monkeypatch, S, w.alice, "/portal/shipments?status=in_transit&sort=-reference&page=99")
    run(S.load, shared)
    assert shared.sort == "-reference" and shared.params == {"status": "in_transit"}
    assert shared.page == shared.pages  # past the end: the last page
