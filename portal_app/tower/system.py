"""Tower: the System page, for administrators. The installation's state as every worker sees it: version, database,
Redis, the outgoing queues, the last exception-rule pass, the last backup, the customer-view audit and the latest
unexpected errors with the error id support quotes to find the log line (``services/system_status.py``; the same
facts at ``GET /api/v1/admin/system``). It sits with the configuration pages' sections and shows their refusal to
anyone else."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.formatting import fmt_datetime
from portal_app.components.layout import area_page
from portal_app.components.ui import MUTED_TEXT, data_table, fact_list, secondary_button, tone_badge
from portal_app.services import customer_view_audit, display, error_log, system_status
from portal_app.services.system_status import SystemStatus
from portal_app.settings import settings
from portal_app.tower.config_base import ConfigMixin, config_page
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db

ROUTE = routes.TOWER_SYSTEM
QUEUE_NAMES = {"email": "Emails", "webhook": "Webhook deliveries"}
QUEUE_STUCK_SECONDS = 15 * 60  # a waiting item older than this means sending is stuck
BACKUP_STALE_SECONDS = 26 * 3600  # a daily backup plus some slack
AUDIT_NAMES = {"eta": "ETA shown differs from the latest ETA change",
               "status_departure": "Status says not departed after departure",
               "status_arrival": "Status says not arrived after arrival"}
SOURCE_NAMES = {"api": "API", "page": "Page"}
UNKNOWN = "Unknown: the database did not answer"


@dataclass(frozen=True)
class Verdict:
    """A section's one-word state and its badge colour."""

    text: str = ""
    tone: str = "gray"


@dataclass(frozen=True)
class SystemFacts:
    """Every single figure of the page as display text."""

    checked: str = ""
    version: str = ""
    db_kind: str = ""
    db_reachable: str = ""
    db_revision: str = ""
    db_head: str = ""
    redis: str = ""
    rule_when: str = ""
    rule_took: str = ""
    rule_result: str = ""
    backup_when: str = ""
    backup_file: str = ""
    backup_size: str = ""
    backup_contents: str = ""
    audit_when: str = ""
    audit_result: str = ""


@dataclass(frozen=True)
class QueueLine:
    queue: str
    waiting: str
    oldest: str
    age: str


@dataclass(frozen=True)
class ErrorLine:
    when: str
    source: str
    location: str
    error_id: str
    error_type: str


@dataclass(frozen=True)
class Verdicts:
    database: Verdict = Verdict()
    redis: Verdict = Verdict()
    queues: Verdict = Verdict()
    rule_pass: Verdict = Verdict()
    backup: Verdict = Verdict()
    audit: Verdict = Verdict()
    errors: Verdict = Verdict()


def age_words(seconds: float) -> str:
    """ "45 s", "12 min", "3 h 5 min", "4 days 2 h": how long ago, as a person reads it."""
    seconds = max(int(seconds), 0)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} day{'s' if days != 1 else ''}" + (f" {hours} h" if hours else "")


