"""Usage analytics rows (PortalEvent): logins, failed logins, searches, abandoned quotes, bookings and uploads."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

from seed.static_rows import StaticContext
from seed.writer import Batch, IdAllocator

_IPS = ["203.0.113.", "198.51.100.", "192.0.2."]  # documentation ranges (RFC 5737)
_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/130.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/17.5",
    "Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0",
]


def add_logins(ids: IdAllocator, batch: Batch, ctx: StaticContext, now: datetime, rng: random.Random) -> None:
    """Login history for the last 60 days; sets each user's ``last_login_at`` on its pending row."""
    user_rows = {row["id"]: row for row in batch.rows["app_user"]}
    for uid, role, company_id in ctx.users:
        staff = role in ("ops_agent", "ops_manager", "admin")
        created = ctx.user_created[uid]
        ip = rng.choice(_IPS) + str(rng.randint(2, 250))
        agent = rng.choice(_AGENTS)
        last = None
        day = now - timedelta(days=60)
        while True:
            day += timedelta(days=rng.choice((1, 1, 2)) if staff else rng.choice((1, 2, 3, 4, 6)))
            at = day + timedelta(hours=rng.uniform(7, 18))
            if at >= now:
                break
            if at <= created:
                continue
            if rng.random() < 0.06:
                batch.add(
                    "portalevent",
                    _event(
                        ids,
                        "login_failed",
                        uid,
                        company_id,
                        {"reason": "wrong_password", "ip": ip},
                        at - timedelta(minutes=2),
                    ),
                )
            batch.add("portalevent", _event(ids, "login", uid, company_id, {"ip": ip, "user_agent": agent}, at))
            last = at
            if rng.random() < 0.3:
                batch.add(
                    "portalevent",
                    _event(ids, "logout", uid, company_id, {}, at + timedelta(minutes=rng.randint(5, 90))),
                )
        if last is not None:
            user_rows[uid]["last_login_at"] = last
    # an attack-like burst on one unknown address, and one lockout
    base = now - timedelta(days=3, hours=4)
    for n in range(8):
        batch.add(
            "portalevent",
            _event(
                ids,
                "login_failed",
                None,
                None,
                {"reason": "unknown_email", "email": "admin@acme.example", "ip": "198.51.100.77"},
                base + timedelta(seconds=20 * n),
            ),
        )
    bob = next((u for u, role, _c in ctx.users if role == "customer_user"), None)
    if bob is not None:
        company = next(c for u, _r, c in ctx.users if u == bob)
        for n in range(5):
            batch.add(
                "portalevent",
                _event(
                    ids,
                    "login_failed",
                    bob,
                    company,
                    {"reason": "wrong_password"},
                    now - timedelta(days=9, minutes=10 - n),
                ),
            )
        batch.add(
            "portalevent", _event(ids, "lockout", bob, company, {"minutes": 15}, now - timedelta(days=9, minutes=4))
        )


def add_usage(
    ids: IdAllocator,
    batch: Batch,
    ctx: StaticContext,
    now: datetime,
    rng: random.Random,
    sample_refs: dict[int, list[str]],
) -> None:
    """Searches with the customer's own references, and started / abandoned / failed flows."""
    for company in ctx.customers:
        refs = sample_refs.get(company.id) or ["SH0000001"]
        for uid in company.user_ids:
            for _ in range(rng.randint(6, 20)):
                at = now - timedelta(days=rng.uniform(0.1, 60))
                query = rng.choice(refs)
                if rng.random() < 0.3:
                    query = query.lower()
                elif rng.random() < 0.2:
                    query = query[: max(4, len(query) - 3)]
                batch.add(
                    "portalevent",
                    _event(ids, "search", uid, company.id, {"query": query, "results": rng.randint(0, 3)}, at),
                )
            for _ in range(rng.randint(0, 4)):
                at = now - timedelta(days=rng.uniform(0.1, 60))
                flow = rng.choice(("quote", "booking", "upload"))
                batch.add("portalevent", _event(ids, f"{flow}_started", uid, company.id, {}, at))
                outcome = rng.random()
                if flow == "upload":
                    kind = "upload_completed" if outcome < 0.7 else "upload_failed"
                    detail = (
                        {}
                        if kind == "upload_completed"
                        else {"error": rng.choice(("file_too_large", "virus_scan_timeout", "unsupported_type"))}
                    )
                elif flow == "quote":
                    kind = "quote_submitted" if outcome < 0.6 else "quote_abandoned"
                    detail = {} if kind == "quote_submitted" else {"step": rng.choice(("cargo", "route", "review"))}
                else:
                    kind = (
                        "booking_submitted"
                        if outcome < 0.6
                        else "booking_abandoned"
                        if outcome < 0.95
                        else "booking_failed"
                    )
                    detail = (
                        {}
                        if kind == "booking_submitted"
                        else {"step": rng.choice(("parties", "cargo", "documents", "review"))}
                    )
                batch.add(
                    "portalevent",
                    _event(ids, kind, uid, company.id, detail, at + timedelta(minutes=rng.randint(1, 25))),
                )
        if rng.random() < 0.5:
            uid = rng.choice(company.user_ids)
            batch.add(
                "portalevent",
                _event(
                    ids,
                    "page_error",
                    uid,
                    company.id,
                    {"page": "/portal/invoices", "error": "timeout"},
                    now - timedelta(days=rng.uniform(1, 30)),
                ),
            )


def _event(
    ids: IdAllocator, kind: str, user_id: int | None, company_id: int | None, detail: dict, at: datetime
) -> dict:
    return {
        "id": ids.next("portalevent"),
        "kind": kind,
        "user_id": user_id,
        "company_id": company_id,
        "detail": json.dumps(detail) if detail else None,  # small fixed shapes: never cut (cut JSON is unreadable)
        "created_at": at,
    }
