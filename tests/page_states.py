"""Driving a page's state in a test without a browser: its database, its signed-in principal, its handlers."""

from __future__ import annotations

import asyncio
from contextlib import contextmanager

import sqlalchemy as sa
from reflex.istate.data import ReflexURL, RouterData
from sqlmodel import Session

from portal_app.ui import session as ui_session


def use_db(monkeypatch, engine: sa.Engine) -> None:
    """Page handlers read and write ``engine``'s database."""
    @contextmanager
    def scope(url=None):
        with Session(engine, expire_on_commit=False) as db:
            try:
                yield db
                db.commit()
            except BaseException:
                db.rollback()
                raise

    monkeypatch.setattr(ui_session, "session_scope", scope)


def state_as(monkeypatch, state_cls, principal, url: str):
    """A state of ``state_cls`` on the page at ``url`` whose session check gives ``principal``."""
    async def who(self):
        return principal

    monkeypatch.setattr(state_cls, "_principal", who)
    monkeypatch.setattr(state_cls, "_upload_principal", who)  # as if the upload's own request carried its cookie
    st = state_cls(_reflex_internal_init=True)
    st.router = RouterData(url=ReflexURL(f"http://localhost:3000{url}"))
    return st


def run(handler, state, *args):
    """Run an event handler of ``state`` to its end; what it returned (a redirect, an event) or None."""
    return asyncio.run(handler.fn(state, *args))


def revealed(answer) -> str:
    """The secret a handler's answer writes into a one-time field (components/one_time_secret.reveal), or ""."""
    values = {str(name): value for name, value in getattr(answer, "args", ())}
    return values["value"]._var_value if {"ref", "value"} <= set(values) else ""
