"""Prometheus metrics (``GET /api/metrics``), shared by every worker process.

Workers write their counters and histograms to files in ``PROMETHEUS_MULTIPROC_DIR`` (``<data dir>/prometheus``
unless set; `make run` empties it at start) and a scrape adds them up (prometheus-client's multiprocess
collector), so the answer is the same whichever worker serves it. Queue depths, open sessions and the database
pool are read when scraped. Labels hold route templates and handler names only: never an address, a reference or
anything a customer typed.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator

from portal_app.settings import settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiproc_dir_default() -> str:
    return str(settings.data_dir / "prometheus")


def ensure_multiproc_dir(clear: bool = False) -> str:
    """Set ``PROMETHEUS_MULTIPROC_DIR`` when unset and create it; ``clear`` (only before any worker starts) removes
    the files of earlier runs."""
    path = os.environ.get(MULTIPROC_ENV) or multiproc_dir_default()
    os.environ[MULTIPROC_ENV] = path
    os.makedirs(path, exist_ok=True)
    if clear:
        for name in os.listdir(path):
            if name.endswith(".db"):
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(path, name))
    return path


# The value class is chosen when prometheus_client is first imported: the directory must be known before that.
if "prometheus_client" not in sys.modules:
    ensure_multiproc_dir()

from prometheus_client import (  # noqa: E402
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily  # noqa: E402
from prometheus_client.registry import Collector  # noqa: E402
from starlette.types import ASGIApp, Message, Receive, Scope, Send  # noqa: E402

CONTENT_TYPE = CONTENT_TYPE_LATEST
_LIVE = CollectorRegistry()
UNMATCHED = "unmatched"

HTTP_SECONDS = Histogram(
    "portal_http_request_duration_seconds", "HTTP request time by route template, method and status class.",
    ["method", "route", "status_class"], registry=_LIVE,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
HTTP_ERRORS = Counter(
    "portal_http_server_errors", "HTTP answers with a 5xx status, by route template and method.",
    ["method", "route", "status"], registry=_LIVE)
EVENT_SECONDS = Histogram(
    "portal_page_event_duration_seconds", "Page (websocket) event handler time by handler.",
    ["handler"], registry=_LIVE,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
EVENT_ERRORS = Counter(
    "portal_page_event_errors", "Page event handlers that failed unexpectedly, by handler.", ["handler"],
    registry=_LIVE)
RULE_PASS_SECONDS = Histogram(
    "portal_rule_pass_duration_seconds", "Time of one scheduled exception rule pass.", registry=_LIVE,
    buckets=(0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0))


def route_template(scope: Scope) -> str:
    """The matched route's template (``/api/v1/shipments/{reference}``), never the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str) and path and type(route).__name__ != "Mount":
        return path
    return UNMATCHED


class HttpMetricsMiddleware:
    """Times every HTTP request and counts 5xx answers under the route template the router matched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            method = scope.get("method", "GET") if scope.get("method") in METHODS else "OTHER"
            route = route_template(scope)
            HTTP_SECONDS.labels(method, route, f"{status[0] // 100}xx").observe(time.perf_counter() - start)
            if status[0] >= 500:
                HTTP_ERRORS.labels(method, route, str(status[0])).inc()


METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe_event(handler: str, seconds: float, failed: bool) -> None:
    EVENT_SECONDS.labels(handler).observe(seconds)
    if failed:
        EVENT_ERRORS.labels(handler).inc()


class ScrapeTimeCollector(Collector):
    """Values read when scraped: queues, open sessions, the database pool of the answering worker."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        import sqlalchemy as sa
        from sqlmodel import Session, col, select

        from models import UserSession
        from portal_app.db import get_engine
        from portal_app.services import clock
        from portal_app.services.system_status import queue_backlog

        engine = get_engine()
        now = clock.now()
        depth = GaugeMetricFamily("portal_queue_depth", "Items waiting to be sent, by queue.", labels=["queue"])
        age = GaugeMetricFamily("portal_queue_oldest_age_seconds", "Age of the oldest waiting item, by queue.",
                                labels=["queue"])
        sessions = GaugeMetricFamily("portal_sessions_open", "Signed-in sessions neither ended nor expired.")
        up = GaugeMetricFamily("portal_database_up", "1 when the database answered this scrape.")
        try:
            with Session(engine) as db:
                for queue in queue_backlog(db, now):
                    depth.add_metric([queue.queue], float(queue.waiting))
                    age.add_metric([queue.queue], queue.oldest_age_seconds)
                open_sessions = db.exec(select(sa.func.count()).select_from(UserSession).where(
                    col(UserSession.revoked_at).is_(None), col(UserSession.expires_at) > now)).one()
                sessions.add_metric([], float(open_sessions or 0))
            up.add_metric([], 1.0)
            yield from (depth, age, sessions)
        except sa.exc.SQLAlchemyError:
            up.add_metric([], 0.0)
        yield up
        pool = engine.pool
        size, checked_out = getattr(pool, "size", None), getattr(pool, "checkedout", None)
        if callable(size) and callable(checked_out):
            yield GaugeMetricFamily("portal_db_pool_size", "Connections the answering worker's pool keeps.",
                                    value=float(size()))
            yield GaugeMetricFamily("portal_db_pool_checked_out",
                                    "Connections of the answering worker's pool in use now.",
                                    value=float(checked_out()))


def render() -> bytes:
    """The Prometheus text of every worker's metrics and the scrape-time values."""
    if os.environ.get(MULTIPROC_ENV) and _multiprocess_values():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        shared = generate_latest(registry)
    else:
        shared = generate_latest(_LIVE)
    scrape = CollectorRegistry()
    scrape.register(ScrapeTimeCollector())
    return shared + generate_latest(scrape)


def _multiprocess_values() -> bool:
    from prometheus_client import values

    return values.ValueClass is not values.MutexValue
