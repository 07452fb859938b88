"""Regression tests for what the API fuzz test (tests/test_api_fuzz.py) found, each as a plain example."""

from __future__ import annotations

import uuid

import pytest

from portal_app.services.config import org
from portal_app.services.errors import Conflict
from tests.config_world import ConfigWorld


@pytest.mark.parametrize("first, again", [("Équipe Nord", "Équipe Nord"), ("Équipe Nord", "équipe nord"),
                                          ("Δρομολόγια", "ΔΡΟΜΟΛΌΓΙΑ")])
def test_a_team_name_taken_in_any_script_is_refused_not_a_500(cworld: ConfigWorld, first, again):
    """SQLite's lower() folds only ASCII letters: the same non-ASCII name twice reached the unique index (500)."""
    with cworld.session() as db:
        made = org.save_team(db, cworld.admin, name=f"{first} {uuid.uuid4().hex[:6]}", branch_id=None)
        with pytest.raises(Conflict) as refused:
            org.save_team(db, cworld.admin, name=made.name.replace(first, again), branch_id=None)
        assert refused.value.code == "duplicate_name"
        assert [t.name for t in org.list_teams(db, cworld.admin)].count(made.name) == 1
