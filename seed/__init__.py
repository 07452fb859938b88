"""Deterministic demo data and scale data sets for the portal.

    python -m seed [--shipments N] [--seed S] [--today YYYY-MM-DD] [--database-url URL] [--if-empty] [--reset]

From Python (tests, benchmarks)::

    import seed
    summary = seed.run("sqlite:///scratch.db", shipments=120, seed=42, today=date(2026, 3, 1))

Same arguments, same rows: every value comes from ``random.Random(seed)`` and the anchor date.
"""

from seed.org_data import DEMO_PASSWORD
from seed.runner import DEFAULT_SEED, DEFAULT_SHIPMENTS, SeedError, SeedSummary, run
from seed.writer import create_schema, has_data, reset_database

DEMO_ACCOUNTS: list[tuple[str, str, str]] = [
    # email, role, company code
    ("agent@harborsky.example", "ops_agent", "HSL"),
    ("manager@harborsky.example", "ops_manager", "HSL"),
    ("admin@harborsky.example", "admin", "HSL"),
    ("alice@acme.example", "customer_admin", "ACME"),
    ("bob@acme.example", "customer_user", "ACME"),
    ("nina@nordwind.example", "customer_admin", "NORD"),
    ("omar@nordwind.example", "customer_user", "NORD"),
]

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_SHIPMENTS",
    "DEMO_ACCOUNTS",
    "DEMO_PASSWORD",
    "SeedError",
    "SeedSummary",
    "create_schema",
    "has_data",
    "reset_database",
    "run",
]
