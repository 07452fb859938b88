"""A database of its own for the configuration tests (they change rules, templates and branding that other
modules' worlds rely on): the demo seed's configuration, companies and people."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest

from portal_app.auth.principal import Principal
from tests.quote_world import QuoteWorld, database_copy, principal_for, sqlite_world


@dataclass
class ConfigWorld:
    world: QuoteWorld
    admin: Principal

    def session(self):
        return self.world.session()


@pytest.fixture(scope="session")
def cworld_seeded() -> Iterator[ConfigWorld]:
    for world in sqlite_world("portal-config"):
        yield ConfigWorld(world, principal_for(world.engine, "admin@harborsky.example"))


@pytest.fixture()
def cworld(cworld_seeded: ConfigWorld, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConfigWorld]:
    """The configuration world for one test (a copy of the seeded one: what a test changes is its own)."""
    for world in database_copy(cworld_seeded.world, tmp_path_factory):
        yield replace(cworld_seeded, world=world)
