"""The tower's request pages (their states, with the session check stubbed to a known principal and the database
pointed at the ops world): the queue's filters from the address and back, quick views, paging, rows with both
SLA timers in words; one request's thread with internal notes set apart, a note and a reply sent from the page
(the customer never reads the note), canned text inserted into the message box, a triage conflict explained with
nothing saved; the request desk's configuration page; and a customer refused all of them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from models import AuditLog, CannedReply
from portal_app.components.formatting import fmt_local
from portal_app.services import exceptions as exc_svc
from portal_app.services import requests as svc
from portal_app.services.exceptions import sla_timer
from portal_app.tower import config_requests as config_page
from portal_app.tower import request_detail as detail_page
from portal_app.tower import requests as queue_page
from tests.config_world import ConfigWorld
from tests.ops_world import make_shipment, team_id
from tests.page_states import run, state_as, use_db
from tests.quote_world import QuoteWorld

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.fixture()
def on_ops_db(oworld: QuoteWorld, monkeypatch):
    """Page handlers read and write the ops world's database."""
    use_db(monkeypatch, oworld.engine)
    yield oworld


def _request(db: Session, who, shipment: str, subject: str, **kwargs) -> str:
    kwargs.setdefault("category", "tracking")
    return svc.open_request(db, who, subject=subject, body=kwargs.pop("body", "Where is it now?"),
                            shipment_reference=shipment, **kwargs).reference


# ------------------------------------------------------------------------------------------ the queue's pieces


def test_filters_from_the_address_are_checked_and_written_back_without_defaults():
    assert queue_page.clean_filters({}) == {"status": "active", "hours": "4"}
    got = queue_page.clean_filters({"status": ["waiting_on_us"], "category": ["billing"], "priority": ["huge"],
                                    "assignee": ["me"], "team": ["3"], "sla": ["soon"], "hours": ["12"],
                                    "q": ["  sh0000123  "]})
    assert got == {"status": "waiting_on_us", "category": "billing", "assignee": "me", "team": "3", "sla": "soon",
                   "hours": "12", "q": "sh0000123"}
    assert queue_page.filters_query(got) == ("status=waiting_on_us&category=billing&team=3&assignee=me&sla=soon"
                                             "&hours=12&q=sh0000123")
    assert queue_page.clean_filters({"assignee": "1; drop", "hours": "9999", "status": "x", "team": "two"}) == {
        "status": "active", "hours": "4"}
    # defaults (and hours without "breaching soon") stay out of the address
    assert queue_page.filters_query(queue_page.clean_filters({"hours": "12"})) == ""
    f = queue_page.service_filters(got, me=42)
    assert (f.status, f.category, f.priority, f.assignee_id, f.team_id, f.search) == (
        "waiting_on_us", "billing", None, 42, 3, "sh0000123")
    assert (f.breached, f.breaching_within_hours, f.unassigned) == (False, 12, False)
    f = queue_page.service_filters(queue_page.clean_filters({"assignee": "none", "sla": "breached"}), me=42)
    assert (f.assignee_id, f.unassigned, f.breached, f.breaching_within_hours) == (None, True, True, None)


def test_quick_views_link_to_the_queue_and_mark_the_current_one():
    views = queue_page.quick_views(queue_page.clean_filters({"assignee": "me"}))
    assert [(v.label, v.href, v.current) for v in views] == [
        ("My queue", "/tower/requests?assignee=me", "page"),
        ("Unassigned", "/tower/requests?assignee=none", ""),
        ("Breaching soon (4 h)", "/tower/requests?sla=soon", ""),
        ("Breached", "/tower/requests?sla=breached", ""),
    ]
    assert queue_page.clean_filters({"sla": "soon"}) == queue_page.clean_filters({"sla": "soon", "hours": "4"})


