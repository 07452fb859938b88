"""Operations endpoints beside ``/api/health``: readiness (``/api/ready``) and Prometheus metrics (``/api/metrics``).

``/api/metrics`` is answered only to ``Authorization: Bearer <PORTAL_METRICS_TOKEN>`` (compared in constant time),
or, when no token is set, only to a loopback client (the address decided by ``client_address``, so a forged
X-Forwarded-For never counts). Anyone else gets 401 (a token is set) or 404 (none is), in the error shape.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from portal_app import probes
from portal_app.api.errors import error_body
from portal_app.client_address import parse_address
from portal_app.settings import settings

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])
TOKEN_ENV = "PORTAL_METRICS_TOKEN"


@router.get("/api/ready", responses={503: {"description": "The database or Redis does not answer."}})
def ready() -> JSONResponse:
    """200 with `{"status": "ready", "database": "ok", "redis": "ok"|"not_used"}` when the database (and Redis, when
    `REFLEX_REDIS_URL` is set) answer; 503 in the error shape otherwise (take the worker out of rotation)."""
    db_ok = probes.database_ok()
    redis_url = settings.redis_url
    redis_state = "not_used" if not redis_url else ("ok" if probes.redis_ok(redis_url) else "unavailable")
    if db_ok and redis_state != "unavailable":
        return JSONResponse({"status": "ready", "database": "ok", "redis": redis_state})
    down = [name for name, ok in (("the database", db_ok), ("Redis", redis_state != "unavailable")) if not ok]
    return JSONResponse(
        error_body("not_ready", f"The server cannot serve requests yet: {' and '.join(down)} did not answer. "
                                "Send traffic to another instance and try again shortly; nothing was changed."),
        status_code=503,
    )


def _is_loopback(host: str | None) -> bool:
    address = parse_address(host) if host else None
    return isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address) and address.is_loopback


def _bearer(request: Request) -> str | None:
    scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


@router.get("/api/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."},
                       401: {"description": "A metrics token is set and was not given."},
                       404: {"description": "No metrics token is set and the caller is not on this host."}})
def metrics(request: Request) -> Response:
    """Prometheus metrics of every worker; for the bearer of `PORTAL_METRICS_TOKEN`, or loopback when it is unset."""
    token = os.environ.get(TOKEN_ENV) or ""
    if token:
        given = _bearer(request) or ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            return JSONResponse(
                error_body("not_authenticated", "Metrics need the metrics token: send it as "
                                                "'Authorization: Bearer <token>'. Nothing was changed."),
                status_code=401, headers={"WWW-Authenticate": "Bearer"})
    elif not _is_loopback(request.client.host if request.client else None):
        return JSONResponse(
            error_body("http_404", "There is nothing at this address. Check the URL against the API description "
                                   "at /api/openapi.json."),
            status_code=404)
    from portal_app import metrics as portal_metrics

    return Response(portal_metrics.render(), media_type=portal_metrics.CONTENT_TYPE)
