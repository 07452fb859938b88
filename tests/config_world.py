"""A database of its own for the configuration tests (they change rules, templates and branding that other
modules' worlds rely on): the demo seed's configuration, companies and people."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from portal_app.auth.principal import Principal
from tests.quote_world import QuoteWorld, principal_for, sqlite_world


@dataclass
class ConfigWorld:
    world: QuoteWorld
    admin: Principal

    def session(self):
        return self.world.session()


@pytest.fixture(scope="session")
def cworld() -> Iterator[ConfigWorld]:
    for world in sqlite_world("portal-config"):
        yield ConfigWorld(world, principal_for(world.engine, "admin@harborsky.example"))
