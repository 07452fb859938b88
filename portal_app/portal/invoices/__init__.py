"""Portal pages: the company's invoices, one invoice (with PDF download and dispute) and the aged statement.

Importing the package registers all three pages. State holds one page of small string rows; amounts are formatted
from Decimal with the currency code.
"""

from portal_app.portal.invoices.invoice import PortalInvoiceDetailState, portal_invoice_detail
from portal_app.portal.invoices.listing import PortalInvoicesState, portal_invoices
from portal_app.portal.invoices.rows import AgingLine, InvoiceLine, money
from portal_app.portal.invoices.statement import PortalStatementState, portal_statement

__all__ = [
    "AgingLine",
    "InvoiceLine",
    "PortalInvoiceDetailState",
    "PortalInvoicesState",
    "PortalStatementState",
    "money",
    "portal_invoice_detail",
    "portal_invoices",
    "portal_statement",
]
