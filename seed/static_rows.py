"""Rows that do not scale with the number of shipments: places, carriers, configuration, organisation, people,
rate cards and help content."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from seed import config_data as cfg
from seed import org_data as org
from seed import rate_cards
from seed.reference_data import CarrierInfo, Place, ReferenceData
from seed.writer import Batch, IdAllocator


@dataclass
class CompanyCtx:
    id: int
    code: str
    name: str
    currency: str
    country: str
    payment_terms_days: int
    profile: org.Customer | None
    user_ids: list[int] = field(default_factory=list)
    admin_ids: list[int] = field(default_factory=list)
    user_names: dict[int, str] = field(default_factory=dict)


@dataclass
class StaticContext:
    """Ids and lookups the shipment generator needs."""

    location_ids: dict[str, int] = field(default_factory=dict)
    carrier_ids: dict[str, int] = field(default_factory=dict)
    carriers: dict[str, CarrierInfo] = field(default_factory=dict)
    branch_ids: dict[str, int] = field(default_factory=dict)
    team_ids: dict[str, int] = field(default_factory=dict)
    team_branch: dict[str, int] = field(default_factory=dict)  # team name -> branch id
    agents_by_team: dict[str, list[int]] = field(default_factory=dict)
    agent_weights_by_team: dict[str, list[int]] = field(default_factory=dict)
    staff_ids: dict[str, int] = field(default_factory=dict)  # email -> id
    staff_team: dict[int, str | None] = field(default_factory=dict)
    forwarder_id: int = 0
    customers: list[CompanyCtx] = field(default_factory=list)
    users: list[tuple[int, str, int]] = field(default_factory=list)  # id, role, company id
    user_created: dict[int, datetime] = field(default_factory=dict)
    manager_id: int = 0
    admin_id: int = 0
    rate_cards: dict[tuple[str, int, int], int] = field(default_factory=dict)  # (mode, origin, dest) -> id
    # rate card id -> (demurrage, detention) free days, for the options priced from it
    card_free_days: dict[int, tuple[int | None, int | None]] = field(default_factory=dict)


def _dt(d: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=UTC)


def add_reference_rows(ref: ReferenceData, ids: IdAllocator, batch: Batch, ctx: StaticContext) -> None:
    place: Place
    for place in ref.places:
        lid = ids.next("location")
        ctx.location_ids[place.code] = lid
        batch.add(
            "location",
            {
                "id": lid,
                "code": place.code,
                "unlocode": place.unlocode,
                "iata_code": place.iata_code,
                "name": place.name,
                "country": place.country,
                "kind": place.kind,
                "timezone": place.timezone,
                "latitude": place.latitude,
                "longitude": place.longitude,
            },
        )
    for carrier in ref.carriers:
        cid = ids.next("carrier")
        ctx.carrier_ids[carrier.code] = cid
        ctx.carriers[carrier.code] = carrier
        batch.add(
            "carrier",
            {
                "id": cid,
                "code": carrier.code,
                "name": carrier.name,
                "mode": carrier.mode,
                "awb_prefix": carrier.awb_prefix,
                "is_active": True,
            },
        )


def add_config_rows(ids: IdAllocator, batch: Batch, now: datetime) -> dict[str, int]:
    """Templates, requirements, rules, policies, help and replies; returns help article ids by slug."""
    article_ids: dict[str, int] = {}
    config_time = now - timedelta(days=200)
    for template in cfg.TEMPLATES.values():
        tid = ids.next("milestonetemplate")
        batch.add(
            "milestonetemplate",
            {
                "id": tid,
                "mode": template.mode,
                "name": template.name,
                "is_active": True,
                "version": 1,
                "updated_at": config_time,
            },
        )
        for seq, step in enumerate(template.steps, start=1):
            batch.add(
                "milestonetemplatestep",
                {
                    "id": ids.next("milestonetemplatestep"),
                    "template_id": tid,
                    "sequence": seq,
                    "code": step.code,
                    "name": step.name,
                    "event_code": step.event_code,
                    "customer_visible": step.customer_visible,
                    "offset_days": step.offset_days,
                    "anchor": step.anchor,
                },
            )
    for mode, incoterm, doc_type, due_days, provided_by in cfg.DOCUMENT_REQUIREMENTS:
        batch.add(
            "documentrequirement",
            {
                "id": ids.next("documentrequirement"),
                "mode": mode,
                "incoterm": incoterm,
                "doc_type": doc_type,
                "due_days_before_departure": due_days,
                "provided_by": provided_by,
                "dangerous_goods_only": doc_type == "dangerous_goods_declaration",
                "is_active": True,
            },
        )
    for kind, (name, hours, days, severity) in cfg.EXCEPTION_RULES.items():
        batch.add(
            "exceptionrule",
            {
                "id": ids.next("exceptionrule"),
                "kind": kind,
                "name": name,
                "threshold_hours": hours,
                "threshold_days": days,
                "severity": severity,
                "is_active": True,
                "updated_at": config_time,
                "version": 1,
            },
        )
    for subject, kind, severity, first, resolution in cfg.SLA_POLICIES:
        batch.add(
            "slapolicy",
            {
                "id": ids.next("slapolicy"),
                "subject": subject,
                "kind": kind,
                "severity": severity,
                "first_response_hours": first,
                "resolution_hours": resolution,
                "is_active": True,
            },
        )
    for article in cfg.HELP_ARTICLES:
        article_ids[article["slug"]] = ids.peek("helparticle")
        batch.add(
            "helparticle",
            {
                "id": ids.next("helparticle"),
                "slug": article["slug"],
                "title": article["title"],
                "body_markdown": article["body_markdown"],
                "audience": article["audience"],
                "keywords": article["keywords"],
                "is_published": True,
                "updated_at": config_time,
                "version": 1,
            },
        )
    for reply in cfg.CANNED_REPLIES:
        batch.add(
            "cannedreply",
            {
                "id": ids.next("cannedreply"),
                "title": reply["title"],
                "body": reply["body"],
                "category": reply["category"],
            },
        )
    return article_ids


def add_org_rows(
    ids: IdAllocator, batch: Batch, ctx: StaticContext, now: datetime, password_hash: str, rng: random.Random
) -> None:
    founded = now - timedelta(days=730)
    fid = ids.next("company")
    ctx.forwarder_id = fid
    batch.add(
        "company",
        {
            "id": fid,
            "code": org.FORWARDER["code"],
            "name": org.FORWARDER["name"],
            "kind": "forwarder",
            "country": org.FORWARDER["country"],
            "billing_currency": org.FORWARDER["currency"],
            "payment_terms_days": 30,
            "is_active": True,
            "created_at": founded,
            "updated_at": founded,
            "version": 1,
        },
    )
    for code, name, locode, tz in org.BRANCHES:
        bid = ids.next("branch")
        ctx.branch_ids[code] = bid
        batch.add("branch", {"id": bid, "code": code, "name": name, "location_code": locode, "timezone": tz})
    for team, branch in org.TEAMS.items():
        tid = ids.next("team")
        ctx.team_ids[team] = tid
        ctx.team_branch[team] = ctx.branch_ids[branch]
        batch.add("team", {"id": tid, "name": team, "branch_id": ctx.branch_ids[branch]})
        ctx.agents_by_team[team] = []
        ctx.agent_weights_by_team[team] = []

    branch_tz = {code: tz for code, _n, _l, tz in org.BRANCHES}

    def user_row(
        uid: int,
        email: str,
        name: str,
        role: str,
        company_id: int,
        branch: str | None,
        team: str | None,
        phone: str | None,
        tz: str,
        created: datetime,
    ) -> dict:
        return {
            "id": uid,
            "email": email.lower(),
            "full_name": name,
            "role": role,
            "company_id": company_id,
            "branch_id": ctx.branch_ids[branch] if branch else None,
            "team_id": ctx.team_ids[team] if team else None,
            "password_hash": password_hash,
            "password_changed_at": created,
            "mfa_secret": None,
            "oidc_subject": None,
            "is_active": True,
            "failed_login_count": 0,
            "locked_until": None,
            "last_login_at": None,  # filled in by the activity generator
            "phone": phone,
            "locale": "en",
            "timezone": tz,
            "created_at": created,
            "updated_at": created,
            "version": 1,
        }

    for email, name, role, branch, team, phone in org.STAFF:
        uid = ids.next("app_user")
        created = founded + timedelta(days=rng.randint(0, 300), hours=rng.randint(8, 17))
        ctx.staff_ids[email] = uid
        ctx.staff_team[uid] = team
        ctx.users.append((uid, role, fid))
        ctx.user_created[uid] = created
        if team and role == "ops_agent":
            ctx.agents_by_team[team].append(uid)
            ctx.agent_weights_by_team[team].append(2 if email == "agent@harborsky.example" else 1)
        batch.add("app_user", user_row(uid, email, name, role, fid, branch, team, phone, branch_tz[branch], created))
    ctx.manager_id = ctx.staff_ids["manager@harborsky.example"]
    ctx.admin_id = ctx.staff_ids["admin@harborsky.example"]

    for customer in org.CUSTOMERS:
        cid = ids.next("company")
        since = founded + timedelta(days=rng.randint(10, 360))
        company = CompanyCtx(
            id=cid,
            code=customer.code,
            name=customer.name,
            currency=customer.currency,
            country=customer.country,
            payment_terms_days=customer.payment_terms_days,
            profile=customer,
        )
        ctx.customers.append(company)
        batch.add(
            "company",
            {
                "id": cid,
                "code": customer.code,
                "name": customer.name,
                "kind": "customer",
                "country": customer.country,
                "billing_currency": customer.currency,
                "payment_terms_days": customer.payment_terms_days,
                "is_active": True,
                "created_at": since,
                "updated_at": since,
                "version": 1,
            },
        )
        for n, (email, name, role) in enumerate(customer.users):
            uid = ids.next("app_user")
            created = since + timedelta(days=n * rng.randint(1, 40), hours=rng.randint(8, 17))
            company.user_ids.append(uid)
            company.user_names[uid] = name
            if role == "customer_admin":
                company.admin_ids.append(uid)
            ctx.users.append((uid, role, cid))
            ctx.user_created[uid] = created
            phone = f"+{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100000, 999999)}"
            tz = org.TIMEZONE_BY_COUNTRY.get(customer.country, "UTC")
            batch.add("app_user", user_row(uid, email, name, role, cid, None, None, phone, tz, created))

    for key, value in cfg.APP_SETTINGS.items():
        batch.add(
            "appsetting",
            {"key": key, "value": value, "updated_at": now - timedelta(days=200), "updated_by_id": ctx.admin_id},
        )


def add_rate_cards(ids: IdAllocator, batch: Batch, ctx: StaticContext, today: date, now: datetime) -> None:
    """The demo rate cards (``seed/rate_cards.py``); ``ctx.rate_cards`` maps each lane to its first live card."""
    rate_cards.add_demo_rate_cards(ids, batch, ctx.location_ids, ctx.carrier_ids, today, ctx.rate_cards,
                                   ctx.card_free_days)


# Demo searches (query, top article, match score, gap), scored as the help centre's search scores them today. The
# first list draws from the seed's random stream (its length and order keep every later demo row as it was); the
# questions the help centre has no article for draw from a stream of their own.
_HELP_QUERIES = [
    ("where is my container", "track-a-shipment", 0.7, False),
    ("change delivery address", "change-delivery-address", 0.83, False),
    ("download invoice pdf", "pay-an-invoice", 0.71, False),
    ("what does DEPA mean", "milestones-explained", 0.89, False),
    ("FOB air freight", "incoterms-2020", 0.62, False),
    ("upload packing list", "upload-documents", 0.7, False),
    ("co2 emissions report", None, None, True),
    ("demurrage charges", "demurrage-and-detention", 0.87, False),
    ("awb check digit", "container-and-awb-numbers", 0.79, False),
    ("add a colleague", "manage-colleagues", 0.82, False),
]
_HELP_GAPS = [
    ("carbon footprint of my shipment", "cargo-insurance", 0.13),
    ("temperature log for reefer", None, None),
    ("pallet exchange", None, None),
    ("co2 emissions report", None, None),
]


def add_help_searches(
    ids: IdAllocator, batch: Batch, ctx: StaticContext, now: datetime, rng: random.Random, article_ids: dict[str, int]
) -> None:
    customer_users = [u for c in ctx.customers for u in c.user_ids]

    def add(query: str, slug: str | None, score: float | None, gap: bool, draw: random.Random) -> None:
        for _ in range(draw.randint(1, 4)):
            batch.add(
                "helpsearch",
                {
                    "id": ids.next("helpsearch"),
                    "query": query,
                    "user_id": draw.choice(customer_users),
                    "top_article_id": article_ids.get(slug) if slug else None,
                    "top_score": score,
                    "is_gap": gap,
                    "created_at": now - timedelta(days=draw.uniform(0.5, 60)),
                },
            )

    for query, slug, score, gap in _HELP_QUERIES:
        add(query, slug, score, gap, rng)
    gaps = random.Random("help-centre-gaps")
    for query, slug, score in _HELP_GAPS:
        add(query, slug, score, True, gaps)


def branding_json() -> str:
    return json.dumps(cfg.BRANDING)
