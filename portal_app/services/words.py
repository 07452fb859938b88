"""Words for what the data holds in codes: counts with the right plural ("1 day", "2 days"), field keys
("steps.2.name" is "Step 3, name") and stored codes ("PORT_CONGESTION" is "Port congestion"), so no screen shows
"day(s)", a field path or an enum name."""

from __future__ import annotations

import re

_CODE = re.compile(r"^(?:[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[a-z][a-z0-9]*(?:_[a-z0-9]+)+)$")


def count(n: int, one: str, many: str | None = None) -> str:
    """``n`` with the singular ``one`` or the plural ``many`` (default: ``one`` + "s")."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def field_words(key: str) -> str:
    """A field's key in words: ``steps.2.name`` is "Step 3, name", ``eta_estimated`` "Eta estimated" (callers
    with better labels use them first)."""
    words: list[str] = []
    for i, part in enumerate(key.split(".")):
        if part.isdigit() and words:
            words[-1] = f"{words[-1].removesuffix('s')} {int(part) + 1}"
        elif not part.isdigit():
            text = part.replace("_", " ")
            words.append(text.capitalize() if i == 0 else text)
    return ", ".join(words)


def code_words(value: str) -> str:
    """A stored code in words ("PORT_CONGESTION", "in_transit" -> "Port congestion", "In transit"); other text
    as it is."""
    return value.replace("_", " ").capitalize() if _CODE.match(value) else value
