"""Tenancy: the single place that keeps a customer inside its own company.

Every service query over company-owned rows passes its company column through :func:`company_filter`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement, SQLColumnExpression

from portal_app.auth.principal import Principal


def company_filter(company_column: SQLColumnExpression[Any], principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause limiting rows to what ``principal`` may read.

    Staff with VIEW_ALL_COMPANIES see every company; everyone else only their own.
    """
    company_id = company_scope(principal)
    return sa.true() if company_id is None else company_column == company_id


def company_scope(principal: Principal) -> int | None:
    """The one company ``principal`` may read, or None when it may read every company. For queries built once and
    run with bound values (the shipments list): they bind this value on every call."""
    return None if principal.sees_all_companies else principal.company_id
