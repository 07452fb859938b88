"""Each shipment carries a summary of its open exceptions (``open_exceptions``, ``next_sla_due_at``), kept by
database triggers on ``opsexception``.

Why triggers: the tower board filters 100,000 shipments by "has an open exception" and "SLA breached or breaching"
and shows them newest change first. Answered from the exception table, every such page joins and sorts about ten
thousand shipments (50 ms); answered from the shipment row, it is a walk of one small partial index (1 ms).
Exceptions are written by the ORM, by bulk ``UPDATE`` statements (the rule engine resolves hundreds at once) and by
the seeders, so only the database itself sees every change; a trigger keeps the summary right whichever path
wrote it, in the same transaction. The same statements serve ``create_all`` (tests, seeders) and the migration.
"""

from __future__ import annotations

import sqlalchemy as sa

OPEN_STATUSES = "('open', 'in_progress')"

# The summary of one shipment, recomputed from its exceptions (the shipment id is spliced in per dialect).
_COUNT = "(SELECT count(*) FROM opsexception WHERE shipment_id = {sid} AND status IN " + OPEN_STATUSES + ")"
_NEXT = "(SELECT min(sla_due_at) FROM opsexception WHERE shipment_id = {sid} AND status IN " + OPEN_STATUSES + ")"
_REFRESH = "UPDATE shipment SET open_exceptions = " + _COUNT + ", next_sla_due_at = " + _NEXT + " WHERE id = {sid};"


def _sqlite() -> list[str]:
    new, old = _REFRESH.format(sid="NEW.shipment_id"), _REFRESH.format(sid="OLD.shipment_id")
    return [
        ("CREATE TRIGGER IF NOT EXISTS opsexception_summary_insert AFTER INSERT ON opsexception "
         f"WHEN NEW.shipment_id IS NOT NULL BEGIN {new} END"),
        ("CREATE TRIGGER IF NOT EXISTS opsexception_summary_update "
         "AFTER UPDATE OF status, sla_due_at, shipment_id ON opsexception "
         f"BEGIN {new} {old} END"),
        ("CREATE TRIGGER IF NOT EXISTS opsexception_summary_delete AFTER DELETE ON opsexception "
         f"WHEN OLD.shipment_id IS NOT NULL BEGIN {old} END"),
    ]


def _postgresql() -> list[str]:
    new, old = _REFRESH.format(sid="NEW.shipment_id"), _REFRESH.format(sid="OLD.shipment_id")
    return [
        ("CREATE OR REPLACE FUNCTION opsexception_summary() RETURNS trigger LANGUAGE plpgsql AS $$\n"
         "BEGIN\n"
         f"  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.shipment_id IS NOT NULL THEN {new} END IF;\n"
         "  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.shipment_id IS NOT NULL\n"
         "     AND (TG_OP = 'DELETE' OR OLD.shipment_id IS DISTINCT FROM NEW.shipment_id) THEN\n"
         f"    {old}\n"
         "  END IF;\n"
         "  RETURN NULL;\n"
         "END $$"),
        "DROP TRIGGER IF EXISTS opsexception_summary ON opsexception",
        ("CREATE TRIGGER opsexception_summary AFTER INSERT OR DELETE OR UPDATE OF status, sla_due_at, shipment_id "
         "ON opsexception FOR EACH ROW EXECUTE FUNCTION opsexception_summary()"),
    ]


def create_statements(dialect: str) -> list[str]:
    """The DDL that installs the triggers on ``dialect`` ("sqlite" or "postgresql")."""
    return _postgresql() if dialect == "postgresql" else _sqlite()


def drop_statements(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return ["DROP TRIGGER IF EXISTS opsexception_summary ON opsexception",
                "DROP FUNCTION IF EXISTS opsexception_summary()"]
    return [f"DROP TRIGGER IF EXISTS opsexception_summary_{op}" for op in ("insert", "update", "delete")]


def backfill_statement() -> str:
    """Recompute every shipment's summary (after the columns are added, or to repair them)."""
    return _REFRESH.format(sid="shipment.id").replace(" WHERE id = shipment.id;", "")


def install(target: sa.Table, connection: sa.Connection, **_kw: object) -> None:
    """``after_create`` hook of the exception table: create_all gets the triggers too."""
    for statement in create_statements(connection.dialect.name):
        connection.exec_driver_sql(statement)
