"""The webhooks pages (states driven without a browser): add with the secret shown once and never kept in state,
send a test, read the delivery log, remove; a customer user is told only admins manage them; a customer admin sees
only their company's; the tower's administrator sees every one."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import reflex as rx
import sqlalchemy as sa
from sqlmodel import Session

from models import WebhookDelivery, WebhookSubscription
from portal_app.portal.webhooks import PortalWebhooksState
from portal_app.services import webhook_outbox, webhooks
from portal_app.tower.webhooks import TowerWebhooksState
from tests.page_states import revealed, run, state_as, use_db
from tests.services.test_webhooks import Receiver, principal_for


def _state_text(st: rx.State) -> str:
    return repr({name: getattr(st, name) for name in type(st).get_fields()})


@pytest.fixture(autouse=True)
def _clean(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(webhooks, "settings", replace(webhooks.settings, webhook_allow_private=True))
    with engine.begin() as conn:
        conn.execute(sa.delete(WebhookDelivery))
        conn.execute(sa.delete(WebhookSubscription))
    yield


def test_add_test_log_and_remove_on_the_portal_page(db, engine, monkeypatch):
    receiver = Receiver()
    try:
        use_db(monkeypatch, engine)
        admin = principal_for(db, "customer_admin@alfa.test")
        st = state_as(monkeypatch, PortalWebhooksState, admin, "/portal/account/webhooks")
        run(PortalWebhooksState.load, st)
        assert st.hooks_allowed and st.hooks == []

        refused = run(PortalWebhooksState.create_hook, st, {"url": "http://169.254.169.254/x", "event_all": "on"})
        assert refused is None and "never requested" in st.hooks_error and st.hooks == []
        run(PortalWebhooksState.create_hook, st, {"url": receiver.url})
        assert "at least one event" in st.hooks_error

        answer = run(PortalWebhooksState.create_hook, st, {"url": receiver.url, "event_eta_changed": "on",
                                                           "event_invoice_issued": "on"})
        secret = revealed(answer)
        assert secret.startswith("whsec_") and st.hook_secret_shown and secret not in _state_text(st)
        assert len(st.hooks) == 1 and st.hooks[0].events == "ETA changed, Invoice issued"
        assert st.hooks[0].owner == "Alfa Imports"
        hook_id = st.hooks[0].id

        run(PortalWebhooksState.test_hook, st, hook_id)
        assert st.log_for == hook_id and st.log_rows[0].status == "Waiting" and st.log_rows[0].kind == "Test"
        with Session(engine, expire_on_commit=False) as worker_db:
            webhook_outbox.run_round(worker_db, webhook_outbox.WebhookConfig(allow_private=True),
                                     datetime.now(UTC) + timedelta(seconds=1))
        run(PortalWebhooksState.show_log, st, hook_id)
        assert st.log_rows[0].status == "Delivered" and st.log_rows[0].answer == "HTTP 200"
        assert webhook_outbox.sign(secret, receiver.requests[0][0]["x-portal-timestamp"], receiver.requests[0][1]) \
            == receiver.requests[0][0]["x-portal-signature"]

        # Another company's admin neither sees it nor reaches it by its id.
        other = state_as(monkeypatch, PortalWebhooksState, principal_for(db, "customer_admin@beta.test"),
                         "/portal/account/webhooks")
        run(PortalWebhooksState.load, other)
        assert other.hooks == []
        run(PortalWebhooksState.show_log, other, hook_id)
        assert "no such webhook" in other.hooks_error and other.log_rows == []
        run(PortalWebhooksState.remove_hook, other, hook_id)
        assert len(webhooks.list_subscriptions(db, admin).rows) == 1
        # The tower's administrator sees every company's.
        tower = state_as(monkeypatch, TowerWebhooksState, principal_for(db, "admin@fwd.test"),
                         "/tower/account/webhooks")
        run(TowerWebhooksState.load, tower)
        assert [h.id for h in tower.hooks] == [hook_id] and tower.hooks[0].owner.startswith("Alfa Imports")

        st = state_as(monkeypatch, PortalWebhooksState, admin, "/portal/account/webhooks")  # (the class is patched)
        run(PortalWebhooksState.load, st)
        run(PortalWebhooksState.ask_remove_hook, st, hook_id)
        assert st.hook_confirming == hook_id
        run(PortalWebhooksState.remove_hook, st, hook_id)
        assert st.hooks_error == "" and "removed" in st.hooks_done, st.hooks_error
        assert st.hooks == []
        run(PortalWebhooksState.remove_hook, st, "not-a-number")
        assert "not in the list" in st.hooks_error
    finally:
        receiver.close()


def test_a_customer_user_is_told_only_admins_manage_webhooks(db, engine, monkeypatch):
    use_db(monkeypatch, engine)
    st = state_as(monkeypatch, PortalWebhooksState, principal_for(db, "customer_user@alfa.test"),
                  "/portal/account/webhooks")
    run(PortalWebhooksState.load, st)
    assert not st.hooks_allowed and st.hooks == []
    run(PortalWebhooksState.create_hook, st, {"url": "https://example.com/x", "event_all": "on"})
    assert "Only an administrator" in st.hooks_error
    with Session(engine) as check:
        assert check.exec(sa.select(sa.func.count()).select_from(WebhookSubscription)).one()[0] == 0
