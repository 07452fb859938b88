"""Figures taken from the running app (`make run` on the scale database): websocket events, server memory per
session, JavaScript per page and Lighthouse.

Imported only after the environment points at the bench database (bench/__main__.py).
"""

from __future__ import annotations

import asyncio
import statistics
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

import models
from bench import frontend, load_events
from bench.app_server import running_app
from bench.event_client import SESSION_COOKIE
from bench.scenarios import CUSTOMER, principal_for, raw_sql_timings, search_terms_for
from bench.tower import BOARD_FILTERS, STAFF
from portal_app.db import get_engine


@dataclass
class LiveOptions:
    single_events: int = 200
    paced_users: int = 50
    paced_seconds: float = 30.0
    capacity_users: tuple[int, ...] = (1, 4, 16)
    capacity_seconds: float = 10.0
    memory_sessions: int = 200  # measured after 50 warm sessions
    lighthouse: bool = True
    lighthouse_runs: int = 3  # per page; the median run is reported


@dataclass
class LiveFigures:
    timings: dict[str, list[float]] = field(default_factory=dict)
    values: list[tuple[str, float, str]] = field(default_factory=list)

    def add(self, name: str, value: float, unit: str) -> None:
        self.values.append((name, value, unit))


def _detail_reference(email: str) -> str:
    with Session(get_engine()) as db:
        principal = principal_for(db, email)
        return db.exec(
            sa.select(models.Shipment.reference)
            .where(models.Shipment.company_id == principal.company_id)
            .order_by(models.Shipment.updated_at.desc())
            .limit(1)
        ).one()[0]


def _measure_events(url: str, opts: LiveOptions, figures: LiveFigures, pid: int) -> None:
    # Import the pages' states here, outside any event loop: Reflex registers states in a context variable, and a
    # first import inside asyncio.run() would leave the registration in that run's context alone.
    load_events.list_substate()
    load_events.board_substate()
    terms = search_terms_for(CUSTOMER[0])
    sessions = max(opts.paced_users, opts.memory_sessions + 50, *opts.capacity_users)
    cookies = load_events.cookies_for(url, *CUSTOMER, count=sessions)

    single = asyncio.run(load_events.single_user(url, cookies[0], terms, opts.single_events))
    figures.timings["list_event_1_user"] = single.timings
    figures.add("list_event_1_user_errors", len(single.errors), "count")

    floor = asyncio.run(load_events.no_query_user(url, cookies[0], opts.single_events))
    figures.timings["list_event_without_query_1_user"] = floor.timings
    figures.add("list_event_without_query_1_user_errors", len(floor.errors), "count")

    staff = load_events.cookies_for(url, STAFF, CUSTOMER[1], count=1)[0]
    board = asyncio.run(load_events.single_user_on(
        url, staff, load_events.board_event_mix(BOARD_FILTERS), opts.single_events, load_events.board_substate(),
        load_events.BOARD_PATH))
    figures.timings["board_filter_event_1_user"] = board.timings
    figures.add("board_filter_event_1_user_errors", len(board.errors), "count")

    paced = asyncio.run(load_events.paced_users(url, cookies[: opts.paced_users], terms, opts.paced_seconds))
    figures.timings[f"list_event_{opts.paced_users}_users_1_per_s"] = paced.timings
    figures.add(f"list_event_{opts.paced_users}_users_1_per_s_errors", len(paced.errors), "count")
    figures.add(f"list_event_{opts.paced_users}_users_1_per_s_throughput", round(paced.throughput, 1), "events/s")

    best = 0.0
    for users in opts.capacity_users:
        run = asyncio.run(load_events.saturating_users(url, cookies[:users], terms, opts.capacity_seconds))
        figures.add(f"list_event_capacity_{users}_users", round(run.throughput, 1), "events/s")
        figures.add(f"list_event_capacity_{users}_users_errors", len(run.errors), "count")
        best = max(best, run.throughput)
    figures.add("list_event_capacity", round(best, 1), "events/s")

    per_session, opened = asyncio.run(load_events.memory_per_session(
        url, cookies[: opts.memory_sessions + 50], lambda: load_events.app_private_bytes(pid), warm=50))
    figures.add(f"server_memory_per_session_{opened}_sessions", round(per_session / 1024, 1), "KB")

    with Session(get_engine()) as db:
        principal = principal_for(db, CUSTOMER[0])
    mix = load_events.event_mix(terms)
    raw = raw_sql_timings(principal, [(e.params, e.page, "updated") for e in mix], opts.single_events)
    figures.timings["list_event_same_queries_raw_sql"] = raw
    figures.add("list_event_to_raw_sql_ratio_p50",
                round(statistics.median(single.timings) / statistics.median(raw), 2), "x")
    figures.add("list_event_without_query_to_raw_sql_ratio_p50",
                round(statistics.median(floor.timings) / statistics.median(raw), 2), "x")


def _measure_pages(url: str, opts: LiveOptions, figures: LiveFigures) -> None:
    from playwright.sync_api import sync_playwright

    cookie = load_events.cookies_for(url, *CUSTOMER, count=1)[0]
    # Each page's own address (with the trailing slash the static export gives it; without, a redirect comes first).
    pages = {
        "dashboard": "/portal/",
        "shipment_list": "/portal/shipments/",
        "shipment_detail": f"/portal/shipments/{_detail_reference(CUSTOMER[0])}/",
    }
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=frontend.CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for name, path in pages.items():
            context = browser.new_context()  # a cold cache: everything the first visit downloads
            context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": url}])
            page = context.new_page()
            scripts = frontend.ScriptBytes(page)
            page.goto(url + path, wait_until="networkidle")
            figures.add(f"js_gzip_{name}", scripts.gzip_kb(), "KB")
            context.close()
        for name, path in pages.items():
            work = frontend.main_thread_work(browser, url + path, {"name": SESSION_COOKIE, "value": cookie, "url": url})
            for key, value in work.items():
                figures.add(f"main_thread_{name}_{key.removesuffix('_ms')}", value, "ms")
        browser.close()
    if not opts.lighthouse:
        return
    for name, path in pages.items():
        scores = frontend.lighthouse_median(url + path, f"{SESSION_COOKIE}={cookie}", opts.lighthouse_runs)
        for key, value in scores.items():
            unit = "ms" if key.endswith("_ms") else "score"
            figures.add(f"lighthouse_{name}_{key.removesuffix('_ms')}", value, unit)


def measure_live(database_url: str, data_dir: Path, opts: LiveOptions) -> LiveFigures:
    """Start the app on the scale database, take every live figure, stop it."""
    figures = LiveFigures()
    # The scheduled exception-rule pass (about a second of work on this data, timed on its own as rules_full_pass)
    # is off: its first run, 30 s after the start, would otherwise land in whichever figure is being taken.
    overrides = {"REFLEX_DB_URL": database_url, "PORTAL_SEED_DEMO": "0", "PORTAL_LOGIN_IP_LIMIT": "100000",
                 "PORTAL_RULES_EVERY_MINUTES": "0"}
    with running_app(data_dir / "app", overrides) as app:
        _measure_events(app.url, opts, figures, app.process.pid)
        _measure_pages(app.url, opts, figures)
    return figures