def test_rows_show_both_timers_in_words_breached_ones_say_so():
    due = NOW + 2 * H
    row = svc.RequestRow(
        reference="REQ-000007", subject="Where is it?", category="tracking", category_label="Tracking",
        priority="high", status="open", status_label="Open", company_name="Acme Home Goods Ltd",
        raised_by="Alice Archer", assignee_name=None, team_name="Ocean Import", shipment_reference="SH0000009",
        invoice_number=None, created_at=NOW - 6 * H, updated_at=NOW - 6 * H,
        first_response=sla_timer(NOW - 2 * H, NOW, "UTC"), resolution=sla_timer(due, NOW, "UTC"), version=1)
    view = queue_page.request_row_view(row, NOW, "UTC")
    assert view.href == "/tower/requests/REQ-000007" and view.assignee == "Unassigned"
    assert (view.first_left, view.first_breached) == ("Breached 2 h 0 min ago", "yes")
    assert (view.res_left, view.res_breached, view.res_due) == ("2 h 0 min left", "", "2026-11-20 11:00 UTC")
    assert view.priority_label == "High" and view.status == "Open"
    answered = svc.RequestRow(**{**vars(row), "status": "waiting_on_customer",
                                 "first_response": sla_timer(NOW - 2 * H, NOW, "UTC", resolved_at=NOW - 3 * H)})
    view = queue_page.request_row_view(answered, NOW, "UTC")
    assert (view.first_left, view.first_breached) == ("Met (1 h 0 min to spare)", "")
    assert view.status == "Waiting on customer"


# ------------------------------------------------------------------------------------------ the queue's state


def test_queue_reads_its_filters_from_the_address_and_pages_on_the_server(on_ops_db, monkeypatch):
    w = on_ops_db
    with w.session() as db:
        ship = make_shipment(db)
        refs = [_request(db, w.alice, ship.reference, f"Container {n} has not moved") for n in range(3)]
        billing = _request(db, w.alice, ship.reference, "Invoice looks wrong", category="billing")
        svc.triage(db, w.agent, refs[0], category="tracking", priority="normal", team_id=team_id(db, "Ocean Import"),
                   assignee_id=w.agent.user_id)
    monkeypatch.setattr(queue_page, "PAGE_SIZE", 2)
    S = queue_page.TowerRequestsState

    st = state_as(monkeypatch, S, w.agent, f"/tower/requests?category=tracking&q={ship.reference}")
    assert run(S.load, st) is None
    assert st.filters == {"status": "active", "category": "tracking", "hours": "4", "q": ship.reference}
    assert (st.total, st.pages, len(st.rows)) == (3, 2, 2)
    run(S.go_to_page, st, 1)
    assert st.page == 2 and len(st.rows) == 1
    shown = {r.reference for r in st.rows}
    assert shown <= set(refs) and billing not in shown

    st = state_as(monkeypatch, S, w.agent, f"/tower/requests?assignee=me&q={ship.reference}")
    run(S.load, st)
    assert [r.reference for r in st.rows] == [refs[0]] and st.rows[0].assignee == "Olivia Agent"
    assert next(v for v in st.views if v.label == "My queue").current == ""  # the search narrows it

    # Applying the form writes the filters into the address (the page loads them from there) ...
    event = run(S.apply_filters, st, {"status": "all", "assignee": "none", "q": ship.reference, "hours": "4"})
    assert event is not None and f"/tower/requests?status=all&assignee=none&q={ship.reference}" in str(event)
    # ... and when the address already says so, it reads the rows again at once.
    st = state_as(monkeypatch, S, w.agent, f"/tower/requests?status=all&assignee=none&q={ship.reference}")
    run(S.load, st)
    again = run(S.apply_filters, st, {"status": "all", "assignee": "none", "q": ship.reference})
    assert "replaceState" in str(again) and "redirect" not in str(again).lower()  # the address is kept in place
    assert st.total == 3 and refs[0] not in {r.reference for r in st.rows}