def size_words(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return str(size)


def _rule_pass(s: SystemStatus) -> tuple[str, str, str, Verdict]:
    p = s.rule_pass
    if s.database.reachable and p is None:
        every = settings.rules_every_minutes
        why = "the schedule is off (PORTAL_RULES_EVERY_MINUTES=0)" if every <= 0 else \
            "none has run yet (the first runs about half a minute after the app starts)"
        return "Never", "—", f"No pass recorded: {why}.", Verdict("None yet", "gray")
    if p is None:
        return UNKNOWN, "—", "—", Verdict("Unknown", "red")
    ago = age_words((s.checked_at - p.started_at).total_seconds())
    when = f"{fmt_datetime(p.started_at)} ({ago} ago)"
    took = f"{p.seconds:.2f} s"
    if not p.ok:
        return when, took, f"Failed ({p.error or 'unexpected error'}); nothing it found was saved. See the log.", \
            Verdict("Failed", "red")
    result = f"{p.opened} exceptions opened, {p.resolved} resolved by themselves, {p.present} causes still present"
    late = settings.rules_every_minutes > 0 and \
        (s.checked_at - p.started_at).total_seconds() > 2 * settings.rules_every_minutes * 60
    return when, took, result, Verdict("Late", "amber") if late else Verdict("OK", "green")


def _backup(s: SystemStatus) -> tuple[str, str, str, str, Verdict]:
    b = s.backup
    if b is None:
        if not s.database.reachable:
            return UNKNOWN, "—", "—", "—", Verdict("Unknown", "red")
        return "Never", "—", "—", "No backup recorded. Run `make backup` (docs/operations.md, \"Backups\").", \
            Verdict("None yet", "amber")
    age = (s.checked_at - b.created_at).total_seconds()
    contents = (f"{system_status.KINDS.get(b.database_kind, b.database_kind)} database at revision "
                f"{b.alembic_revision or 'none'}, {b.rows:,} rows in {b.tables} tables, {b.files:,} files; "
                f"app version {b.app_version}"
                + (f"; includes the key files {', '.join(b.keys_included)}" if b.keys_included else ""))
    verdict = Verdict("Old", "amber") if age > BACKUP_STALE_SECONDS else Verdict("OK", "green")
    return f"{fmt_datetime(b.created_at)} ({age_words(age)} ago)", b.path, size_words(b.size_bytes), contents, verdict


def _audit(s: SystemStatus) -> tuple[str, str, Verdict]:
    a = s.audit
    if a is None:
        return (UNKNOWN, "—", Verdict("Unknown", "red")) if not s.database.reachable else \
            ("Never", "It runs with each rule pass.", Verdict("None yet", "gray"))
    when = f"{fmt_datetime(a.checked_at)} ({age_words((s.checked_at - a.checked_at).total_seconds())} ago)"
    if not a.total:
        return when, "Every shipment shows its customer what the record says.", Verdict("OK", "green")
    found = "; ".join(f"{AUDIT_NAMES.get(c, c)}: {a.counts[c]}" for c in customer_view_audit.CHECKS if a.counts.get(c))
    return when, f"{a.total} shipments disagree: {found}.", Verdict("Differences", "amber")


def build_view(s: SystemStatus) -> tuple[SystemFacts, list[QueueLine], list[ErrorLine], Verdicts]:
    """The page's rows from a snapshot (display text in the reader's zone and language)."""
    db = s.database
    at_head = "at the code's head" if db.at_head else "NOT at the code's head: run the migrations"
    revision = (f"{db.revision} ({at_head})" if db.revision else
                ("No alembic revision: the database was not made by the migrations" if db.reachable else UNKNOWN))
    redis_text = {system_status.REDIS_NOT_USED: "Not used: one worker keeps page state in memory",
                  system_status.REDIS_REACHABLE: "Reachable",
                  system_status.REDIS_UNREACHABLE: "Unreachable: pages cannot keep their state"}[s.redis]
    rule_when, rule_took, rule_result, rule_verdict = _rule_pass(s)
    backup_when, backup_file, backup_size, backup_contents, backup_verdict = _backup(s)
    audit_when, audit_result, audit_verdict = _audit(s)
    facts = SystemFacts(
        checked=fmt_datetime(s.checked_at), version=s.version, db_kind=db.kind,
        db_reachable="Yes" if db.reachable else "No", db_revision=revision, db_head=db.head or "Unknown",
        redis=redis_text, rule_when=rule_when, rule_took=rule_took, rule_result=rule_result,
        backup_when=backup_when, backup_file=backup_file, backup_size=backup_size, backup_contents=backup_contents,
        audit_when=audit_when, audit_result=audit_result)
    queues = [QueueLine(QUEUE_NAMES.get(q.queue, q.queue), display.number(q.waiting),
                        fmt_datetime(q.oldest_at) if q.oldest_at else "—",
                        age_words(q.oldest_age_seconds) if q.waiting else "—") for q in s.queues or []]
    errors = [ErrorLine(fmt_datetime(e.occurred_at), SOURCE_NAMES.get(e.source, e.source), e.location, e.error_id,
                        e.error_type or "—") for e in s.errors or []]
    stuck = any(q.waiting and q.oldest_age_seconds > QUEUE_STUCK_SECONDS for q in s.queues or [])
    verdicts = Verdicts(
        database=Verdict("OK", "green") if db.reachable and db.at_head else
        Verdict("Unreachable", "red") if not db.reachable else Verdict("Migrate", "amber"),
        redis={system_status.REDIS_NOT_USED: Verdict("Not used", "gray"),
               system_status.REDIS_REACHABLE: Verdict("OK", "green")}.get(s.redis, Verdict("Unreachable", "red")),
        queues=Verdict("Unknown", "red") if s.queues is None else Verdict("Stuck", "amber") if stuck
        else Verdict("OK", "green"),
        rule_pass=rule_verdict, backup=backup_verdict, audit=audit_verdict,
        errors=Verdict("Unknown", "red") if s.errors is None else
        Verdict(f"{len(errors)} recent", "amber") if errors else Verdict("None", "green"))
    return facts, queues, errors, verdicts


class SystemState(ConfigMixin, SessionState):
    facts: SystemFacts = SystemFacts()
    queues: list[QueueLine] = []
    errors: list[ErrorLine] = []
    verdicts: Verdicts = Verdicts()
    loaded: bool = False

    async def _read(self, principal: Principal) -> None:
        status = await run_db(system_status.snapshot, principal)
        self.facts, self.queues, self.errors, self.verdicts = build_view(status)
        self.loaded = True

    @page_event("tower")
    async def load(self, principal: Principal) -> None:
        if not self._may_configure(principal):
            return
        self.notice, self.error = "", ""
        await self._read(principal)

    @page_event("tower")
    async def refresh(self, principal: Principal) -> None:
        if not self._may_configure(principal):
            return
        await self._read(principal)
        self.notice = "Read again: the figures are as of the time above."


S = SystemState


SECTION_STYLE = {"border": "1px solid var(--portal-border)", "border_radius": "8px", "padding": "16px",
                 "background": "var(--portal-surface)", "width": "100%"}


def _section(key: str, title: str, verdict: rx.Var | None, *content: rx.Component) -> rx.Component:
    """A labelled region: its heading names it, with the section's one-word state beside it."""
    heading_id = f"system-{key}"
    badge = tone_badge(verdict.text, verdict.tone) if verdict is not None else rx.fragment()  # type: ignore[attr-defined]
    return rx.el.section(
        rx.hstack(rx.heading(title, size="4", as_="h2", id=heading_id), badge, align="center", spacing="3"),
        *content,
        aria_labelledby=heading_id,
        data_testid=heading_id,
        style=SECTION_STYLE,
    )


def _queue_row(q: QueueLine) -> rx.Component:
    return rx.table.row(rx.table.row_header_cell(q.queue), rx.table.cell(q.waiting), rx.table.cell(q.oldest),
                        rx.table.cell(q.age))


def _error_row(e: ErrorLine) -> rx.Component:
    return rx.table.row(rx.table.row_header_cell(e.error_id), rx.table.cell(e.when), rx.table.cell(e.source),
                        rx.table.cell(rx.el.code(e.location)), rx.table.cell(e.error_type))


def _body() -> rx.Component:
    f, v = S.facts, S.verdicts
    return rx.vstack(
        rx.hstack(rx.text("Read ", f.checked, color=MUTED_TEXT),
                  secondary_button("Read again", on_click=S.refresh), align="center", spacing="3", wrap="wrap"),
        _section("version", "Version", None, fact_list([("Installed version", f.version)], strong=True)),
        _section("database", "Database", v.database,
                 fact_list([("Kind", f.db_kind), ("Reachable", f.db_reachable), ("Revision", f.db_revision),
                            ("The code's head", f.db_head)])),
        _section("redis", "Redis", v.redis, fact_list([("State", f.redis)])),
        _section("queues", "Outgoing queues", v.queues,
                 rx.cond(S.queues.length() > 0,
                         data_table("Waiting to be sent", ["Queue", "Waiting", "Oldest since", "Oldest waits"],
                                    S.queues, _queue_row),
                         rx.text(UNKNOWN, color=MUTED_TEXT))),
        _section("rules", "Last exception-rule pass", v.rule_pass,
                 fact_list([("Started", f.rule_when), ("Took", f.rule_took), ("Result", f.rule_result)])),
        _section("backup", "Last backup", v.backup,
                 fact_list([("Written", f.backup_when), ("Archive", f.backup_file), ("Size", f.backup_size),
                            ("Contents", f.backup_contents)])),
        _section("audit", "Customer-view audit", v.audit,
                 fact_list([("Checked", f.audit_when), ("Result", f.audit_result)])),
        _section("errors", "Recent unexpected errors", v.errors,
                 rx.text("API requests and page actions that failed unexpectedly, newest first (the latest "
                         f"{error_log.KEEP} are kept). The error id is the one the person was shown; "
                         "search the log for it to find the full error.", color=MUTED_TEXT, size="2"),
                 rx.cond(S.errors.length() > 0,
                         data_table("Recent unexpected errors", ["Error id", "When", "From", "Route or handler",
                                                                 "Error"], S.errors, _error_row),
                         rx.text("None recorded.", color=MUTED_TEXT))),
        spacing="4",
        width="100%",
    )


@area_page("tower", ROUTE, "System", S.load)
def system_page() -> rx.Component:
    return config_page(
        S, ROUTE, "System",
        "The installation's state as every worker sees it. Nothing here changes anything.",
        rx.cond(S.loaded, _body(), rx.hstack(rx.spinner(), rx.text("Reading…"), role="status")),
    )
