"""Tenancy: the single place that keeps a customer inside its own company.

Every service query over company-owned rows passes its company column through :func:`company_filter`.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from portal_app.auth.principal import Principal


def company_filter(company_column: ColumnElement, principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause limiting rows to what ``principal`` may read.

    Staff with VIEW_ALL_COMPANIES see every company; everyone else only their own.
    """
    if principal.sees_all_companies:
        return sa.true()
    return company_column == principal.company_id
