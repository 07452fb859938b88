"""Who an upload acts as (edge/upload_gate.py, auth/upload_principals.py, SessionState._authorize_upload).

The gate decides from the headers and the request's own cookie before reading a byte of the body; an upload
handler, run through Reflex's own event processor the way ``/_upload`` runs it, acts only as the session the gate
recorded for the request, and only on a tab that belongs to that session (in memory and with Redis)."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from pathlib import Path

import httpx
import pytest
import reflex as rx
import sqlalchemy as sa
from reflex_base.event import Event
from sqlmodel import Session, select

from models import Document, UserSession
from portal_app.auth import sessions, tab_sessions, upload_principals
from portal_app.auth.sessions import SESSION_COOKIE
from portal_app.edge.upload_gate import UploadGate, upload_handler_names
from tests.factories import PASSWORD, World
from tests.pages.test_page_binding import REDIS_URL, Tab, _redis_or_skip, _run_tab, app  # noqa: F401  (fixture)
from tests.services.test_documents import pdf_bytes


def _upload_handler() -> str:
    from portal_app.portal.shipment_detail import PortalShipmentDetailState

    return f"{PortalShipmentDetailState.get_full_name()}.upload_document"


def _signed_in(db: Session, email: str) -> tuple[str, int]:
    cookie = sessions.login(db, email, PASSWORD).token
    session_id = db.exec(select(UserSession.id).where(UserSession.token_hash == sessions.hash_token(cookie))).one()
    return cookie, session_id


class Inner:
    """The app behind the gate: records whether it ran, what it saw, and whether anyone read the body."""

    def __init__(self, hold: asyncio.Event | None = None) -> None:
        self.calls: list[object] = []
        self.hold = hold
        self.started = asyncio.Event()

    async def __call__(self, scope, receive, send) -> None:
        token = dict(scope["headers"]).get(b"reflex-client-token", b"").decode()
        self.calls.append(upload_principals.uploading_principal(token))
        self.started.set()
        if self.hold is not None:
            await self.hold.wait()
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}\n"})


def _client(inner: Inner, body_reads: list[int]) -> httpx.AsyncClient:
    gate = UploadGate(inner)

    async def counting(scope, receive, send):
        async def counted_receive():
            body_reads.append(1)
            return await receive()
        await gate(scope, counted_receive, send)

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=counting), base_url="http://testserver")


async def _post(client: httpx.AsyncClient, tab: str, handler: str, cookie: str | None) -> httpx.Response:
    headers = {"reflex-client-token": tab, "reflex-event-handler": handler}
    if cookie:
        headers["cookie"] = f"{SESSION_COOKIE}={cookie}"
    return await client.post("/_upload", headers=headers,
                             files=[("files", ("a.pdf", b"%PDF-1.4 " + b"x" * 5000, "application/pdf"))])


def test_the_gate_decides_before_reading_the_body(app, db, world: World):  # noqa: F811
    alice_cookie, alice_session = _signed_in(db, world.users["ALFA:customer_user"].email)
    bob_cookie, _ = _signed_in(db, world.users["ALFA:customer_admin"].email)
    tab, handler = f"tab-{uuid.uuid4()}", _upload_handler()

    async def main() -> None:
        await tab_sessions.publish(tab, alice_session)
        for label, headers_tab, name, cookie, status, code in (
            ("not an upload handler", tab, "reflex___state____state.hydrate", alice_cookie, 400, "not_an_upload"),
            ("no handler", tab, "", alice_cookie, 400, "not_an_upload"),
            ("no cookie", tab, handler, None, 401, "not_authenticated"),
            ("unknown cookie", tab, handler, "forged-cookie-value", 401, "not_authenticated"),
            ("another user's cookie", tab, handler, bob_cookie, 401, "page_not_yours"),
            ("a tab nobody opened", f"tab-{uuid.uuid4()}", handler, alice_cookie, 401, "page_not_yours"),
        ):
            inner, reads = Inner(), []
            async with _client(inner, reads) as client:
                answer = await _post(client, headers_tab, name, cookie)
            assert answer.status_code == status, label
            assert answer.json()["error"]["code"] == code and answer.json()["error"]["saved"] is False, label
            assert "nothing was stored" in answer.json()["error"]["message"], label
            assert inner.calls == [] and reads == [], f"{label}: the request reached the app or its body was read"

        inner, reads = Inner(), []
        async with _client(inner, reads) as client:
            answer = await _post(client, tab, handler, alice_cookie)
        assert answer.status_code == 200 and reads
        assert [p.session_id for p in inner.calls] == [alice_session]  # the handler would see her session
        assert upload_principals.uploading_principal(tab) is None  # and only while the request ran

    asyncio.run(main())


def test_uploads_in_flight_for_one_tab_act_as_one_session(app, db, world: World):  # noqa: F811
    """Two uploads of the tab's own session run side by side; one of another session meanwhile is refused, so a
    handler never picks up someone else's record (even if the tab's binding changed between the two requests)."""
    alice_cookie, alice_session = _signed_in(db, world.users["ALFA:customer_user"].email)
    bob_cookie, bob_session = _signed_in(db, world.users["ALFA:customer_admin"].email)
    tab, handler = f"tab-{uuid.uuid4()}", _upload_handler()

    async def main() -> None:
        await tab_sessions.publish(tab, alice_session)
        hold = asyncio.Event()
        inner = Inner(hold)
        async with _client(inner, []) as client:
            first = asyncio.create_task(_post(client, tab, handler, alice_cookie))
            await asyncio.wait_for(inner.started.wait(), 10)
            second = asyncio.create_task(_post(client, tab, handler, alice_cookie))
            while len(inner.calls) < 2:
                await asyncio.sleep(0.01)
            await tab_sessions.publish(tab, bob_session)  # the tab is now someone else's page...
            third = await _post(client, tab, handler, bob_cookie)
            assert third.status_code == 409 and third.json()["error"]["code"] == "upload_conflict"
            hold.set()
            assert (await first).status_code == 200 and (await second).status_code == 200
        assert [p.session_id for p in inner.calls] == [alice_session, alice_session]
        assert upload_principals.uploading_principal(tab) is None
        async with _client(Inner(), []) as client:  # ...and once hers are done, its own uploads go through
            assert (await _post(client, tab, handler, bob_cookie)).status_code == 200

    asyncio.run(main())


def test_the_tab_bindings_in_redis_are_shared_and_expire(monkeypatch):
    _redis_or_skip()
    import redis

    monkeypatch.setattr(tab_sessions, "_store", tab_sessions._InRedis(REDIS_URL))
    tab = f"tab-{uuid.uuid4()}"

    async def main() -> None:
        await tab_sessions.publish(tab, 41)
        assert await tab_sessions.bound_session(tab) == 41
        await tab_sessions.publish(tab, None)
        assert await tab_sessions.bound_session(tab) is None
        await tab_sessions.publish(tab, 42)
        assert await tab_sessions.bound_session("x" * 500) is None  # not a token: not even looked up

    asyncio.run(main())
    raw = redis.Redis.from_url(REDIS_URL)
    assert raw.get(tab_sessions.KEY_PREFIX + tab) == b"42"  # what every other worker reads
    assert 0 < raw.ttl(tab_sessions.KEY_PREFIX + tab) <= 12 * 3600


def _documents(db: Session, reference: str) -> list[tuple[str, int]]:
    from models import Shipment

    rows = db.exec(select(Document.filename, Document.uploaded_by_id)
                   .join(Shipment, Shipment.id == Document.shipment_id).where(Shipment.reference == reference)).all()
    return [tuple(r) for r in rows]


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_the_upload_handler_acts_only_as_the_recorded_session_of_its_tab(app, db, world: World, kind,  # noqa: F811
                                                                          monkeypatch):
    """The upload event, enqueued as Reflex's /_upload enqueues it (no router data of its own: the tab's stored
    websocket cookie is all the state knows)."""
    if kind == "redis":
        _redis_or_skip()
        monkeypatch.setattr(tab_sessions, "_store", tab_sessions._InRedis(REDIS_URL))
    alice = world.users["ALFA:customer_user"]
    alice_cookie, _ = _signed_in(db, alice.email)
    bob_cookie, _ = _signed_in(db, world.users["ALFA:customer_admin"].email)
    reference = world.shipments["ALFA"][0]
    bob_principal = sessions.resolve_session(db, bob_cookie)
    alice_principal = sessions.resolve_session(db, alice_cookie)
    handler = _upload_handler()
    root = "reflex___state____state"
    hers = f"hers-{uuid.uuid4().hex[:6]}.pdf"

    def upload(name: str) -> Event:
        data = pdf_bytes(name)
        return Event(name=handler, payload={"files": [rx.UploadFile(file=io.BytesIO(data), path=Path(name))],
                                            "reference": reference})

    async def script(tab: Tab, manager) -> None:
        await tab.send(f"{root}.hydrate_and_load", cookie=alice_cookie, path=f"/portal/shipments/{reference}")

        async def run(event: Event) -> str:
            return json.dumps([d async for d in tab.processor.enqueue_stream_delta(tab.token, event)], default=str)

        assert "Saved" not in await run(upload("no-record.pdf"))  # no upload request carried it (a websocket call)
        if upload_principals.claim(tab.token, bob_principal):  # a colleague's own cookie with her tab's token
            try:
                assert "Saved" not in await run(upload("colleague.pdf"))
            finally:
                upload_principals.release(tab.token)
        assert upload_principals.claim(tab.token, alice_principal)
        try:
            assert "Saved" in await run(upload(hers))
        finally:
            upload_principals.release(tab.token)

    before = _documents(db, reference)
    _run_tab(app, kind, script)
    added = [d for d in _documents(db, reference) if d not in before]
    assert added == [(hers, alice.id)]


def test_every_upload_handler_is_known_to_the_gate(app):  # noqa: F811
    names = upload_handler_names()
    assert _upload_handler() in names and len(names) >= 7
    assert all(".hydrate" not in n for n in names)


def test_sign_out_unbinds_the_tab_for_uploads(app, db, world: World):  # noqa: F811
    alice_cookie, alice_session = _signed_in(db, world.users["ALFA:customer_user"].email)

    async def script(tab: Tab, manager) -> None:
        await tab.send("reflex___state____state.hydrate_and_load", cookie=alice_cookie, path="/portal")
        assert await tab_sessions.bound_session(tab.token) == alice_session
        sessions.logout(db, alice_cookie)
        await tab.send("reflex___state____state.hydrate_and_load", cookie=None, path="/login")
        assert await tab_sessions.bound_session(tab.token) is None

    _run_tab(app, "memory", script)
    assert db.exec(select(sa.func.count()).select_from(UserSession).where(UserSession.id == alice_session)).one()
