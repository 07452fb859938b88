"""The seed: demo accounts, valid identifiers and codes, consistent timelines and money, determinism, CLI."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

import seed
import seed.reference_data
from models import (
    AppSetting,
    Carrier,
    Company,
    Container,
    Document,
    DocumentRequirement,
    EtaChange,
    ExceptionRule,
    Invoice,
    InvoiceLine,
    Location,
    Milestone,
    MilestoneTemplate,
    MilestoneTemplateStep,
    OpsException,
    Payment,
    Shipment,
    ShipmentReference,
    SlaPolicy,
    Ticket,
    TicketMessage,
    User,
)
from models.enums import ExceptionKind, InvoiceStatus, Mode, ReferenceKind, Role
from portal_app.auth.passwords import verify_password
from portal_app.services.identifiers import is_valid_awb, is_valid_container_number
from portal_app.services.references import normalize_reference, search_values
from seed.__main__ import main as seed_main
from seed.reference_data import ROAD_REGION_BY_COUNTRY, SEA_ONLY_INCOTERMS

TODAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, tzinfo=UTC)
SHIPMENTS = 120


def _sqlite(path: Path) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{path}")
    seed.create_schema(engine)
    return engine


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[sa.Engine, seed.SeedSummary, Path]:
    base = tmp_path_factory.mktemp("seed")
    engine = _sqlite(base / "a.db")
    files = base / "files"
    summary = seed.run(engine, shipments=SHIPMENTS, seed=42, today=TODAY, files_dir=files, check_rows=True)
    return engine, summary, files


@pytest.fixture(scope="module")
def session(seeded) -> Session:
    engine, _summary, _files = seeded
    with Session(engine) as s:
        yield s


def test_summary_counts(seeded) -> None:
    _engine, summary, _files = seeded
    assert summary.shipments == SHIPMENTS
    assert summary.counts["shipment"] == SHIPMENTS
    assert summary.counts["milestone"] > SHIPMENTS * 5
    assert summary.elapsed_seconds > 0
    assert not summary.skipped


def test_demo_accounts_exist_with_roles_and_password(session: Session) -> None:
    companies = {c.id: c for c in session.exec(select(Company)).all()}
    for email, role, company_code in seed.DEMO_ACCOUNTS:
        user = session.exec(select(User).where(User.email == email)).one()
        assert user.role == role
        assert companies[user.company_id].code == company_code
        assert verify_password(user.password_hash, seed.DEMO_PASSWORD), email
    assert companies[session.exec(select(User).where(User.email == "alice@acme.example")).one().company_id].name == (
        "Acme Home Goods Ltd"
    )
    hsl = session.exec(select(Company).where(Company.code == "HSL")).one()
    assert hsl.kind == "forwarder" and hsl.name == "Harbor & Sky Logistics"
    acme = session.exec(select(Company).where(Company.code == "ACME")).one()
    nord = session.exec(select(Company).where(Company.code == "NORD")).one()
    assert (acme.country, acme.billing_currency) == ("GB", "GBP")
    assert (nord.country, nord.billing_currency) == ("DE", "EUR")


def test_users_are_valid(session: Session) -> None:
    users = session.exec(select(User)).all()
    roles = {r.value for r in Role}
    companies = {c.id: c for c in session.exec(select(Company)).all()}
    assert len(users) >= 25
    hashes = {u.password_hash for u in users}
    assert len(hashes) == 1, "one argon2 hash is reused for every seeded user"
    for u in users:
        assert u.email == u.email.lower() and u.email.endswith(".example")
        assert u.role in roles
        staff = u.role in ("ops_agent", "ops_manager", "admin")
        assert (companies[u.company_id].kind == "forwarder") is staff
    agents = [u for u in users if u.role == "ops_agent"]
    assert len(agents) >= 9
    assert all(a.team_id is not None for a in agents)
    customers = [c for c in companies.values() if c.kind == "customer"]
    assert len(customers) >= 12


def test_every_container_number_is_valid(session: Session) -> None:
    containers = session.exec(select(Container)).all()
    assert containers
    assert all(is_valid_container_number(c.number) for c in containers)
    assert len({c.number for c in containers}) == len(containers)
    fcl = {s.id for s in session.exec(select(Shipment).where(Shipment.mode == "ocean_fcl")).all()}
    with_containers = {c.shipment_id for c in containers}
    assert with_containers == fcl


def test_every_awb_is_valid_with_the_carriers_prefix(session: Session) -> None:
    carriers = {c.id: c for c in session.exec(select(Carrier)).all()}
    air = session.exec(select(Shipment).where(Shipment.mode == "air")).all()
    assert air
    for s in air:
        assert s.awb_number and len(s.awb_number) == 11 and is_valid_awb(s.awb_number)
        assert s.awb_number[:3] == carriers[s.carrier_id].awb_prefix
        assert s.flight_number and s.flight_number.startswith(carriers[s.carrier_id].code)
        assert s.hawb_number


def test_modes_incoterms_carriers_and_places_fit(session: Session) -> None:
    locations = {loc.id: loc for loc in session.exec(select(Location)).all()}
    carriers = {c.id: c for c in session.exec(select(Carrier)).all()}
    shipments = session.exec(select(Shipment)).all()
    assert {s.mode for s in shipments} == {m.value for m in Mode}
    for s in shipments:
        o, d = locations[s.origin_id], locations[s.destination_id]
        assert o.id != d.id
        carrier = carriers[s.carrier_id]
        if s.mode.startswith("ocean"):
            assert (o.kind, d.kind) == ("seaport", "seaport")
            assert carrier.mode == "ocean"
            assert s.vessel_name and s.voyage_number and s.mbl_number and s.hbl_number and s.booking_number
        elif s.mode == "air":
            assert (o.kind, d.kind) == ("airport", "airport")
            assert carrier.mode == "air"
            assert s.incoterm not in SEA_ONLY_INCOTERMS
        else:
            assert o.kind in ("seaport", "inland") and d.kind in ("seaport", "inland")
            assert ROAD_REGION_BY_COUNTRY[o.country] == ROAD_REGION_BY_COUNTRY[d.country]
            assert carrier.mode == "road"
            assert s.incoterm not in SEA_ONLY_INCOTERMS
        assert s.incoterm is not None
        assert s.reference.startswith("SH") and len(s.reference) == 9 and s.reference[2:].isdigit()


def test_reference_data_places_and_carriers(session: Session) -> None:
    places = {loc.code: loc for loc in session.exec(select(Location)).all()}
    seaports = {c for c, p in places.items() if p.kind == "seaport"}
    airports = {c for c, p in places.items() if p.kind == "airport"}
    assert len(seaports) >= 40 and len(airports) >= 30
    assert {
        "CNSHA",
        "SGSIN",
        "NLRTM",
        "DEHAM",
        "USLAX",
        "USLGB",
        "USNYC",
        "BEANR",
        "KRPUS",
        "HKHKG",
        "AEJEA",
        "MYPKG",
    } <= seaports
    assert {
        "HKG",
        "PVG",
        "ANC",
        "MEM",
        "ICN",
        "DXB",
        "FRA",
        "AMS",
        "CDG",
        "LHR",
        "ORD",
        "LAX",
        "JFK",
        "NRT",
        "SIN",
        "TPE",
        "DOH",
        "LEJ",
        "LGG",
        "MIA",
        "ATL",
    } <= airports
    assert all(places[c].unlocode == c and len(c) == 5 for c in seaports)
    assert all(places[c].iata_code == c and places[c].latitude is not None and places[c].timezone for c in airports)
    carriers = {c.code: c for c in session.exec(select(Carrier)).all()}
    for scac in ("MAEU", "MSCU", "CMDU", "HLCU", "ONEY", "EGLV", "COSU", "YMLU", "HDMU", "ZIMU"):
        assert carriers[scac].mode == "ocean"
    prefixes = {
        "LH": "020",
        "EK": "176",
        "QR": "157",
        "CX": "160",
        "KE": "180",
        "SQ": "618",
        "AF": "057",
        "CV": "172",
        "FX": "023",
        "5X": "406",
        "TK": "235",
    }
    assert {c: carriers[c].awb_prefix for c in prefixes} == prefixes
    assert any(c.mode == "road" for c in carriers.values())
    size_csv = (seed.reference_data.DATA_DIR / "iso6346_size_types.csv").read_text(encoding="utf-8")
    size_types = {r["size_type_code"] for r in csv.DictReader(size_csv.splitlines())}
    assert {c.size_type for c in session.exec(select(Container)).all()} <= size_types


def test_demo_companies_get_a_good_share(session: Session) -> None:
    codes = {c.id: c.code for c in session.exec(select(Company)).all()}
    counts = Counter(codes[s.company_id] for s in session.exec(select(Shipment)).all())
    for code in ("ACME", "NORD"):
        assert counts[code] >= SHIPMENTS * 0.12, counts


def test_milestones_follow_the_template_in_order(session: Session) -> None:
    templates = {t.id: t.mode for t in session.exec(select(MilestoneTemplate)).all()}
    assert sorted(templates.values()) == sorted(m.value for m in Mode)
    steps: dict[str, list[str]] = defaultdict(list)
    for st in session.exec(select(MilestoneTemplateStep).order_by(MilestoneTemplateStep.sequence)).all():
        steps[templates[st.template_id]].append(st.code)
    milestones: dict[int, list[Milestone]] = defaultdict(list)
    for m in session.exec(select(Milestone).order_by(Milestone.shipment_id, Milestone.sequence)).all():
        milestones[m.shipment_id].append(m)
    for s in session.exec(select(Shipment)).all():
        ms = milestones[s.id]
        assert [m.code for m in ms] == steps[s.mode], s.reference
        assert [m.sequence for m in ms] == list(range(1, len(ms) + 1))
        planned = [m.planned_at for m in ms]
        assert planned == sorted(planned)
        actuals = [m.actual_at for m in ms]
        done = [a for a in actuals if a is not None]
        assert actuals[: len(done)] == done, f"{s.reference}: actual times must be a prefix of the steps"
        assert done == sorted(done)
        assert all(a <= NOW for a in done)
        assert all(m.source == "plan" for m in ms if m.actual_at is None and m.estimated_at == m.planned_at)
        assert all(m.source in ("carrier", "ops") for m in ms if m.actual_at is not None)


def test_shipment_dates_and_status_agree_with_milestones(session: Session) -> None:
    codes = {
        "ocean_fcl": ("vessel_departure", "vessel_arrival", "delivered_to_consignee"),
        "ocean_lcl": ("vessel_departure", "vessel_arrival", "delivered_to_consignee"),
        "air": ("departed", "arrived", "delivered"),
        "road_ftl": ("pickup_completed", "arrived_at_destination", "delivered"),
        "road_ltl": ("linehaul_departed", "arrived_at_destination_hub", "delivered"),
    }
    by_ship: dict[int, dict[str, Milestone]] = defaultdict(dict)
    for m in session.exec(select(Milestone)).all():
        by_ship[m.shipment_id][m.code] = m
    statuses = Counter()
    for s in session.exec(select(Shipment)).all():
        statuses[s.status] += 1
        dep, arr, dlv = (by_ship[s.id][c] for c in codes[s.mode])
        assert (s.etd_planned, s.etd_estimated, s.atd) == (dep.planned_at, dep.estimated_at, dep.actual_at)
        assert (s.eta_planned, s.eta_estimated, s.ata) == (arr.planned_at, arr.estimated_at, arr.actual_at)
        assert s.delivered_at == dlv.actual_at
        expected_delay = int(((s.ata or s.eta_estimated) - s.eta_planned).total_seconds() // 60)
        assert s.delay_minutes == (0 if s.status == "cancelled" else expected_delay)
        assert s.created_at <= s.updated_at <= NOW
        assert s.created_at.tzinfo is not None and s.eta_planned.utcoffset() == timedelta(0)
        assert TODAY - timedelta(days=121) <= s.ready_date <= TODAY + timedelta(days=31)
        if s.status in ("booked", "confirmed", "cancelled"):
            assert s.atd is None
        if s.status == "in_transit":
            assert s.atd is not None and s.ata is None
        if s.status == "arrived":
            assert s.ata is not None and s.delivered_at is None
        if s.status in ("delivered", "closed"):
            assert s.delivered_at is not None
        if s.status != "booked" and s.status != "cancelled":
            assert by_ship[s.id]["booking_confirmed"].actual_at is not None
    for status in ("booked", "confirmed", "in_transit", "delivered", "closed", "cancelled"):
        assert statuses[status] > 0, statuses
    late = sum(1 for s in session.exec(select(Shipment)).all() if s.delay_minutes >= 24 * 60)
    assert 0.1 * SHIPMENTS <= late <= 0.4 * SHIPMENTS


def test_eta_changes_chain_to_the_current_estimate(session: Session) -> None:
    changes: dict[int, list[EtaChange]] = defaultdict(list)
    for c in session.exec(select(EtaChange).order_by(EtaChange.shipment_id, EtaChange.created_at)).all():
        changes[c.shipment_id].append(c)
    assert changes
    shipments = {s.id: s for s in session.exec(select(Shipment)).all()}
    for sid, chain in changes.items():
        s = shipments[sid]
        assert chain[0].previous_eta == s.eta_planned
        for a, b in pairwise(chain):
            assert b.previous_eta == a.new_eta
        assert chain[-1].new_eta == (s.ata or s.eta_estimated)
        assert all(c.created_at <= NOW and c.reason_code for c in chain)


def test_every_shipment_has_its_references(session: Session) -> None:
    refs: dict[int, list[ShipmentReference]] = defaultdict(list)
    for r in session.exec(select(ShipmentReference)).all():
        refs[r.shipment_id].append(r)
    kinds = {k.value for k in ReferenceKind}
    containers: dict[int, set[str]] = defaultdict(set)
    for c in session.exec(select(Container)).all():
        containers[c.shipment_id].add(c.number)
    for s in session.exec(select(Shipment)).all():
        mine = refs[s.id]
        by_kind = defaultdict(set)
        for r in mine:
            assert r.kind in kinds
            assert r.value in search_values(r.display_value)  # the whole, or a part after a separator
            assert r.company_id == s.company_id
            if r.value == normalize_reference(r.display_value):
                by_kind[r.kind].add(r.value)
        assert by_kind["shipment"] == {s.reference}
        assert by_kind["booking"] == {normalize_reference(s.booking_number)}
        assert by_kind["customer_po"] == {normalize_reference(s.customer_po)}
        assert by_kind["container"] == containers[s.id]
        for kind, value in (
            ("mbl", s.mbl_number),
            ("hbl", s.hbl_number),
            ("awb", s.awb_number),
            ("hawb", s.hawb_number),
        ):
            assert by_kind[kind] == ({normalize_reference(value)} if value else set())


def test_invoices_cover_every_status_and_add_up(session: Session) -> None:
    invoices = session.exec(select(Invoice)).all()
    statuses = {i.status for i in invoices}
    for status in ("issued", "partially_paid", "paid", "overdue", "disputed"):
        assert status in statuses, statuses
    assert statuses <= {s.value for s in InvoiceStatus}
    lines: dict[int, list[InvoiceLine]] = defaultdict(list)
    for line in session.exec(select(InvoiceLine)).all():
        lines[line.invoice_id].append(line)
    paid: dict[int, Decimal] = defaultdict(Decimal)
    for p in session.exec(select(Payment)).all():
        paid[p.invoice_id] += p.amount
        assert p.paid_at <= NOW
    companies = {c.id: c for c in session.exec(select(Company)).all()}
    cent = Decimal("0.01")
    for inv in invoices:
        assert inv.subtotal + inv.tax_total == inv.total
        assert inv.balance == inv.total - inv.amount_paid
        assert inv.amount_paid == paid[inv.id]
        assert inv.subtotal == sum((line.amount for line in lines[inv.id]), Decimal(0))
        assert inv.tax_total == sum((line.tax_amount for line in lines[inv.id]), Decimal(0))
        assert all(line.amount == line.amount.quantize(cent) for line in lines[inv.id])
        assert inv.currency == companies[inv.company_id].billing_currency
        assert inv.number.startswith("INV-") and len(inv.number) <= 20
        if inv.status == "paid":
            assert inv.balance == 0
        if inv.status == "overdue":
            assert inv.due_date < TODAY and inv.balance > 0
        if inv.status in ("issued", "partially_paid"):
            assert inv.due_date >= TODAY and inv.balance > 0
        if inv.status == "partially_paid":
            assert 0 < inv.amount_paid < inv.total
        if inv.status == "disputed":
            assert inv.disputed_reason
    assert len({i.number for i in invoices}) == len(invoices)


def test_exceptions_open_keys_and_sla(session: Session) -> None:
    rules = {r.kind for r in session.exec(select(ExceptionRule)).all()}
    assert rules == {k.value for k in ExceptionKind}
    excs = session.exec(select(OpsException)).all()
    assert excs
    kinds = {e.kind for e in excs}
    assert {"eta_slip", "document_missing", "invoice_overdue"} <= kinds
    breached = 0
    for e in excs:
        if e.status == "resolved":
            assert e.open_key is None and e.resolved_at is not None and e.resolved_at <= NOW
        else:
            assert e.open_key == f"{e.shipment_id}|{e.kind}|{e.cause_key}"
            assert e.resolved_at is None
            breached += e.sla_due_at < NOW
        assert e.created_at <= NOW
    assert breached > 0
    policies = session.exec(select(SlaPolicy)).all()
    assert {p.subject for p in policies} == {"exception", "ticket", "quote"}
    assert any(p.kind == "*" and p.severity == "*" for p in policies)


def test_tickets_documents_and_settings(seeded, session: Session) -> None:
    _engine, _summary, files = seeded
    tickets = session.exec(select(Ticket)).all()
    assert tickets
    messages = session.exec(select(TicketMessage)).all()
    assert {m.visibility for m in messages} == {"customer", "internal"}
    assert any(t.invoice_id for t in tickets)
    docs = session.exec(select(Document)).all()
    assert {"approved", "rejected"} <= {d.status for d in docs}
    assert all(d.rejection_reason for d in docs if d.status == "rejected")
    for d in docs[:50]:
        content = (files / d.storage_key).read_bytes()
        assert content.startswith(b"%PDF-")
        assert hashlib.sha256(content).hexdigest() == d.sha256 and len(content) == d.size_bytes
    reqs = session.exec(select(DocumentRequirement)).all()
    assert {r.mode for r in reqs} == {m.value for m in Mode}
    assert not [r for r in reqs if r.incoterm in SEA_ONLY_INCOTERMS and not r.mode.startswith("ocean")]
    branding = json.loads(session.get(AppSetting, "branding").value)
    assert branding == {"product_name": "Harbor & Sky Portal", "accent_color": "#0b5cad"}


def test_vocabulary_columns_use_the_enums(seeded) -> None:
    from models import enums

    engine, _summary, _files = seeded
    allowed = {
        ("shipment", "status"): enums.ShipmentStatus,
        ("shipment", "mode"): enums.Mode,
        ("app_user", "role"): enums.Role,
        ("company", "kind"): enums.CompanyKind,
        ("location", "kind"): enums.LocationKind,
        ("milestone", "source"): enums.MilestoneSource,
        ("document", "status"): enums.DocumentStatus,
        ("document", "visibility"): enums.Visibility,
        ("shipmentupdate", "visibility"): enums.Visibility,
        ("ticketmessage", "visibility"): enums.Visibility,
        ("invoice", "status"): enums.InvoiceStatus,
        ("quoterequest", "status"): enums.QuoteStatus,
        ("ticket", "category"): enums.TicketCategory,
        ("ticket", "status"): enums.TicketStatus,
        ("ticket", "priority"): enums.Priority,
        ("opsexception", "kind"): enums.ExceptionKind,
        ("opsexception", "severity"): enums.Severity,
        ("opsexception", "status"): enums.ExceptionStatus,
        ("exceptionrule", "severity"): enums.Severity,
        ("task", "status"): enums.TaskStatus,
        ("changerequest", "kind"): enums.ChangeRequestKind,
        ("changerequest", "status"): enums.ChangeRequestStatus,
        ("portalevent", "kind"): enums.PortalEventKind,
        ("shipmentreference", "kind"): enums.ReferenceKind,
        ("milestonetemplate", "mode"): enums.Mode,
        ("documentrequirement", "mode"): enums.Mode,
    }
    tables = {t.name: t for t in SQLModel.metadata.sorted_tables}
    with engine.connect() as conn:
        for (table, column), enum in allowed.items():
            col = tables[table].c[column]
            values = set(conn.execute(sa.select(col).distinct()).scalars())
            assert values <= {e.value for e in enum}, (table, column, values)
        options = set(conn.execute(sa.select(tables["quoteoption"].c.status).distinct()).scalars())
        assert options <= {"offered", "accepted", "expired", "declined"}


def _fingerprint(engine: sa.Engine) -> dict[str, list]:
    with Session(engine) as s:
        return {
            "refs": s.exec(
                select(Shipment.reference, Shipment.status, Shipment.eta_estimated).order_by(Shipment.id)
            ).all(),
            "containers": s.exec(select(Container.number).order_by(Container.id)).all(),
            "invoices": s.exec(select(Invoice.number, Invoice.total, Invoice.status).order_by(Invoice.id)).all(),
            "milestones": s.exec(select(Milestone.actual_at).order_by(Milestone.id)).all(),
        }


def _dump(engine: sa.Engine) -> dict[str, list]:
    out = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            # Password hashes are salted and stored secrets encrypted with a random IV: different every run.
            cols = [c for c in table.columns if c.name not in ("password_hash", "secret_encrypted")]
            out[table.name] = [tuple(r) for r in conn.execute(sa.select(*cols).order_by(*table.primary_key.columns))]
    return out


def test_same_arguments_give_identical_rows(seeded, tmp_path: Path) -> None:
    engine_a, _summary, _files = seeded
    engine_b = _sqlite(tmp_path / "b.db")
    seed.run(engine_b, shipments=SHIPMENTS, seed=42, today=TODAY, files_dir=tmp_path / "files", chunk_size=37)
    assert _fingerprint(engine_a) == _fingerprint(engine_b)
    assert _dump(engine_a) == _dump(engine_b)
    engine_c = _sqlite(tmp_path / "c.db")
    seed.run(engine_c, shipments=SHIPMENTS, seed=7, today=TODAY, write_files=False)
    assert _fingerprint(engine_a)["containers"] != _fingerprint(engine_c)["containers"]


def test_if_empty_leaves_a_seeded_database_unchanged(seeded, capsys: pytest.CaptureFixture[str]) -> None:
    engine, _summary, _files = seeded
    before = _dump(engine)
    summary = seed.run(engine, shipments=10, if_empty=True)
    assert summary.skipped
    url = engine.url.render_as_string(hide_password=False)
    assert seed_main(["--if-empty", "--database-url", url, "--shipments", "5"]) == 0
    assert "database already has data, not seeding" in capsys.readouterr().out
    assert _dump(engine) == before


def test_refuses_to_seed_over_data_without_reset(seeded, capsys: pytest.CaptureFixture[str]) -> None:
    engine, _summary, _files = seeded
    with pytest.raises(seed.SeedError, match="--reset"):
        seed.run(engine, shipments=5)
    url = engine.url.render_as_string(hide_password=False)
    assert seed_main(["--database-url", url, "--shipments", "5"]) == 2
    assert "Nothing was written" in capsys.readouterr().err


def test_cli_seeds_and_resets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import portal_app.settings as portal_settings

    # the CLI writes demo files to settings.files_dir: keep them inside this test's directory
    monkeypatch.setattr(portal_settings, "settings", replace(portal_settings.settings, data_dir=tmp_path / "data"))
    engine = _sqlite(tmp_path / "cli.db")
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    args = ["--database-url", url, "--shipments", "15", "--today", "2026-03-02", "--seed", "3"]
    assert seed_main(args) == 0
    out = capsys.readouterr().out
    assert "Seeded 15 shipments in" in out
    assert any((tmp_path / "data" / "files" / "seed").rglob("*.pdf"))
    assert seed_main([*args[:3], "12", *args[4:], "--reset", "--quiet"]) == 0
    assert capsys.readouterr().out.startswith("Seeded 12 shipments in")
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Shipment)).scalar() == 12
        assert conn.execute(sa.select(sa.func.count()).select_from(Company)).scalar() == 13


def test_missing_schema_is_reported(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(seed.SeedError, match="reflex db migrate"):
        seed.run(engine, shipments=1)


PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/seedtest"


@pytest.mark.postgres
def test_seed_into_postgresql(tmp_path: Path) -> None:
    psycopg = pytest.importorskip("psycopg")
    try:
        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True, connect_timeout=3
        ) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'seedtest'").fetchone():
                conn.execute("CREATE DATABASE seedtest")
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432: {exc}")
    engine = sa.create_engine(PG_URL)
    try:
        SQLModel.metadata.drop_all(engine)
        SQLModel.metadata.create_all(engine)
        summary = seed.run(engine, shipments=40, seed=42, today=TODAY, files_dir=tmp_path / "files")
        assert summary.counts["shipment"] == 40
        with Session(engine) as s:
            alice = s.exec(select(User).where(User.email == "alice@acme.example")).one()
            assert verify_password(alice.password_hash, seed.DEMO_PASSWORD)
            # ids were assigned by the seed: the sequences must have moved past them
            company = Company(code="NEWCO", name="New Co")
            s.add(company)
            s.commit()
            assert company.id == summary.counts["company"] + 1
            refs = s.exec(
                select(ShipmentReference).where(ShipmentReference.value >= "SH0").where(ShipmentReference.value < "SH1")
            ).all()
            assert {r.kind for r in refs} == {"shipment"} and len(refs) == 40
        sqlite_engine = _sqlite(tmp_path / "same.db")
        seed.run(sqlite_engine, shipments=40, seed=42, today=TODAY, write_files=False)
        assert _fingerprint(engine) == _fingerprint(sqlite_engine)
        # a reset on PostgreSQL empties everything (TRUNCATE) and seeds again
        seed.run(engine, shipments=5, seed=1, today=TODAY, reset=True, write_files=False)
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(Shipment)).scalar() == 5
    finally:
        engine.dispose()
