"""API keys: who creates, sees and revokes which keys; what a key may do; what is stored; last use.

Runs on the demo seed (a copy per test): Alice and Nina are the customer admins of Acme and Nordwind, Bob a
customer user of Acme, Ada the forwarder's administrator.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from models import ApiKey, AuditLog, User
from portal_app.auth.principal import Principal
from portal_app.auth.sessions import hash_token, principal_from_api_key
from portal_app.services import api_keys as svc
from portal_app.services import clock
from portal_app.services.errors import (
    Conflict,
    FormInvalid,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from portal_app.services.inputs import parse
from tests.page_states import revealed, use_db
from tests.quote_world import QuoteWorld, principal_for

ADMIN = "admin@harborsky.example"


def _new(name: str = "ERP sync", scope: str = "read", days: int = 30) -> svc.NewApiKey:
    return svc.NewApiKey(name=name, scope=scope, expires_in_days=days)  # type: ignore[arg-type]


def _create(world: QuoteWorld, who: Principal, **kw) -> svc.CreatedApiKey:
    with world.session() as db:
        return svc.create_key(db, who, _new(**kw))


def _use(world: QuoteWorld, key: str, ip: str | None = "203.0.113.7") -> Principal | None:
    with world.session() as db:
        return principal_from_api_key(db, key, ip=ip)


def test_a_new_key_is_shown_once_and_stored_only_as_its_hash(qworld: QuoteWorld):
    created = _create(qworld, qworld.alice, name="  ERP   sync ", scope="read_write", days=30)
    assert created.key.startswith("pk_") and len(created.key) >= 40
    assert created.prefix == created.key[:svc.PREFIX_LENGTH] and created.name == "ERP sync"
    assert created.scope == "read_write"
    assert timedelta(days=29, hours=23) < created.expires_at - clock.now() <= timedelta(days=30)
    with qworld.session() as db:
        row = db.get(ApiKey, created.id)
        assert row.key_hash == hash_token(created.key) and created.key not in repr(row.model_dump())
        assert row.user_id == qworld.alice.user_id and row.company_id == qworld.alice.company_id
        audit = db.exec(select(AuditLog).where(AuditLog.action == "api_key_created",
                                               AuditLog.entity_id == str(created.id))).one()
        assert audit.actor_id == qworld.alice.user_id and audit.company_id == qworld.alice.company_id
        assert created.key not in (audit.after or "") and json.loads(audit.after)["prefix"] == created.prefix
        listed = svc.list_keys(db, qworld.alice).rows
    mine = [r for r in listed if r.id == created.id]
    assert mine and mine[0].status == "active" and mine[0].created_by == "Alice Archer"
    assert created.key not in repr(listed)  # the list never holds the key


def test_bad_input_is_refused_in_words_and_nothing_is_saved(qworld: QuoteWorld):
    with qworld.session() as db:
        before = len(db.exec(select(ApiKey)).all())
        for name in ("", "x", "   a  "):
            with pytest.raises(ValidationFailed) as refused:
                svc.create_key(db, qworld.alice, _new(name=name))
            assert refused.value.code == "invalid_name" and "Nothing was saved" in refused.value.message
        assert len(db.exec(select(ApiKey)).all()) == before
    for form, field in (({"name": "y" * 81, "scope": "read", "expires_in_days": "30"}, "name"),
                        ({"name": "ERP", "scope": "admin", "expires_in_days": "30"}, "scope"),
                        ({"name": "ERP", "scope": "read", "expires_in_days": "0"}, "expires_in_days"),
                        ({"name": "ERP", "scope": "read", "expires_in_days": "731"}, "expires_in_days"),
                        ({"name": "ERP", "scope": "read", "expires_in_days": "soon"}, "expires_in_days")):
        with pytest.raises(FormInvalid) as refused:
            parse(svc.NewApiKey, form)
        assert list(refused.value.fields) == [field]


def test_names_are_unique_among_a_companys_working_keys(qworld: QuoteWorld):
    first = _create(qworld, qworld.alice, name="Nightly")
    with pytest.raises(Conflict) as refused:
        _create(qworld, qworld.alice, name="nightly")
    assert refused.value.code == "duplicate_name"
    _create(qworld, qworld.nina, name="Nightly")  # another company may use the name
    with qworld.session() as db:
        svc.revoke_key(db, qworld.alice, first.id)
    _create(qworld, qworld.alice, name="Nightly")  # free again once the old key is revoked


def test_only_administrators_manage_keys_and_only_when_signed_in(qworld: QuoteWorld):
    with qworld.session() as db:
        for who in (qworld.bob, qworld.agent, qworld.manager):
            for call, args in ((svc.create_key, (_new(),)), (svc.list_keys, ()), (svc.revoke_key, (1,))):
                with pytest.raises(PermissionDenied):
                    call(db, who, *args)
    key = _create(qworld, qworld.alice)
    as_key = replace(qworld.alice, api_key_id=key.id)
    with qworld.session() as db:
        assert svc.list_keys(db, as_key).total >= 1  # a key of an admin may read the list
        for call in (lambda: svc.create_key(db, as_key, _new(name="Successor")),
                     lambda: svc.revoke_key(db, as_key, key.id)):
            with pytest.raises(PermissionDenied) as refused:
                call()
            assert refused.value.code == "api_key_needs_sign_in"


def test_customer_admins_see_and_revoke_only_their_company_and_staff_admins_every_key(qworld: QuoteWorld):
    admin = principal_for(qworld.engine, ADMIN)
    acme, nord, staff = _create(qworld, qworld.alice), _create(qworld, qworld.nina), _create(qworld, admin)
    with qworld.session() as db:
        assert {r.id for r in svc.list_keys(db, qworld.alice).rows} == {acme.id}
        assert {r.id for r in svc.list_keys(db, qworld.nina).rows} == {nord.id}
        everyone = svc.list_keys(db, admin).rows
        assert {acme.id, nord.id, staff.id} <= {r.id for r in everyone}
        assert {r.company_name for r in everyone if r.id in (acme.id, nord.id)} == {"Acme Home Goods Ltd",
                                                                                  "Nordwind Electronics GmbH"}
        for other in (nord.id, staff.id, 999_999):
            with pytest.raises(NotFound):
                svc.revoke_key(db, qworld.alice, other)
    assert _use(qworld, nord.key) is not None and _use(qworld, staff.key) is not None  # untouched

    with qworld.session() as db:  # the forwarder's admin stops a customer's key
        assert svc.revoke_key(db, admin, nord.id).status == "revoked"
        again = svc.revoke_key(db, admin, nord.id)  # revoking twice changes nothing
        assert again.status == "revoked"
        audits = db.exec(select(AuditLog).where(AuditLog.action == "api_key_revoked",
                                                AuditLog.entity_id == str(nord.id))).all()
        assert len(audits) == 1 and audits[0].actor_id == admin.user_id
        assert audits[0].company_id == qworld.nina.company_id
    with pytest.raises(NotAuthenticated) as refused:
        _use(qworld, nord.key)
    assert refused.value.code == "api_key_revoked"


def test_a_key_acts_as_its_creator_as_the_creator_is_now(qworld: QuoteWorld):
    read, write = _create(qworld, qworld.alice, name="Reader"), _create(qworld, qworld.alice, name="Writer",
                                                                        scope="read_write")
    as_read, as_write = _use(qworld, read.key), _use(qworld, write.key)
    assert as_read.read_only and not as_write.read_only
    assert (as_read.user_id, as_read.company_id, as_read.api_key_id) == (qworld.alice.user_id,
                                                                         qworld.alice.company_id, read.id)
    svc.check_method(as_read, "GET")
    svc.check_method(as_write, "DELETE")
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        with pytest.raises(PermissionDenied) as refused:
            svc.check_method(as_read, method)
        assert refused.value.code == "api_key_read_only"

    with qworld.session() as db:  # the creator is made a plain user: the key keeps only a user's rights
        alice = db.get(User, qworld.alice.user_id)
        alice.role = "customer_user"
        db.add(alice)
        db.commit()
    assert _use(qworld, write.key).role == "customer_user"

    with qworld.session() as db:
        alice = db.get(User, qworld.alice.user_id)
        alice.is_active = False
        db.add(alice)
        db.commit()
    with pytest.raises(NotAuthenticated) as refused:
        _use(qworld, write.key)
    assert refused.value.code == "account_inactive"


def test_expired_keys_stop_and_show_as_expired(qworld: QuoteWorld, monkeypatch):
    key = _create(qworld, qworld.alice, days=1)
    later = clock.now() + timedelta(days=1, seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    with pytest.raises(NotAuthenticated) as refused:
        _use(qworld, key.key)
    assert refused.value.code == "api_key_expired"
    with qworld.session() as db:
        assert [r.status for r in svc.list_keys(db, qworld.alice).rows if r.id == key.id] == ["expired"]


def test_last_use_is_recorded_with_the_address_at_most_once_a_minute(qworld: QuoteWorld, monkeypatch):
    key = _create(qworld, qworld.alice)
    start = clock.now()
    now = [start]
    monkeypatch.setattr(clock, "now", lambda: now[0])

    def last_use() -> tuple:
        with qworld.session() as db:
            row = db.get(ApiKey, key.id)
            return row.last_used_at, row.last_used_ip

    assert last_use() == (None, None)
    _use(qworld, key.key, ip="203.0.113.7")
    assert last_use() == (start, "203.0.113.7")
    now[0] = start + timedelta(seconds=59)
    _use(qworld, key.key, ip="198.51.100.1")
    assert last_use() == (start, "203.0.113.7")  # within the minute: no write
    now[0] = start + timedelta(seconds=61)
    _use(qworld, key.key, ip="198.51.100.1")
    assert last_use() == (now[0], "198.51.100.1")


# --- the account pages -------------------------------------------------------------------------------------------


def _page_state(monkeypatch, state_cls, principal: Principal, area: str):
    async def authorize(self, where):
        assert where == area
        return principal

    monkeypatch.setattr(state_cls, "_authorize", authorize)
    return state_cls(_reflex_internal_init=True)


def _run(handler, state, *args):
    return asyncio.run(handler.fn(state, *args))


def test_the_portal_account_page_creates_shows_once_and_revokes(qworld: QuoteWorld, monkeypatch):
    from portal_app.portal.account import PortalAccountState as S

    use_db(monkeypatch, qworld.engine)
    st = _page_state(monkeypatch, S, qworld.alice, "portal")
    _run(S.load, st)
    assert st.api_keys_allowed and st.api_keys == []

    answer = _run(S.create_api_key, st, {"name": "Page key", "scope": "read_write", "expires_in_days": "14"})
    key = revealed(answer)
    assert st.api_keys_error == "" and st.api_key_shown and key.startswith("pk_")
    assert key not in repr(st.dict()) and key not in repr(vars(st))  # shown, never kept in the state
    assert [(r.name, r.scope, r.status, r.last_used) for r in st.api_keys] == [
        ("Page key", "Read and write", "Active", "Never")]
    assert st.api_keys_more == ""
    assert _use(qworld, key).user_id == qworld.alice.user_id

    assert _run(S.create_api_key, st, {"name": "Bad", "scope": "read", "expires_in_days": "0"}) is None
    assert "Expires after (days)" in st.api_keys_error and "nothing was saved" in st.api_keys_error
    assert not st.api_key_shown and len(st.api_keys) == 1

    row = st.api_keys[0]
    _run(S.ask_revoke_api_key, st, row.id)
    assert st.api_key_confirming == row.id
    _run(S.keep_api_key, st)
    assert st.api_key_confirming == "" and st.api_keys[0].active
    _run(S.revoke_api_key, st, row.id)
    assert "revoked" in st.api_keys_done and st.api_keys[0].status.startswith("Revoked")
    with pytest.raises(NotAuthenticated):
        _use(qworld, key)
    _run(S.revoke_api_key, st, "not-a-number")
    assert "not in the list" in st.api_keys_error

    plain = _page_state(monkeypatch, S, qworld.bob, "portal")
    _run(S.load, plain)
    assert plain.api_keys_allowed is False and plain.api_keys == []
    _run(S.create_api_key, plain, {"name": "Sneaky", "scope": "read", "expires_in_days": "5"})
    assert "Only an administrator" in plain.api_keys_error
    with Session(qworld.engine) as db:
        assert db.exec(select(ApiKey).where(ApiKey.name == "Sneaky")).first() is None


def test_the_tower_account_page_lists_every_key_for_administrators(qworld: QuoteWorld, monkeypatch):
    from portal_app.tower.account import TowerAccountState as S

    use_db(monkeypatch, qworld.engine)
    acme = _create(qworld, qworld.alice, name="Acme ERP")
    admin = principal_for(qworld.engine, ADMIN)
    st = _page_state(monkeypatch, S, admin, "tower")
    _run(S.load, st)
    assert st.api_keys_allowed
    assert [r.created_by for r in st.api_keys if r.name == "Acme ERP"] == ["Alice Archer (Acme Home Goods Ltd)"]
    _run(S.revoke_api_key, st, str(acme.id))
    assert [r.active for r in st.api_keys if r.name == "Acme ERP"] == [False]

    _create(qworld, admin, name="Forwarder BI")
    monkeypatch.setattr(svc, "MAX_PAGE_SIZE", 1)  # more keys than the page shows: it says so
    _run(S.load, st)
    assert len(st.api_keys) == 1 and "Showing the newest 1 of" in st.api_keys_more

    agent = _page_state(monkeypatch, S, qworld.agent, "tower")
    _run(S.load, agent)
    assert agent.api_keys_allowed is False and agent.api_keys == []
