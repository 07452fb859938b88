"""A tab's page state belongs to one sign-in (ui/page_binding.py), driven through Reflex's own event processor
with the app's middleware, on the in-memory state manager and on Redis: after sign-out, another sign-in, expiry or a
revoked session, the first thing the tab receives holds nothing of the previous user's, and every state of the tab,
loaded for that event or not, is back to its defaults."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from reflex.istate.manager.memory import StateManagerMemory
from reflex.istate.manager.redis import StateManagerRedis
from reflex.istate.manager.token import BaseStateToken
from reflex_base.event import Event
from reflex_base.event.processor.base_state_processor import BaseStateEventProcessor
from sqlmodel import Session, select

from models import UserSession
from portal_app.auth import sessions, tab_sessions
from portal_app.auth.sessions import SESSION_COOKIE
from portal_app.services import clock
from tests.factories import PASSWORD, World

REDIS_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture(scope="module")
def app():
    import portal_app.portal_app as module

    return module.app


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")


@pytest.fixture(params=["memory", "redis"])
def manager_kind(request) -> Iterator[str]:
    if request.param == "redis":
        _redis_or_skip()
    yield request.param


def _manager(kind: str):
    if kind == "memory":
        return StateManagerMemory()
    import redis.asyncio as aioredis

    return StateManagerRedis(redis=aioredis.Redis.from_url(REDIS_URL))


def _sign_in(db: Session, email: str) -> str:
    return sessions.login(db, email, PASSWORD).token


def _names(app) -> dict[str, str]:
    from reflex.state import State

    from portal_app.portal.shipments import PortalShipmentsState

    root = State.get_full_name()
    return {
        "hydrate": f"{root}.hydrate_and_load",
        "shipments": PortalShipmentsState.get_full_name(),
        "session": PortalShipmentsState.get_parent_state().get_full_name(),
    }


class Tab:
    """One browser tab (one client token) talking to the app's event processor the way the websocket does."""

    def __init__(self, processor: BaseStateEventProcessor, token: str) -> None:
        self.processor, self.token = processor, token

    async def send(self, name: str, payload: dict | None = None, *, cookie: str | None, path: str) -> list[dict]:
        headers = {"origin": "http://localhost:3000", "host": "localhost:3000"}
        if cookie:
            headers["cookie"] = f"{SESSION_COOKIE}={cookie}"
        router_data = {"token": self.token, "sid": f"sid-{self.token}", "headers": headers, "pathname": path,
                       "asPath": path, "query": {}, "ip": "127.0.0.1"}
        event = Event(name=name, payload=payload or {}, router_data=router_data)
        return [dict(d) async for d in self.processor.enqueue_stream_delta(self.token, event)]


def _run_tab(app, kind: str, script) -> None:
    async def main() -> None:
        manager = _manager(kind)
        processor = BaseStateEventProcessor(middleware=app, backend_exception_handler=None)
        async with processor.configure(state_manager=manager):
            await script(Tab(processor, f"tab-{uuid.uuid4()}"), manager)
        if kind == "redis":
            await manager.close()
    asyncio.run(main())


def _text(deltas: list[dict]) -> str:
    return json.dumps(deltas, default=str)


def test_sign_out_in_the_same_tab_sends_nothing_of_the_previous_user(app, manager_kind, db, world: World):
    alice = world.users["ALFA:customer_user"]
    cookie = _sign_in(db, alice.email)
    names = _names(app)
    alfa_refs = world.shipments["ALFA"]

    async def script(tab: Tab, manager) -> None:
        first = await tab.send(names["hydrate"], cookie=cookie, path="/portal/shipments")
        seen = _text(first)
        assert alice.full_name in seen and any(ref in seen for ref in alfa_refs)  # the page loaded her rows

        sessions.logout(db, cookie)  # the sign-out form's route, then /login in the same tab, without a cookie
        after = await tab.send(names["hydrate"], cookie=None, path="/login")
        assert after, "the tab got no hydrate"
        first_message = _text(after[:1])
        assert alice.full_name not in first_message and alice.email not in first_message
        assert not any(ref in _text(after) for ref in alfa_refs)

    _run_tab(app, manager_kind, script)


def test_an_ended_session_wipes_states_this_event_did_not_load(app, manager_kind, db, world: World):
    """The session ends while the page stays open; the next click of another page state finds every state of the
    tab back at its defaults, in the state store too (Redis loads only what an event needs)."""
    from portal_app.portal.shipments import PortalShipmentsState
    from portal_app.tower.shipments import TowerShipmentsState

    alice = world.users["ALFA:customer_user"]
    cookie = _sign_in(db, alice.email)
    names = _names(app)

    async def script(tab: Tab, manager) -> None:
        await tab.send(names["hydrate"], cookie=cookie, path="/portal/shipments")
        async with manager.modify_state(BaseStateToken(ident=tab.token, cls=PortalShipmentsState)) as root:
            page = await root.get_state(PortalShipmentsState)
            assert page.rows and page.user_name == alice.full_name

        with Session(db.get_bind()) as other:  # expired (as after PORTAL_SESSION_HOURS), not signed out
            other.exec(sa.update(UserSession).where(UserSession.token_hash == sessions.hash_token(cookie))
                       .values(expires_at=clock.now() - timedelta(seconds=1)))
            other.commit()
        sessions.forget_principals()
        # An event of another page state: it does not need the shipments list's state, Redis does not load it.
        answer = await tab.send(f"{TowerShipmentsState.get_full_name()}.load", cookie=cookie, path="/tower/shipments")
        assert alice.full_name not in _text(answer)

        async with manager.modify_state(BaseStateToken(ident=tab.token, cls=PortalShipmentsState)) as root:
            page = await root.get_state(PortalShipmentsState)
            assert page.rows == [] and page.user_name == "" and page._tab_session is None
        assert await tab_sessions.bound_session(tab.token) is None

    if manager_kind == "redis":
        from portal_app.auth.tab_sessions import _InRedis

        tab_sessions._store, kept = _InRedis(REDIS_URL), tab_sessions._store
        try:
            _run_tab(app, manager_kind, script)
        finally:
            tab_sessions._store = kept
    else:
        _run_tab(app, manager_kind, script)


def test_a_live_session_keeps_its_page_state_and_publishes_the_tab(app, db, world: World):
    from portal_app.portal.shipments import PortalShipmentsState

    alice = world.users["ALFA:customer_user"]
    cookie = _sign_in(db, alice.email)
    session_id = db.exec(select(UserSession.id).where(UserSession.token_hash == sessions.hash_token(cookie))).one()
    names = _names(app)

    async def script(tab: Tab, manager) -> None:
        await tab.send(names["hydrate"], cookie=cookie, path="/portal/shipments")
        assert await tab_sessions.bound_session(tab.token) == session_id
        await tab.send(f"{PortalShipmentsState.get_full_name()}.load", cookie=cookie, path="/portal/shipments")
        async with manager.modify_state(BaseStateToken(ident=tab.token, cls=PortalShipmentsState)) as root:
            page = await root.get_state(PortalShipmentsState)
            assert page.rows and page._tab_session == session_id

    _run_tab(app, "memory", script)
