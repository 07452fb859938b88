"""Configuration without code (services): every change is audited with before/after, refusals leave nothing
written, the accent's contrast is checked, a changed rule threshold changes what the rules open, and a saved
milestone template is what the next booking gets."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import timedelta

import pytest
from PIL import Image
from sqlmodel import Session, select

from models import AppSetting, AuditLog, ExceptionRule, Milestone, OpsException, Shipment, SlaPolicy, User
from portal_app.services import bookings, sla
from portal_app.services import exception_rules as engine
from portal_app.services.config import branding, documents, org, rules, templates
from portal_app.services.config import sla as sla_config
from portal_app.services.errors import Conflict, FormInvalid, PermissionDenied, ValidationFailed
from tests.config_world import ConfigWorld
from tests.ops_world import T0, make_shipment
from tests.services.test_bookings import BOOKING, fcl_quote


def _audits(db: Session, action: str) -> list[AuditLog]:
    db.expire_all()
    return list(db.exec(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).all())


def _count(db: Session, model) -> int:
    return len(db.exec(select(model)).all())


def test_non_admins_and_api_keys_are_refused(cworld: ConfigWorld):
    w = cworld.world
    key_admin = replace(cworld.admin, api_key_id=1)
    with cworld.session() as db:
        for who in (w.alice, w.agent, w.manager, key_admin):
            for call in (lambda p: rules.list_rules(db, p), lambda p: org.list_staff(db, p),
                         lambda p: branding.save_branding(db, p, product_name="X Portal", accent_color="#0b5cad")):
                with pytest.raises(PermissionDenied):
                    call(who)
        assert _audits(db, "config_branding_saved") == []


def test_changed_rule_threshold_changes_what_the_rules_open(cworld: ConfigWorld):
    with cworld.session() as db:
        slipped = make_shipment(db, delay_hours=30)  # 30 h late; the seeded threshold is 24 h
        rule = next(r for r in rules.list_rules(db, cworld.admin) if r.kind == "eta_slip")
        rules.update_rule(db, cworld.admin, "eta_slip", is_active=True, severity="high", threshold=48,
                          expected_version=rule.version)
        engine.evaluate_shipment(db, slipped.id, T0)
        assert db.exec(select(OpsException).where(OpsException.shipment_id == slipped.id)).all() == []
        rules.update_rule(db, cworld.admin, "eta_slip", is_active=True, severity="high", threshold=12)
        engine.evaluate_shipment(db, slipped.id, T0)
        opened = db.exec(select(OpsException).where(OpsException.shipment_id == slipped.id)).all()
        assert [(e.kind, e.severity) for e in opened] == [("eta_slip", "high")]
        # switched off: the engine no longer opens it for another late shipment
        rules.update_rule(db, cworld.admin, "eta_slip", is_active=False, severity="high", threshold=12)
        other = make_shipment(db, delay_hours=30)
        engine.evaluate_shipment(db, other.id, T0)
        assert db.exec(select(OpsException).where(OpsException.shipment_id == other.id)).all() == []
        rows = _audits(db, "config_rule_updated")
        assert json.loads(rows[0].before)["threshold_hours"] == 24
        assert json.loads(rows[0].after)["threshold_hours"] == 48
        assert rows[0].actor_id == cworld.admin.user_id and len(rows) == 3
        rules.update_rule(db, cworld.admin, "eta_slip", is_active=True, severity="medium", threshold=24)


def test_bad_rule_input_writes_nothing(cworld: ConfigWorld):
    with cworld.session() as db:
        before = len(_audits(db, "config_rule_updated"))
        with pytest.raises(FormInvalid) as bad:
            rules.update_rule(db, cworld.admin, "no_tracking_update", is_active=True, severity="urgent",
                              threshold=0)
        assert set(bad.value.fields) == {"severity", "threshold"} and "Nothing was saved" in bad.value.message
        with pytest.raises(Conflict):
            rules.update_rule(db, cworld.admin, "no_tracking_update", is_active=True, severity="low",
                              threshold=5, expected_version=999)
        db.expire_all()
        row = db.exec(select(ExceptionRule).where(ExceptionRule.kind == "no_tracking_update")).one()
        assert (row.threshold_hours, row.severity) == (72, "medium")
        assert len(_audits(db, "config_rule_updated")) == before


def test_saved_template_is_what_the_next_booking_gets(cworld: ConfigWorld):
    names = ("code", "name", "anchor", "offset_days", "customer_visible", "event_code")
    steps = [templates.StepInput(**dict(zip(names, values, strict=True))) for values in (
        ("booking_confirmed", "Booking confirmed", "origin", 0, True, None),
        ("vgm_submitted", "VGM submitted", "origin", 1, False, None),
        ("vessel_departure", "Vessel departed", "origin", 3, True, "VD"),
        ("vessel_arrival", "Vessel arrived", "destination", 0, True, "VA"),
        ("delivered_to_consignee", "Delivered", "destination", 2, True, None),
    )]
    with cworld.session() as db:
        old = templates.get_template(db, cworld.admin, "ocean_fcl")
        saved = templates.save_template(db, cworld.admin, "ocean_fcl", "FCL short", steps,
                                        expected_version=old.version)
        assert saved.version == old.version + 1
        audit = _audits(db, "config_template_saved")[-1]
        assert json.loads(audit.before)["steps"] == old.steps
        assert [s["code"] for s in json.loads(audit.after)["steps"]] == [s.code for s in steps]
    option = fcl_quote(cworld.world).options[0]
    with cworld.session() as db:
        booked = bookings.accept_option(db, cworld.world.alice, option.id, BOOKING)
        shipment = db.exec(select(Shipment).where(Shipment.reference == booked.shipment_reference)).one()
        made = db.exec(select(Milestone).where(Milestone.shipment_id == shipment.id)
                       .order_by(Milestone.sequence)).all()
        assert [(m.code, m.customer_visible) for m in made] == [(s.code, s.customer_visible) for s in steps]
        assert made[2].planned_at - made[0].planned_at == timedelta(days=3)  # the departure's expected offset
        assert shipment.etd_planned == made[2].planned_at and shipment.eta_planned == made[3].planned_at


def test_bad_template_is_refused_whole(cworld: ConfigWorld):
    with cworld.session() as db:
        old = templates.get_template(db, cworld.admin, "air")
        bad = [templates.StepInput(code="arrived", name="Arrived", anchor="destination", offset_days=0),
               templates.StepInput(code="departed", name="Departed", anchor="origin", offset_days=0),
               templates.StepInput(code="Bad Code", name="x", anchor="moon", offset_days=999)]
        with pytest.raises(FormInvalid) as err:
            templates.save_template(db, cworld.admin, "air", "Air", bad)
        assert {"steps.3.code", "steps.3.name", "steps.3.anchor", "steps.3.offset_days"} <= set(err.value.fields)
        order = [templates.StepInput(code="arrived", name="Arrived", anchor="destination", offset_days=0),
                 templates.StepInput(code="departed", name="Departed", anchor="origin", offset_days=0)]
        with pytest.raises(FormInvalid, match="origin step before"):
            templates.save_template(db, cworld.admin, "air", "Air", order)
        db.expire_all()
        assert templates.get_template(db, cworld.admin, "air") == old


def test_required_documents_and_sla_policies(cworld: ConfigWorld):
    with cworld.session() as db:
        made = documents.save_requirement(db, cworld.admin, mode="air", incoterm="DAP", doc_type="packing_list",
                                          due_days_before_departure=2)
        assert _audits(db, "config_document_created")[-1].entity_id == str(made.id)
        with pytest.raises(Conflict):
            documents.save_requirement(db, cworld.admin, mode="air", incoterm="DAP", doc_type="packing_list",
                                       due_days_before_departure=5)
        n = len(documents.list_requirements(db, cworld.admin))
        with pytest.raises(FormInvalid) as err:
            documents.save_requirement(db, cworld.admin, mode="air", incoterm="FOB", doc_type="selfie",
                                       due_days_before_departure=-1)
        assert set(err.value.fields) == {"incoterm", "doc_type", "due_days_before_departure"}
        assert len(documents.list_requirements(db, cworld.admin)) == n

        policy = next(p for p in sla_config.list_policies(db, cworld.admin)
                      if (p.subject, p.kind, p.severity) == ("exception", "customs_hold", "*"))
        sla_config.save_policy(db, cworld.admin, policy_id=policy.id, subject="exception", kind="customs_hold",
                               severity="*", resolution_hours=3)
        assert sla.resolution_hours(db, "exception", "customs_hold", "medium", default=99) == 3
        row = _audits(db, "config_sla_updated")[-1]
        assert (json.loads(row.before)["resolution_hours"], json.loads(row.after)["resolution_hours"]) == (8, 3)
        fallback = next(p for p in sla_config.list_policies(db, cworld.admin)
                        if (p.subject, p.kind, p.severity) == ("ticket", "*", "*"))
        with pytest.raises(ValidationFailed, match="fallback"):
            sla_config.save_policy(db, cworld.admin, policy_id=fallback.id, subject="ticket", kind="*",
                                   severity="*", resolution_hours=72, is_active=False)
        with pytest.raises(FormInvalid) as err:
            sla_config.save_policy(db, cworld.admin, subject="quote", kind="boat", severity="high",
                                   resolution_hours=0, first_response_hours=5)
        assert set(err.value.fields) == {"kind", "severity", "resolution_hours"}
        db.expire_all()
        assert db.get(SlaPolicy, fallback.id).is_active


def test_accent_contrast_is_checked_with_ratio_and_a_suggestion(cworld: ConfigWorld):
    assert round(branding.contrast_ratio("#0b5cad"), 2) == 6.67
    assert round(branding.contrast_ratio("#767676"), 2) == 4.54
    assert round(branding.contrast_ratio("#ffffff"), 1) == 1.0
    with cworld.session() as db:
        before = db.get(AppSetting, "branding").value
        with pytest.raises(ValidationFailed) as err:
            branding.save_branding(db, cworld.admin, product_name="Blue Freight", accent_color="#f5a623")
        message = err.value.message
        assert "2.03:1" in message and "4.5:1" in message and "Nothing was saved" in message
        suggested = message.split("e.g. ")[1].split(" ")[0]
        assert branding.contrast_ratio(suggested) >= 4.5
        with pytest.raises(ValidationFailed, match="not a colour"):
            branding.save_branding(db, cworld.admin, product_name="Blue Freight", accent_color="blue")
        db.expire_all()
        assert db.get(AppSetting, "branding").value == before
        done = branding.save_branding(db, cworld.admin, product_name="Blue Freight", accent_color="#1A5E20")
        assert (done.product_name, done.accent_color) == ("Blue Freight", "#1a5e20")
        row = _audits(db, "config_branding_saved")[-1]
        assert json.loads(row.before)["product_name"] == "Harbor & Sky Portal"
        assert json.loads(row.after) == {"product_name": "Blue Freight", "accent_color": "#1a5e20", "logo": None}
        branding.save_branding(db, cworld.admin, product_name="Harbor & Sky Portal", accent_color="#0b5cad")


def _png(w: int = 40, h: int = 20) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (w, h), (11, 92, 173)).save(out, "PNG")
    return out.getvalue()


def test_logo_is_checked_from_its_bytes(cworld: ConfigWorld):
    with cworld.session() as db:
        for data, code in ((b"<svg xmlns='http://www.w3.org/2000/svg'/>", "invalid_logo"),
                           (b"\x89PNG\r\n\x1a\nnot really", "invalid_logo"),
                           (b"\x89PNG" + b"0" * branding.MAX_LOGO_BYTES, "logo_too_large")):
            with pytest.raises(ValidationFailed) as err:
                branding.save_branding(db, cworld.admin, product_name="Harbor & Sky Portal",
                                       accent_color="#0b5cad", logo=data)
            assert err.value.code == code
        assert branding.logo_file(db) is None
        done = branding.save_branding(db, cworld.admin, product_name="Harbor & Sky Portal", accent_color="#0b5cad",
                                      logo=_png())
        assert done.logo_url.startswith("/api/branding/logo")
        path, kind = branding.logo_file(db)
        assert kind == "image/png" and path.read_bytes() == _png()
        branding.save_branding(db, cworld.admin, product_name="Harbor & Sky Portal", accent_color="#0b5cad",
                               remove_logo=True)
        assert branding.logo_file(db) is None


def test_staff_accounts_teams_branches_and_companies(cworld: ConfigWorld):
    a = cworld.admin
    with cworld.session() as db:
        branch = org.save_branch(db, a, code="HAM", name="Hamburg", location_code="DEHAM", timezone="Europe/Berlin")
        team = org.save_team(db, a, name="Air Export HAM", branch_id=branch.id)
        assert team.branch_name == "Hamburg"
        made = org.create_staff(db, a, email="New.Agent@HarborSky.example", full_name="Nia Agent", role="ops_agent",
                                team_id=team.id)
        assert made.user.email == "new.agent@harborsky.example" and made.user.branch_id == branch.id
        assert len(made.temporary_password) >= 12
        with pytest.raises(FormInvalid) as err:  # no customer roles and no made-up roles for staff
            org.create_staff(db, a, email="x@harborsky.example", full_name="X Y", role="customer_admin")
        assert set(err.value.fields) == {"role"}
        with pytest.raises(FormInvalid):
            org.update_staff(db, a, made.user.id, role="superuser", is_active=True)
        with pytest.raises(ValidationFailed, match="your own role"):
            org.update_staff(db, a, a.user_id, role="ops_agent", is_active=True)
        assert db.exec(select(User).where(User.email == "x@harborsky.example")).first() is None
        done = org.update_staff(db, a, made.user.id, role="ops_manager", is_active=False, team_id=team.id)
        assert (done.role, done.is_active) == ("ops_manager", False)
        row = _audits(db, "config_staff_updated")[-1]
        assert (json.loads(row.before)["role"], json.loads(row.after)["role"]) == ("ops_agent", "ops_manager")

        company = org.save_company(db, a, code="ZETA", name="Zeta Imports", country="NL", billing_currency="EUR",
                                   payment_terms_days=45)
        with pytest.raises(Conflict):
            org.save_company(db, a, code="ACME", name="Another Acme")
        org.save_company(db, a, company_id=company.id, code="ZETA", name="Zeta Imports", country="NL",
                         billing_currency="EUR", payment_terms_days=45, is_active=False)
        row = _audits(db, "config_company_saved")[-1]
        assert (json.loads(row.before)["is_active"], json.loads(row.after)["is_active"]) == (True, False)
        assert [c.code for c in org.list_companies(db, a)].count("ZETA") == 1
