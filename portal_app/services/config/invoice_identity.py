"""The forwarder's legal identity and bank details, printed on every invoice PDF.

Kept as JSON in ``AppSetting("invoice_identity")``. Two groups, each all or nothing: who bills (legal name and
address; the VAT number is optional) and where to pay (account holder, IBAN and BIC; the bank's name is optional),
plus the payment reference customers quote, a short rule in which ``{invoice}`` stands for the invoice number.
Numbers are checked with python-stdnum: the IBAN's ISO 13616 check digits and its country's length and layout,
the BIC's layout and country, the VAT number's country format and check digit. A refusal names each wrong field
in plain words and saves nothing; a save writes one audit row with the before and after values.

What nobody has configured is empty here, and the invoice says so plainly instead of printing blanks
(``services/invoice_pdf.py``).
"""

from __future__ import annotations

import json
import re
import unicodedata

from pydantic import Field
from sqlmodel import Session, col, select
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum import numdb
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import InvalidChecksum, InvalidLength, ValidationError
from stdnum.util import get_cc_module

from models import AppSetting, Company
from models.enums import CompanyKind
from portal_app.auth.principal import Principal
from portal_app.services import clock
from portal_app.services.config.common import record, refuse_if, require_admin
from portal_app.services.inputs import Body

KEY = "invoice_identity"
PLACEHOLDER = "{invoice}"
DEFAULT_REFERENCE = PLACEHOLDER
NAME_MAX = 140
ADDRESS_MAX = 300
ADDRESS_LINES = 5
ADDRESS_LINE_MAX = 80
HOLDER_MAX = 70  # what a SEPA credit transfer carries of the payee's name
BANK_MAX = 100
REFERENCE_MAX = 24  # with an invoice number in it, the reference still fits the 35 characters banks keep
IDENTITY_FIELDS = ("legal_name", "address", "vat_number")
BANK_FIELDS = ("account_holder", "iban", "bic", "bank_name")
_IBAN_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$")
_BBAN_PART = re.compile(r"([1-9][0-9]*)!([nac])")
_VAT_SHAPE = re.compile(r"^[A-Z]{2}[A-Z0-9]{2,18}$")


class InvoiceIdentity(Body, frozen=True):
    """Who bills and where to pay, as printed on invoices: the API's body and answer (``PUT|GET
    /api/v1/config/invoice-identity``) and what the tower's form is parsed into. Empty text means "not set";
    sending the model replaces everything stored."""

    legal_name: str = Field("", max_length=NAME_MAX, description="The registered name, e.g. Harbor & Sky B.V.")
    address: str = Field("", max_length=ADDRESS_MAX,
                         description=f"Registered address, one line per line (at most {ADDRESS_LINES})")
    vat_number: str = Field("", max_length=24, description="With its country prefix, e.g. NL854891742B01")
    account_holder: str = Field("", max_length=HOLDER_MAX)
    iban: str = Field("", max_length=42, description="Spaces allowed; stored without them")
    bic: str = Field("", max_length=14, description="BIC/SWIFT code of 8 or 11 characters")
    bank_name: str = Field("", max_length=BANK_MAX)
    payment_reference: str = Field(DEFAULT_REFERENCE, max_length=REFERENCE_MAX,
                                   description="What customers quote; {invoice} stands for the invoice number")

    @property
    def has_identity(self) -> bool:
        return bool(self.legal_name)

    @property
    def has_bank_details(self) -> bool:
        return bool(self.iban)

    @property
    def address_lines(self) -> list[str]:
        return [line for line in self.address.split("\n") if line]

    @property
    def iban_printed(self) -> str:
        """The IBAN in groups of four, as banks print it."""
        return stdnum_iban.format(self.iban) if self.iban else ""

    def reference_for(self, invoice_number: str) -> str:
        """The payment reference for one invoice."""
        return (self.payment_reference or DEFAULT_REFERENCE).replace(PLACEHOLDER, invoice_number)


# ------------------------------------------------------------------------------------------------ reading


