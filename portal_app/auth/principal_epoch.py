"""A counter in Redis that tells every worker when the principals it remembers may be out of date.

Page events remember a live session's principal for a moment in their own process (``auth/sessions.py``). Ending
sessions or changing a role clears that memory in the process that made the change; with several workers (and
hosts) the others would keep using what they remember until it lapses. So with ``REFLEX_REDIS_URL`` every such
change also moves this counter, and a worker uses a remembered principal only while the counter stands where it
stood when the principal was looked up: the next event on any worker sees the change. Without Redis there is one
worker, and ``current()`` is always None.

A Redis error never fails the change or the event: the change's own process has already forgotten, the others'
memories lapse within ``PRINCIPAL_CACHE_SECONDS``, and a counter that cannot be read means "look it up again".
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

from portal_app.settings import settings

KEY = "portal:principals-epoch"
log = logging.getLogger(__name__)
_sync_client: Any = None
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()


def bump() -> None:
    """Move the counter (no-op without Redis)."""
    global _sync_client
    if not settings.redis_url:
        return
    import redis

    try:
        if _sync_client is None:
            _sync_client = redis.Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
        _sync_client.incr(KEY)
    except redis.RedisError:
        log.warning("Could not tell the other workers that sessions changed (Redis did not answer)", exc_info=True)


async def current() -> int | None:
    """The counter as it stands now; None without Redis, and -1 (matching nothing remembered) when unreadable."""
    if not settings.redis_url:
        return None
    import redis
    import redis.asyncio as aioredis

    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        client = _async_clients[loop] = aioredis.Redis.from_url(settings.redis_url, socket_timeout=2,
                                                                 socket_connect_timeout=2)
    try:
        raw = await client.get(KEY)
    except redis.RedisError:
        return -1
    return int(raw) if raw is not None and raw.isdigit() else 0
