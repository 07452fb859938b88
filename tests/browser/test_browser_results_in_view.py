"""End to end in Chromium: results where the eye is. The board's bulk actions are a bar that appears (in the window)
only while a shipment is ticked, with the count, a preview of "every shipment matching the filters" and the result
under the button; a refused bulk form keeps what was typed. An exception's resolution is asked in a dialog that
opens in view with focus inside it, closes on Escape and gives focus back to its button; the service's refusal
keeps what was typed; the result is read beside the button. A booking's decision opens over the row clicked."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bench.frontend import axe_violations
from models import Company, Shipment
from portal_app.services import exceptions as exc_svc
from tests.browser_app import ARTIFACTS, sign_in
from tests.quote_world import principal_for

pytestmark = pytest.mark.browser

AGENT = "agent@harborsky.example"
MANAGER = "manager@harborsky.example"


def _near(a: dict, b: dict, most: float = 250) -> bool:
    """Whether box ``b`` starts within ``most`` pixels below (or beside) box ``a``."""
    return abs(b["y"] - (a["y"] + a["height"])) <= most or abs(b["y"] - a["y"]) <= most


def test_the_bulk_bar_appears_with_a_selection_and_keeps_a_refused_form(page):
    from playwright.sync_api import expect

    sign_in(page, MANAGER, "/tower/shipments")
    page.goto("/tower/shipments?exception=1")
    expect(page.get_by_role("heading", name="Shipments board", level=1)).to_be_visible()
    api = page.request.get("/api/v1/tower/shipments?exception=1&page_size=25").json()
    assert api["total"] >= 2
    first, second = api["items"][0]["reference"], api["items"][1]["reference"]
    bar = page.get_by_test_id("bulk-actions")
    expect(page.get_by_label(f"Select shipment {first}")).to_be_visible()
    expect(bar).to_have_count(0)  # nothing ticked: no bulk actions
    expect(page.get_by_role("heading", name="One vessel voyage or flight")).to_have_count(1)  # still reachable

    page.get_by_label(f"Select shipment {first}").click()
    expect(bar).to_be_in_viewport()
    expect(bar.get_by_test_id("bulk-count")).to_have_text("1 selected")
    page.get_by_label(f"Select shipment {second}").click()
    expect(bar.get_by_test_id("bulk-count")).to_have_text("2 selected")

    # Every shipment matching the filters: what it would touch is shown before anything is applied.
    bar.get_by_text("Every shipment matching the filters").click()
    preview = bar.get_by_test_id("bulk-preview")
    shipments = "1 shipment" if api["total"] == 1 else f"{api['total']} shipments"
    expect(preview).to_contain_text(f"This will reach {shipments}")
    if api["total"] <= 12:  # the first 12 references are listed, then how many more
        expect(preview).to_contain_text(min(i["reference"] for i in api["items"]))
    else:
        expect(preview).to_contain_text(f"and {api['total'] - 12} more")
    bar.get_by_text("The shipments I ticked").click()
    expect(preview).to_have_count(0)

    # An update every shipment refuses (too short) keeps what was typed, in both of the bar's forms; the result
    # is under the button.
    team = page.locator("#bulk-team option").nth(2).get_attribute("value")
    page.locator("#bulk-team").select_option(team)
    page.get_by_label("Customer-visible update").fill("x")
    post = bar.get_by_role("button", name="Post the update")
    post.click()
    report = bar.get_by_test_id("bulk-report")
    expect(report).to_contain_text("0 of 2 shipments changed")
    expect(page.get_by_label("Customer-visible update")).to_have_value("x")
    expect(page.locator("#bulk-team")).to_have_value(team)
    expect(report).to_be_in_viewport()
    assert _near(post.bounding_box(), report.bounding_box())
    page.screenshot(path=ARTIFACTS / "tower-board-bulk-bar.png")
    assert axe_violations(page) == [], "board with the bulk bar and its report"

    bar.get_by_role("button", name="Clear selection").click()
    expect(bar).to_have_count(0)
    expect(page.get_by_label(f"Select shipment {first}")).not_to_be_checked()


def test_an_exception_is_resolved_in_a_dialog_that_opens_in_view(page, app_engine):
    from playwright.sync_api import expect

    with Session(app_engine, expire_on_commit=False) as db:
        agent = principal_for(app_engine, AGENT)
        acme = db.exec(select(Company.id).where(Company.code == "ACME")).one()
        reference = db.exec(select(Shipment.reference).where(Shipment.company_id == acme,
                                                             Shipment.status == "in_transit")
                            .order_by(Shipment.id.desc())).first()
        made = exc_svc.create_exception(db, agent, exc_svc.ExceptionInput(
            shipment_reference=reference, kind="other", title="Reefer alarm at the terminal", severity="medium",
            owner_id=agent.user_id))
    number = made.row.id

    sign_in(page, AGENT, f"/tower/exceptions/{number}")
    opener = page.get_by_role("button", name="Resolve this exception")
    opener.click()
    dialog = page.get_by_role("dialog", name=f"Resolve exception #{number}")
    expect(dialog).to_be_in_viewport()
    expect(page.get_by_label("Resolution note (internal)")).to_be_focused()  # focus moved into it
    assert axe_violations(page) == [], "resolve dialog"
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(opener).to_be_focused()  # and came back to the button

    # The service refuses a message too short to be useful: the dialog stays, the input stays.
    opener.click()
    expect(dialog).to_be_in_viewport()
    page.get_by_label("Resolution note (internal)").fill("Terminal reset the reefer unit; temperature normal.")
    page.get_by_label("Message to the customer (optional)").fill("ok")
    dialog.get_by_role("button", name="Resolve exception").click()
    expect(dialog.locator("#resolve-message-error")).to_contain_text("too short")
    expect(page.get_by_label("Resolution note (internal)")).to_have_value(
        "Terminal reset the reefer unit; temperature normal.")
    expect(page.get_by_label("Message to the customer (optional)")).to_have_value("ok")
    expect(page.get_by_test_id("exception-status")).to_have_text("Open")
    page.screenshot(path=ARTIFACTS / "tower-exception-resolve-dialog.png")

    page.get_by_label("Message to the customer (optional)").fill("")
    dialog.get_by_role("button", name="Resolve exception").click()
    expect(dialog).to_have_count(0)
    notice = page.get_by_test_id("exception-notice")
    expect(notice).to_contain_text("Resolved.")
    expect(notice).to_be_in_viewport()
    reopen = page.get_by_role("button", name="Reopen this exception")
    assert _near(reopen.bounding_box(), notice.bounding_box())
    page.screenshot(path=ARTIFACTS / "tower-exception-resolved-in-view.png")


def test_a_booking_decision_opens_over_the_row_clicked(page):
    from playwright.sync_api import expect

    sign_in(page, AGENT, "/tower/bookings")
    table = page.get_by_role("table", name="Bookings awaiting confirmation")
    expect(table.locator("tbody tr").first).to_be_visible()
    last = table.locator("tbody tr th").last.inner_text().strip()
    decide = page.get_by_role("button", name=f"Decide {last}")
    decide.scroll_into_view_if_needed()
    decide.click()
    dialog = page.get_by_role("dialog", name=f"Decide booking {last}")
    expect(dialog).to_be_in_viewport()
    assert axe_violations(page) == [], "booking decision dialog"
    page.screenshot(path=ARTIFACTS / "tower-booking-dialog.png")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(decide).to_be_focused()
