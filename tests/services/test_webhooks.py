"""Signed webhooks out, against a real HTTP receiver on this machine's loopback (``allow_private`` on, as
``PORTAL_WEBHOOK_ALLOW_PRIVATE=1`` sets it): events queued with the change, signatures, retries with a moved clock,
pausing after a day of failures (and the admins told), address refusals, and each company hearing only of its own
records. The worker function is driven directly, never the lifespan task.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from reportlab.pdfgen import canvas
from sqlmodel import Session, col, select

from models import Company, EmailMessage, Notification, Shipment, User, WebhookDelivery, WebhookSubscription
from models.enums import Role, ShipmentStatus
from portal_app.auth.principal import Principal
from portal_app.services import documents, invoicing, outbound, secret_box, webhook_outbox, webhooks, workspace
from portal_app.services import requests as requests_svc
from portal_app.services.bookings import confirm_booking
from portal_app.services.errors import Conflict, ErrorCode, NotFound, PermissionDenied, ValidationFailed
from tests.factories import World

ALLOW = webhook_outbox.WebhookConfig(allow_private=True)


# ------------------------------------------------------------------------------------------- the receiver


class Receiver:
    """A small threaded HTTP server: records every request; answers with the queued status codes (then 200)."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes, str]] = []
        self.statuses: list[int] = []
        self.always: int | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body, self.path))
                status = receiver.always or (receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_response(status)
                if status in (301, 302, 307):
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/portal"

    def bodies(self) -> list[dict]:
        return [json.loads(b) for _h, b, _p in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture()
def private_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhooks, "settings", replace(webhooks.settings, webhook_allow_private=True))


@pytest.fixture(autouse=True)
def _no_subscriptions(engine: sa.Engine) -> Iterator[None]:
    with engine.begin() as conn:
        conn.execute(sa.delete(WebhookDelivery))
        conn.execute(sa.delete(WebhookSubscription))
    yield


def principal_for(db: Session, email: str) -> Principal:
    user = db.exec(select(User).where(User.email == email)).one()
    company = db.get(Company, user.company_id)
    assert user.id is not None and company is not None and company.id is not None
    return Principal(user.id, company.id, Role(user.role), user.email, user.full_name, company.name)


def verify(secret: str, headers: dict[str, str], body: bytes, now: datetime, tolerance: int = 300) -> bool:
    """How a receiver checks a delivery (the snippet in docs/webhooks.md)."""
    timestamp = headers["x-portal-timestamp"]
    if abs(now.timestamp() - int(timestamp)) > tolerance:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["x-portal-signature"])


def subscribe(db: Session, who: Principal, url: str, events: list[str]) -> webhooks.CreatedWebhook:
    return webhooks.create_subscription(db, who, webhooks.NewWebhook(url=url, events=events))


def _eta_change(db: Session, agent: Principal, reference: str, days: int = 40) -> None:
    shipment = db.exec(select(Shipment).where(Shipment.reference == reference)
                       .execution_options(populate_existing=True)).one()
    new_eta = datetime(2026, 12, 1, tzinfo=UTC) + timedelta(days=days, hours=shipment.version)
    workspace.change_eta(db, agent, reference, new_eta, "PORT_CONGESTION", "Berth window moved",
                         expected_version=shipment.version)


def _not_arrived(db: Session, world: World, code: str) -> str:
    for ref in world.shipments[code]:
        s = db.exec(select(Shipment).where(Shipment.reference == ref)).one()
        if s.ata is None:
            return ref
    raise AssertionError("no shipment in transit")


def _pdf(text: str) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    c.drawString(72, 720, text)
    c.save()
    return buf.getvalue()


# --------------------------------------------------------------------------------------------------- tests


