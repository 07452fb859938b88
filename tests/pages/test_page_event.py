"""The one way to write a page event (`ui/session.py::page_event`): who may run it, what the browser may send it,
and where a refusal goes. Driven on the password change, whose handlers are written that way."""

from __future__ import annotations

import uuid

import pytest
import reflex as rx
from sqlmodel import Session

from models import User
from models.enums import Role
from portal_app.auth.passwords import hash_password
from portal_app.auth.sessions import _principal_for
from portal_app.portal.home import PortalPasswordState
from tests.factories import PASSWORD, make_user
from tests.page_states import run, state_as, use_db

URL = "/portal/account/password"


@pytest.fixture()
def customer(engine, world, monkeypatch):
    """A customer of its own (the test changes its password), and page handlers on the test database."""
    use_db(monkeypatch, engine)
    with Session(engine, expire_on_commit=False) as db:
        user = make_user(db, world.companies["ALFA"], Role.CUSTOMER_USER, f"pe-{uuid.uuid4().hex[:12]}@alfa.test")
        db.commit()
        return _principal_for(db, user, None)


def test_the_browser_sees_only_the_arguments_after_the_principal():
    handler = PortalPasswordState.event_handlers["submit"]
    assert list(handler.get_parameters()) == ["self", "form"]
    assert "principal" not in handler._get_type_hints()


def test_an_argument_the_handler_does_not_take_is_refused_before_anything_runs(customer, monkeypatch):
    state = state_as(monkeypatch, PortalPasswordState, customer, URL)
    with pytest.raises(TypeError):
        run(PortalPasswordState.event_handlers["submit"], state, {}, customer)  # a forged extra argument
    with pytest.raises(TypeError):
        import asyncio

        asyncio.run(PortalPasswordState.event_handlers["submit"].fn(state, form={}, principal=customer))
    assert state.done == "" and state.error == ""


def test_a_signed_out_caller_is_sent_to_sign_in_and_the_body_does_not_run(monkeypatch):
    state = state_as(monkeypatch, PortalPasswordState, None, URL)
    state.error = "kept"
    answer = run(PortalPasswordState.event_handlers["submit"], state, {"current_password": "x"})
    assert isinstance(answer, rx.event.EventSpec) and "/login?next=" in str(answer)
    assert state.error == "kept" and state.auth_status == "anonymous"


def test_a_staff_member_may_not_use_a_portal_event(world, engine, monkeypatch):
    use_db(monkeypatch, engine)
    with Session(engine) as db:
        agent = _principal_for(db, db.get(User, world.users["FWD:ops_agent"].id), None)
    state = state_as(monkeypatch, PortalPasswordState, agent, URL)
    assert run(PortalPasswordState.event_handlers["submit"], state, {"new_password": "a"}) is None
    assert state.auth_status == "forbidden" and state.done == "" and state.error == ""


def test_a_service_refusal_becomes_the_page_error_and_success_runs_the_body(customer, engine, monkeypatch):
    state = state_as(monkeypatch, PortalPasswordState, customer, URL)
    submit = PortalPasswordState.event_handlers["submit"]
    run(submit, state, {"current_password": "wrong", "new_password": "Another-pass-99",
                        "repeat_password": "Another-pass-99"})
    assert "not right" in state.error and state.done == ""
    run(submit, state, {"current_password": PASSWORD, "new_password": "Another-pass-99",
                        "repeat_password": "Another-pass-99"})
    assert state.error == "" and state.done.startswith("Your password is changed")
    with Session(engine) as db:  # nothing else relies on this user's password, but leave it as it was
        user = db.get(User, customer.user_id)
        user.password_hash = hash_password(PASSWORD)
        db.add(user)
        db.commit()


def test_a_page_event_must_take_the_principal_first():
    from portal_app.ui.session import page_event

    with pytest.raises(TypeError, match="takes \\(self, principal"):
        @page_event("portal")
        async def wrong(self, form: dict) -> None:
            return None


def _stream(handler, state, *args) -> list:
    """Run a handler that yields to its end; what it yielded."""
    import asyncio

    async def collect() -> list:
        return [update async for update in handler.fn(state, *args)]

    return asyncio.run(collect())


def test_a_handler_that_yields_is_guarded_the_same_way(customer, monkeypatch):
    from portal_app.portal.request_detail import PortalRequestState

    send = PortalRequestState.event_handlers["send_reply"]
    assert list(send.get_parameters()) == ["self", "files"]
    anonymous = state_as(monkeypatch, PortalRequestState, None, "/portal/requests/REQ-000001")
    anonymous.reply = "Hello"
    assert _stream(send, anonymous, []) == [None]  # an upload without its own session changes nothing
    assert anonymous.sending is False and anonymous.error == "" and anonymous.reply == "Hello"

    state = state_as(monkeypatch, PortalRequestState, customer, "/portal/requests/REQ-NOPE")
    state.reply = "Hello"
    _stream(send, state, [])  # no such request: the service refuses after the page showed "sending"
    assert state.error != "" and state.sending is False and state.reply == "Hello"