def current(db: Session) -> InvoiceIdentity:
    """What is stored (empty fields where nothing is); read by every invoice PDF, whoever downloads it."""
    row = db.get(AppSetting, KEY)
    try:
        data = json.loads(row.value) if row is not None else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    known = {k: v for k, v in data.items() if k in InvoiceIdentity.model_fields and isinstance(v, str)}
    try:
        return InvoiceIdentity.model_validate(known)
    except ValueError:  # written by hand into the database: print nothing rather than something wrong
        return InvoiceIdentity()


def get_invoice_identity(db: Session, principal: Principal) -> InvoiceIdentity:
    require_admin(principal)
    return current(db)


def payee_name(db: Session, identity: InvoiceIdentity) -> str:
    """Who customers pay: the legal name, else the forwarder company's name."""
    if identity.legal_name:
        return identity.legal_name
    found = db.exec(select(Company.name).where(col(Company.kind) == CompanyKind.FORWARDER.value)
                    .order_by(col(Company.id))).first()
    return found or "your forwarder"


# ------------------------------------------------------------------------------------------------ checking


def _line(value: str) -> str:
    return " ".join(value.split())


def _printable(text: str) -> bool:
    """No control characters (a PDF cannot print them)."""
    return not any(unicodedata.category(ch) == "Cc" for ch in text)


def _text(value: str, low: int, high: int, problems: dict[str, str], key: str) -> str:
    text = _line(value)
    if not _printable(text):
        problems[key] = "remove the control characters (copied from another program?)"
    elif text and not low <= len(text) <= high:
        problems[key] = f"use {low} to {high} characters"
    return text


def _address(value: str, problems: dict[str, str]) -> str:
    lines = [_line(part) for part in value.replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line]
    if not all(_printable(line) for line in lines):
        problems["address"] = "remove the control characters (copied from another program?)"
    elif len(lines) > ADDRESS_LINES:
        problems["address"] = f"use at most {ADDRESS_LINES} lines (you gave {len(lines)})"
    elif any(len(line) > ADDRESS_LINE_MAX for line in lines):
        problems["address"] = f"keep each line to {ADDRESS_LINE_MAX} characters so it fits the invoice"
    elif lines and len("".join(lines)) < 5:
        problems["address"] = "give the street, postcode and city"
    return "\n".join(lines)


def _bban_length(structure: str) -> int:
    return sum(int(n) for n, _kind in _BBAN_PART.findall(structure))


def check_iban(value: str) -> tuple[str, str | None]:
    """(the IBAN without spaces, None) or (what was typed, the problem in plain words)."""
    number = stdnum_iban.compact(value)
    example = "e.g. NL91 ABNA 0417 1643 00"
    if not _IBAN_SHAPE.match(number):
        return number, f"an IBAN starts with a two-letter country code and two check digits, {example}"
    country = number[:2]
    structure = numdb.get("iban").info(number)[0][1].get("bban", "")
    if not structure:
        return number, f"{country} is not a country that uses IBANs: check the first two letters"
    expected = 4 + _bban_length(structure)
    if len(number) != expected:
        return number, f"an IBAN from {country} has {expected} characters; this one has {len(number)}"
    try:
        return stdnum_iban.validate(number), None
    except InvalidChecksum:
        return number, ("the check digits do not match the rest of the IBAN: a character is probably mistyped. "
                        "Copy it again from a bank statement")
    except ValidationError:
        return number, f"this is not laid out like an IBAN from {country}: check it against a bank statement"


def check_bic(value: str) -> tuple[str, str | None]:
    number = stdnum_bic.compact(value)
    try:
        return stdnum_bic.validate(number), None
    except InvalidLength:
        return number, f"a BIC has 8 or 11 letters and digits, e.g. ABNANL2A (this one has {len(number)})"
    except ValidationError:
        if re.fullmatch(r"[A-Z]{4}[A-Z]{2}[0-9A-Z]{2}([0-9A-Z]{3})?", number):
            return number, f"{number[4:6]} (its 5th and 6th letters) is not a country code"
        return number, ("a BIC is 4 letters for the bank, 2 for the country, then 2 or 5 letters or digits, "
                        "e.g. ABNANL2A")