def test_delivery_is_signed_and_carries_the_record_as_the_api_shows_it(db, world, receiver, private_allowed):
    admin = principal_for(db, "customer_admin@alfa.test")
    agent = principal_for(db, "ops_agent@fwd.test")
    created = subscribe(db, admin, receiver.url, ["eta_changed"])
    assert created.secret.startswith("whsec_") and created.events == ["eta_changed"]
    stored = db.get(WebhookSubscription, created.id)
    assert stored is not None and created.secret not in stored.secret  # kept encrypted
    assert secret_box.decrypt(stored.secret) == created.secret

    ref = _not_arrived(db, world, "ALFA")
    _eta_change(db, agent, ref)
    queued = db.exec(select(WebhookDelivery).where(WebhookDelivery.subscription_id == created.id)).all()
    assert len(queued) == 1 and queued[0].status == "queued"  # written with the change; nothing sent yet
    assert receiver.requests == []

    now = datetime.now(UTC)
    result = webhook_outbox.run_round(db, ALLOW, now)
    assert result.sent == 1
    headers, body, path = receiver.requests[0]
    assert path == "/hooks/portal"
    assert verify(created.secret, headers, body, now)
    assert not verify("whsec_wrong", headers, body, now)
    assert headers["x-portal-event"] == "eta_changed" and headers["content-type"] == "application/json"
    payload = json.loads(body)
    assert set(payload) == {"id", "kind", "created_at", "data"} and payload["kind"] == "eta_changed"
    row = payload["data"]["shipment"]
    assert row["reference"] == ref and row["company_name"] == "Alfa Imports"
    from portal_app.services.shipments import ShipmentRow
    assert set(row) == set(ShipmentRow.__dataclass_fields__)  # the /api/v1/shipments row, field for field
    assert payload["data"]["eta_change"]["reason_code"] == "PORT_CONGESTION"

    log = webhooks.list_deliveries(db, admin, created.id)
    assert log.total == 1 and log.rows[0].status == "sent" and log.rows[0].response_code == 200


def test_a_rolled_back_change_queues_nothing(db, world, receiver, private_allowed):
    admin = principal_for(db, "customer_admin@alfa.test")
    created = subscribe(db, admin, receiver.url, ["*"])
    ref = world.shipments["ALFA"][0]
    shipment = db.exec(select(Shipment).where(Shipment.reference == ref)).one()
    webhooks.record(db, "booking_confirmed", company_id=shipment.company_id, record_id=shipment.id)
    db.rollback()
    db.commit()
    assert db.exec(select(WebhookDelivery).where(WebhookDelivery.subscription_id == created.id)).all() == []


def test_each_company_hears_only_of_its_own_records_and_staff_of_every_one(db, world, receiver, private_allowed):
    alfa = subscribe(db, principal_for(db, "customer_admin@alfa.test"), receiver.url + "?c=alfa", ["*"])
    beta = subscribe(db, principal_for(db, "customer_admin@beta.test"), receiver.url + "?c=beta", ["*"])
    staff = subscribe(db, principal_for(db, "admin@fwd.test"), receiver.url + "?c=fwd", ["*"])
    assert staff.all_companies and not alfa.all_companies
    agent = principal_for(db, "ops_agent@fwd.test")
    manager = principal_for(db, "ops_manager@fwd.test")

    ref = _not_arrived(db, world, "ALFA")
    _eta_change(db, agent, ref, days=50)
    invoicing.issue_invoice(db, manager, company_code="ALFA", currency="EUR", due_date=date(2027, 1, 31),
                            lines=[invoicing.InvoiceLineInput(code="FRT", description="Ocean freight",
                                                              quantity="1", unit_price="100.00", tax_rate="0")])
    # A customer's upload, and an internal document only staff see.
    customer = principal_for(db, "customer_user@alfa.test")
    documents.upload_document(db, customer, ref, "packing_list", "pl.pdf", _pdf("packing list"))
    documents.upload_document(db, agent, ref, "commercial_invoice", "ci.pdf", _pdf("internal"),
                              visibility="internal")

    def kinds(sub_id: int) -> list[str]:
        return [d.event_kind for d in db.exec(select(WebhookDelivery).where(WebhookDelivery.subscription_id == sub_id)
                                              .order_by(col(WebhookDelivery.id))).all()]

    assert kinds(alfa.id) == ["eta_changed", "invoice_issued", "document_added"]
    assert kinds(staff.id) == ["eta_changed", "invoice_issued", "document_added", "document_added"]
    assert kinds(beta.id) == []

    webhook_outbox.run_round(db, ALLOW, datetime.now(UTC))
    by_company: dict[str, list[dict]] = {}
    for (_h, body, path) in receiver.requests:
        by_company.setdefault(path.split("c=")[1], []).append(json.loads(body))
    assert "beta" not in by_company
    for payload in by_company["alfa"]:
        text = json.dumps(payload)
        assert "Beta Trading" not in text and "internal" not in text
    invoice = next(p for p in by_company["alfa"] if p["kind"] == "invoice_issued")["data"]["invoice"]
    assert invoice["currency"] == "EUR" and invoice["total"] in ("100.00", "100", 100.0)
    docs = [p["data"]["document"] for p in by_company["fwd"] if p["kind"] == "document_added"]
    assert {d["visibility"] for d in docs} == {"customer", "internal"}
    # The same event carries the same id to every subscriber (receivers deduplicate by it).
    assert {p["id"] for p in by_company["alfa"]} <= {p["id"] for p in by_company["fwd"]}

    # And the management side: one company's admin cannot see or touch the other's subscription.
    beta_admin = principal_for(db, "customer_admin@beta.test")
    assert [r.id for r in webhooks.list_subscriptions(db, beta_admin).rows] == [beta.id]
    for call in (webhooks.list_deliveries, webhooks.send_test, webhooks.delete_subscription):
        with pytest.raises(NotFound):
            call(db, beta_admin, alfa.id)
    assert len(webhooks.list_subscriptions(db, principal_for(db, "admin@fwd.test")).rows) == 3


