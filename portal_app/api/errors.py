"""Every API error in one JSON shape: {"error": {"code", "message", "saved"}}.

An unexpected error is a 500 ``internal_error`` with an error id; a database that does not answer (restarting,
failing over) is a 503 ``database_unavailable`` with ``Retry-After``, since trying again shortly is the remedy."""

from __future__ import annotations

import asyncio
import logging

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from portal_app import request_context
from portal_app.api.deps import committed
from portal_app.db import database_error_text, database_unavailable
from portal_app.metrics import METHODS, route_template
from portal_app.services import error_log
from portal_app.services.errors import ErrorCode, RateLimited, ServiceError

log = logging.getLogger(__name__)


def error_body(code: ErrorCode | str, message: str, saved: bool = False) -> dict:
    """The one error shape; ``code`` is an ErrorCode (``http_<status>`` for the framework's own refusals)."""
    return {"error": {"code": str(code), "message": message, "saved": saved}}


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{where or 'request'}: {err.get('msg', 'invalid value')}")
    return "Some input is not valid (" + "; ".join(parts) + "). Correct it and send again; nothing was saved."


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(_request: Request, exc: ServiceError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after_seconds)} if isinstance(exc, RateLimited) else None
        return JSONResponse(exc.to_dict(), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body(ErrorCode.INVALID_INPUT, _describe_validation(exc)), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        messages = {
            404: "There is nothing at this address. Check the URL against the API description at /api/openapi.json.",
            405: "This address does not accept that method. See /api/openapi.json for the allowed ones.",
        }
        message = messages.get(exc.status_code, str(exc.detail))
        return JSONResponse(error_body(f"http_{exc.status_code}", message), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Runs outside the app's middleware: the request id is the one the request-id layer set (the error id
        # quoted to the caller, in the X-Request-ID header and on the log line).
        return await _unexpected_error(request, exc)

    @app.exception_handler(sa.exc.SQLAlchemyError)
    async def _database_error(request: Request, exc: sa.exc.SQLAlchemyError) -> JSONResponse:
        # Handled inside the middleware (the server logs no second traceback): 503 when the database did not
        # answer, else the same 500 as any unexpected error.
        if database_unavailable(exc):
            return _database_unavailable(_error_id(request), exc, saved=committed(request))
        return await _unexpected_error(request, exc)


def _error_id(request: Request) -> str:
    return (getattr(request.state, "request_id", None) or request_context.request_id.get()
            or request_context.new_id())


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    error_id = _error_id(request)
    log.error("unhandled API error [error %s]", error_id, exc_info=exc,
              extra={"error_id": error_id, "request_id": error_id})
    where = f"{request.method if request.method in METHODS else 'OTHER'} {route_template(request.scope)}"
    await asyncio.to_thread(error_log.keep, "api", where, error_id, type(exc).__name__)  # for the System page
    return JSONResponse(
        error_body(
            ErrorCode.INTERNAL_ERROR,
            "Something went wrong on our side and nothing was saved. Try again in a minute; "
            f"if it keeps happening, contact your forwarder and quote error {error_id}.",
        ),
        status_code=500,
        headers={request_context.HEADER: error_id},
    )


DATABASE_RETRY_SECONDS = 5


def _database_unavailable(error_id: str, exc: BaseException, *, saved: bool) -> JSONResponse:
    """503 in the error shape: what failed, whether anything was saved, when to try again. The log line is one
    line (the driver's own words), not a traceback: the cause is outside the code. ``saved``: the request had
    committed before the database went (it failed reading its answer back), so sending it again would repeat it."""
    log.warning("the database did not answer [error %s]: %s", error_id, database_error_text(exc),
                extra={"error_id": error_id, "request_id": error_id})
    if saved:
        message = ("Your change was saved, but the database stopped answering before the answer was ready (it may "
                   "be restarting). Check it in a few seconds before sending it again; quote error "
                   f"{error_id} if something looks wrong.")
    else:
        message = ("The database is not answering right now (it may be restarting), so nothing was saved. Try again "
                   f"in a few seconds; if it keeps happening, contact your forwarder and quote error {error_id}.")
    return JSONResponse(
        error_body(ErrorCode.DATABASE_UNAVAILABLE, message, saved=saved),
        status_code=503,
        headers={request_context.HEADER: error_id, "Retry-After": str(DATABASE_RETRY_SECONDS)},
    )
