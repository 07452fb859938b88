"""Two-factor sign-in on the pages (states driven without a browser): the secret and the recovery codes reach the
browser only in the answer to the person's own click, never page state; someone who must set it up first is sent
to the set-up page from every other page; an admin resets a colleague from the colleagues page."""

from __future__ import annotations

import dataclasses

import pyotp
import reflex as rx
from sqlmodel import select

from models import AuditLog
from portal_app.portal.account import PortalAccountState, PortalColleaguesState, PortalMfaState
from portal_app.portal.invoices.listing import PortalInvoicesState
from tests.page_states import run, state_as, use_db
from tests.services.test_mfa import enrol, principal, tenant


def _values(answer) -> list[str]:
    """Every value the browser-only events of a handler's answer write into the page."""
    found = []
    for event in answer if isinstance(answer, list) else [answer]:
        for _name, value in getattr(event, "args", ()):
            found.append(str(getattr(value, "_var_value", value)))
    return found


def _state_text(st: rx.State) -> str:
    return repr({name: getattr(st, name) for name in type(st).get_fields()})


def test_the_secret_and_codes_are_shown_once_never_kept_in_state(db, engine, monkeypatch):
    use_db(monkeypatch, engine)
    t = tenant(db)
    st = state_as(monkeypatch, PortalMfaState, principal(db, t.user), "/portal/account")
    run(PortalMfaState.load_mfa, st)
    assert st.mfa_known and not st.mfa_enabled
    answer = run(PortalMfaState.start_mfa, st)
    secret = next(v for v in _values(answer) if len(v) == 32 and v.isalnum())
    assert any("data:image/svg+xml" in v for v in _values(answer))
    assert st.mfa_setting_up and secret not in _state_text(st)

    run(PortalMfaState.confirm_mfa, st, {"mfa_code": "12345"})
    assert st.mfa_error and not st.mfa_enabled
    answer = run(PortalMfaState.confirm_mfa, st, {"mfa_code": pyotp.TOTP(secret).now()})
    codes = next(v for v in _values(answer) if v.count("\n") == 9).split("\n")
    assert st.mfa_enabled and st.mfa_codes_shown and st.mfa_codes_left == 10
    assert not any(code in _state_text(st) for code in codes)

    run(PortalMfaState.disable_mfa, st, {"mfa_off_password": "wrong-Pass-1"})
    assert st.mfa_enabled and "not right" in st.mfa_error
    run(PortalMfaState.disable_mfa, st, {"mfa_off_code": codes[0]})
    assert not st.mfa_enabled and st.mfa_error == ""


def test_who_must_enrol_is_sent_to_the_set_up_page_from_other_pages(db, engine, monkeypatch):
    use_db(monkeypatch, engine)
    t = tenant(db)
    who = dataclasses.replace(principal(db, t.user), mfa_enrolment_required=True)
    for state_cls, url in ((PortalAccountState, "/portal/account"), (PortalInvoicesState, "/portal/invoices")):
        st = state_as(monkeypatch, state_cls, who, url)
        answer = run(state_cls.load, st)
        assert st.auth_status == "enrol"
        assert "/portal/account/two-factor" in str(answer)
    st = state_as(monkeypatch, PortalMfaState, who, "/portal/account/two-factor")
    run(PortalMfaState.load_mfa, st)
    assert st.auth_status == "ok" and st.mfa_known


def test_an_admin_resets_a_colleague_and_sets_the_policy_on_the_colleagues_page(db, engine, monkeypatch):
    use_db(monkeypatch, engine)
    t = tenant(db)
    enrol(db, t.user)
    st = state_as(monkeypatch, PortalColleaguesState, principal(db, t.admin), "/portal/account/users")
    run(PortalColleaguesState.load, st)
    row = next(r for r in st.colleagues if r.id == str(t.user.id))
    assert row.mfa == "On" and row.mfa_on
    run(PortalColleaguesState.reset_mfa, st, str(t.user.id))
    assert "reset" in st.done and st.error == ""
    assert next(r for r in st.colleagues if r.id == str(t.user.id)).mfa == "Off"
    assert db.exec(select(AuditLog).where(AuditLog.action == "mfa_reset")).first() is not None

    run(PortalColleaguesState.set_mfa_policy, st, {"mfa_required": "on"})
    assert "first" in st.error and st.mfa_policy_required is False  # the admin sets it up for themselves first
    enrol(db, t.admin)
    run(PortalColleaguesState.set_mfa_policy, st, {"mfa_required": "on"})
    assert st.mfa_policy_required is True and "required" in st.done


def test_new_recovery_codes_ask_for_a_proof_and_are_shown_once(db, engine, monkeypatch):
    use_db(monkeypatch, engine)
    t = tenant(db)
    _, old = enrol(db, t.user)
    st = state_as(monkeypatch, PortalMfaState, principal(db, t.user), "/portal/account")
    run(PortalMfaState.load_mfa, st)
    run(PortalMfaState.ask_new_codes, st, True)
    assert st.mfa_renewing and not st.mfa_codes_shown
    assert run(PortalMfaState.renew_recovery_codes, st, {"mfa_renew_password": "wrong-Pass-1"}) is None
    assert "not right" in st.mfa_error and st.mfa_renewing and st.mfa_codes_left == 10
    answer = run(PortalMfaState.renew_recovery_codes, st, {"mfa_renew_code": old[0]})
    codes = next(v for v in _values(answer) if v.count("\n") == 9).split("\n")
    assert st.mfa_codes_shown and not st.mfa_renewing and st.mfa_error == "" and "no longer work" in st.mfa_done
    assert st.mfa_codes_left == 10 and not set(codes) & set(old)
    assert not any(code in _state_text(st) for code in codes)