def test_booking_confirmed_and_request_updates_reach_the_company(db, world, receiver, private_allowed):
    admin = principal_for(db, "customer_admin@alfa.test")
    created = subscribe(db, admin, receiver.url, ["booking_confirmed", "request_updated"])
    staff = subscribe(db, principal_for(db, "admin@fwd.test"), receiver.url + "?staff", ["request_updated"])
    agent = principal_for(db, "ops_agent@fwd.test")
    booked = db.exec(select(Shipment).where(Shipment.company_id == world.companies["ALFA"],
                                            Shipment.status == ShipmentStatus.BOOKED.value)).first()
    assert booked is not None
    confirm_booking(db, agent, booked.reference, carrier_booking_number="CARR123")
    customer = principal_for(db, "customer_user@alfa.test")
    ticket = requests_svc.open_request(db, customer, category="tracking", subject="Where is my container?",
                                       body="It has not moved for days.", shipment_reference=booked.reference)
    requests_svc.post_message(db, agent, ticket.reference, "Checking with the carrier.", internal=True)
    requests_svc.post_message(db, agent, ticket.reference, "The vessel was delayed; new ETA Friday.")

    webhook_outbox.run_round(db, ALLOW, datetime.now(UTC))
    mine = [json.loads(b) for _h, b, p in receiver.requests if not p.endswith("?staff")]
    theirs = [json.loads(b) for _h, b, p in receiver.requests if p.endswith("?staff")]
    confirmed = [p for p in mine if p["kind"] == "booking_confirmed"]
    assert len(confirmed) == 1
    assert confirmed[0]["data"]["shipment"]["reference"] == booked.reference
    assert confirmed[0]["data"]["shipment"]["status"] == ShipmentStatus.CONFIRMED.value
    changes = [p["data"]["change"] for p in mine if p["kind"] == "request_updated"]
    assert "note" not in changes and "message" in changes  # an internal note never reaches the customer
    assert "note" in [p["data"]["change"] for p in theirs]
    request = next(p for p in mine if p["kind"] == "request_updated")["data"]["request"]
    assert request["reference"] == ticket.reference and "category_label" not in request
    assert staff.id != created.id


