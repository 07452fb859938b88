"""Decisions asked in a dialog and results placed beside their buttons, as page state: which dialog is open, where
a result is shown, and that a refused form keeps what was typed (its key stays) while a success clears it."""

from __future__ import annotations

import pytest

from portal_app.services import clock
from portal_app.services import exceptions as exc_svc
from portal_app.tower.exception_detail import TowerExceptionState as D
from tests.ops_world import T0, make_shipment
from tests.page_states import run, state_as, use_db
from tests.quote_world import QuoteWorld


@pytest.fixture()
def exception_page(oworld: QuoteWorld, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: T0)
    use_db(monkeypatch, oworld.engine)
    with oworld.session() as db:
        made = exc_svc.create_exception(db, oworld.agent, exc_svc.ExceptionInput(
            shipment_reference=make_shipment(db).reference, kind="other", title="Seal broken"))
    st = state_as(monkeypatch, D, oworld.manager, f"/tower/exceptions/{made.row.id}")
    run(D.load, st)
    assert st.exception is not None
    return oworld, st, made.row.id


def test_resolving_is_asked_in_a_dialog_that_keeps_the_input_it_refuses(exception_page):
    w, st, number = exception_page
    run(D.decide, st, "resolve", True)
    assert st.deciding == "resolve"
    key = st.form_key
    run(D.resolve, st, {"note": "", "customer_message": "Released today."})  # no note: refused on the page
    assert (st.deciding, st.at, st.form_key) == ("resolve", "decision", key)
    assert st.field_errors["note"].startswith("Write a resolution note")
    run(D.resolve, st, {"note": "Customs released it.", "customer_message": "ok"})  # refused by the service
    assert (st.deciding, st.form_key, st.notice) == ("resolve", key, "")
    assert st.field_errors == {"customer_message": st.field_errors["customer_message"]}
    with w.session() as db:  # someone else resolves it meanwhile: refused, the page reads it again, input kept
        exc_svc.resolve_exception(db, w.agent, number, "Resolved by the terminal.", expected_version=st._version)
    run(D.resolve, st, {"note": "Customs released it.", "customer_message": ""})
    assert (st.deciding, st.at, st.form_key) == ("resolve", "decision", key)
    assert "Nothing was saved" in st.error and st.exception.resolved == "yes"
    run(D.decide, st, "resolve", False)  # Escape or Cancel
    assert (st.deciding, st.error) == ("", "")


def test_a_decision_closes_its_dialog_and_says_so_under_its_button(exception_page):
    _w, st, _number = exception_page
    run(D.decide, st, "resolve", True)
    key = st.form_key
    run(D.resolve, st, {"note": "Customs released it after the inspection.", "customer_message": ""})
    assert (st.deciding, st.at, st.error) == ("", "decision", "")
    assert st.notice.startswith("Resolved.") and st.form_key == key + 1
    run(D.take, st)
    assert st.at == "assign" and st.notice == "You own this exception now."
    run(D.decide, st, "nonsense", True)
    assert st.deciding == ""


def _resetting_forms(component) -> int:
    """How many forms of a page empty themselves on every submit, whatever the server answers."""
    hooks = "".join(component._get_all_hooks())
    return hooks.count("$form.reset()") - hooks.count("if (false) {\n            $form.reset()")


def test_forms_that_can_be_refused_do_not_empty_themselves_on_submit():
    """A form is emptied by the page after a success (a new key, or the form goes away), never by the browser on
    submit: a refusal leaves what was typed."""
    from portal_app.portal.invoices.invoice import portal_invoice_detail
    from portal_app.portal.request_detail import portal_request
    from portal_app.tower.bookings import tower_bookings
    from portal_app.tower.exception_detail import tower_exception_detail
    from portal_app.tower.shipments import tower_shipments
    from portal_app.tower.workspace import tower_shipment_workspace

    for page in (tower_bookings, tower_exception_detail, tower_shipment_workspace, portal_invoice_detail,
                 portal_request):
        assert _resetting_forms(page()) == 0, page.__name__
    assert _resetting_forms(tower_shipments()) <= 1  # the list's "save this view" form (its name only)


def test_workspace_results_are_placed_under_the_form_that_saved(tworld: QuoteWorld, monkeypatch):
    """Each workspace form's outcome is kept for that form (``ws_at``); a refusal keeps the forms (``ws_key``)."""
    from portal_app.tower.workspace import TowerWorkspaceState as W
    from tests.tower_world import make_shipment as make_tower_shipment

    use_db(monkeypatch, tworld.engine)
    with tworld.session() as db:
        ref = make_tower_shipment(db).reference
    st = state_as(monkeypatch, W, tworld.manager, f"/tower/shipments/{ref}")
    run(W.load, st)
    key = st.ws_key
    run(W.add_customer_update, st, {"body": "x"})  # too short: refused
    assert (st.ws_at, st.ws_key, st.ws_notice) == ("customer_update", key, "")
    assert st.ws_error.startswith("Write the text")
    run(W.add_internal_note, st, {"body": "Carrier agent promised the release by Friday."})
    assert (st.ws_at, st.ws_error, st.ws_key) == ("internal_note", "", key + 1) and st.ws_notice
    run(W.close_shipment, st, {})  # not delivered: refused under "Close shipment"
    assert st.ws_at == "closeout" and st.ws_error and st.ws_key == key + 1


def test_a_queue_decision_dialog_closes_on_escape_without_deciding(tworld: QuoteWorld, monkeypatch):
    from portal_app.tower.bookings import TowerBookingsState as B

    use_db(monkeypatch, tworld.engine)
    st = state_as(monkeypatch, B, tworld.agent, "/tower/bookings")
    run(B.load, st)
    run(B.select_row, st, "SH0000001")
    assert st.selected == "SH0000001"
    run(B.panel_open_change, st, True)
    assert st.selected == "SH0000001"
    run(B.panel_open_change, st, False)  # Escape, or a click outside the dialog
    assert (st.selected, st.field_errors) == ("", {})
