"""Which sign-in each open page belongs to, for HTTP requests that act on a page's state.

Reflex keys a page's state by the browser tab's client token, which is not a credential: anyone who learns it can
name it. ``ui/page_binding.py`` binds every tab's state to the session that loaded it (and wipes the state when that
changes); this module publishes the binding, so ``/_upload`` can refuse a request whose own cookie is not the tab's
session before it reads a byte of the body (``edge/upload_gate.py``).

Without Redis the bindings live in this process (there is one worker); with ``REFLEX_REDIS_URL`` they live in Redis
and every worker sees them. An entry lasts as long as a session can (``PORTAL_SESSION_HOURS``).
"""

from __future__ import annotations

import asyncio
import time
import weakref

from portal_app.settings import settings

KEY_PREFIX = "portal:tab-session:"
MAX_TOKEN_CHARS = 128  # Reflex's tokens are UUIDs; anything longer is not one of ours
_MAX_IN_MEMORY = 100_000


def plausible_token(token: str | None) -> bool:
    """A client token worth looking up: short, printable ASCII, no spaces."""
    return bool(token) and len(token) <= MAX_TOKEN_CHARS and token.isascii() and token.isprintable() \
        and " " not in token


def _ttl_seconds() -> int:
    return max(1, settings.session_hours) * 3600


class _InProcess:
    def __init__(self) -> None:
        self._bound: dict[str, tuple[float, int]] = {}

    async def publish(self, token: str, session_id: int | None) -> None:
        if session_id is None:
            self._bound.pop(token, None)
            return
        now = time.monotonic()
        if len(self._bound) >= _MAX_IN_MEMORY:
            self._bound = {t: v for t, v in self._bound.items() if v[0] > now}
            if len(self._bound) >= _MAX_IN_MEMORY:  # all live: the oldest binding goes first
                self._bound.pop(next(iter(self._bound)))
        self._bound[token] = (now + _ttl_seconds(), session_id)

    async def bound_session(self, token: str) -> int | None:
        hit = self._bound.get(token)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def clear(self) -> None:
        self._bound.clear()


class _InRedis:
    """One client per event loop (the server has one per worker; tests run several in turn)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, object] = weakref.WeakKeyDictionary()

    def _client(self):  # noqa: ANN202
        import redis.asyncio as aioredis

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = aioredis.Redis.from_url(self._url)
        return client

    async def publish(self, token: str, session_id: int | None) -> None:
        if session_id is None:
            await self._client().delete(KEY_PREFIX + token)
        else:
            await self._client().set(KEY_PREFIX + token, str(session_id), ex=_ttl_seconds())

    async def bound_session(self, token: str) -> int | None:
        raw = await self._client().get(KEY_PREFIX + token)
        return int(raw) if raw is not None and raw.isdigit() else None


_store: _InProcess | _InRedis = _InRedis(settings.redis_url) if settings.redis_url else _InProcess()


async def publish(token: str, session_id: int | None) -> None:
    """Record that the tab ``token`` now belongs to ``session_id`` (None: to nobody)."""
    if plausible_token(token):
        await _store.publish(token, session_id)


async def bound_session(token: str | None) -> int | None:
    """The session id the tab ``token`` belongs to, or None (unknown tab, signed out, or expired)."""
    if not plausible_token(token):
        return None
    return await _store.bound_session(token)
