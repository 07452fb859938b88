"""An invoice as an EN 16931 electronic invoice in UBL 2.1 syntax, following Peppol BIS Billing 3.0.

The document is built from the same records as the invoice page and the PDF (``finance.get_invoice``, so tenancy is
the same: another company's invoice is NotFound), with xml.etree.ElementTree, never by pasting strings together.
The rules that turn the product's data into the standard's business terms are in ``docs/einvoices.md``; in short:

- Amounts are the stored ones, exact (Decimal), written with the currency's ISO 4217 decimals (Babel; at most two,
  as EN 16931 allows): JPY 1101, EUR 1101.50. The document is checked before it is written: the lines' net amounts
  add up to BT-106, the VAT breakdown to BT-110, and both to the invoice's stored subtotal, tax and total; the
  amount due (BT-115) is the total less what was paid (BT-113). A stored invoice that does not add up is refused.
- VAT: a line with a rate above zero is category S (standard rate), a line at 0 % is category Z (zero rated); the
  breakdown has one entry per category and rate, its tax the sum of its lines' tax (as the invoice was priced).
- The seller is the forwarder's invoice identity (``config/invoice_identity.py``); the buyer is the invoiced
  customer company. What EN 16931 requires and the product does not know (the buyer's country, the seller's VAT
  number) refuses the export with 409 ``einvoice_incomplete``, saying who can fill it in; drafts and void invoices
  refuse with 409 ``einvoice_not_issued``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import get_currency_precision
from sqlmodel import Session, col, select

from models import Company, Invoice, User
from models.enums import CompanyKind, InvoiceStatus, Role
from portal_app.auth.principal import Principal
from portal_app.services.config.invoice_identity import InvoiceIdentity, payee_name
from portal_app.services.config.invoice_identity import current as identity_of
from portal_app.services.errors import Conflict, ErrorCode
from portal_app.services.finance import InvoiceDetail, InvoiceLineView, get_invoice

NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NS_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
ET.register_namespace("", NS_INVOICE)
ET.register_namespace("cac", NS_CAC)
ET.register_namespace("cbc", NS_CBC)

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
INVOICE_TYPE = "380"  # commercial invoice (UNTDID 1001)
UNIT_CODE = "C62"  # "one" (UN/ECE Rec 20): the product records quantities without a unit
STANDARD, ZERO_RATED = "S", "Z"  # VAT category codes (UNCL 5305)
MEDIA_TYPE = "application/xml"
MAX_DECIMALS = 2  # EN 16931 (BR-DEC): amounts carry at most two decimals

# Electronic address schemes (EAS, ISO 6523 ICD / Peppol) that take a VAT number, by the number's country prefix.
VAT_EAS: dict[str, str] = {
    "AD": "9922", "AL": "9923", "AT": "9914", "BA": "9924", "BE": "9925", "BG": "9926", "CH": "9927", "CY": "9928",
    "CZ": "9929", "DE": "9930", "EE": "9931", "ES": "9920", "FR": "9957", "GB": "9932", "GR": "9933", "HR": "9934",
    "HU": "9910", "IE": "9935", "IT": "0211", "LI": "9936", "LT": "9937", "LU": "9938", "LV": "9939", "MC": "9940",
    "ME": "9941", "MK": "9942", "MT": "9943", "NL": "9944", "PL": "9945", "PT": "9946", "RO": "9947", "RS": "9948",
    "SI": "9949", "SK": "9950", "SM": "9951", "TR": "9952", "VA": "9953",
}
EMAIL_EAS = "EM"
# VAT number prefixes that are not ISO 3166 country codes.
_VAT_PREFIX_COUNTRY = {"EL": "GR", "XI": "GB"}
# Characters XML 1.0 cannot carry (control characters typed or pasted into a description): dropped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_POSTCODE_CITY = re.compile(r"^(?P<zip>\d[0-9A-Z-]*(?: [A-Z]{2}(?= ))?)\s+(?P<city>\S.*)$")


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _cbc(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, _q(NS_CBC, tag), attrs)
    el.text = _NOT_XML.sub("", text)
    return el


def _cac(parent: ET.Element, tag: str) -> ET.Element:
    return ET.SubElement(parent, _q(NS_CAC, tag))


def amount_decimals(currency: str) -> int:
    """The decimals of an amount in ``currency``: ISO 4217's minor unit (Babel), at most two (EN 16931)."""
    return min(get_currency_precision(currency), MAX_DECIMALS)


