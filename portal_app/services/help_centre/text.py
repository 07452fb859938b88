"""How help-centre text becomes search terms: the same steps for articles and for questions.

1. Lower-case, strip accents, split into runs of letters and digits ("B/L" -> "b", "l"; "e-mail" -> "e", "mail").
2. Replace freight phrases by one word (``PHRASES``: "bill of lading" -> "bl", "sign in" -> "login").
3. Drop stop words (``STOP_WORDS``: "is", "my", "how", "please"...).
4. Stem with the Snowball English stemmer ("containers" -> "contain", "delivered" -> "deliv").
5. Map every stem of a synonym group to the group's name (``SYNONYMS``: "box", "cntr", "container" -> "container").

So "Where is my box?" and "Track a container" both become ``["track", "container"]``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

_STEMMER = snowballstemmer.stemmer("english")
_WORD = re.compile(r"[a-z0-9]+")

# Words that say nothing about what a person is looking for. "where", "late", "change" and "cancel" are kept:
# they carry the meaning of a question.
_STOP_WORDS = """
a about above after all also am an and any anyone anything are as at be been before being both but by can
cannot cant could did didnt do does doesnt doing done dont each either else ever for from further get gets getting
got had has hasnt have havent having he hello her here hers hey hi him his how i id if im in into is isnt it its
itself ive just kind know let lets like ll m may me might mine more most much must my myself no nor not
now of off ok okay on once only or other our ours out over own please re really regards s same see she should so
some someone something still such t than thank thanks that thats the their theirs them then there these they this
those through thx to too try trying under until up us ve very want wanted wants was wasnt we were werent what whats
which while who whom whose why will with wont would wouldnt yet you your yours yourself help hows whats d when
whenever think thought wonder wondering guess happen happens happened mean means
meaning tell show find use using way able possible say says said go going goes make made anyway already ago
again right exactly currently today tomorrow yesterday soon asap urgent urgently
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())

# Multi-word phrases first (longest first), matched on the lower-cased words before stemming.
PHRASES: dict[str, str] = {
    "bill of lading": "bl",
    "bills of lading": "bl",
    "b l": "bl",
    "sea waybill": "bl",
    "house bill": "bl",
    "master bill": "bl",
    "telex release": "bl",
    "air waybill": "awb",
    "air waybills": "awb",
    "air way bill": "awb",
    "airway bill": "awb",
    "airway bills": "awb",
    "sign in": "login",
    "signing in": "login",
    "signed in": "login",
    "log in": "login",
    "logging in": "login",
    "logged in": "login",
    "log on": "login",
    "locked out": "login",
    "sign on": "login",
    "two factor": "mfa",
    "2 factor": "mfa",
    "two step": "mfa",
    "2 step": "mfa",
    "one time code": "mfa",
    "authenticator app": "mfa",
    "e mail": "email",
    "e mails": "email",
    "held up": "delay",
    "running late": "delay",
    "rolled over": "delay",
    "pushed back": "delay",
    "on hold": "hold",
    "dangerous goods": "dangerous",
    "un number": "dangerous",
    "safety data sheet": "sds",
    "ex works": "incoterm",
    "free time": "demurrage",
    "free days": "demurrage",
    "per diem": "demurrage",
    "pick up": "pickup",
    "picked up": "pickup",
    "speak to": "contact",
    "talk to": "contact",
    "get in touch": "contact",
    "reach you": "contact",
    "too many": "often",
    "how often": "often",
    "how much do i owe": "balance",
    "account statement": "statement",
    "statement of account": "statement",
    "credit card": "card",
    "debit card": "card",
    "packing list": "packinglist",
    "packing lists": "packinglist",
    "commercial invoice": "commercialinvoice",
    "commercial invoices": "commercialinvoice",
    "certificate of origin": "origincertificate",
}

