"""Quote requests: drafts that come back, validation in a shipper's words, instant options priced by hand-checked
rules, manual pricing with an SLA when nothing matches, the quotes list with derived statuses, the PDF, the
location type-ahead, the funnel events, and another company's quote answering 404."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import select

from models import AuditLog, Notification, PortalEvent, QuoteRequest
from portal_app.services import clock, funnel, locations, quotes
from portal_app.services.errors import Conflict, FormInvalid, NotFound, PermissionDenied
from portal_app.services.quote_pdf import quote_pdf
from portal_app.services.quotes import CargoLineInput, QuoteInput
from tests.quote_world import QuoteWorld, add_card, start_fresh, submitted

D = Decimal


@pytest.fixture()
def lane(qworld: QuoteWorld) -> dict[str, int]:
    """Air Bangkok -> Milan: two live cards, plus an expired, an inactive and a not-yet-valid one."""
    today = clock.today()
    with qworld.session() as db:
        return {
            "sq": add_card(db, qworld, "air", "BKK", "MXP", "EUR", 2, [
                {"code": "FRT", "basis": "per_kg", "rate": "4.00", "min_quantity": "0", "minimum_charge": "100"},
                {"code": "FRT", "basis": "per_kg", "rate": "3.00", "min_quantity": "100"},
                {"code": "FSC", "basis": "per_kg", "rate": "0.50", "description": "Fuel surcharge"},
                {"code": "AWB", "basis": "per_shipment", "rate": "30"},
            ], carrier="SQ"),
            "tk": add_card(db, qworld, "air", "BKK", "MXP", "USD", 4, [
                {"code": "FRT", "basis": "per_kg", "rate": "2.50", "min_quantity": "0", "minimum_charge": "80"},
                {"code": "AWB", "basis": "per_shipment", "rate": "25"},
            ], carrier="TK"),
            "expired": add_card(db, qworld, "air", "BKK", "MXP", "USD", 1, [
                {"code": "FRT", "basis": "per_kg", "rate": "0.10", "min_quantity": "0"}],
                valid_from=today - timedelta(days=60), valid_to=today - timedelta(days=1)),
            "inactive": add_card(db, qworld, "air", "BKK", "MXP", "USD", 1, [
                {"code": "FRT", "basis": "per_kg", "rate": "0.10", "min_quantity": "0"}], active=False),
            "future": add_card(db, qworld, "air", "BKK", "MXP", "USD", 1, [
                {"code": "FRT", "basis": "per_kg", "rate": "0.10", "min_quantity": "0"}],
                valid_from=today + timedelta(days=20), valid_to=today + timedelta(days=40)),
        }


def air_request(**overrides: object) -> QuoteInput:
    data = {
        "mode": "air", "origin": "BKK", "destination": "MXP", "ready_date": clock.today() + timedelta(days=7),
        "incoterm": "FCA", "customer_reference": "PO-77",
        # 2 x 100x80x60 cm = 960,000 cm3 -> 160 kg volume weight against 120 kg actual
        "lines": (CargoLineInput(description="Silk scarves", packages=2, length_cm="100", width_cm="80",
                                 height_cm="60", weight_kg="120"),),
    }
    data.update(overrides)
    return QuoteInput(**data)


def test_a_half_filled_draft_comes_back_on_the_next_visit(qworld: QuoteWorld):
    with qworld.session() as db:
        start_fresh(db, qworld.bob)
        first = quotes.save_draft(db, qworld.bob, QuoteInput(mode="air", origin="bkk"))
    assert first.status == "draft" and first.origin == "BKK"
    assert {"destination", "ready_date", "incoterm", "lines"} <= set(first.problems)
    with qworld.session() as db:  # a later visit, a new session
        again = quotes.get_draft(db, qworld.bob)
        assert again is not None and again.reference == first.reference and again.mode == "air"
        more = quotes.save_draft(db, qworld.bob, air_request(), reference=first.reference)
        assert more.reference == first.reference and more.problems == {} and more.version == first.version + 1
        with pytest.raises(Conflict):  # a second tab with the old version
            quotes.save_draft(db, qworld.bob, air_request(), expected_version=first.version)
        alices = quotes.get_draft(db, qworld.alice)
        assert alices is None or alices.reference != first.reference
        listed = {r.reference for r in quotes.list_quotes(db, qworld.alice, status="draft", page_size=100).rows}
        assert first.reference not in listed  # a colleague's draft is theirs alone
        started = db.exec(select(PortalEvent).where(PortalEvent.kind == "quote_started",
                                                    PortalEvent.detail == first.reference)).all()
        assert len(started) == 1
        quotes.discard_draft(db, qworld.bob, first.reference)
        assert quotes.get_draft(db, qworld.bob) is None


def test_every_field_explains_what_is_wrong_in_plain_words(qworld: QuoteWorld):
    yesterday = clock.today() - timedelta(days=1)
    with qworld.session() as db:
        start_fresh(db, qworld.bob)
        draft = quotes.save_draft(db, qworld.bob, QuoteInput(
            mode="air", origin="NLRTM", destination="MXP", ready_date=yesterday, incoterm="FOB",
            services=("insurance",),
            lines=(CargoLineInput(packages=0, length_cm="120", width_cm="80", height_cm="100", weight_kg="300",
                                  is_dangerous_goods=True, un_number="12", dg_class="3"),
                   CargoLineInput(container_size_type="45G1", container_count=1, weight_kg="100",
                                  un_number="1263")),
        ))
        p = draft.problems
        assert p["origin"] == "NLRTM (Rotterdam) is a seaport; air needs an airport (IATA code, e.g. FRA)."
        assert "in the past" in p["ready_date"]
        assert "FOB (Free On Board) is for sea transport only" in p["incoterm"] and "use FCA" in p["incoterm"]
        assert "enter the cargo value" in p["cargo_value"]
        assert "between 1 and" in p["lines.0.packages"]
        assert "four digits" in p["lines.0.un_number"]
        assert "only for ocean full container load" in p["lines.1.container_size_type"]
        assert "Tick 'dangerous goods'" in p["lines.1.is_dangerous_goods"]
        with pytest.raises(FormInvalid) as refused:
            quotes.submit_quote(db, qworld.bob)
        assert refused.value.saved is True and "nothing was sent" in refused.value.message
        assert set(refused.value.fields) >= {"origin", "ready_date", "incoterm"}
        assert quotes.get_draft(db, qworld.bob).reference == draft.reference  # still there to fix
        failed = db.exec(select(PortalEvent).where(PortalEvent.kind == "quote_failed")).all()
        assert any(draft.reference in (e.detail or "") for e in failed)
        fcl = quotes.save_draft(db, qworld.bob, QuoteInput(
            mode="ocean_fcl", origin="CNSHA", destination="FRA", ready_date=clock.today(), incoterm="FOB",
            lines=(CargoLineInput(container_size_type="99X9", container_count=0, weight_kg="0"),)))
        assert "airport" in fcl.problems["destination"] and "incoterm" not in fcl.problems
        assert "not a container type" in fcl.problems["lines.0.container_size_type"]
        assert "between 1 and" in fcl.problems["lines.0.container_count"]
        quotes.discard_draft(db, qworld.bob, fcl.reference)


def test_submit_prices_every_matching_card_with_its_breakdown(qworld: QuoteWorld, lane):
    with qworld.session() as db:
        view = submitted(db, qworld.alice, air_request())
        assert view.status == "quoted" and view.chargeable_weight_kg == D("160.000")
        assert {o.carrier_code for o in view.options} == {"SQ", "TK"}  # not the expired, inactive or future cards
        by_carrier = {o.carrier_code: o for o in view.options}
        sq, tk = by_carrier["SQ"], by_carrier["TK"]
        assert (sq.currency, sq.total, sq.transit_days) == ("EUR", D("590.00"), 2)  # 160x3.00 + 160x0.50 + 30
        assert [(c.code, c.amount) for c in sq.charges] == [("FRT", D("480.00")), ("FSC", D("80.00")),
                                                           ("AWB", D("30.00"))]
        assert (tk.currency, tk.total, tk.transit_days) == ("USD", D("425.00"), 4)  # 160x2.50 + 25
        # cheapest compares in US dollars (EUR 590 is USD 641): TK first; fastest puts SQ first
        assert [o.carrier_code for o in view.options] == ["TK", "SQ"]
        fastest = quotes.get_quote(db, qworld.alice, view.reference, sort="fastest")
        assert [o.carrier_code for o in fastest.options] == ["SQ", "TK"]
        assert all(o.status == "offered" and o.can_accept for o in view.options)
        assert all(clock.now() < o.valid_until <= clock.now() + timedelta(days=quotes.OPTION_VALID_DAYS)
                   for o in view.options)
        stored = db.exec(select(QuoteRequest).where(QuoteRequest.reference == view.reference)).one()
        assert stored.submitted_at is not None and not stored.is_manual
        assert db.exec(select(PortalEvent).where(PortalEvent.kind == "quote_submitted",
                                                 PortalEvent.detail == f"{view.reference}: 2 options")).first()


def test_nothing_matching_goes_to_ops_with_an_sla_and_a_manual_price(qworld: QuoteWorld, monkeypatch):
    fixed = datetime.now(UTC).replace(microsecond=0)
    monkeypatch.setattr(clock, "now", lambda: fixed)
    with qworld.session() as db:
        view = submitted(db, qworld.alice, air_request(destination="LEJ"))
        assert view.status == "requested" and view.is_manual and view.options == ()
        assert view.manual_due_at == fixed + timedelta(hours=8)  # the seeded SLA for manual air quotes
        queue = quotes.manual_queue(db, qworld.agent, page_size=100)
        row = next(r for r in queue.rows if r.reference == view.reference)
        assert row.company_name == "Acme Home Goods Ltd" and not row.sla_overdue
        with pytest.raises(PermissionDenied):
            quotes.manual_queue(db, qworld.alice)
        with pytest.raises(PermissionDenied):
            quotes.add_manual_option(db, qworld.alice, view.reference, _manual())
        with pytest.raises(FormInvalid) as bad:
            quotes.add_manual_option(db, qworld.agent, view.reference, _manual(currency="ABC"))
        assert "currency" in bad.value.fields
        priced = quotes.add_manual_option(db, qworld.agent, view.reference, _manual())
        assert priced.status == "quoted"
        option = priced.options[0]
        assert option.is_manual and option.total == D("1031.25") and option.carrier_code == "LH"
        assert [c.amount for c in option.charges] == [D("956.25"), D("75.00")]  # 212.5 kg x 4.50; handling
        note = db.exec(select(Notification).where(Notification.dedup_key == f"quote_option:{option.id}")).one()
        assert note.user_id == qworld.alice.user_id and view.reference in note.title
        assert db.exec(select(AuditLog).where(AuditLog.action == "quote_priced_manually",
                                              AuditLog.entity_id == view.reference)).first()


def _manual(**overrides: object) -> quotes.ManualOptionInput:
    data = {"currency": "EUR", "transit_days": 3, "valid_until": clock.today() + timedelta(days=5),
            "carrier_code": "LH", "notes": "Via Frankfurt, trucked to Leipzig",
            "charges": (quotes.ManualChargeInput(code="FRT", description="Air freight", quantity="212.5",
                                                 unit_price="4.50"),
                        quotes.ManualChargeInput(code="HDL", description="Handling", quantity="1", unit_price="75"))}
    data.update(overrides)
    return quotes.ManualOptionInput(**data)


def test_statuses_in_the_list_including_expired_prices(qworld: QuoteWorld, lane, monkeypatch):
    with qworld.session() as db:
        view = submitted(db, qworld.alice, air_request(customer_reference="EXPIRY-CHECK"))
        rows = quotes.list_quotes(db, qworld.alice, status="quoted", search="EXPIRY", page_size=100).rows
        assert [r.reference for r in rows] == [view.reference] and rows[0].best_total_text == "USD 425.00"
    later = clock.now() + timedelta(days=quotes.OPTION_VALID_DAYS, hours=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    with qworld.session() as db:
        again = quotes.get_quote(db, qworld.alice, view.reference)
        assert again.status == "expired" and {o.status for o in again.options} == {"expired"}
        expired = quotes.list_quotes(db, qworld.alice, status="expired", search="EXPIRY", page_size=100).rows
        assert [r.reference for r in expired] == [view.reference]
        assert view.reference not in {r.reference for r in quotes.list_quotes(db, qworld.alice, status="quoted",
                                                                              page_size=100).rows}
        copy = quotes.copy_to_draft(db, qworld.alice, view.reference)  # "request again"
        assert copy.status == "draft" and copy.reference != view.reference and copy.problems == {}
        assert copy.ready_date >= clock.today()
        quotes.discard_draft(db, qworld.alice, copy.reference)


def test_the_customer_can_decline_the_prices(qworld: QuoteWorld, lane):
    with qworld.session() as db:
        view = submitted(db, qworld.alice, air_request())
        declined = quotes.decline_quote(db, qworld.alice, view.reference, "Too expensive this time")
        assert declined.status == "declined" and {o.status for o in declined.options} == {"declined"}
        with pytest.raises(Conflict):
            quotes.decline_quote(db, qworld.alice, view.reference)


def test_another_companys_quote_is_not_found(qworld: QuoteWorld, lane):
    with qworld.session() as db:
        view = submitted(db, qworld.alice, air_request())
        option_id = view.options[0].id
        for call in (lambda: quotes.get_quote(db, qworld.nina, view.reference),
                     lambda: quotes.get_option(db, qworld.nina, option_id),
                     lambda: quote_pdf(db, qworld.nina, view.reference),
                     lambda: quotes.decline_quote(db, qworld.nina, view.reference),
                     lambda: quotes.copy_to_draft(db, qworld.nina, view.reference)):
            with pytest.raises(NotFound):
                call()
        assert view.reference not in {r.reference for r in quotes.list_quotes(db, qworld.nina, page_size=100).rows}
        assert view.reference in {r.reference for r in quotes.list_quotes(db, qworld.agent, page_size=100).rows}
    nina = qworld.client("nina@nordwind.example")
    for method, url in (("get", f"/api/v1/quote-requests/{view.reference}"),
                        ("get", f"/api/v1/quote-requests/{view.reference}/pdf"),
                        ("get", f"/api/v1/quote-options/{option_id}"),
                        ("post", f"/api/v1/quote-requests/{view.reference}/submit")):
        resp = getattr(nina, method)(url)
        assert resp.status_code == 404, (url, resp.text)
        assert resp.json()["error"]["code"] == "not_found"
    booking = {"shipper_name": "X", "consignee_name": "Y", "cargo_description": "Scarves", "cargo_confirmed": True}
    resp = nina.post(f"/api/v1/quote-options/{option_id}/accept", json=booking, headers={"Idempotency-Key": "n-1"})
    assert resp.status_code == 404


def test_quote_pdf_shows_the_request_and_every_option(qworld: QuoteWorld, lane):
    with qworld.session() as db:
        view = submitted(db, qworld.alice, air_request())
        filename, body = quote_pdf(db, qworld.alice, view.reference, compress=False)
    assert filename == f"{view.reference}.pdf" and body.startswith(b"%PDF")
    for text in (view.reference, "EUR 590.00", "USD 425.00", "Singapore Airlines Cargo", "Chargeable weight",
                 "PO-77"):
        assert text.encode() in body, text
    resp = qworld.client("alice@acme.example").get(f"/api/v1/quote-requests/{view.reference}/pdf")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/pdf"


def test_location_type_ahead_offers_only_places_for_the_mode(qworld: QuoteWorld):
    with qworld.session() as db:
        air = locations.search_locations(db, qworld.alice, "air", "fr")
        assert air and air[0].code == "FRA" and {o.kind for o in air} == {"airport"}
        ocean = locations.search_locations(db, qworld.alice, "ocean_fcl", "rott")
        assert [o.code for o in ocean] == ["NLRTM"]
        assert locations.search_locations(db, qworld.alice, "ocean_fcl", "FRA") == []
        road = {o.kind for o in locations.search_locations(db, qworld.alice, "road_ltl", "d", limit=20)}
        assert road <= {"seaport", "inland"} and "inland" in road
        assert locations.search_locations(db, qworld.alice, "air", "%") == []
    resp = qworld.client("bob@acme.example").get("/api/v1/locations", params={"mode": "air", "q": "pv"})
    assert resp.status_code == 200 and resp.json()[0]["code"] == "PVG"


def test_funnel_counts_started_submitted_failed_and_abandoned(qworld: QuoteWorld, lane, monkeypatch):
    with qworld.session() as db:
        start_fresh(db, qworld.bob)  # discarding earlier drafts records abandonments: count from after it
    since = clock.now()
    with qworld.session() as db:
        quotes.save_draft(db, qworld.bob, QuoteInput(mode="air", origin="BKK"))
        with pytest.raises(FormInvalid):
            quotes.submit_quote(db, qworld.bob)
        before = funnel.funnel(db, qworld.manager, since)
        assert before.quotes_started >= 1 and before.quotes_failed >= 1 and before.quotes_abandoned == 0
        with pytest.raises(PermissionDenied):
            funnel.funnel(db, qworld.alice, since)
    later = clock.now() + timedelta(hours=funnel.DEFAULT_ABANDON_HOURS + 1)
    monkeypatch.setattr(clock, "now", lambda: later)
    with qworld.session() as db:
        after = funnel.funnel(db, qworld.manager, since)
        assert after.quotes_abandoned >= 1  # the draft untouched for more than a day
        stale = db.exec(select(sa.func.count()).select_from(QuoteRequest).where(
            QuoteRequest.status == "draft", QuoteRequest.requested_by_id == qworld.bob.user_id)).one()
        assert stale == 1
    resp = qworld.client("manager@harborsky.example").get("/api/v1/funnel", params={"since": since.isoformat()})
    assert resp.status_code == 200 and resp.json()["quotes_started"] >= 1


def test_quote_request_over_the_api(qworld: QuoteWorld, lane):
    alice = qworld.client("alice@acme.example")
    with qworld.session() as db:
        start_fresh(db, qworld.alice)
    body = {"mode": "air", "origin": "BKK", "destination": "MXP",
            "ready_date": (clock.today() + timedelta(days=7)).isoformat(), "incoterm": "CPT",
            "lines": [{"packages": 2, "length_cm": "100", "width_cm": "80", "height_cm": "60", "weight_kg": "120"}]}
    draft = alice.post("/api/v1/quote-requests", json={**body, "incoterm": "CIF"})
    assert draft.status_code == 201 and "incoterm" in draft.json()["problems"]
    ref = draft.json()["reference"]
    refused = alice.post(f"/api/v1/quote-requests/{ref}/submit")
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "invalid_form" and error["saved"] is True and "use CIP" in error["fields"]["incoterm"]
    assert alice.get("/api/v1/quote-requests/draft").json()["reference"] == ref
    fixed = alice.put(f"/api/v1/quote-requests/{ref}", json=body)
    assert fixed.status_code == 200 and fixed.json()["problems"] == {}
    quoted = alice.post(f"/api/v1/quote-requests/{ref}/submit")
    assert quoted.status_code == 200 and quoted.json()["status"] == "quoted"
    assert [o["total"] for o in quoted.json()["options"]] == ["425.00", "590.00"]
    fastest = alice.get(f"/api/v1/quote-requests/{ref}", params={"sort": "fastest"}).json()
    assert fastest["options"][0]["carrier_code"] == "SQ"
    page = alice.get("/api/v1/quote-requests", params={"status": "quoted", "page_size": 100}).json()
    assert ref in {i["reference"] for i in page["items"]}
    assert alice.get("/api/v1/quote-requests/draft").status_code == 404
    direct = alice.post("/api/v1/quote-requests", params={"submit": "true"}, json=body)
    assert direct.status_code == 201 and direct.json()["status"] == "quoted"
    assert date.fromisoformat(direct.json()["ready_date"]) == clock.today() + timedelta(days=7)


def test_an_option_is_served_whole_and_can_be_accepted_only_while_offered():
    """The API serves the service's read model as it is: every field required in the schema, ``can_accept``
    derived from the status whatever the builder passes."""
    from pydantic import TypeAdapter

    now = clock.now()
    offered = quotes.OptionView(7, "QT0000001", "LH", "Lufthansa Cargo", "EUR", D("10.00"), "EUR 10.00", 2, now,
                                "offered", False, None, None)
    expired = quotes.OptionView(8, "QT0000001", None, None, "EUR", D("9.00"), "EUR 9.00", 3, now, "expired", True,
                                None, None, can_accept=True)
    assert offered.can_accept and not expired.can_accept
    adapter = TypeAdapter(quotes.OptionView)
    assert adapter.dump_python(offered, mode="json")["can_accept"] is True
    schema = adapter.json_schema(mode="serialization")
    assert schema["required"] == list(schema["properties"])
    assert not any("default" in p for p in schema["properties"].values())
