"""The installation's state for staff administrators: the tower's System page and ``GET /api/v1/admin/system``.

Every figure is read from where it is kept, the same for every worker: the database answers for itself, Redis is
asked for a PING, the queues are counted (the same query the metrics scrape uses: :func:`queue_backlog`), and the
last rule pass, the last backup and the customer-view audit are each kept in one ``AppSetting`` row by whatever
ran them (this module writes the first two: :func:`record_rule_pass`, :func:`record_backup`). Recent errors are
``services/error_log.py``'s. When the database does not answer, only the version, the database and Redis are
known; the rest is left out (``None``), never guessed.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import AppSetting, EmailMessage, WebhookDelivery
from portal_app.auth.permissions import Permission
from portal_app.auth.principal import Principal
from portal_app.services import clock, customer_view_audit, error_log
from portal_app.services.errors import ErrorCode, PermissionDenied

RULE_PASS_SETTING = "rules_last_result"  # what the last scheduled rule pass did (its start is RULES_LAST_PASS)
BACKUP_SETTING = "last_backup"  # the last archive `make backup` wrote: time, file, size, manifest summary
QUEUES = (("email", EmailMessage), ("webhook", WebhookDelivery))
KINDS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
REDIS_NOT_USED, REDIS_REACHABLE, REDIS_UNREACHABLE = "not_used", "reachable", "unreachable"


# --------------------------------------------------------------------------------------------- what is shown


@dataclass(frozen=True)
class DatabaseState:
    kind: str  # "SQLite" or "PostgreSQL"
    reachable: bool
    revision: str | None  # the database's alembic revision (None: unknown or never migrated)
    head: str | None  # the revision this version of the code expects
    at_head: bool


@dataclass(frozen=True)
class QueueState:
    queue: str  # "email" or "webhook"
    waiting: int
    oldest_at: datetime | None
    oldest_age_seconds: float  # 0 when nothing waits


@dataclass(frozen=True)
class RulePass:
    started_at: datetime
    seconds: float
    ok: bool
    opened: int = 0
    resolved: int = 0
    present: int = 0
    error: str = ""  # the exception's class when the pass failed


@dataclass(frozen=True)
class BackupRecord:
    created_at: datetime
    path: str
    size_bytes: int
    database_kind: str
    alembic_revision: str | None
    app_version: str
    tables: int
    rows: int
    files: int
    keys_included: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AuditState:
    checked_at: datetime
    counts: dict[str, int]  # per check (customer_view_audit.CHECKS)
    total: int


@dataclass(frozen=True)
class SystemStatus:
    version: str
    checked_at: datetime
    database: DatabaseState
    redis: str  # not_used | reachable | unreachable
    queues: list[QueueState] | None
    rule_pass: RulePass | None
    backup: BackupRecord | None
    audit: AuditState | None
    errors: list[error_log.RecentError] | None


# --------------------------------------------------------------------------------------------- who may see it


def require_viewer(principal: Principal) -> None:
    """The system state is for staff administrators (the same people who configure the installation)."""
    if not principal.can(Permission.MANAGE_CONFIG):
        raise PermissionDenied("The system state is for administrators. Ask an administrator of your installation. "
                               "Nothing was changed.", code=ErrorCode.ADMIN_ONLY)


# --------------------------------------------------------------------------------------------- the figures


def _aware(value: object) -> datetime | None:
    """A datetime from a column or an aggregate (SQLite answers ``min()`` with text and no zone)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        try:
            value = datetime.fromisoformat(str(value))
        except ValueError:
            return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def queue_backlog(db: Session, now: datetime | None = None) -> list[QueueState]:
    """Emails and webhook deliveries waiting to be sent (status ``queued``) and the oldest one's age, per queue.
    The metrics scrape (``portal_queue_depth``, ``portal_queue_oldest_age_seconds``) reads these too."""
    now = now or clock.now()
    out = []
    for queue, model in QUEUES:
        count, oldest = db.exec(select(sa.func.count(), sa.func.min(col(model.created_at)))
                                .where(col(model.status) == "queued")).one()
        oldest_at = _aware(oldest)
        age = max((now - oldest_at).total_seconds(), 0.0) if oldest_at is not None else 0.0
        out.append(QueueState(queue, int(count or 0), oldest_at, age))
    return out