def check_vat(value: str) -> tuple[str, str | None]:
    """A VAT number with its country prefix: checked by the country's own rule where python-stdnum knows it (every
    EU country, the UK, Switzerland, Norway and more), else by its general shape."""
    number = re.sub(r"[\s.\-/]", "", value).upper()
    if not _VAT_SHAPE.match(number):
        return number, "give the VAT number with its two-letter country prefix, e.g. NL854891742B01"
    country = number[:2].lower()
    module = eu_vat if country in eu_vat.MEMBER_STATES or country == "el" else get_cc_module(country, "vat")
    if module is None:
        return number, None
    try:
        module.validate(number)
    except InvalidChecksum:
        return number, ("the check digit does not match: a character is probably mistyped. Copy it from the VAT "
                        "registration")
    except InvalidLength:
        return number, f"this has the wrong number of characters for a VAT number from {number[:2]}"
    except (ValidationError, ValueError):  # a country's own rule reading letters where it wants digits, say
        return number, f"this is not laid out like a VAT number from {number[:2]}"
    return number, None


def _reference(value: str, problems: dict[str, str]) -> str:
    rule = _line(value) or DEFAULT_REFERENCE
    rest = rule.replace(PLACEHOLDER, "", 1)
    if PLACEHOLDER not in rule or PLACEHOLDER in rest:
        problems["payment_reference"] = (f"write {PLACEHOLDER} once where the invoice number goes, "
                                         f"e.g. HSL {PLACEHOLDER}")
    elif "{" in rest or "}" in rest:
        problems["payment_reference"] = f"use no braces besides {PLACEHOLDER}"
    elif not re.fullmatch(r"[A-Za-z0-9 /\-?:().,'+]*", rest):
        problems["payment_reference"] = "use letters, digits, spaces and / - ? : ( ) . , ' + only: banks drop the rest"
    return rule


def _cleaned(data: InvoiceIdentity) -> dict[str, str]:
    """The values to store, or FormInvalid naming every problem at once."""
    problems: dict[str, str] = {}
    out = {
        "legal_name": _text(data.legal_name, 2, NAME_MAX, problems, "legal_name"),
        "address": _address(data.address, problems),
        "vat_number": "",
        "account_holder": _text(data.account_holder, 2, HOLDER_MAX, problems, "account_holder"),
        "iban": "",
        "bic": "",
        "bank_name": _text(data.bank_name, 2, BANK_MAX, problems, "bank_name"),
        "payment_reference": _reference(data.payment_reference, problems),
    }
    for key, given, check in (("vat_number", data.vat_number, check_vat), ("iban", data.iban, check_iban),
                              ("bic", data.bic, check_bic)):
        if given.strip():
            out[key], problem = check(given)
            if problem:
                problems[key] = problem
    if any(out[k] for k in IDENTITY_FIELDS):
        for key, words in (("legal_name", "the legal name"), ("address", "the registered address")):
            if not out[key] and key not in problems:
                problems[key] = f"fill in {words} too: an invoice must say who bills"
    if any(out[k] for k in BANK_FIELDS):
        for key, words in (("account_holder", "the account holder"), ("iban", "the IBAN"), ("bic", "the BIC")):
            if not out[key] and key not in problems:
                problems[key] = f"fill in {words} too: customers need it to pay"
    refuse_if(problems, "The invoice details")
    return out


# ------------------------------------------------------------------------------------------------ changing


def save_invoice_identity(db: Session, principal: Principal, data: InvoiceIdentity) -> InvoiceIdentity:
    """Replace the legal identity and bank details printed on invoices (all checked first; audited)."""
    require_admin(principal)
    after = _cleaned(data)
    before = current(db).model_dump()
    if after == before:
        return current(db)
    row = db.get(AppSetting, KEY) or AppSetting(key=KEY, value="{}")
    row.value, row.updated_at, row.updated_by_id = json.dumps(after), clock.now(), principal.user_id
    db.add(row)
    record(db, principal, "config_invoice_identity_saved", "setting", KEY, before, after)
    db.commit()
    return current(db)
