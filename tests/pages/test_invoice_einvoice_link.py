"""The portal's invoice page offers the e-invoice (UBL XML) beside the PDF, under an accessible name of its own."""

from __future__ import annotations

import re

from portal_app.portal.invoices.invoice import PortalInvoiceDetailState as S
from portal_app.portal.invoices.invoice import portal_invoice_detail
from tests.page_states import run, state_as, use_db
from tests.quote_world import QuoteWorld


def test_the_invoice_page_links_the_ubl_download_beside_the_pdf(demo: QuoteWorld, monkeypatch):
    use_db(monkeypatch, demo.engine)
    number = demo.client("alice@acme.example").get("/api/v1/invoices").json()["items"][0]["number"]
    st = state_as(monkeypatch, S, demo.alice, f"/portal/invoices/{number}")
    run(S.load, st)
    assert st.not_found == ""
    assert st.summary.pdf_href == f"/api/v1/invoices/{number}/pdf"
    assert st.summary.ubl_href == f"/api/v1/invoices/{number}/ubl"


def test_the_link_has_a_name_no_other_link_on_the_page_shares():
    code = str(portal_invoice_detail())
    assert '"aria-label":"Download e-invoice (UBL XML)"' in code and '"UBL (XML)"' in code
    assert len(re.findall(r"Download e-invoice", code)) == 1 and "Download PDF" in code