@functools.cache
def code_head() -> str | None:
    """The alembic revision this code migrates to (the one head of ``alembic/versions``)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from portal_app.settings import PROJECT_ROOT

    try:
        return ScriptDirectory.from_config(Config(str(PROJECT_ROOT / "alembic.ini"))).get_current_head()
    except Exception:  # noqa: BLE001 -- several heads or no scripts: the page says "unknown"
        return None


def _database(db: Session) -> DatabaseState:
    from portal_app.backup import alembic_revision

    dialect = db.get_bind().dialect.name
    kind = KINDS.get(dialect, dialect)
    head = code_head()
    try:
        revision = alembic_revision(db.connection())
    except (sa.exc.SQLAlchemyError, OSError):
        db.rollback()
        return DatabaseState(kind, False, None, head, False)
    return DatabaseState(kind, True, revision, head, revision is not None and revision == head)


def _redis() -> str:
    from portal_app import probes
    from portal_app.settings import settings

    if not settings.redis_url:
        return REDIS_NOT_USED
    return REDIS_REACHABLE if probes.redis_ok(settings.redis_url) else REDIS_UNREACHABLE


def _setting(db: Session, key: str) -> dict[str, Any] | None:
    value = db.exec(select(AppSetting.value).where(AppSetting.key == key)).first()
    try:
        data = json.loads(value) if value is not None else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _put_setting(db: Session, key: str, data: dict[str, Any], now: datetime) -> None:
    row = db.get(AppSetting, key) or AppSetting(key=key, value="")
    row.value = json.dumps(data)
    row.updated_at = now
    db.add(row)
    db.flush()


def record_rule_pass(db: Session, started_at: datetime, seconds: float, *, opened: int = 0, resolved: int = 0,
                     present: int = 0, error: str = "") -> None:
    """Keep what the scheduled rule pass just did (``error``: the exception's class when it failed; the caller
    commits)."""
    _put_setting(db, RULE_PASS_SETTING, {"started_at": started_at.isoformat(), "seconds": round(seconds, 3),
                                         "ok": not error, "opened": opened, "resolved": resolved,
                                         "present": present, "error": error[:120]}, clock.now())


def last_rule_pass(db: Session) -> RulePass | None:
    data = _setting(db, RULE_PASS_SETTING)
    try:
        return RulePass(datetime.fromisoformat(data["started_at"]), float(data["seconds"]), bool(data["ok"]),
                        int(data["opened"]), int(data["resolved"]), int(data["present"]),
                        str(data.get("error") or "")) if data else None
    except (KeyError, TypeError, ValueError):
        return None


def record_backup(db: Session, backup: BackupRecord) -> None:
    """Keep the archive `make backup` just wrote (the caller commits)."""
    data = {**backup.__dict__, "created_at": backup.created_at.isoformat()}
    _put_setting(db, BACKUP_SETTING, data, clock.now())


def last_backup(db: Session) -> BackupRecord | None:
    data = _setting(db, BACKUP_SETTING)
    try:
        return BackupRecord(**{**data, "created_at": datetime.fromisoformat(data["created_at"])}) if data else None
    except (KeyError, TypeError, ValueError):
        return None


def _audit(db: Session) -> AuditState | None:
    audit = customer_view_audit.stored(db)
    if audit is None:
        return None
    return AuditState(audit.checked_at, dict(audit.counts), sum(audit.counts.values()))


def snapshot(db: Session, principal: Principal, now: datetime | None = None) -> SystemStatus:
    """Everything the System page shows, read now."""
    from portal_app.version import app_version

    require_viewer(principal)
    now = now or clock.now()
    database = _database(db)
    redis = _redis()
    if not database.reachable:
        return SystemStatus(app_version(), now, database, redis, None, None, None, None, None)
    return SystemStatus(app_version(), now, database, redis, queue_backlog(db, now), last_rule_pass(db),
                        last_backup(db), _audit(db), error_log.recent(db))


def as_json(status: SystemStatus) -> dict[str, Any]:
    """The snapshot as the API answers it (times in ISO 8601 UTC)."""

    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat()
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if hasattr(value, "__dataclass_fields__"):
            return {k: plain(getattr(value, k)) for k in value.__dataclass_fields__}
        return value

    return plain(status)
