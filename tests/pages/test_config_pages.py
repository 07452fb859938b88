"""The tower's configuration pages (their states, with the session check stubbed to a known principal and the
database pointed at the configuration world): staff who are not administrators see the refusal and no data; an
administrator's bad input shows beside its field with nothing saved, good input is saved and shown."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models import AuditLog, User
from portal_app.services.config import branding
from portal_app.tower import config_templates as tpl_page
from portal_app.tower.config import ConfigBrandingState
from portal_app.tower.config_invoicing import ConfigInvoicingState
from portal_app.tower.config_org import ConfigOrgState
from portal_app.tower.config_rules import ConfigRulesState
from tests.config_world import ConfigWorld
from tests.page_states import revealed, run, use_db


@pytest.fixture()
def on_config_db(cworld: ConfigWorld, monkeypatch):
    use_db(monkeypatch, cworld.world.engine)
    branding.forget_cache()
    yield cworld
    branding.forget_cache()


def _as(monkeypatch, state_cls, principal):
    async def authorize(self, area):
        assert area == "tower"
        return principal

    monkeypatch.setattr(state_cls, "_authorize", authorize)
    return state_cls(_reflex_internal_init=True)


@pytest.mark.parametrize("state_cls", [ConfigRulesState, ConfigOrgState, ConfigBrandingState,
                                       tpl_page.ConfigTemplatesState, ConfigInvoicingState])
def test_staff_who_are_not_admins_see_the_refusal_and_no_data(on_config_db, monkeypatch, state_cls):
    for who in (on_config_db.world.manager, on_config_db.world.agent):
        st = _as(monkeypatch, state_cls, who)
        run(state_cls.load, st)
        assert st.denied is True
        assert all(not getattr(st, name) for name in ("rule_rows", "policy_rows", "staff", "companies", "steps",
                                                      "current_name", "values", "now_shown") if hasattr(st, name))


def test_rules_page_shows_refusals_beside_fields_and_saves(on_config_db, monkeypatch):
    S = ConfigRulesState
    st = _as(monkeypatch, S, on_config_db.admin)
    run(S.load, st)
    assert not st.denied and st.rule_rows[0].kind == "eta_slip"
    customs = next(r for r in st.rule_rows if r.kind == "customs_hold")
    assert customs.threshold == "not set (uses 48 hours)"
    run(S.edit_rule, st, "customs_hold")
    run(S.save_rule, st, {"is_active": "on", "severity": "high", "threshold": "soon"})
    assert "threshold" in st.field_errors and "Nothing was saved" in st.error and st.notice == ""
    run(S.save_rule, st, {"is_active": "on", "severity": "high", "threshold": "36"})
    assert st.error == "" and "saved" in st.notice and st.editing_rule == ""
    assert next(r for r in st.rule_rows if r.kind == "customs_hold").threshold == "36 hours"

    policy = next(p for p in st.policy_rows if (p.subject, p.kind, p.severity) == ("ticket", "billing", "*"))
    run(S.edit_policy, st, policy.id)
    run(S.save_policy, st, {"subject": "ticket", "kind": "billing", "severity": "*", "resolution_hours": "96",
                             "first_response_hours": "6", "is_active": "on"})
    assert st.error == "" and next(p for p in st.policy_rows if p.id == policy.id).resolution == "96"
    with on_config_db.session() as db:
        row = db.exec(select(AuditLog).where(AuditLog.action == "config_sla_updated")
                      .order_by(AuditLog.id.desc())).first()
        assert row.actor_id == on_config_db.admin.user_id and '"resolution_hours": 96' in row.after


def test_template_editor_reads_steps_in_position_order():
    form = {"code_1": "booking_confirmed", "name_1": "Booking confirmed", "anchor_1": "origin", "offset_1": "0",
            "visible_1": "on", "position_1": "1",
            "code_2": "vessel_arrival", "name_2": "Arrived", "anchor_2": "destination", "offset_2": "0",
            "visible_2": True, "position_2": "9",
            "code_3": "gate_in", "name_3": "Gate in", "anchor_3": "origin", "offset_3": "2", "position_3": "2",
            "code_4": "old_step", "name_4": "Old", "remove_4": "on", "position_4": "3",
            "code_5": "", "name_5": ""}
    steps = tpl_page.steps_from_form(form, ["1", "2", "3", "4", "5"])
    assert [(s.code, s.customer_visible) for s in steps] == [("booking_confirmed", True), ("gate_in", False),
                                                             ("vessel_arrival", True)]


def test_branding_page_refuses_a_pale_accent_and_saves_a_good_one(on_config_db, monkeypatch):
    S = ConfigBrandingState
    st = _as(monkeypatch, S, on_config_db.admin)
    run(S.load, st)
    name = st.current_name
    run(S.save, st, {"product_name": "Pale Freight", "accent_color": "#99ccff"})
    assert "accent_color" in st.field_errors and ":1 against white" in st.error and st.current_name == name
    run(S.save, st, {"product_name": "Deep Freight", "accent_color": "#6a1b9a"})
    assert st.error == "" and st.current_name == "Deep Freight" and st.brand_name == "Deep Freight"
    run(S.save, st, {"product_name": name, "accent_color": "#0b5cad"})


def test_invoices_page_refuses_a_wrong_iban_beside_its_field_and_saves_good_details(on_config_db, monkeypatch):
    S = ConfigInvoicingState
    st = _as(monkeypatch, S, on_config_db.admin)
    run(S.load, st)
    assert st.values["legal_name"] == "Harbor & Sky Logistics B.V." and "NL02 ABNA 0123 4567 89" in st.now_shown
    with on_config_db.session() as db:
        audited = len(db.exec(select(AuditLog).where(AuditLog.action == "config_invoice_identity_saved")).all())
    form = {**st.values, "iban": "NL03 ABNA 0123 4567 89", "bic": "ABNA", "address": "Kade 1\n3011 AA Rotterdam"}
    run(S.save, st, form)
    assert set(st.field_errors) == {"iban", "bic"} and "check digits" in st.field_errors["iban"]
    assert st.notice == "" and "Nothing was saved" in st.error and "iban" not in st.error  # no field names shown
    run(S.save, st, {**form, "legal_name": "x" * 400})  # longer than the model takes: refused by parse, per field
    assert "legal_name" in st.field_errors and "at most 140 characters" in st.field_errors["legal_name"]
    run(S.save, st, {**form, "iban": "NL02ABNA0123456789", "bic": "ABNANL2A", "payment_reference": "HSL {invoice}"})
    assert st.error == "" and st.field_errors == {} and "Invoice details saved" in st.notice
    assert st.values["address"] == "Kade 1\n3011 AA Rotterdam" and "HSL INV-2026-000123" in st.now_shown
    with on_config_db.session() as db:
        rows = db.exec(select(AuditLog).where(AuditLog.action == "config_invoice_identity_saved")).all()
        assert len(rows) == audited + 1 and rows[-1].actor_id == on_config_db.admin.user_id


def test_organisation_page_adds_and_edits_and_shows_the_password_once(on_config_db, monkeypatch):
    S = ConfigOrgState
    st = _as(monkeypatch, S, on_config_db.admin)
    run(S.load, st)
    run(S.add_branch, st, {"branch_code": "gdn", "branch_name": "Gdansk", "branch_location": "PLGDN",
                            "branch_timezone": "Europe/Warsaw"})
    branch = next(b for b in st.branches if b.code == "GDN")
    run(S.add_team, st, {"team_name": "Baltic Desk", "team_branch": ""})
    team = next(t for t in st.teams if t.name == "Baltic Desk")
    run(S.edit_row, st, "team:" + team.id)
    run(S.save_team, st, {"edit_team_name": "Baltic Ocean Desk", "edit_team_branch": branch.id})
    assert st.error == "" and st.editing == ""
    assert next(t for t in st.teams if t.id == team.id).branch == "Gdansk"

    refused = run(S.add_staff, st, {"staff_email": "not-an-email", "staff_name": "P", "staff_role": "admin"})
    assert {"email", "full_name"} <= set(st.field_errors) and revealed(refused) == "" and not st.password_shown
    answer = run(S.add_staff, st, {"staff_email": "pia@harborsky.example", "staff_name": "Pia Page",
                                   "staff_role": "ops_agent", "staff_team": team.id})
    password = revealed(answer)
    assert st.error == "" and len(password) >= 12 and st.password_shown
    assert password not in repr(st.dict()) and password not in repr(vars(st))  # shown, never kept in the state
    pia = next(u for u in st.staff if u.email == "pia@harborsky.example")
    run(S.update_staff, st, {"user_id": pia.id, "role": "customer_admin", "active": "yes", "team_id": ""})
    assert "role" in st.field_errors and not st.password_shown  # shown once, gone with the next action
    run(S.update_staff, st, {"user_id": pia.id, "role": "ops_manager", "active": "no", "team_id": team.id})
    pia = next(u for u in st.staff if u.email == "pia@harborsky.example")
    assert (pia.role, pia.active) == ("ops_manager", "")

    me = next(u for u in st.staff if u.me == "yes")
    run(S.update_staff, st, {"user_id": me.id, "role": "ops_agent", "active": "yes", "team_id": ""})
    assert "your own role" in st.error


def test_required_document_edit_from_the_page(on_config_db, monkeypatch):
    S = tpl_page.ConfigTemplatesState
    st = _as(monkeypatch, S, on_config_db.admin)
    run(S.load, st)
    assert st.steps and st.version >= 1
    row = next(r for r in st.requirement_rows if r.mode == "road_ftl" and r.doc_type == "packing_list")
    run(S.edit_requirement, st, row.id)
    run(S.save_requirement, st, {"edit_incoterm": "", "edit_days": "99", "edit_provided_by": "customer",
                                  "edit_active": "on"})
    assert "due_days_before_departure" in st.field_errors and st.editing_requirement == row.id
    run(S.save_requirement, st, {"edit_incoterm": "", "edit_days": "4", "edit_provided_by": "customer",
                                  "edit_active": "on"})
    assert st.error == "" and next(r for r in st.requirement_rows if r.id == row.id).days == "4"


def test_organisation_page_erases_a_customer_user_from_the_company_people(on_config_db, monkeypatch):
    S = ConfigOrgState
    st = _as(monkeypatch, S, on_config_db.admin)
    run(S.load, st)
    acme = next(c for c in st.companies if c.code == "ACME")
    run(S.show_people, st, acme.id)
    assert st.people_of == acme.name and st.people_total == len(st.people) >= 2 and st.people_pages == 1
    bob = next(p for p in st.people if p.email == "bob@acme.example")
    alice = next(p for p in st.people if p.email == "alice@acme.example")
    assert (bob.role, bob.active, bob.mfa, bob.erased) == ("Customer user", "Active", "Off", "")

    run(S.ask_erase, st, bob.id)
    assert (st.erase_id, st.erase_name, st.erase_at) == (bob.id, bob.name, "people")
    run(S.erase_dialog_open, st, False)  # Keep them (or Escape): nothing happens
    assert st.erase_id == "" and next(p for p in st.people if p.id == bob.id).erased == ""

    run(S.ask_erase, st, alice.id)  # the last customer admin: refused inside the dialog, which stays open
    run(S.confirm_erase, st)
    assert "last active customer admin" in st.erase_error and st.erase_id == alice.id and st.erase_notice == ""
    run(S.erase_dialog_open, st, False)

    run(S.ask_erase, st, bob.id)
    run(S.confirm_erase, st)
    assert st.erase_id == "" and st.erase_error == "" and st.erase_at == "people"
    assert "Bob" in st.erase_notice and "Former user" in st.erase_notice and "cannot sign in" in st.erase_notice
    erased = next(p for p in st.people if p.id == bob.id)
    assert erased.erased == "yes" and erased.name.startswith("Former user") and "bob@" not in erased.email
    assert st.people[-1].id == bob.id  # the erased come last
    run(S.ask_erase, st, bob.id)  # an erased row has nothing to erase
    assert st.erase_id == ""
    me = next(u for u in st.staff if u.me == "yes")
    run(S.ask_erase, st, me.id)  # nor does the administrator's own row
    assert st.erase_id == ""
    with on_config_db.session() as db:
        assert db.exec(select(AuditLog).where(AuditLog.action == "user_erased",
                                              AuditLog.entity_id == bob.id)).first() is not None


def test_organisation_page_erases_a_staff_member_who_then_shows_as_erased(on_config_db, monkeypatch):
    S = ConfigOrgState
    st = _as(monkeypatch, S, on_config_db.admin)
    run(S.load, st)
    agent = next(u for u in st.staff if u.email == "agent@harborsky.example")
    run(S.ask_erase, st, agent.id)
    assert st.erase_at == "staff"
    run(S.confirm_erase, st)
    row = next(u for u in st.staff if u.id == agent.id)
    assert row.erased == "yes" and row.name.startswith("Former user") and st.erase_at == "staff"
    run(S.update_staff, st, {"user_id": agent.id, "role": "ops_agent", "active": "yes", "team_id": ""})
    assert "erased" in st.error  # an erased account cannot be switched on again


def test_staff_who_are_not_admins_cannot_list_people_or_erase(on_config_db, monkeypatch):
    S = ConfigOrgState
    with on_config_db.session() as db:
        bob = db.exec(select(User).where(User.email == "bob@acme.example")).one()
    for who in (on_config_db.world.manager, on_config_db.world.agent):
        st = _as(monkeypatch, S, who)
        run(S.load, st)
        run(S.show_people, st, str(bob.company_id))
        assert st.denied and st.people == [] and st.people_of == ""
        run(S.ask_erase, st, str(bob.id))
        assert st.erase_id == ""  # not a row they were shown
        st.erase_id = str(bob.id)  # even a crafted confirmation is refused by the service
        run(S.confirm_erase, st)
        assert "Only an administrator" in st.erase_error and st.erase_notice == ""
    with on_config_db.session() as db:
        assert db.get(User, bob.id).erased_at is None
