"""The HTTP API mounted in front of the Reflex app (health, auth, REST v1, OpenAPI)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from portal_app.api import (
    auth_routes,
    observability_routes,
    sso_routes,
    v1_access,
    v1_account,
    v1_admin,
    v1_api_keys,
    v1_bookings,
    v1_carrier_events,
    v1_config,
    v1_documents,
    v1_files_audit,
    v1_finance,
    v1_help,
    v1_kpis,
    v1_notifications,
    v1_ops,
    v1_quotes,
    v1_rates,
    v1_requests,
    v1_shipment_import,
    v1_shipments,
    v1_sso_config,
    v1_tower,
    v1_webhooks,
)
from portal_app.api.errors import install_error_handlers
from portal_app.client_address import ClientAddressMiddleware
from portal_app.db import database_ok
from portal_app.logs import configure_logging
from portal_app.metrics import HttpMetricsMiddleware
from portal_app.request_context import RequestIdMiddleware


def build_api() -> FastAPI:
    configure_logging()
    api = FastAPI(
        title="Freight portal API",
        version="1.0",
        description=(
            "Authenticate with the session cookie from `POST /api/auth/login` or `Authorization: Bearer <api key>`. "
            "A customer's session or key sees only its own company's records; not found and not yours are both 404. "
            'Errors are `{"error": {"code", "message", "saved"}}`.'
        ),
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    install_error_handlers(api)

    @api.get("/api/health", tags=["health"])
    def health() -> JSONResponse:
        """200 with `{"status": "ok", "database": "ok"}` when healthy; 503 when the database is unreachable."""
        ok = database_ok()
        return JSONResponse(
            {"status": "ok" if ok else "degraded", "database": "ok" if ok else "unavailable"},
            status_code=200 if ok else 503,
        )

    api.include_router(observability_routes.router)
    api.include_router(auth_routes.router)
    api.include_router(sso_routes.router)
    for module in (v1_shipment_import, v1_shipments, v1_documents, v1_finance, v1_account, v1_api_keys, v1_quotes,
                   v1_bookings, v1_rates, v1_ops, v1_tower, v1_kpis, v1_config, v1_notifications, v1_requests, v1_help,
                   v1_access, v1_sso_config, v1_webhooks, v1_carrier_events, v1_files_audit, v1_admin):
        api.include_router(module.router)
    api.include_router(v1_config.public)
    # Inside the client address layer (which hands a copy of the scope on), so both see the route the router
    # matched: request time per route template, and an X-Request-ID on every answer and log line.
    api.add_middleware(HttpMetricsMiddleware)
    api.add_middleware(RequestIdMiddleware)
    # Added last, so it runs first: every layer below, the API, the page websocket and uploads (Reflex mounts them
    # under this app) see the client address decided from the peer and PORTAL_TRUSTED_PROXIES.
    api.add_middleware(ClientAddressMiddleware)
    return api
