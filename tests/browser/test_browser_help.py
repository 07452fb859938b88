"""End to end in Chromium: a signed-out visitor searches the help centre and opens the right article (and is not
shown a customers-only one), and an ops manager edits an article in the tower that readers then see."""

from __future__ import annotations

import pytest

from tests.browser_app import ARTIFACTS, DEMO_CUSTOMER, _at

pytestmark = pytest.mark.browser

MANAGER = "manager@harborsky.example"


def test_signed_out_visitor_searches_and_opens_the_right_article(page):
    from playwright.sync_api import expect

    page.goto("/help")
    expect(page.get_by_role("heading", name="Help centre", level=1)).to_be_visible()
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()
    articles = page.get_by_role("list", name="All articles")
    expect(articles.get_by_role("link", name="Track a shipment")).to_be_visible()
    expect(articles.get_by_role("link", name="How to pay an invoice")).to_have_count(0)  # customers only

    page.get_by_label("Search the help centre").fill("where is my container")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="Results for “where is my container”")).to_be_visible()
    results = page.get_by_role("list", name="Search results")
    expect(results.get_by_role("link").first).to_have_text("Track a shipment")
    expect(page.get_by_role("status").filter(has_text="found")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "help-search.png", full_page=True)

    results.get_by_role("link", name="Track a shipment").click()
    page.wait_for_url(_at("/help/track-a-shipment"))
    expect(page.get_by_role("heading", name="Track a shipment", level=1)).to_be_visible()
    article = page.get_by_role("article", name="Track a shipment")
    expect(article).to_contain_text("container number")
    expect(article.get_by_role("table")).to_be_visible()  # the Markdown table, rendered on the server
    page.screenshot(path=ARTIFACTS / "help-article.png", full_page=True)

    # A question with no article: told so, and offered sign-in for customers' articles.
    page.goto("/help?q=pallet+exchange")
    expect(page.get_by_test_id("help-gap")).to_contain_text("No article answers")
    # A customers-only article is not there for a signed-out visitor.
    page.goto("/help/pay-an-invoice")
    expect(page.get_by_role("heading", name="Article not found")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("only for signed-in customers")


def test_manager_edits_an_article_that_readers_then_see(page):
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("Email").fill(MANAGER)
    page.get_by_label("Password").fill(DEMO_CUSTOMER[1])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(_at("/tower"))
    page.get_by_role("navigation", name="Ops tower navigation").get_by_role("link", name="Help centre").click()
    page.wait_for_url(_at("/tower/help"))
    expect(page.get_by_role("heading", name="Help centre", level=1)).to_be_visible()
    gaps = page.get_by_role("table", name="Questions without a good answer")
    expect(gaps.get_by_role("row").filter(has_text="co2 emissions report")).to_be_visible()

    table = page.get_by_role("table", name="Help articles")
    table.get_by_role("button", name="Edit Incoterms 2020 in short").click()
    editor = page.get_by_test_id("help-editor")
    expect(editor.get_by_role("heading", name="Edit article: Incoterms 2020 in short")).to_be_visible()
    expect(editor.get_by_label("Slug (the article's address)")).to_have_value("incoterms-2020")
    editor.get_by_label("Title").fill("Incoterms 2020: who pays and who carries the risk")
    body = editor.get_by_label("Article (Markdown)")
    body.fill(body.input_value() + "\nAsk us which Incoterm suits a **new supplier** <script>alert(1)</script>.\n")
    body.blur()  # the preview shows the text as readers will see it, the script as text
    preview = editor.get_by_test_id("help-preview")
    expect(preview.locator("strong", has_text="new supplier")).to_be_visible()
    expect(preview).to_contain_text("<script>alert(1)</script>")
    page.screenshot(path=ARTIFACTS / "tower-help-editor.png", full_page=True)
    editor.get_by_role("button", name="Save article").click()
    expect(page.get_by_test_id("help-notice")).to_contain_text("Saved “Incoterms 2020: who pays and who carries")
    expect(page.get_by_test_id("help-editor")).to_have_count(0)
    expect(table.get_by_role("link", name="Incoterms 2020: who pays and who carries the risk")).to_be_visible()

    # Readers see the new title and text at once; the script is shown as text, not run.
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto("/help/incoterms-2020")
    expect(page.get_by_role("heading", name="Incoterms 2020: who pays and who carries the risk")).to_be_visible()
    expect(page.get_by_role("article")).to_contain_text("<script>alert(1)</script>")
    assert dialogs == []
    page.goto("/help?q=who+carries+the+risk")
    expect(page.get_by_role("list", name="Search results").get_by_role("link").first).to_have_text(
        "Incoterms 2020: who pays and who carries the risk")
