"""Background upkeep that runs inside the app process for as long as it serves."""

from __future__ import annotations

import asyncio
import logging

from portal_app.db import get_engine, refresh_planner_statistics

log = logging.getLogger(__name__)
STATISTICS_EVERY_SECONDS = 6 * 3600


async def keep_planner_statistics() -> None:
    """SQLite keeps no statistics by itself: refresh them at start and every few hours as data grows.

    PostgreSQL's autovacuum does this on its own, so there the task does nothing.
    """
    if get_engine().dialect.name != "sqlite":
        return
    while True:
        try:
            await asyncio.to_thread(refresh_planner_statistics)
        except Exception:  # noqa: BLE001 - upkeep must never stop the app; the next round tries again
            log.warning("Refreshing the database planner statistics failed", exc_info=True)
        await asyncio.sleep(STATISTICS_EVERY_SECONDS)
