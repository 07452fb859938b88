"""Erasing a colleague from the portal's colleagues page (its state driven without a browser): the dialog asks
first, a refusal stays in it, and the erased colleague shows as their pseudonym, marked Erased, without actions."""

from __future__ import annotations

from models import User
from portal_app.portal.account import PortalColleaguesState
from tests.page_states import run, state_as, use_db
from tests.services.test_mfa import principal, tenant

S = PortalColleaguesState


def test_a_customer_admin_erases_a_colleague_through_the_dialog(db, engine, monkeypatch):
    use_db(monkeypatch, engine)
    t = tenant(db)
    st = state_as(monkeypatch, S, principal(db, t.admin), "/portal/account/users")
    run(S.load, st)
    me = next(c for c in st.colleagues if c.is_you)
    run(S.ask_erase, st, me.id)  # never yourself
    assert st.erase_id == ""
    run(S.ask_erase, st, str(t.user.id))
    assert st.erase_id == str(t.user.id) and st.erase_name == t.user.full_name and st.erase_at == "colleagues"
    run(S.erase_dialog_open, st, False)
    assert st.erase_id == "" and db.get(User, t.user.id).erased_at is None

    run(S.ask_erase, st, str(t.user.id))
    run(S.confirm_erase, st)
    assert st.erase_id == "" and st.erase_error == "" and st.error == ""
    assert t.user.full_name in st.erase_notice and "Former user" in st.erase_notice
    row = next(c for c in st.colleagues if c.id == str(t.user.id))
    assert row.erased and row.status == "Erased" and row.full_name.startswith("Former user")
    run(S.ask_erase, st, row.id)
    assert st.erase_id == ""
    db.expire_all()
    assert db.get(User, t.user.id).erased_at is not None


def test_a_refused_erasure_is_said_in_the_dialog(db, engine, monkeypatch):
    use_db(monkeypatch, engine)
    t = tenant(db)
    st = state_as(monkeypatch, S, principal(db, t.admin), "/portal/account/users")
    run(S.load, st)
    run(S.ask_erase, st, str(t.user.id))
    user = db.get(User, t.user.id)
    user.company_id = tenant(db).company_id  # moved to another company meanwhile: no longer a colleague
    db.add(user)
    db.commit()
    run(S.confirm_erase, st)
    assert "No such person" in st.erase_error and st.erase_id == str(t.user.id) and st.erase_notice == ""