def test_a_customer_is_refused_the_queue_a_request_and_the_desk_settings(on_ops_db, monkeypatch):
    w = on_ops_db
    with w.session() as db:
        ship = make_shipment(db)
        ref = _request(db, w.alice, ship.reference, "Can you check the seal?")
    for state_cls, url in ((queue_page.TowerRequestsState, "/tower/requests"),
                           (detail_page.TowerRequestState, f"/tower/requests/{ref}"),
                           (config_page.ConfigRequestsState, "/tower/config/requests")):
        st = state_as(monkeypatch, state_cls, w.alice, url)
        run(state_cls.load, st)
        assert st.auth_status == "forbidden"
        for name in ("rows", "req", "messages", "routes", "canned_rows"):
            assert not getattr(st, name, None)
    st = state_as(monkeypatch, detail_page.TowerRequestState, w.alice, f"/tower/requests/{ref}")
    run(detail_page.TowerRequestState.send_reply, st, [], {"kind": "note", "body": "sneaky"})
    with w.session() as db:
        assert [m.body for m in svc.get_request(db, w.agent, ref).messages] == ["Where is it now?"]


# ------------------------------------------------------------------------------------------ one request


def test_context_and_canned_text_and_placeholders():
    pairs = detail_page.context_pairs({"source": "api", "error": "File type not allowed", "page": "/portal/x",
                                       "draft": {"doc_type": "packing_list"}, "shipment": None, "extra_key": "1"})
    assert pairs == [["Page", "/portal/x"], ["Error shown", "File type not allowed"],
                     ["Draft", "Document type: Packing list"], ["Raised from", "api"], ["Extra key", "1"]]
    script = detail_page.insert_script("It's \"done\" </script>\n{eta}")
    assert json.dumps("It's \"done\" </script>\n{eta}") in script and "reply-body" in script
    assert detail_page.placeholder_left("Arrival on {eta}.") == "{eta}"
    assert detail_page.placeholder_left("Arrival on 12 Nov {as agreed}.") is None
    nested = detail_page.context_pairs({"record": {"shipment": "SH0000209", "open": True, "tags": ["a_b", "c"]}})
    assert nested == [["Record", "Open: yes · Shipment: SH0000209 · Tags: A b, c"]]  # words, never JSON


def test_a_canned_reply_takes_the_requests_own_values_and_leaves_the_others_to_the_agent(oworld: QuoteWorld):
    """{eta} becomes the shipment's arrival estimate in the customer's zone, {shipment} its reference; a
    placeholder the record cannot answer ({reason}) stays, and the reply is not sent while it does."""
    with oworld.session() as db:
        ship = make_shipment(db)
        ref = _request(db, oworld.alice, ship.reference, "When does it arrive?")
        found = svc.placeholder_values(db, oworld.agent, ref)
    words = detail_page.placeholder_words(found)
    assert words["shipment"] == ship.reference and words["request"] == ref
    assert found.timezone == "Europe/London"  # alice's own zone, not the agent's
    assert words["eta"] == fmt_local(ship.eta_estimated, "Europe/London")
    text = svc.fill_placeholders("{shipment} now arrives on {eta}, because {reason}.", words)
    assert text == f"{ship.reference} now arrives on {words['eta']}, because {{reason}}."
    assert detail_page.placeholder_left(text) == "{reason}"


