"""Is a backing service answering? The readiness route (``/api/ready``) and the tower's System page ask the same way."""

from __future__ import annotations

import sqlalchemy as sa

from portal_app import db as database

REDIS_TIMEOUT_SECONDS = 2


def database_ok() -> bool:
    try:
        return database.database_ok()
    except (sa.exc.SQLAlchemyError, OSError):
        return False


def redis_ok(url: str) -> bool:
    """Whether Redis at ``url`` answers a PING within two seconds."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                      socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError):  # no answer, or an address that is not one: not ready
        return False
