"""The API keeps its published shape: every operation's parameters, bodies and responses match
``docs/api-shape.json`` (schema names aside). A deliberate change rewrites that file (see ``tests/api_shape.py``)
and so shows in review."""

from __future__ import annotations

import json

from tests.api_shape import current_spec, published_shape
from tests.paths import PROJECT_ROOT

SNAPSHOT = PROJECT_ROOT / "docs" / "api-shape.json"


def test_every_operation_keeps_its_published_shape():
    published = json.loads(SNAPSHOT.read_text())
    current = published_shape(current_spec())
    assert sorted(current) == sorted(published), "operations were added or removed: rewrite docs/api-shape.json"
    changed = [operation for operation in published if current[operation] != published[operation]]
    assert not changed, f"these operations changed shape: {changed}"
