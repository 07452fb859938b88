"""Menus show only what the role may open: each tower entry needing more than the tower itself is hidden from
the roles without that permission (routes.NAV_PERMISSION); the browser walk in
tests/browser/test_browser_words.py sees the agent's menu without them."""

from __future__ import annotations

from portal_app.auth.permissions import Role
from portal_app.auth.principal import Principal
from portal_app.ui import routes
from portal_app.ui.session import _hidden_nav


def _principal(role: Role) -> Principal:
    return Principal(1, 1, role, "x@example.test", "X", "Example")


def test_each_role_sees_the_entries_it_may_open():
    assert _hidden_nav(_principal(Role.OPS_AGENT)) == [routes.TOWER_KPIS, routes.TOWER_CONFIG, routes.TOWER_IMPORTS]
    assert _hidden_nav(_principal(Role.OPS_MANAGER)) == [routes.TOWER_CONFIG]
    assert _hidden_nav(_principal(Role.ADMIN)) == []