def test_a_failed_delivery_is_retried_with_backoff_then_succeeds(db, world, receiver, private_allowed):
    admin = principal_for(db, "customer_admin@alfa.test")
    created = subscribe(db, admin, receiver.url, ["*"])
    webhooks.send_test(db, admin, created.id)
    receiver.statuses = [500]
    t0 = datetime.now(UTC) + timedelta(seconds=1)

    first = webhook_outbox.run_round(db, ALLOW, t0)
    assert (first.sent, first.failed_attempts) == (0, 1)
    row = webhooks.list_deliveries(db, admin, created.id).rows[0]
    assert row.status == "queued" and row.response_code == 500 and row.attempts == 1
    assert row.last_error and "500" in row.last_error
    assert row.next_attempt_at == t0 + timedelta(minutes=1)

    assert webhook_outbox.run_round(db, ALLOW, t0 + timedelta(seconds=30)).sent == 0  # not due yet
    assert len(receiver.requests) == 1
    again = webhook_outbox.run_round(db, ALLOW, t0 + timedelta(seconds=61))
    assert again.sent == 1
    row = webhooks.list_deliveries(db, admin, created.id).rows[0]
    assert row.status == "sent" and row.attempts == 2 and row.response_code == 200
    assert len(receiver.requests) == 2
    first_body, second_body = receiver.requests[0][1], receiver.requests[1][1]
    assert first_body == second_body  # the same event, signed again with the new timestamp
    assert json.loads(second_body)["kind"] == "webhook_test"
    assert verify(created.secret, receiver.requests[1][0], second_body, t0 + timedelta(seconds=61))
    sub = webhooks.get_subscription(db, admin, created.id)
    assert sub.consecutive_failures == 0 and sub.last_success_at is not None


def test_backoff_grows_and_is_capped():
    assert [webhook_outbox.backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert webhook_outbox.backoff(30) == timedelta(hours=4)


def test_a_day_of_failures_pauses_the_subscription_and_tells_its_admins(db, world, receiver, private_allowed):
    admin = principal_for(db, "customer_admin@alfa.test")
    created = subscribe(db, admin, receiver.url, ["*"])
    webhooks.send_test(db, admin, created.id)
    receiver.always = 500
    t0 = datetime.now(UTC) + timedelta(seconds=1)
    now = t0
    for _ in range(40):
        result = webhook_outbox.run_round(db, ALLOW, now)
        if result.paused:
            break
        row = db.exec(select(WebhookDelivery).where(WebhookDelivery.subscription_id == created.id)
                      .execution_options(populate_existing=True)).one()
        assert row.status == "queued" and row.next_attempt_at is not None
        now = row.next_attempt_at
    sub = webhooks.get_subscription(db, admin, created.id)
    assert sub.status == "paused" and sub.pause_reason and "500" in sub.pause_reason
    assert now - t0 >= timedelta(hours=24)  # retried for at least a day before pausing
    assert sub.consecutive_failures >= 10
    tries = len(receiver.requests)
    # Paused: nothing more is sent, and new events are not queued for it.
    assert webhook_outbox.run_round(db, ALLOW, now + timedelta(days=1)).failed_attempts == 0
    assert len(receiver.requests) == tries
    # Its admins are told, in the notification centre and by email.
    told = db.exec(select(Notification).where(Notification.user_id == admin.user_id,
                                              Notification.event_kind == "webhook_paused")).all()
    assert len(told) == 1 and "/portal/account/webhooks" in told[0].link
    beta_admin = principal_for(db, "customer_admin@beta.test")
    assert not db.exec(select(Notification).where(Notification.user_id == beta_admin.user_id,
                                                  Notification.event_kind == "webhook_paused")).all()
    assert db.exec(select(EmailMessage).where(EmailMessage.to_address == admin.email,
                                              col(EmailMessage.subject).contains("paused"))).first() is not None
    # Resumed: the queued delivery goes out at once when the receiver answers again.
    receiver.always = None
    assert webhooks.resume_subscription(db, admin, created.id).status == "active"
    assert webhook_outbox.run_round(db, ALLOW, datetime.now(UTC) + timedelta(seconds=5)).sent == 1


def test_delivery_gives_up_after_the_retry_window(db, world, receiver, private_allowed):
    admin = principal_for(db, "customer_admin@alfa.test")
    created = subscribe(db, admin, receiver.url, ["*"])
    webhooks.send_test(db, admin, created.id)
    receiver.always = 503
    short = webhook_outbox.WebhookConfig(allow_private=True, pause_after_failures=1000, give_up_hours=1)
    result = webhook_outbox.run_round(db, short, datetime.now(UTC) + timedelta(hours=2))
    assert result.gave_up == 1
    assert webhooks.list_deliveries(db, admin, created.id).rows[0].status == "failed"


def test_redirects_are_not_followed(db, world, receiver, private_allowed):
    admin = principal_for(db, "customer_admin@alfa.test")
    created = subscribe(db, admin, receiver.url, ["*"])
    webhooks.send_test(db, admin, created.id)
    receiver.statuses = [302]
    result = webhook_outbox.run_round(db, ALLOW, datetime.now(UTC) + timedelta(seconds=1))
    assert result.failed_attempts == 1 and len(receiver.requests) == 1
    assert webhooks.list_deliveries(db, admin, created.id).rows[0].response_code == 302


# --------------------------------------------------------------------------------------------- addresses


def _refused(db: Session, url: str) -> ValidationFailed:
    admin = principal_for(db, "customer_admin@alfa.test")
    with pytest.raises(ValidationFailed) as caught:
        subscribe(db, admin, url, ["*"])
    assert caught.value.code == ErrorCode.INVALID_URL and "Nothing was saved" in caught.value.message
    return caught.value


def test_loopback_and_private_receivers_need_the_setting(db, world, receiver):
    _refused(db, receiver.url)  # PORTAL_WEBHOOK_ALLOW_PRIVATE is off
    _refused(db, "http://10.1.2.3/hook")
    _refused(db, "http://192.168.1.10/hook")
    _refused(db, "http://localhost:8080/hook")
    assert db.exec(select(WebhookSubscription)).all() == []


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/",
    "https://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://169.254.10.20/hook",
    "http://[fe80::1]/hook",
    "http://[::ffff:169.254.169.254]/hook",
])
def test_link_local_and_metadata_addresses_are_refused_always(db, world, private_allowed, url):
    err = _refused(db, url)
    assert "link-local" in err.message or "private" in err.message


