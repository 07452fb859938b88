"""What every read model (a frozen dataclass a service returns and the API serves as is) shares.

A read model is always served whole: each of its fields is in every response, so its published schema lists every
field as required and shows no default, whatever defaults the dataclass keeps for the code that builds it::

    @dataclass(frozen=True)
    class ThingView:
        __pydantic_config__: ClassVar[ConfigDict] = SERVED_WHOLE

        id: int
        notes: str | None = None
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict


def _served_whole(schema: dict[str, Any]) -> None:
    properties = schema.get("properties", {})
    for prop in properties.values():
        prop.pop("default", None)
        prop.pop("readOnly", None)
    schema["required"] = list(properties)


SERVED_WHOLE = ConfigDict(json_schema_extra=_served_whole)
"""The pydantic settings of a read model: every field required, no default shown."""
