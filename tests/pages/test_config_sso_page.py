"""The tower's single sign-on page (its state, the session check stubbed to a known principal, the database a copy
of the demo world's): staff who are not administrators see the refusal; an administrator connects Acme's provider,
sees a refused field beside it, and disconnects it again."""

from __future__ import annotations

from sqlmodel import select

from models import AuditLog
from portal_app.tower.config_sso import STAFF, ConfigSsoState
from tests.config_world import ConfigWorld
from tests.page_states import run, use_db

S = ConfigSsoState


def _as(monkeypatch, principal):
    async def authorize(self, area):
        assert area == "tower"
        return principal

    monkeypatch.setattr(S, "_authorize", authorize)
    return S(_reflex_internal_init=True)


def test_only_administrators_see_it(cworld: ConfigWorld, monkeypatch):
    use_db(monkeypatch, cworld.world.engine)
    for who in (cworld.world.manager, cworld.world.agent):
        st = _as(monkeypatch, who)
        run(S.load, st)
        assert st.denied is True and st.rows == [] and st.values == {}


def test_an_administrator_connects_a_company_and_disconnects_it(cworld: ConfigWorld, monkeypatch):
    use_db(monkeypatch, cworld.world.engine)
    st = _as(monkeypatch, cworld.admin)
    run(S.load, st)
    assert st.company == STAFF and st.rows[0].company.endswith("(staff)") and not st.connected
    assert [r.value for r in st.roles] == ["ops_agent", "ops_manager"]
    acme = next(c for c in st.companies if c.label.startswith("Acme"))
    run(S.choose, st, acme.value)
    assert st.chosen_name.startswith("Acme") and [r.value for r in st.roles] == ["customer_user", "customer_admin"]
    form = {"issuer": "http://10.1.2.3", "client_id": "portal", "client_secret": "s3cret",
            "email_domains": "acme.example, acme-home.example", "default_role": "customer_user",
            "password_login_allowed": "on"}
    run(S.save, st, form)
    assert set(st.field_errors) == {"issuer"} and "Nothing was saved" in st.error and not st.connected
    run(S.save, st, {**form, "issuer": "http://127.0.0.1:9400"})
    assert st.error == "" and "saved" in st.notice and st.connected and st.secret_set
    assert st.values["email_domains"] == "acme-home.example, acme.example"
    assert st.values["password_login_allowed"] == "1" and st.values["trust_provider_mfa"] == ""
    row = next(r for r in st.rows if r.company.startswith("Acme"))
    assert row.status == "Connected" and row.passwords == "allowed"
    run(S.save, st, {**form, "issuer": "http://127.0.0.1:9400", "client_secret": "", "password_login_allowed": ""})
    assert st.error == "" and st.values["password_login_allowed"] == "" and st.secret_set  # the secret was kept
    run(S.save, st, {**form, "issuer": "http://127.0.0.1:9400", "client_secret": "", "trust_provider_mfa": "on"})
    assert st.error == "" and st.values["trust_provider_mfa"] == "1"
    with cworld.session() as db:
        assert len(db.exec(select(AuditLog).where(AuditLog.action == "config_sso_saved")).all()) == 3
    run(S.disconnect, st)
    assert "disconnected" in st.notice and not st.connected
    assert next(r for r in st.rows if r.company.startswith("Acme")).status == "Passwords only"