# Synonym groups: every word of a group (stemmed) stands for the group's name. A word belongs to one group.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "track": ("track", "tracking", "trace", "tracing", "where", "whereabouts", "status", "position"),
    "container": (
        "container",
        "containers",
        "box",
        "boxes",
        "cntr",
        "ctr",
        "teu",
        "feu",
        "20ft",
        "40ft",
        "45ft",
        "20gp",
        "40gp",
        "40hc",
        "40hq",
        "hc",
        "hq",
        "fcl",
    ),
    "shipment": ("shipment", "consignment", "cargo", "goods", "freight", "order", "parcel", "package"),
    "deliver": ("deliver", "delivery", "delivered", "delivering", "drop", "dropoff", "receive", "received"),
    "address": ("address", "location", "place", "warehouse", "site", "consignee"),
    "change": (
        "change",
        "amend",
        "amendment",
        "modify",
        "modification",
        "update",
        "edit",
        "alter",
        "correct",
        "correction",
        "switch",
        "reroute",
        "different",
        "another",
    ),
    "invoice": ("invoice", "bill", "billing", "billed"),
    "charge": ("charge", "fee", "surcharge", "extra"),
    "pay": ("pay", "payment", "paid", "remit", "remittance", "settle", "transfer", "wire", "card"),
    "document": ("document", "doc", "docs", "paperwork", "paper", "papers", "file", "files", "certificate"),
    "upload": ("upload", "send", "submit", "attach", "attachment", "provide"),
    "download": ("download", "copy", "print", "pdf", "original", "originals"),
    "bl": ("bl", "mbl", "hbl", "obl", "lading"),
    "awb": ("awb", "mawb", "hawb", "waybill"),
    "customs": (
        "customs",
        "clearance",
        "clear",
        "cleared",
        "clearing",
        "broker",
        "brokerage",
        "declaration",
        "import",
        "export",
    ),
    "duty": ("duty", "duties", "tax", "taxes", "vat", "tariff", "gst"),
    "delay": ("late", "later", "delay", "slip", "slipped", "behind", "postponed", "postpone"),
    "hold": ("hold", "held", "stuck", "inspection", "inspect", "exam", "examination", "xray", "blocked"),
    "eta": ("eta", "arrival", "arrive", "arriving", "expected", "estimated", "ata"),
    "depart": ("departure", "depart", "departed", "sail", "sailing", "etd", "leave", "left", "flight", "vessel"),
    "cancel": ("cancel", "cancellation", "cancelled", "canceled", "withdraw", "abort"),
    "quote": ("quote", "quotation", "price", "pricing", "rate", "cost", "offer", "cheap", "expensive"),
    "book": ("book", "booking", "reserve", "reservation", "accept"),
    "login": (
        "login",
        "password",
        "passwords",
        "signin",
        "username",
        "credential",
        "credentials",
        "logon",
        "locked",
        "lockout",
        "reset",
        "forgot",
        "forgotten",
        "access",
    ),
    "mfa": ("mfa", "2fa", "otp", "verification"),
    "colleague": ("colleague", "coworker", "teammate", "user", "users", "employee", "invite"),
    "notify": (
        "notification",
        "notify",
        "notified",
        "alert",
        "alerts",
        "email",
        "mail",
        "message",
        "messages",
        "subscribe",
        "unsubscribe",
        "digest",
    ),
    "demurrage": ("demurrage", "detention", "storage"),
    "dispute": (
        "dispute",
        "disputed",
        "wrong",
        "incorrect",
        "mistake",
        "challenge",
        "disagree",
        "overcharged",
        "overcharge",
        "query",
    ),
    "statement": ("statement", "balance", "owe", "outstanding", "aging", "ageing", "ledger", "overdue", "debt"),
    "insurance": ("insurance", "insure", "insured", "cover", "coverage", "premium"),
    "damage": ("damage", "damaged", "broken", "claim", "loss", "lost"),
    "dangerous": (
        "dangerous",
        "hazardous",
        "hazmat",
        "imdg",
        "dgr",
        "flammable",
        "lithium",
        "battery",
        "batteries",
        "chemical",
        "chemicals",
        "msds",
        "sds",
        "dg",
    ),
    "incoterm": (
        "incoterm",
        "incoterms",
        "fob",
        "cif",
        "exw",
        "fca",
        "dap",
        "ddp",
        "cpt",
        "cip",
        "dpu",
        "fas",
        "cfr",
        "responsibility",
        "responsible",
    ),
    "milestone": (
        "milestone",
        "event",
        "events",
        "stage",
        "step",
        "steps",
        "depa",
        "arri",
        "disc",
        "gtin",
        "load",
        "loaded",
        "discharged",
        "discharge",
    ),
    "reject": (
        "reject",
        "rejected",
        "rejection",
        "refuse",
        "refused",
        "decline",
        "declined",
        "denied",
        "approve",
        "approved",
    ),
    "require": (
        "require",
        "required",
        "requirement",
        "need",
        "needed",
        "necessary",
        "mandatory",
        "checklist",
        "missing",
    ),
    "request": ("request", "ticket", "case", "enquiry", "inquiry", "complaint", "issue", "problem"),
    "contact": ("contact", "speak", "talk", "call", "phone", "reach", "human", "person", "representative", "agent"),
    "port": ("port", "terminal", "harbour", "harbor", "quay", "airport"),
    "pickup": ("pickup", "collect", "collection", "collected"),
    "often": ("often", "frequent", "frequently", "spam", "daily", "fewer", "less"),
    "version": ("version", "versions", "replace", "replaced", "overwrite", "reupload"),
}


def _stem(word: str) -> str:
    return _STEMMER.stemWord(word)


def _build_synonym_map() -> dict[str, str]:
    mapping: dict[str, str] = {}
    for group, words in SYNONYMS.items():
        for word in (group, *words):
            for part in word.split():
                stem = _stem(part)
                if stem in mapping and mapping[stem] != group:
                    raise ValueError(f"{word!r} is in two synonym groups: {mapping[stem]} and {group}")
                mapping[stem] = group
    return mapping


_SYNONYM_OF = _build_synonym_map()
_PHRASES = sorted(((tuple(p.split()), word) for p, word in PHRASES.items()), key=lambda p: -len(p[0]))
_MAX_PHRASE = max(len(p) for p, _ in _PHRASES)
_PHRASE_OF = dict(_PHRASES)


def words(text: str) -> list[str]:
    """Lower-case words of ``text``, accents removed ("Café B/L" -> ["cafe", "b", "l"])."""
    plain = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii").lower()
    plain = plain.replace("'", "").replace("\u2019", "")  # "can't" -> "cant", "shipper's" -> "shippers"
    return _WORD.findall(plain)


def _join_phrases(tokens: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for size in range(min(_MAX_PHRASE, len(tokens) - i), 1, -1):
            word = _PHRASE_OF.get(tuple(tokens[i : i + size]))
            if word is not None:
                out.append(word)
                i += size
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


@lru_cache(maxsize=20_000)
def term(word: str) -> str:
    """One word's search term: its synonym group's name, else its stem."""
    stem = _stem(word)
    return _SYNONYM_OF.get(stem, stem)


def analyse(text: str) -> list[str]:
    """The search terms of ``text``, in order, repeats kept (they count in articles)."""
    out = []
    for word in _join_phrases(words(text)):
        if word in STOP_WORDS or (len(word) < 2 and not word.isdigit()):
            continue
        out.append(term(word))
    return out
