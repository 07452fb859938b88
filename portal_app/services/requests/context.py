"""The context a request carries (the page, the record, what was attempted, the error, any draft), stored as JSON
text of at most :data:`MAX_CONTEXT_CHARS` characters, and always whole: what is stored can be read back.

- Programs (the API) that send a larger context are refused with a message; nothing is stored.
- The portal's own pages make theirs fit with :func:`fit_context` before sending: long texts are shortened and,
  if that is not enough, nested parts (such as a large draft) are left out, marked ``"shortened": true``.
- Reading never fails on a stored context that is not a whole JSON object (rows written before contexts were
  checked could be cut in the middle): the request is shown without its context.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from portal_app.services.errors import ErrorCode, ValidationFailed

log = logging.getLogger(__name__)

MAX_CONTEXT_CHARS = 4000
SHORTENED = "shortened"
LEFT_OUT = "(left out: too long)"
_TEXT_LIMITS = (1000, 300, 80)


class ContextTooLarge(ValidationFailed):
    code = ErrorCode.CONTEXT_TOO_LARGE


def _plain(value: object) -> object:
    """JSON for what json cannot take as is: mappings and lists behind proxies (page state), else the text."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (list, tuple, set)):
        return list(value)
    return str(value)


def _json(context: Mapping[str, Any]) -> str:
    return json.dumps(context, default=_plain, sort_keys=True, ensure_ascii=False)


def encode_context(context: Mapping[str, Any] | None) -> str:
    """The context as the JSON text to store; ContextTooLarge when it is over the limit (nothing is cut)."""
    text = _json(context or {})
    if len(text) > MAX_CONTEXT_CHARS:
        raise ContextTooLarge(
            f"The request's context is {len(text):,} characters long as JSON; it may have at most "
            f"{MAX_CONTEXT_CHARS:,}. Send a shorter context (for example without the draft), then send again. "
            "Nothing was sent."
        )
    return text


def _shorten(value: Any, limit: int) -> Any:
    if isinstance(value, str):
        return value if len(value) <= limit else value[: limit - 1] + "…"
    if isinstance(value, dict):
        return {k: _shorten(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [_shorten(v, limit) for v in value]
    return value


def fit_context(context: Mapping[str, Any] | None) -> dict[str, Any]:
    """The context made to fit the limit, keeping as much as it can: first long texts are shortened, then nested
    parts are left out, last whole entries (the largest first). The result always passes :func:`encode_context`."""
    data: dict[str, Any] = json.loads(_json(context or {}))
    if len(_json(data)) <= MAX_CONTEXT_CHARS:
        return data
    data[SHORTENED] = True
    for limit in _TEXT_LIMITS:
        data = _shorten(data, limit)
        if len(_json(data)) <= MAX_CONTEXT_CHARS:
            return data
    data = {k: LEFT_OUT if isinstance(v, (dict, list)) and v else v for k, v in data.items()}
    while len(_json(data)) > MAX_CONTEXT_CHARS:
        largest = max((k for k in data if k != SHORTENED), key=lambda k: len(_json({k: data[k]})))
        del data[largest]
    return data


def decode_context(text: str | None, reference: str = "") -> dict[str, Any]:
    """The stored context as a mapping; an empty one (logged) when the stored text is not a whole JSON object."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        log.warning("request %s: its stored context is not a JSON object (%d characters); shown without it",
                    reference, len(text))
        return {}
    return value
