"""Tower: configuration, invoices. The forwarder's legal name, registered address and VAT number, the bank account
customers pay into (holder, IBAN, BIC/SWIFT, bank) and the payment reference rule, printed on every invoice PDF.
Administrators only; the service checks the IBAN's check digits, the BIC and the VAT number and audits every change
(``services/config/invoice_identity.py``)."""

from __future__ import annotations

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.form_refusal import placed
from portal_app.components.layout import area_page
from portal_app.components.ui import LABEL_STYLE, MUTED_TEXT, primary_button, responsive_grid
from portal_app.components.work_queue import checked_input, field_error, stacked_form
from portal_app.services.config import invoice_identity as svc
from portal_app.services.errors import FormInvalid, ServiceError
from portal_app.services.inputs import parse
from portal_app.tower.config_base import ConfigMixin, config_page
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db

ROUTE = routes.TOWER_CONFIG_INVOICING
FIELDS = tuple(svc.InvoiceIdentity.model_fields)
SAMPLE_NUMBER = "INV-2026-000123"
FORM_LIMIT = 1000  # what is read of a field at most: longer is refused as too long all the same


def identity_from_form(form: dict) -> svc.InvoiceIdentity:
    """The form as the service's input model (FormInvalid, each problem under its field, when a value is too
    long); the service checks the numbers."""
    return parse(svc.InvoiceIdentity, {name: str(form.get(name, "") or "")[:FORM_LIMIT] for name in FIELDS})


def summary(identity: svc.InvoiceIdentity, payee: str) -> str:
    """What an invoice shows now, in a sentence."""
    who = (f"Invoices are issued by {identity.legal_name}" + (f", VAT number {identity.vat_number}"
                                                              if identity.vat_number else "") + ".")
    if not identity.has_identity:
        who = f"No legal identity is set: invoices show {payee} at the top, without address or VAT number."
    pay = (f"Customers are asked to pay into {identity.iban_printed} ({identity.bic}) and to quote "
           f"“{identity.reference_for(SAMPLE_NUMBER)}” for invoice {SAMPLE_NUMBER}.")
    if not identity.has_bank_details:
        pay = f"No bank details are set: invoices tell customers to ask {payee} for them."
    return f"{who} {pay}"


def _shown(db, principal):  # noqa: ANN001, ANN202
    identity = svc.get_invoice_identity(db, principal)
    return identity, svc.payee_name(db, identity)


class ConfigInvoicingState(ConfigMixin, SessionState):
    values: dict[str, str] = {}
    now_shown: str = ""

    async def _read(self, principal: Principal) -> None:
        identity, payee = await run_db(_shown, principal)
        self.values = {name: str(getattr(identity, name)) for name in FIELDS}
        self.now_shown = summary(identity, payee)
        self.form_key += 1

    def _service_refused(self, exc: ServiceError) -> None:
        """A refused form: each problem beside its input, the page's message in the form's own words."""
        if isinstance(exc, FormInvalid):
            self.field_errors, self.error = placed(exc, {name: name for name in FIELDS}, {})
            self.notice = ""
            return
        super()._service_refused(exc)

    @page_event("tower")
    async def load(self, principal: Principal) -> None:
        if not self._may_configure(principal):
            return
        self.notice, self.error, self.field_errors = "", "", {}
        await self._read(principal)

    @page_event("tower")
    async def save(self, principal: Principal, form: dict) -> None:
        if not self._may_configure(principal):
            return
        try:
            data = identity_from_form(form)
        except FormInvalid as exc:
            self._service_refused(exc)
            return
        saved = await self._save(principal, svc.save_invoice_identity, data,
                                 done="Invoice details saved: invoice PDFs downloaded from now on show them.")
        if saved is not None:
            await self._read(principal)


S = ConfigInvoicingState


def _field(label: str, name: str, *, hint: str = "", **props: object) -> rx.Component:
    return checked_input(label, name, S.field_errors, input_id=f"invoice-{name.replace('_', '-')}", hint=hint,
                         default_value=S.values[name], **props)


def _address() -> rx.Component:
    return rx.box(
        rx.el.label("Registered address", html_for="invoice-address", style=LABEL_STYLE),
        rx.text_area(id="invoice-address", name="address", rows="3", width="100%", default_value=S.values["address"],
                     max_length=svc.ADDRESS_MAX, aria_describedby="invoice-address-hint invoice-address-error",
                     aria_invalid=rx.cond(S.field_errors.contains("address"), "true", "false")),
        rx.text(f"Street, postcode and city, country: one per line, at most {svc.ADDRESS_LINES} lines.",
                id="invoice-address-hint", size="1", color=MUTED_TEXT),
        field_error(S.field_errors, "address", "invoice-address-error"),
        width="100%",
    )


def _form() -> rx.Component:
    return rx.card(stacked_form(
        rx.heading("Legal identity", size="5", as_="h2"),
        rx.text("Printed at the top and at the foot of every invoice. Leave everything empty to print the company "
                "name only.", color=MUTED_TEXT),
        responsive_grid(
            _field("Legal name", "legal_name", hint="The registered name, e.g. Harbor & Sky Logistics B.V.",
                   max_length=svc.NAME_MAX),
            _field("VAT number (optional)", "vat_number", hint="With its country prefix, e.g. NL854891742B01",
                   max_length=24),
            wide=2,
        ),
        _address(),
        rx.heading("Bank details", size="5", as_="h2"),
        rx.text("Printed in the invoice's “How to pay” block. Without them, the invoice tells customers whom to "
                "ask.", color=MUTED_TEXT),
        responsive_grid(
            _field("Account holder", "account_holder", max_length=svc.HOLDER_MAX),
            _field("IBAN", "iban", hint="Spaces are fine, e.g. NL91 ABNA 0417 1643 00", max_length=42),
            _field("BIC/SWIFT", "bic", hint="8 or 11 characters, e.g. ABNANL2A", max_length=14),
            _field("Bank name (optional)", "bank_name", max_length=svc.BANK_MAX),
            wide=2,
        ),
        rx.box(
            _field("Payment reference", "payment_reference",
                   hint=f"What customers quote with their transfer; {svc.PLACEHOLDER} stands for the invoice "
                        f"number, e.g. {svc.PLACEHOLDER} or HSL {svc.PLACEHOLDER}.",
                   max_length=svc.REFERENCE_MAX),
            max_width="28rem",
        ),
        primary_button("Save invoice details", type="submit"),
        on_submit=S.save, label="Invoice details", key=S.form_key,
    ), width="100%", data_testid="invoice-identity")


@area_page("tower", ROUTE, "Configuration: invoices", S.load)
def config_invoicing() -> rx.Component:
    return config_page(
        S, ROUTE, "Invoices",
        "Who bills and where customers pay, as every invoice PDF shows it. Every change is in the audit log.",
        rx.callout(S.now_shown, icon="info", data_testid="invoice-identity-now", width="100%"),
        _form(),
    )
