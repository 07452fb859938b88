"""End to end in Chromium: an ops agent opens an exception on one of Acme's shipments and resolves it with a
message for the customer, and Alice (Acme) then reads that message in the shipment's updates; "my queue" shows a
task given to the agent, overdue, and marking it done takes it off; a customer is refused the exception queue.

The world the test needs (the exception, the task) is made through the services, on the running app's database."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from models import Company, Shipment
from portal_app.services import clock, tasks
from portal_app.services import exceptions as exc_svc
from tests.browser_app import ARTIFACTS, DEMO_CUSTOMER, _at, sign_in
from tests.quote_world import principal_for

pytestmark = pytest.mark.browser

AGENT = "agent@harborsky.example"
MESSAGE = "The customs inspection is finished; your container is released and moves on today."


def _acme_shipment(db: Session) -> str:
    acme = db.exec(select(Company.id).where(Company.code == "ACME")).one()
    return db.exec(select(Shipment.reference).where(Shipment.company_id == acme, Shipment.status == "in_transit")
                   .order_by(Shipment.id)).first()


def test_agent_resolves_an_exception_with_a_message_the_customer_reads(page, app_engine):
    from playwright.sync_api import expect

    with Session(app_engine, expire_on_commit=False) as db:
        agent = principal_for(app_engine, AGENT)
        reference = _acme_shipment(db)
        made = exc_svc.create_exception(db, agent, exc_svc.ExceptionInput(
            shipment_reference=reference, kind="other", title="Container held for a customs inspection",
            severity="high",
            detail="Terminal reports a physical inspection.", owner_id=agent.user_id))
    number = made.row.id

    sign_in(page, AGENT, "/tower/exceptions")
    expect(page.get_by_role("heading", name="Exceptions", level=1)).to_be_visible()
    page.get_by_label("Owner", exact=True).select_option("me")
    page.get_by_label("Severity", exact=True).select_option("high")
    page.get_by_role("button", name="Apply filters").click()
    table = page.get_by_role("table", name="Exceptions")
    name = f"Exception #{number}: Container held for a customs inspection"
    link = table.get_by_role("link", name=name)
    expect(link).to_be_visible()
    row = table.locator("tbody tr").filter(has=page.get_by_role("link", name=name))
    expect(row).to_contain_text(reference)
    expect(row).to_contain_text("Acme Home Goods Ltd")
    expect(row.get_by_test_id("sla-left")).to_have_text(re.compile(r"left$"))
    page.screenshot(path=ARTIFACTS / "tower-exceptions.png", full_page=True)

    link.click()
    page.wait_for_url(_at(f"/tower/exceptions/{number}"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Exception #{number}: Container held for a customs inspection")
    expect(page.get_by_test_id("exception-shipment")).to_have_text(reference)
    expect(page.get_by_test_id("exception-history")).to_contain_text("Raised by hand")

    # Resolving is asked in a dialog. A note is required; without one nothing is saved and the field says so.
    page.get_by_role("button", name="Resolve this exception").click()
    expect(page.get_by_role("dialog", name=f"Resolve exception #{number}")).to_be_visible()
    page.get_by_label("Message to the customer (optional)").fill(MESSAGE)
    page.get_by_role("button", name="Resolve exception").click()
    expect(page.locator("#resolve-note-error")).to_contain_text("Write a resolution note")
    expect(page.get_by_test_id("exception-status")).to_have_text("Open")

    page.get_by_label("Resolution note (internal)").fill("Customs released after the inspection; broker confirmed.")
    page.screenshot(path=ARTIFACTS / "tower-exception-resolve.png", full_page=True)
    page.get_by_role("button", name="Resolve exception").click()
    expect(page.get_by_test_id("exception-notice")).to_contain_text("The customer sees your message")
    expect(page.get_by_test_id("exception-status")).to_have_text("Resolved")
    expect(page.get_by_test_id("exception-history")).to_contain_text(f"message to the customer: {MESSAGE}")
    expect(page.get_by_role("button", name="Reopen this exception")).to_be_visible()

    # The customer reads the message on the shipment, the same row ops wrote.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(_at("/login", query=True))
    sign_in(page, DEMO_CUSTOMER[0], f"/portal/shipments/{reference}")
    expect(page.get_by_role("heading", name=f"Shipment {reference}")).to_be_visible()
    expect(page.get_by_text(MESSAGE)).to_be_visible()
    expect(page.get_by_text("broker confirmed")).to_have_count(0)  # the internal note stays internal
    page.screenshot(path=ARTIFACTS / "portal-shipment-exception-message.png", full_page=True)


def test_my_queue_shows_my_overdue_task_and_marking_it_done_takes_it_off(page, app_engine):
    from playwright.sync_api import expect

    with Session(app_engine, expire_on_commit=False) as db:
        agent = principal_for(app_engine, AGENT)
        made = tasks.create_task(db, principal_for(app_engine, "manager@harborsky.example"), tasks.TaskInput(
            title="Chase the carrier for the release note", shipment_reference=_acme_shipment(db),
            assignee_id=agent.user_id, due_at=clock.now() - timedelta(hours=2)))

    sign_in(page, AGENT, "/tower/tasks")
    expect(page.get_by_role("heading", name="Tasks", level=1)).to_be_visible()
    table = page.get_by_role("table", name="Tasks")
    row = table.get_by_test_id("task-row").filter(has_text="Chase the carrier for the release note")
    expect(row).to_be_visible()
    expect(row).to_contain_text("Olivia Agent")
    expect(row).to_contain_text("Overdue")
    expect(row.get_by_test_id("sla-left")).to_have_text(re.compile(r"^Breached 2 h \d+ min ago$"))
    page.screenshot(path=ARTIFACTS / "tower-my-queue.png", full_page=True)

    row.get_by_role("button", name=f"Mark task #{made.id} done").click()
    expect(page.get_by_test_id("queue-notice")).to_contain_text(f"Task #{made.id} marked done")
    expect(table.get_by_test_id("task-row").filter(has_text="Chase the carrier for the release note")).to_have_count(0)


def test_a_customer_is_refused_the_exception_queue(page):
    from playwright.sync_api import expect

    # Signing in with the queue as the destination lands a customer in the portal instead.
    sign_in(page, DEMO_CUSTOMER[0], "/tower/exceptions", lands_on="/portal")
    for path in ("/tower/exceptions", "/tower/exceptions/1", "/tower/tasks", "/tower/workload"):
        page.goto(path)
        expect(page.get_by_test_id("access-denied")).to_be_visible()
        expect(page.get_by_role("table")).to_have_count(0)
    expect(page.get_by_role("link", name="Exceptions")).to_have_count(0)  # no tower navigation either
    assert page.request.get("/api/v1/exceptions").status == 403
