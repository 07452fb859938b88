"""The API's published shape, independent of what its schemas are called in code.

Every operation's parameters, request body and responses are flattened with each ``$ref`` resolved in place and
the schema names and titles dropped, so renaming or moving a model changes nothing here while adding, removing or
retyping a field does. ``docs/api-shape.json`` holds the shape published today; ``tests/api/test_api_shape.py``
compares the running API with it. After a deliberate change, write it again with::

    .venv/bin/python -m tests.api_shape > docs/api-shape.json
"""

from __future__ import annotations

import json
from typing import Any

_DROP = {"title", "description", "examples", "example"}


def _flatten(node: Any, components: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    if isinstance(node, list):
        return [_flatten(item, components, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        if name in seen:
            return {"recursive": True}
        return _flatten(components[name], components, (*seen, name))
    return {key: _flatten(value, components, seen) for key, value in sorted(node.items()) if key not in _DROP}


def published_shape(spec: dict[str, Any]) -> dict[str, Any]:
    """Each operation (``METHOD /path``) with its parameters, request body and responses, refs resolved."""
    components = spec.get("components", {}).get("schemas", {})
    shape: dict[str, Any] = {}
    for path, item in sorted(spec.get("paths", {}).items()):
        for method, operation in sorted(item.items()):
            if not isinstance(operation, dict):
                continue
            shape[f"{method.upper()} {path}"] = _flatten(
                {
                    "parameters": sorted(operation.get("parameters", []), key=lambda p: (p["in"], p["name"])),
                    "requestBody": operation.get("requestBody"),
                    "responses": operation.get("responses", {}),
                },
                components,
            )
    return shape


def current_spec() -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from portal_app.api.app import build_api

    return TestClient(build_api()).get("/api/openapi.json").json()


if __name__ == "__main__":
    print(json.dumps(published_shape(current_spec()), indent=1, sort_keys=True))
