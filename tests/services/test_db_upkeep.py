"""Planner statistics: SQLite keeps none by itself; the app and the seed give it some."""

from __future__ import annotations

import sqlalchemy as sa

from portal_app.db import refresh_planner_statistics


def test_planner_statistics_cover_the_reference_search_index(engine, world):
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS sqlite_stat1")
    refresh_planner_statistics(engine)
    with engine.connect() as conn:
        indexes = {row[0] for row in conn.execute(sa.text("SELECT idx FROM sqlite_stat1"))}
    assert "ix_shipmentreference_company_value" in indexes
    assert "ix_shipment_company_updated" in indexes