def _plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 2.500 -> "2.5", 20.000 -> "20"."""
    text = f"{value.normalize():f}"
    return text if text not in ("-0",) else "0"


@dataclass(frozen=True)
class Party:
    """One side of the invoice, as the business terms need it."""

    name: str
    country: str
    street: str = ""
    additional_street: str = ""
    city: str = ""
    postcode: str = ""
    address_lines: tuple[str, ...] = ()
    vat_number: str = ""
    endpoint: str = ""
    endpoint_scheme: str = ""
    identifier: str = ""


@dataclass(frozen=True)
class VatGroup:
    category: str
    percent: Decimal
    taxable: Decimal
    tax: Decimal


def vat_category(rate: Decimal) -> tuple[str, Decimal]:
    """The VAT category code and percent of a stored rate (a fraction: 0.19 is 19 %)."""
    percent = (Decimal(rate) * 100).normalize()
    return (STANDARD if percent > 0 else ZERO_RATED), (percent if percent > 0 else Decimal(0))


def vat_breakdown(lines: list[InvoiceLineView]) -> list[VatGroup]:
    """BG-23: one group per category and rate, in the order first met; taxable = the lines' net amounts, tax = the
    lines' tax amounts (each line's tax was rounded when the invoice was priced; their sum is the invoice's tax)."""
    groups: dict[tuple[str, Decimal], list[Decimal]] = {}
    for ln in lines:
        sums = groups.setdefault(vat_category(ln.tax_rate), [Decimal(0), Decimal(0)])
        sums[0] += ln.amount
        sums[1] += ln.tax_amount
    return [VatGroup(cat, pct, taxable, tax) for (cat, pct), (taxable, tax) in groups.items()]


def _country_of_vat(vat_number: str) -> str:
    prefix = vat_number[:2].upper()
    return _VAT_PREFIX_COUNTRY.get(prefix, prefix) if re.fullmatch(r"[A-Z]{2}", prefix) else ""


def split_address(lines: list[str], country: str) -> dict[str, object]:
    """The seller's registered address (free lines) as UBL's parts: the first line is the street; a line starting
    with a postcode ("3089 JH Rotterdam", "20457 Hamburg") gives postcode and city; a last line naming the country
    is dropped (BT-40 carries it); any other line is kept as an address line. Nothing is invented."""
    from babel import Locale

    names = {Locale("en").territories.get(country, "").lower(), country.lower()}
    rest = [ln for ln in lines if ln.strip()]
    if rest and (rest[-1].lower().removeprefix("the ") in names or rest[-1].lower() in names):
        rest = rest[:-1]
    out: dict[str, object] = {"street": rest[0] if rest else "", "city": "", "postcode": "", "address_lines": ()}
    others = []
    for line in rest[1:]:
        found = _POSTCODE_CITY.match(line)
        if found and not out["city"]:
            out["postcode"], out["city"] = found["zip"], found["city"]
        elif not out["city"] and line is rest[-1]:
            out["city"] = line
        else:
            others.append(line)
    out["address_lines"] = tuple(others)
    return out


def _incomplete(number: str, what: str, who: str) -> Conflict:
    return Conflict(f"Invoice {number} cannot be exported as an e-invoice (UBL): {what}. {who} Download the PDF in "
                    "the meantime. Nothing was changed.", code=ErrorCode.EINVOICE_INCOMPLETE)


def _seller(db: Session, identity: InvoiceIdentity, number: str) -> Party:
    vat = identity.vat_number.strip().upper()
    country = _country_of_vat(vat)
    if not country:
        forwarder = db.exec(select(Company.country).where(col(Company.kind) == CompanyKind.FORWARDER.value)
                            .order_by(col(Company.id))).first()
        country = (forwarder or "").strip().upper()
    if not vat:
        raise _incomplete(number, "the forwarder's VAT number is not configured (EN 16931 needs it for invoices "
                                  "that charge VAT or are zero rated)",
                          "An administrator fills it in under Configuration, Invoices (/tower/config/invoicing).")
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise _incomplete(number, "the forwarder's country is not known",
                          "An administrator gives the VAT number with its country prefix under Configuration, "
                          "Invoices (/tower/config/invoicing).")
    parts = split_address(identity.address_lines, country)
    scheme = VAT_EAS.get(_country_of_vat(vat), "")
    return Party(name=identity.legal_name or payee_name(db, identity), country=country, vat_number=vat,
                 endpoint=vat if scheme else "", endpoint_scheme=scheme, street=str(parts["street"]),
                 city=str(parts["city"]), postcode=str(parts["postcode"]),
                 address_lines=tuple(parts["address_lines"]))  # type: ignore[arg-type]


