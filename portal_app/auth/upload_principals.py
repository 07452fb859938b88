"""Who an upload acts as: the session of the HTTP request that carries the files, never the page's websocket.

Reflex runs an upload handler as an event of the tab named by the request's ``reflex-client-token`` header, so the
handler cannot see the request itself. The upload gate (``edge/upload_gate.py``) resolves the request's own cookie
and records the principal here, under that token, for exactly as long as the request runs; the handler asks for it
(``SessionState._authorize_upload``). Reflex processes the upload's event in the worker process that received the
request (``EventProcessor.enqueue_stream_delta`` queues it locally), so a record in this process is enough, however
many workers share Redis.

All uploads in flight for one tab act as one session: a request for a tab that already has an upload running under
another session is refused (``claim`` says no), so a handler can never pick up someone else's record.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal_app.auth.principal import Principal


@dataclass
class _InFlight:
    principal: Principal
    count: int


_in_flight: dict[str, _InFlight] = {}


def claim(token: str, principal: Principal) -> bool:
    """Record ``principal`` as the one uploads for ``token`` act as; False (nothing recorded) when an upload of
    another session is in flight for that tab. Every True is followed by one ``release``."""
    entry = _in_flight.get(token)
    if entry is None:
        _in_flight[token] = _InFlight(principal, 1)
        return True
    if entry.principal.session_id != principal.session_id:
        return False
    entry.count += 1
    return True


def release(token: str) -> None:
    entry = _in_flight.get(token)
    if entry is not None:
        entry.count -= 1
        if entry.count <= 0:
            del _in_flight[token]


def uploading_principal(token: str) -> Principal | None:
    """The principal of the upload request running now for ``token``, or None (no upload request in flight)."""
    entry = _in_flight.get(token)
    return entry.principal if entry is not None else None