def test_agent_adds_a_note_and_a_reply_from_the_page_and_the_customer_reads_only_the_reply(on_ops_db, monkeypatch):
    w = on_ops_db
    with w.session() as db:
        ship = make_shipment(db)
        ref = _request(db, w.alice, ship.reference, "Where is our container?",
                       context={"page": f"/portal/shipments/{ship.reference}", "attempted": "track"})
        held = exc_svc.create_exception(db, w.agent, exc_svc.ExceptionInput(
            shipment_reference=ship.reference, kind="customs_hold", title="Held by customs"))
    S = detail_page.TowerRequestState
    st = state_as(monkeypatch, S, w.agent, f"/tower/requests/{ref.lower()}")
    run(S.load, st)
    assert st.load_error == "" and st.req.reference == ref and st.req.customer == "Acme Home Goods Ltd"
    assert st.req.raised_by == "Alice Archer" and st.req.shipment_href == f"/tower/shipments/{ship.reference}"
    assert st.req.first_left.endswith("left") and st.req.res_due != "—"
    assert ["Page", f"/portal/shipments/{ship.reference}"] in st.context
    assert [m.kind for m in st.messages] == ["customer"]
    assert detail_page.Option(str(held.row.id), f"#{held.row.id} Held by customs · Medium · Open") in st.exceptions
    tracking = [c for c in st.canned if c.label.endswith("(Tracking)")]
    assert tracking and st.canned.index(tracking[0]) == 0  # the request's category first
    inserted = run(S.insert_canned, st, tracking[0].value)
    assert "reply-body" in str(inserted)
    assert run(S.insert_canned, st, "999999") is None

    # A customer reply still holding a canned placeholder is not sent.
    run(S.send_reply, st, [], {"kind": "reply", "body": "It arrives on {eta}.", "status": "waiting_on_customer"})
    assert "{eta}" in st.field_errors["body"] and "Nothing was sent" in st.field_errors["body"]
    run(S.send_reply, st, [], {"kind": "note", "body": "  "})
    assert "Write the note" in st.field_errors["body"]

    run(S.send_reply, st, [], {"kind": "note", "body": "Broker says the hold lifts tomorrow."})
    assert "Internal note added" in st.notices["reply"] and st.errors == {}
    run(S.send_reply, st, [], {"kind": "reply", "body": "Customs are checking it; we expect release tomorrow.",
                                "status": "waiting_on_customer"})
    assert "Reply sent" in st.notices["reply"] and st.req.status_label == "Waiting on customer"
    assert [(m.kind, m.kind_label) for m in st.messages][1:] == [
        ("note", "Internal note — not visible to the customer"), ("reply", "Reply to the customer")]
    assert st.req.first_left.startswith("Met")

    run(S.link_exception, st, {"exception_id": str(held.row.id)})
    assert st.req.exception_href == f"/tower/exceptions/{held.row.id}" and "Linked" in st.notices["exception"]
    run(S.toggle_follow, st)
    assert st.req.following == "yes"

    with w.session() as db:
        seen = svc.get_request(db, w.alice, ref)
    assert [m.body for m in seen.messages] == ["Where is it now?",
                                               "Customs are checking it; we expect release tomorrow."]


def test_a_triage_made_meanwhile_is_a_conflict_with_nothing_saved_then_saving_again_applies(on_ops_db, monkeypatch):
    w = on_ops_db
    with w.session() as db:
        ship = make_shipment(db)
        ref = _request(db, w.alice, ship.reference, "Delivery address change")
        ocean = str(team_id(db, "Ocean Import"))
    S = detail_page.TowerRequestState
    st = state_as(monkeypatch, S, w.agent, f"/tower/requests/{ref}")
    run(S.load, st)
    key = st.form_key
    with w.session() as db:  # the manager changes it after the agent opened it
        svc.triage(db, w.manager, ref, category="booking_change", priority="high", team_id=None, assignee_id=None)
    choice = {"category": "tracking", "priority": "urgent", "team_id": ocean, "assignee_id": "me"}
    run(S.save_triage, st, choice)
    error = st.errors["triage"]
    assert "changed by someone else" in error and "Nothing was saved" in error and "Booking change" in error
    assert st.req.priority == "high" and st.form_key == key  # the page shows now; the form keeps the choice
    run(S.save_triage, st, choice)
    assert st.errors == {} and "Triage saved" in st.notices["triage"]
    assert (st.req.priority, st.req.assignee, st.req.team) == ("urgent", "Olivia Agent", "Ocean Import")

    run(S.merge, st, {"into": ref})
    assert "itself" in st.field_errors["into"] and "Nothing was saved" in st.field_errors["into"]
    run(S.resolve, st)
    assert st.req.status == "resolved" and st.req.can_reopen == "yes"
    run(S.reopen, st, {"reason": ""})
    assert "reason" in st.field_errors
    run(S.reopen, st, {"reason": "The customer says it is still at the depot."})
    assert st.req.status == "open" and "Reopened" in st.notices["status"]