def test_a_host_name_that_resolves_to_a_private_address_is_refused(db, world, monkeypatch):
    real = socket.getaddrinfo

    def fake(host: str, *args: object, **kwargs: object):
        if host == "hooks.internal.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.20.30.40", 443))]
        if host == "metadata.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 443))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(outbound.socket, "getaddrinfo", fake)
    _refused(db, "https://hooks.internal.example/portal")
    monkeypatch.setattr(webhooks, "settings", replace(webhooks.settings, webhook_allow_private=True))
    _refused(db, "https://metadata.example/portal")


def test_plain_http_to_a_public_address_is_refused_even_with_the_setting(db, world, private_allowed, monkeypatch):
    monkeypatch.setattr(outbound.socket, "getaddrinfo",
                        lambda host, *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80))])
    err = _refused(db, "http://erp.example.com/hook")
    assert "https" in err.message


def test_the_address_is_checked_again_when_sending(db, world, receiver, private_allowed):
    admin = principal_for(db, "customer_admin@alfa.test")
    created = subscribe(db, admin, receiver.url, ["*"])
    webhooks.send_test(db, admin, created.id)
    strict = webhook_outbox.WebhookConfig(allow_private=False)  # the setting was turned off since
    result = webhook_outbox.run_round(db, strict, datetime.now(UTC) + timedelta(seconds=1))
    assert result.failed_attempts == 1 and receiver.requests == []
    row = webhooks.list_deliveries(db, admin, created.id).rows[0]
    assert row.status == "queued" and row.last_error and "refused" in row.last_error


# ------------------------------------------------------------------------------------------ who may manage


def test_only_admins_manage_webhooks_and_events_are_checked(db, world, receiver, private_allowed):
    user = principal_for(db, "customer_user@alfa.test")
    with pytest.raises(PermissionDenied):
        subscribe(db, user, receiver.url, ["*"])
    with pytest.raises(PermissionDenied):
        webhooks.list_subscriptions(db, principal_for(db, "ops_manager@fwd.test"))
    admin = principal_for(db, "customer_admin@alfa.test")
    for events in ([], ["shipment_exploded"], ["eta_changed", "nope"]):
        with pytest.raises(ValidationFailed) as caught:
            subscribe(db, admin, receiver.url, events)
        assert caught.value.code == ErrorCode.UNKNOWN_EVENT_KIND
    assert subscribe(db, admin, receiver.url, ["eta_changed", "*"]).events == ["*"]
    ordered = subscribe(db, admin, receiver.url, ["invoice_issued", "milestone_reached"])
    assert ordered.events == ["milestone_reached", "invoice_issued"]