def _buyer(db: Session, detail: InvoiceDetail, number: str) -> Party:
    # The invoice's own company (the caller may see the invoice: ``get_invoice`` said so).
    company = db.exec(select(Company).join(Invoice, col(Invoice.company_id) == col(Company.id))
                      .where(Invoice.number == detail.number)).first()
    country = ((company.country if company else None) or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise _incomplete(number, f"the country of {detail.company_name} is not recorded (EN 16931 needs the "
                                  "buyer's country)",
                          "Ask your forwarder to record your company's country.")
    billing = ""
    if company is not None:
        billing = db.exec(select(User.email).where(User.company_id == company.id,
                                                   User.role == Role.CUSTOMER_ADMIN.value,
                                                   col(User.is_active).is_(True)).order_by(col(User.id))).first() or ""
    return Party(name=detail.company_name, country=country, endpoint=billing,
                 endpoint_scheme=EMAIL_EAS if billing else "", identifier=company.code if company else "")


def _check(detail: InvoiceDetail, groups: list[VatGroup], places: int) -> None:
    """The amounts reconcile, exactly, with each other and with the stored invoice; each is exact in the currency's
    decimals. A stored invoice that does not add up is refused rather than sent wrong."""
    unit = Decimal(1).scaleb(-places)
    lines_net = sum((ln.amount for ln in detail.lines), Decimal(0))
    tax = sum((g.tax for g in groups), Decimal(0))
    amounts = [detail.subtotal, detail.tax_total, detail.total, detail.amount_paid, detail.balance,
               *(ln.amount for ln in detail.lines), *(ln.tax_amount for ln in detail.lines)]
    problems = []
    if any(a != a.quantize(unit) for a in amounts):
        problems.append(f"an amount has more decimals than {detail.currency} allows")
    if lines_net != detail.subtotal or tax != detail.tax_total or detail.subtotal + detail.tax_total != detail.total:
        problems.append("its lines do not add up to its totals")
    if detail.total - detail.amount_paid != detail.balance:
        problems.append("its balance is not its total less what was paid")
    if not detail.lines:
        problems.append("it has no lines")
    if problems:
        raise _incomplete(detail.number, "; ".join(problems), "Ask your forwarder's billing team to correct it.")


def _party(parent: ET.Element, tag: str, party: Party) -> None:
    p = _cac(_cac(parent, tag), "Party")
    if party.endpoint:
        _cbc(p, "EndpointID", party.endpoint, schemeID=party.endpoint_scheme)
    if party.identifier:
        _cbc(_cac(p, "PartyIdentification"), "ID", party.identifier)
    _cbc(_cac(p, "PartyName"), "Name", party.name)
    address = _cac(p, "PostalAddress")
    for tag_, text in (("StreetName", party.street), ("AdditionalStreetName", party.additional_street),
                       ("CityName", party.city), ("PostalZone", party.postcode)):
        if text:
            _cbc(address, tag_, text)
    for line in party.address_lines:
        _cbc(_cac(address, "AddressLine"), "Line", line)
    _cbc(_cac(address, "Country"), "IdentificationCode", party.country)
    if party.vat_number:
        scheme = _cac(p, "PartyTaxScheme")
        _cbc(scheme, "CompanyID", party.vat_number)
        _cbc(_cac(scheme, "TaxScheme"), "ID", "VAT")
    _cbc(_cac(p, "PartyLegalEntity"), "RegistrationName", party.name)


def _tax_category(parent: ET.Element, tag: str, category: str, percent: Decimal) -> None:
    cat = _cac(parent, tag)
    _cbc(cat, "ID", category)
    _cbc(cat, "Percent", _plain(percent))
    _cbc(_cac(cat, "TaxScheme"), "ID", "VAT")


def build_invoice(detail: InvoiceDetail, seller: Party, buyer: Party, identity: InvoiceIdentity) -> ET.Element:
    """The UBL Invoice element of one invoice (already checked to reconcile)."""
    cur = detail.currency
    places = amount_decimals(cur)
    unit = Decimal(1).scaleb(-places)

    def money(parent: ET.Element, tag: str, value: Decimal) -> None:
        _cbc(parent, tag, f"{Decimal(value).quantize(unit):f}", currencyID=cur)

    root = ET.Element(_q(NS_INVOICE, "Invoice"))
    _cbc(root, "CustomizationID", CUSTOMIZATION_ID)
    _cbc(root, "ProfileID", PROFILE_ID)
    _cbc(root, "ID", detail.number)
    _cbc(root, "IssueDate", detail.issue_date.isoformat())
    _cbc(root, "DueDate", detail.due_date.isoformat())
    _cbc(root, "InvoiceTypeCode", INVOICE_TYPE)
    if detail.shipment_reference:
        _cbc(root, "Note", f"Shipment {detail.shipment_reference}")
    _cbc(root, "DocumentCurrencyCode", cur)
    _cbc(root, "BuyerReference", detail.shipment_reference or buyer.identifier or detail.number)
    _party(root, "AccountingSupplierParty", seller)
    _party(root, "AccountingCustomerParty", buyer)
    if identity.has_bank_details:
        means = _cac(root, "PaymentMeans")
        _cbc(means, "PaymentMeansCode", "58" if cur == "EUR" else "30")  # SEPA credit transfer / credit transfer
        _cbc(means, "PaymentID", identity.reference_for(detail.number))
        account = _cac(means, "PayeeFinancialAccount")
        _cbc(account, "ID", identity.iban)
        if identity.account_holder:
            _cbc(account, "Name", identity.account_holder)
        if identity.bic:
            _cbc(_cac(account, "FinancialInstitutionBranch"), "ID", identity.bic)
    groups = vat_breakdown(detail.lines)
    tax_total = _cac(root, "TaxTotal")
    money(tax_total, "TaxAmount", sum((g.tax for g in groups), Decimal(0)))
    for g in groups:
        sub = _cac(tax_total, "TaxSubtotal")
        money(sub, "TaxableAmount", g.taxable)
        money(sub, "TaxAmount", g.tax)
        _tax_category(sub, "TaxCategory", g.category, g.percent)
    totals = _cac(root, "LegalMonetaryTotal")
    money(totals, "LineExtensionAmount", detail.subtotal)
    money(totals, "TaxExclusiveAmount", detail.subtotal)
    money(totals, "TaxInclusiveAmount", detail.total)
    if detail.amount_paid:
        money(totals, "PrepaidAmount", detail.amount_paid)
    money(totals, "PayableAmount", detail.total - detail.amount_paid)
    for ln in detail.lines:
        line = _cac(root, "InvoiceLine")
        _cbc(line, "ID", str(ln.line_no))
        # BR-27: the price is never negative; a credit line (negative price) is a negative quantity instead.
        sign = -1 if ln.unit_price < 0 else 1
        _cbc(line, "InvoicedQuantity", _plain(ln.quantity * sign), unitCode=UNIT_CODE)
        money(line, "LineExtensionAmount", ln.amount)
        item = _cac(line, "Item")
        _cbc(item, "Name", ln.description)
        if ln.code:
            _cbc(_cac(item, "SellersItemIdentification"), "ID", ln.code)
        _tax_category(item, "ClassifiedTaxCategory", *vat_category(ln.tax_rate))
        _cbc(_cac(line, "Price"), "PriceAmount", _plain(abs(ln.unit_price)), currencyID=cur)
    return root


def render_ubl(detail: InvoiceDetail, seller: Party, buyer: Party, identity: InvoiceIdentity) -> bytes:
    """The XML bytes (UTF-8, with its declaration) of one invoice; refused when the stored amounts disagree."""
    groups = vat_breakdown(detail.lines)
    _check(detail, groups, amount_decimals(detail.currency))
    root = build_invoice(detail, seller, buyer, identity)
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


def filename_for(number: str) -> str:
    """The download's file name: the invoice number (safe characters only) and "-ubl.xml"."""
    return re.sub(r"[^A-Za-z0-9._-]", "-", number) + "-ubl.xml"


def invoice_ubl(db: Session, principal: Principal, number: str) -> tuple[str, bytes]:
    """The file name and UBL XML of one invoice the principal may see (NotFound otherwise, exactly as the PDF);
    Conflict (409) with ``einvoice_not_issued`` or ``einvoice_incomplete`` when it cannot be an e-invoice."""
    detail = get_invoice(db, principal, number)
    if detail.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
        raise Conflict(f"Invoice {detail.number} is {detail.status}: only an issued invoice is exported as an "
                       "e-invoice (UBL). Nothing was changed.", code=ErrorCode.EINVOICE_NOT_ISSUED)
    identity = identity_of(db)
    seller = _seller(db, identity, detail.number)
    buyer = _buyer(db, detail, detail.number)
    return filename_for(detail.number), render_ubl(detail, seller, buyer, identity)