def test_a_duplicate_merged_from_the_page_points_to_the_other_request(on_ops_db, monkeypatch):
    w = on_ops_db
    with w.session() as db:
        ship = make_shipment(db)
        first = _request(db, w.alice, ship.reference, "Where is the container?")
        second = _request(db, w.bob, ship.reference, "Container location please")
        held = exc_svc.create_exception(db, w.agent, exc_svc.ExceptionInput(
            shipment_reference=ship.reference, kind="other", title="Seal broken"))
        svc.link_exception(db, w.agent, second, held.row.id)
    S = detail_page.TowerRequestState
    st = state_as(monkeypatch, S, w.agent, f"/tower/requests/{second}")
    run(S.load, st)
    run(S.unlink_exception, st)
    assert st.req.exception_href == "" and "no longer linked" in st.notices["exception"]
    run(S.merge, st, {"into": "REQ-999999"})
    assert "No request 'REQ-999999'" in st.field_errors["into"] and st.req.merged_into == ""
    run(S.merge, st, {"into": first.lower()})
    assert st.req.merged_into == first and st.req.merged_into_href == f"/tower/requests/{first}"
    assert st.req.status == "closed" and "Merged into" in st.notices["merge"]
    run(S.send_reply, st, [], {"kind": "note", "body": "One more thing"})
    assert "merged into another request" in st.errors["reply"] and "Nothing was saved" in st.errors["reply"]
    st = state_as(monkeypatch, S, w.agent, f"/tower/requests/{first}")
    run(S.load, st)
    assert st.req.merged_from == second
    assert any(f"{second} (Container location please) was merged" in m.body for m in st.messages)


def test_a_missing_or_malformed_reference_says_what_to_do(on_ops_db, monkeypatch):
    S = detail_page.TowerRequestState
    st = state_as(monkeypatch, S, on_ops_db.agent, "/tower/requests/REQ-999999")
    run(S.load, st)
    assert st.req is None and "No request 'REQ-999999'" in st.load_error
    st = state_as(monkeypatch, S, on_ops_db.agent, "/tower/requests/%3Cscript%3E")
    run(S.load, st)
    assert st.req is None and "REQ-000123" in st.load_error


# ------------------------------------------------------------------------------------------ configuration


@pytest.fixture()
def on_config_db(cworld: ConfigWorld, monkeypatch):
    use_db(monkeypatch, cworld.world.engine)
    yield cworld


def test_desk_settings_page_routes_categories_sets_the_window_and_keeps_canned_replies(on_config_db, monkeypatch):
    c = on_config_db
    S = config_page.ConfigRequestsState
    st = state_as(monkeypatch, S, c.world.agent, config_page.ROUTE)
    run(S.load, st)
    assert st.denied and st.routes == [] and st.canned_rows == []

    st = state_as(monkeypatch, S, c.admin, config_page.ROUTE)
    run(S.load, st)
    assert not st.denied and [r.category for r in st.routes] == list(svc.CATEGORY_LABELS)
    assert st.canned_rows and st.reopen_days.isdigit()
    team = next(t for t in st.teams if t.label == "Air Freight")
    run(S.save_settings, st, {"route_billing": team.value, "reopen_days": "120"})
    assert "reopen_days" in st.field_errors and "Nothing was saved" in st.error
    run(S.save_settings, st, {"route_billing": team.value, "route_other": "", "reopen_days": "10"})
    assert st.error == "" and st.reopen_days == "10"
    assert next(r for r in st.routes if r.category == "billing").team == "Air Freight"
    with c.session() as db:
        assert svc.desk_settings(db).routing["billing"] == int(team.value)

    run(S.save_canned, st, {"title": "Pickup booked", "category": "tracking", "body": "x"})
    assert "body" in st.field_errors
    run(S.save_canned, st, {"title": "Pickup booked", "category": "tracking",
                             "body": "We booked the pickup for {date}."})
    row = next(r for r in st.canned_rows if r.title == "Pickup booked")
    assert row.category_label == "Tracking" and st.editing == ""
    run(S.edit, st, row.id)
    run(S.save_canned, st, {"title": "Pickup booked", "category": "", "body": "We booked the pickup."})
    assert "saved" in st.notice
    with c.session() as db:
        saved = db.get(CannedReply, int(row.id))
        assert (saved.body, saved.category) == ("We booked the pickup.", None)
        assert db.exec(select(AuditLog).where(AuditLog.action == "config_canned_reply_saved")).first() is not None

