"""One shape per record: the API serves the services' own read and input models, so a field is added in one place.

A pydantic model declared under ``portal_app/api/`` whose fields are those of a service record (the same names,
or all of them and more) is a field-by-field copy that drifts from the record it mirrors; serve the service's
model (``response_model=svc.Thing``, ``PageOut[svc.ThingRow]`` for a page) or declare the body in the service.
A model that extends a service's model (a subclass adding API-only fields) is not a copy.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from types import ModuleType

from pydantic import BaseModel

import portal_app.api
import portal_app.services


def _modules(package: ModuleType) -> list[ModuleType]:
    names = [info.name for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
    return [importlib.import_module(name) for name in sorted(names)]


def _declared(module: ModuleType) -> list[type]:
    return [obj for obj in vars(module).values() if inspect.isclass(obj) and obj.__module__ == module.__name__]


def _service_records() -> dict[str, tuple[type, frozenset[str]]]:
    """Every record a service declares (a dataclass or a pydantic model), by name, with its field names."""
    records: dict[str, tuple[type, frozenset[str]]] = {}
    for module in _modules(portal_app.services):
        for cls in _declared(module):
            if dataclasses.is_dataclass(cls):
                names = frozenset(f.name for f in dataclasses.fields(cls))
            elif issubclass(cls, BaseModel):
                names = frozenset(cls.model_fields)
            else:
                continue
            if len(names) >= 2:  # a one-field record says too little to call another model its copy
                records[f"{module.__name__}.{cls.__qualname__}"] = (cls, names)
    return records


def _api_models() -> dict[str, type[BaseModel]]:
    return {
        f"{module.__name__}.{cls.__qualname__}": cls
        for module in _modules(portal_app.api)
        for cls in _declared(module)
        if issubclass(cls, BaseModel) and not cls.__pydantic_generic_metadata__["origin"]  # PageOut[Row] is paging's
    }


def _copies() -> dict[str, list[str]]:
    """API models holding every field of a service record without being (a subclass of) that record."""
    records = _service_records()
    found: dict[str, list[str]] = {}
    for name, model in _api_models().items():
        names = frozenset(model.model_fields)
        mirrored = sorted(record for record, (cls, fields) in records.items()
                          if fields <= names and not issubclass(model, cls))
        if mirrored:
            found[name] = mirrored
    return found


def test_no_api_model_copies_a_service_record():
    copies = _copies()
    assert not copies, f"API models copying a service record's fields (serve the service's model instead): {copies}"


def test_what_a_record_keeps_for_the_pages_stays_out_of_the_json():
    """Fields a page needs but the API never published (``Field(exclude=True)``) stay out of the served JSON,
    inside a page of records as well as alone."""
    from datetime import UTC, date, datetime

    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from portal_app.services import documents, finance
    from portal_app.services.exceptions import SlaTimer
    from portal_app.services.paging import Page, PageOut
    from portal_app.services.requests.reading import RequestTimer

    now = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
    row = documents.DocumentRow(1, "SH1", "invoice", "Invoice", 1, "a.pdf", "application/pdf", 10, "ab", "received",
                                None, "customer", now, documents.DOWNLOAD_URL.format(id=1), row_version=7)
    statement = finance.Statement(as_of=date(2026, 11, 10), bucket_labels=finance.BUCKET_LABELS, currencies=[],
                                  invoices=[], open_invoices=3)
    timer = RequestTimer.of(SlaTimer(now, "2026-11-10 13:00 CET", 60, False, "1 min left"))
    api = FastAPI()
    api.get("/page", response_model=PageOut[documents.DocumentRow])(lambda: PageOut.of(Page([row], 1, 1, 25)))
    api.get("/statement", response_model=finance.Statement)(lambda: statement)
    api.get("/timer", response_model=RequestTimer)(lambda: timer)
    client = TestClient(api)
    served = client.get("/page").json()["items"][0]
    assert served["download_url"] == "/api/v1/documents/1/download" and "row_version" not in served
    assert "open_invoices" not in client.get("/statement").json()
    assert set(client.get("/timer").json()) == {"due_at", "seconds_left", "breached", "label"}
    assert timer.due_local == "2026-11-10 13:00 CET"  # the pages still read it
