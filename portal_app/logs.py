"""Log output: ``PORTAL_LOG_FORMAT=json`` writes every log line as one JSON object (stdlib logging, no extra library).

Each line has ``timestamp`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, and when known ``request_id`` (the
HTTP request's ``X-Request-ID``), ``event_id`` (a page event's id), ``error_id`` (the id shown to a person on an
unexpected failure) and ``exception`` (the traceback text). Without the setting (or with ``text``) logging is left
as the server configures it.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime

from portal_app import request_context

SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "gunicorn.error", "gunicorn.access")
_ID_FIELDS = ("request_id", "event_id", "error_id")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_context.request_id.get()
        eid = getattr(record, "event_id", None) or request_context.event_id.get()
        for name, value in (("request_id", rid), ("event_id", eid), ("error_id", getattr(record, "error_id", None))):
            if value:
                line[name] = str(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def log_format() -> str:
    return (os.environ.get("PORTAL_LOG_FORMAT") or "text").strip().lower()


def configure_logging() -> None:
    """With ``PORTAL_LOG_FORMAT=json``: one JSON-lines handler on the root logger (INFO and above, to stderr), and
    the server's own loggers' handlers switched to the same format."""
    if log_format() != "json":
        return
    formatter = JsonFormatter()
    root = logging.getLogger()
    if not any(getattr(h, "portal_json", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(formatter)
        handler.portal_json = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    for name in SERVER_LOGGERS:  # the servers' own console handlers (not any other handler put there)
        for server_handler in logging.getLogger(name).handlers:
            if type(server_handler) is logging.StreamHandler:
                server_handler.setFormatter(formatter)