def test_two_workers_never_send_the_same_delivery(db, world, receiver, private_allowed, engine):
    admin = principal_for(db, "customer_admin@alfa.test")
    created = subscribe(db, admin, receiver.url, ["*"])
    for _ in range(6):
        webhooks.send_test(db, admin, created.id)
    now = datetime.now(UTC) + timedelta(seconds=1)

    def worker() -> None:
        with Session(engine, expire_on_commit=False) as mine:
            webhook_outbox.run_round(mine, ALLOW, now, limit=6)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [json.loads(b)["id"] for _h, b, _p in receiver.requests]
    assert len(ids) == 6 and len(set(ids)) == 6


def test_without_the_installation_key_nothing_is_subscribed(db, world, receiver, private_allowed, monkeypatch):
    def unwritable(name: str, variable: str) -> bytes:  # no PORTAL_SSO_KEY, and no key file can be made
        raise PermissionError(13, "Permission denied", name)
    monkeypatch.setattr(secret_box, "settings", replace(secret_box.settings, sso_keys=()))
    monkeypatch.setattr(secret_box, "installation_key", unwritable)
    with pytest.raises(Conflict) as caught:
        subscribe(db, principal_for(db, "customer_admin@alfa.test"), receiver.url, ["*"])
    assert caught.value.code == ErrorCode.SECRET_KEY_MISSING and "PORTAL_SSO_KEY" in caught.value.message
    assert db.exec(select(WebhookSubscription)).all() == []


def test_the_identity_providers_checks_are_unchanged(monkeypatch):
    """Single sign-on uses the same checks without ``allow_private``: a private address stays refused, loopback only
    with ``allow_loopback``, and the refusal speaks of the provider."""
    monkeypatch.setattr(outbound.socket, "getaddrinfo",
                        lambda host, *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 443))])
    with pytest.raises(outbound.AddressRefused, match="the provider must be reachable"):
        outbound.check_url("https://idp.example.com/")
    monkeypatch.undo()
    with pytest.raises(outbound.AddressRefused):
        outbound.check_url("http://127.0.0.1:9/")
    assert str(outbound.check_url("http://127.0.0.1:9/", allow_loopback=True).address) == "127.0.0.1"
    with pytest.raises(outbound.AddressRefused, match="link-local"):
        outbound.check_url("http://169.254.169.254/", allow_loopback=True, allow_private=True)


def test_old_deliveries_leave_the_log_after_the_keeping_time(db, world, receiver, private_allowed):
    admin = principal_for(db, "customer_admin@alfa.test")
    created = subscribe(db, admin, receiver.url, ["*"])
    webhooks.send_test(db, admin, created.id)
    now = datetime.now(UTC) + timedelta(seconds=1)
    assert webhook_outbox.run_round(db, ALLOW, now).sent == 1
    webhooks.send_test(db, admin, created.id)  # still queued when the first one is old
    assert webhook_outbox.prune(db, now + timedelta(days=webhook_outbox.KEEP_DAYS - 1)) == 0
    assert webhook_outbox.prune(db, now + timedelta(days=webhook_outbox.KEEP_DAYS, seconds=1)) == 1
    assert [r.status for r in webhooks.list_deliveries(db, admin, created.id).rows] == ["queued"]


def test_a_subscription_removed_while_sending_does_not_stop_the_round(db, world, receiver, private_allowed,
                                                                      monkeypatch):
    admin = principal_for(db, "customer_admin@alfa.test")
    created = subscribe(db, admin, receiver.url, ["*"])
    webhooks.send_test(db, admin, created.id)
    real = webhook_outbox.deliver

    def deliver_then_removed(sub, delivery, now, config):
        answer = real(sub, delivery, now, config)
        from portal_app.db import get_engine
        with Session(get_engine()) as other:
            webhooks.delete_subscription(other, admin, created.id)
        return answer

    monkeypatch.setattr(webhook_outbox, "deliver", deliver_then_removed)
    result = webhook_outbox.run_round(db, ALLOW, datetime.now(UTC) + timedelta(seconds=1))
    assert result.failed_attempts == 0 and len(receiver.requests) == 1  # the round ended normally
    assert db.exec(select(WebhookDelivery)).all() == []
