"""Every page event (`ui/session.py::page_event`) is timed per handler for the metrics, and an unexpected failure
carries its event id to the app's error handler, which shows that id and logs it."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import Session

from models.enums import Role
from portal_app import metrics
from portal_app.auth.sessions import _principal_for
from portal_app.components import password_change
from portal_app.portal.home import PortalPasswordState
from portal_app.ui import page_errors
from tests.factories import make_user
from tests.page_states import run, state_as, use_db

URL = "/portal/account/password"


def _count(sample: str, handler: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    return sum(s.value for family in text_string_to_metric_families(metrics.render().decode())
               for s in family.samples if s.name == sample and s.labels.get("handler") == handler)


@pytest.fixture()
def customer(engine, world, monkeypatch):
    use_db(monkeypatch, engine)
    with Session(engine, expire_on_commit=False) as db:
        user = make_user(db, world.companies["ALFA"], Role.CUSTOMER_USER, f"pm-{uuid.uuid4().hex[:12]}@alfa.test")
        db.commit()
        return _principal_for(db, user, None)


def test_a_page_event_is_timed_under_its_handler_name(customer, monkeypatch):
    submit = PortalPasswordState.event_handlers["submit"]
    name = submit.fn.__wrapped__.__qualname__
    before = _count("portal_page_event_duration_seconds_count", name)
    state = state_as(monkeypatch, PortalPasswordState, customer, URL)
    run(submit, state, {"current_password": "x", "new_password": "a", "repeat_password": "b"})
    assert "differ" in state.error
    assert _count("portal_page_event_duration_seconds_count", name) == before + 1


def test_an_unexpected_failure_is_counted_and_its_event_id_is_the_error_id(customer, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("password store broke")

    monkeypatch.setattr(password_change, "change_password", broken)
    submit = PortalPasswordState.event_handlers["submit"]
    name = submit.fn.__wrapped__.__qualname__
    before = _count("portal_page_event_errors_total", name)
    state = state_as(monkeypatch, PortalPasswordState, customer, URL)
    with pytest.raises(RuntimeError) as caught:
        run(submit, state, {"current_password": "x", "new_password": "Same-pass-123", "repeat_password":
                            "Same-pass-123"})
    event = caught.value.portal_event_id
    assert page_errors.ERROR_ID.match(event) and page_errors.error_id_for(caught.value) == event
    assert _count("portal_page_event_errors_total", name) == before + 1
