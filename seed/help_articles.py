"""The help centre's starting articles: what a forwarder's customers ask most, in Markdown.

``audience`` is ``public`` (everyone, signed out too) or ``customers`` (signed-in customers only). ``keywords`` are
the words customers use that the text may not (they weigh twice as much as the body in search). Staff edit all of
it later at /tower/help; tests/services/test_help_search_quality.py checks that realistic questions find these articles.
"""

from __future__ import annotations

HELP_ARTICLES: list[dict[str, str]] = [
    {
        "slug": "track-a-shipment",
        "title": "Track a shipment",
        "audience": "public",
        "keywords": "tracking, where is my shipment, where is my container, status, booking number, bill of lading, "
        "AWB, PO, reference, ETA, when will it arrive, arrival date, has it left the port, departed",
        "body_markdown": """# Track a shipment

Type any reference into the search box on **Shipments**: our shipment number (for example `SH0000123`), your
purchase order, the booking number, a bill of lading (MBL or HBL), an air waybill (`020-12345675`) or a
container number (`MSKU9070323`). Spaces, dashes and lower case do not matter.

Each shipment shows its milestones with three times:

| Time | Meaning |
|---|---|
| Planned | what was agreed at booking |
| Estimated | the latest forecast from the carrier or our team |
| Actual | when it really happened |

If the estimated arrival moves, the shipment shows the new ETA, the reason and when it changed. Choose
**Follow** on a shipment to hear about its progress in the portal and by email.
""",
    },
    {
        "slug": "milestones-explained",
        "title": "What the milestones mean",
        "audience": "public",
        "keywords": "milestones, gate in, loaded, departed, discharged, customs released, DCSA, IATA, status codes",
        "body_markdown": """# What the milestones mean

Ocean milestones follow the DCSA Track & Trace standard: *gate in full* (GTIN), *loaded on vessel* (LOAD),
*vessel departure* (DEPA), *vessel arrival* (ARRI), *discharged* (DISC), *customs released* and
*delivered* (DROP). Air milestones follow IATA status codes: booked (BKD), received from shipper (RCS),
manifested (MAN), departed (DEP), arrived (ARR), received from flight (RCF), consignee notified (NFD) and
delivered (DLV).

A milestone without an actual time has not happened yet.
""",
    },
    {
        "slug": "upload-documents",
        "title": "Upload shipping documents",
        "audience": "customers",
        "keywords": "upload, send documents, attach, commercial invoice, packing list, shipping instructions, "
        "replace a file, wrong file, new version",
        "body_markdown": """# Upload shipping documents

Open the shipment and choose **Documents**. The checklist shows what is still needed and by when. Upload PDF,
image or spreadsheet files; each upload is kept as a new version, so nothing is overwritten.

Uploaded the wrong file? Upload the right one to the same document type: it becomes the current version and
the old one stays in the history.

If our team rejects a document, the reason is shown next to it. Upload a corrected version and the checklist
updates straight away.
""",
    },
    {
        "slug": "invoices-and-payments",
        "title": "Invoices, balances and payments",
        "audience": "customers",
        "keywords": "invoice, invoices, payment received, overdue, balance, paid but still open, invoice status, "
        "credit note",
        "body_markdown": """# Invoices, balances and payments

**Invoices** lists every invoice with its status: *issued*, *partially paid*, *paid*, *overdue* (due date
passed and a balance remains) or *disputed*. The balance is the total minus payments received.

Payments can take two working days to appear: an invoice you have just paid may still show as open or overdue
until then. To question an invoice, open it and choose **Dispute invoice**; the invoice is marked as disputed
while we look into it.
""",
    },
    {
        "slug": "raise-a-request",
        "title": "Raise a request",
        "audience": "customers",
        "keywords": "request, ticket, support, contact us, speak to someone, customer service, question, complaint",
        "body_markdown": """# Raise a request

Use **Requests → New request** or the button on a shipment or invoice page; the request is then linked to it
and our team sees the context straight away. You can follow replies in the portal and by email.

Target response times depend on the priority: urgent requests get a first answer within one hour during
office hours. Before you send it, the portal shows help articles that may already answer your question.
""",
    },
    {
        "slug": "incoterms-2020",
        "title": "Incoterms 2020 in short",
        "audience": "public",
        "keywords": "incoterms, FOB, CIF, EXW, FCA, DAP, DDP, CPT, CIP, DPU, FAS, CFR, who pays freight, risk",
        "body_markdown": """# Incoterms 2020 in short

Incoterms say who arranges and pays the main carriage and where the risk passes from seller to buyer.

* **EXW, FCA, FAS, FOB**: the buyer arranges the main carriage.
* **CPT, CIP, CFR, CIF**: the seller pays the main carriage; risk passes at the first carrier (CPT, CIP) or
  on board the vessel (CFR, CIF).
* **DAP, DPU, DDP**: the seller delivers to the named place; with DDP the seller also pays import duties.

FAS, FOB, CFR and CIF are for sea and inland waterway transport only; for air and road use FCA, CPT or CIP.
""",
    },
    {
        "slug": "container-and-awb-numbers",
        "title": "Container and air waybill numbers",
        "audience": "public",
        "keywords": "container number, ISO 6346, check digit, air waybill, AWB, MAWB, HAWB, valid number, format",
        "body_markdown": """# Container and air waybill numbers

A container number has four letters and seven digits, for example `MSKU 907032 3`: the owner code, the
category letter (U for freight containers), a six-digit serial number and a check digit (ISO 6346).

An air waybill number has eleven digits, for example `020-12345675`: the airline prefix (020 is Lufthansa
Cargo), a seven-digit serial and a check digit (the serial modulo 7).

The portal checks both, so a typo is caught before you search or book.
""",
    },
    {
        "slug": "eta-changes-and-delays",
        "title": "Delays and ETA changes",
        "audience": "public",
        "keywords": "late, delayed, delay, running late, new ETA, ETA changed, postponed, rolled over, congestion, "
        "weather",
        "body_markdown": """# Delays and ETA changes

Carriers update their estimated time of arrival (ETA) as a voyage or flight goes on. When the ETA of your
shipment moves, the shipment page shows the new ETA, the old one, how many hours it moved and the reason, for
example port congestion, bad weather, cargo rolled over to the next sailing, a customs inspection or a flight
offloaded for capacity.

## How you hear about it

Follow the shipment and the portal tells you when the ETA moves by more than your threshold (24 hours unless
you change it under **Account → Notifications**). **Shipments → Delayed only** lists every shipment of yours
that is running late.

## What we do

Our team watches every delay and books the next possible connection when cargo is rolled over. If a delay
affects a delivery appointment or a production line, raise a request on the shipment so we can look for
alternatives such as air freight or a different delivery date.
""",
    },
    {
        "slug": "change-delivery-address",
        "title": "Change the delivery address or booking details",
        "audience": "customers",
        "keywords": "change delivery address, deliver somewhere else, different address, amend booking, "
        "modify booking, change consignee, change ready date, update cargo details",
        "body_markdown": """# Change the delivery address or booking details

Open the shipment and choose **Ask to change the booking**. Fill in only what should change: the ready date,
shipper, consignee, your reference (PO), the cargo description, packages, weight or volume. Your booking stays
as it is until our team has checked the change with the carrier; you are notified of the answer and the shipment
page shows it.

## A new delivery address

Write the new delivery address, with a contact and opening hours, in the **Why** field of the change request,
or raise a request on the shipment. We rebook the final delivery with the haulier and confirm the new date.

## Good to know

* Changes are easiest before the cargo leaves. Once it has departed, changes go through a request to our team.
* Changing the consignee after the bill of lading is issued needs an amendment by the carrier, which may cost
  an amendment fee.
* A new address far from the original one can change the delivery price; we tell you before we confirm.
""",
    },
    {
        "slug": "cancel-a-booking",
        "title": "Cancel a booking",
        "audience": "customers",
        "keywords": "cancel booking, cancellation, do not ship, withdraw, cancellation fee, stop shipment",
        "body_markdown": """# Cancel a booking

Open the shipment and choose **Ask to cancel the booking**, with the reason. The booking stays booked until our
team has cancelled it with the carrier; you are notified when it is done.

* Before the carrier has released an empty container or accepted the cargo, cancelling is free.
* After that, the carrier's cancellation fee and any trucking already ordered are charged at cost.
* Once the cargo has left, a booking cannot be cancelled; raise a request if the goods must be returned or
  sent elsewhere, and we will tell you what is possible.
""",
    },
    {
        "slug": "required-documents",
        "title": "Which documents are needed for a shipment",
        "audience": "public",
        "keywords": "required documents, what documents do I need, paperwork, export documents, import documents, "
        "commercial invoice, packing list, certificate of origin, shipping instructions, checklist",
        "body_markdown": """# Which documents are needed for a shipment

What is needed depends on the transport mode, the Incoterm and whether the goods are dangerous. Each shipment's
**Documents** checklist lists exactly what we need from you and by when (a number of days before departure);
the home page counts the documents still missing.

Usually you provide:

* **Commercial invoice**: seller, buyer, goods with HS codes, quantities, values, currency and the Incoterm.
* **Packing list**: packages, contents, net and gross weights and dimensions for each package.
* **Shipping instructions** (sea freight): shipper, consignee, notify party and how the bill of lading should
  read.
* **Certificate of origin**, when the buyer claims a lower duty under a trade agreement.
* **Dangerous goods declaration** and safety data sheet for hazardous goods.

We produce the bill of lading or air waybill, the customs declarations and the arrival notice.
""",
    },
    {
        "slug": "document-rejected",
        "title": "Why a document was rejected and how to fix it",
        "audience": "customers",
        "keywords": "document rejected, packing list rejected, invoice rejected, refused, not accepted, declined, "
        "wrong document, fix, correct",
        "body_markdown": """# Why a document was rejected and how to fix it

Our team checks every document against the booking before it goes to the carrier or to customs. When something
does not match, the document is rejected and the reason is shown next to it on the shipment's **Documents**
tab; you are also notified.

Common reasons:

* The weights or number of packages on the packing list do not match the booking or the commercial invoice.
* The commercial invoice has no HS codes, no Incoterm, no currency or no signature.
* The scan is unreadable or pages are missing.
* The file belongs to another shipment or is a draft.

Correct the document and upload it again to the same document type: it becomes a new version, the checklist
updates at once and the rejected version stays in the history.
""",
    },
    {
        "slug": "download-documents",
        "title": "Download your bill of lading, air waybill and other documents",
        "audience": "customers",
        "keywords": "download, where to find documents, copy of bill of lading, BL copy, air waybill copy, "
        "arrival notice, proof of delivery, POD, original documents, print",
        "body_markdown": """# Download your bill of lading, air waybill and other documents

**Documents** lists every document of your company's shipments: filter by shipment or type and download any
of them. A shipment's page lists its own documents too. The latest version is shown first; earlier versions
stay available.

* **Bill of lading** (sea): we upload the draft for you to check, then the final copy. With a sea waybill or a
  telex release no paper original is needed at destination.
* **Air waybill**: available once the cargo is booked on a flight.
* **Arrival notice** and **proof of delivery**: added when the goods arrive and when they are delivered.
""",
    },
    {
        "slug": "customs-clearance",
        "title": "Customs clearance: how it works",
        "audience": "public",
        "keywords": "customs, clearance, customs broker, import declaration, export declaration, duties, taxes, VAT, "
        "EORI, HS code, how long",
        "body_markdown": """# Customs clearance: how it works

Our customs brokers file the export declaration at origin and the import declaration at destination, based on
your commercial invoice, packing list and the HS codes of the goods. We need your importer or exporter number
(EORI in the EU) and, for lower duty rates, a certificate of origin.

## Duties and taxes

Import duties and import VAT are paid by the importer, unless the Incoterm is DDP. When we pay them on your
behalf, they are invoiced at cost.

## How long it takes

Most declarations are cleared within a day. The milestone *customs released* shows when the goods are free to
leave. If customs select the shipment for a check, see *Customs holds and inspections*.
""",
    },
    {
        "slug": "customs-holds",
        "title": "Customs holds and inspections",
        "audience": "public",
        "keywords": "customs hold, stuck in customs, container held by customs, inspection, x-ray, physical "
        "examination, not released",
        "body_markdown": """# Customs holds and inspections

Customs may hold a shipment to check its documents, scan it (x-ray) or open it for a physical examination. A
hold usually adds one to three working days. The shipment shows the hold as an exception and our team tells you
as soon as it is released.

* If customs ask for more information, such as a missing certificate or a clearer description of the goods, we
  ask you at once: answer quickly, because storage charges run while the goods wait.
* Examination, storage and transport to the inspection area are charged by customs and the terminal; we pass
  them on at cost.
""",
    },
    {
        "slug": "pay-an-invoice",
        "title": "How to pay an invoice",
        "audience": "customers",
        "keywords": "pay invoice, payment, bank transfer, bank details, remittance, pay by card, how to pay, "
        "payment reference, IBAN, VAT number",
        "body_markdown": """# How to pay an invoice

Pay by bank transfer, in the invoice's currency, to the account in the **How to pay** block of the invoice
(download it as a PDF from **Invoices**): account holder, IBAN, BIC/SWIFT and bank. Quote the **payment
reference** printed there (it contains the invoice number), so the payment is matched automatically.

* The top and the foot of every invoice show our legal name, registered address and VAT number, for your
  accounts team.
* If the invoice says "Bank details: ask ..." instead, our account is not printed on it yet: raise a request
  (category Billing) and we send it to you.
* Paying several invoices at once? List every invoice number in the reference or send us the remittance advice
  with a request.
* Card payments are not accepted.
* The due date follows your company's payment terms and is shown on each invoice.

Payments appear on the invoice within two working days of reaching our account.
""",
    },
    {
        "slug": "dispute-an-invoice",
        "title": "Question or dispute an invoice",
        "audience": "customers",
        "keywords": "dispute invoice, invoice wrong, incorrect charge, overcharged, query an invoice, credit note, "
        "charges I did not expect",
        "body_markdown": """# Question or dispute an invoice

If a charge looks wrong, open the invoice under **Invoices** and choose **Dispute invoice**. Say which charge
and why: that saves a round of questions. The invoice is marked as disputed and our finance team answers
within five working days.

* If we agree, you receive a credit note and the balance is corrected.
* Please pay the parts of the invoice you do not dispute by the due date.
""",
    },
    {
        "slug": "account-statement",
        "title": "Your statement of account",
        "audience": "customers",
        "keywords": "statement, account statement, balance, how much do I owe, outstanding, aging, overdue, Excel, CSV",
        "body_markdown": """# Your statement of account

**Statement** shows what your company owes us, per currency: open invoices, the total balance and how old it
is (current, 1-30, 31-60, 61-90 and over 90 days past due). Download it as CSV or Excel for your accounts
team.

The statement includes every payment we have received up to today; overdue invoices are marked.
""",
    },
    {
        "slug": "quotes-and-booking",
        "title": "Get a quote and book a shipment",
        "audience": "public",
        "keywords": "quote, price, rate, cost, how much to ship, quotation, book, booking, new shipment, "
        "container rates, compare options, transit time",
        "body_markdown": """# Get a quote and book a shipment

Under **Quotes → New quote request**, enter the mode (sea, air or road), origin and destination, the cargo (or
the containers, for example one 40' high cube), the ready date and any extra services such as pickup, customs
or insurance. A draft is kept while you fill it in.

Where we have rates for the lane, you see the options at once; otherwise our team prices the request by hand
and you are notified. Compare the options side by side (price, transit time, validity), download a PDF, and
choose **Book** on the one you want. Our team then confirms the booking with the carrier.

Not a customer yet? Contact us and we will open an account for your company.
""",
    },
    {
        "slug": "dangerous-goods",
        "title": "Shipping dangerous goods",
        "audience": "public",
        "keywords": "dangerous goods, hazardous, hazmat, DG, lithium batteries, UN number, IMDG, IATA DGR, MSDS, "
        "SDS, chemicals, documents for dangerous goods",
        "body_markdown": """# Shipping dangerous goods

Goods such as lithium batteries, paints, aerosols and many chemicals are dangerous goods. Tell us when you ask
for a quote: tick dangerous goods on the cargo line and give the UN number and class.

The documents we need:

* the **safety data sheet** (SDS or MSDS) of the product;
* a **dangerous goods declaration** (IMDG for sea, IATA DGR for air), signed by a trained person;
* packages that are approved, marked and labelled for the UN number.

Carriers accept dangerous goods on selected sailings and flights only and charge a surcharge. Some goods are
not accepted by air at all.
""",
    },
    {
        "slug": "cargo-insurance",
        "title": "Cargo insurance and damage claims",
        "audience": "public",
        "keywords": "insurance, insure cargo, cover, damaged goods, claim, loss, broken, carrier liability",
        "body_markdown": """# Cargo insurance and damage claims

A carrier's liability for lost or damaged cargo is limited by international conventions to a small amount per
kilogram, far below the value of most goods. Cargo insurance covers the value of the goods.

Add insurance when you ask for a quote: give the cargo value and currency, and the premium is a small
percentage of it.

## If goods arrive damaged or are lost

1. Note the damage on the delivery receipt before signing, and take photos.
2. Keep the goods and packaging until the surveyor has seen them.
3. Raise a request on the shipment within three days, with the photos and the commercial invoice. We file the
   claim with the carrier and the insurer.
""",
    },
    {
        "slug": "password-and-sign-in",
        "title": "Sign-in problems and passwords",
        "audience": "public",
        "keywords": "forgot password, reset password, cannot log in, locked out, sign in, login, change password, "
        "account locked",
        "body_markdown": """# Sign-in problems and passwords

**Forgot your password?** Your company's portal administrator can set a new one for you; if you are the
administrator, ask your contact at our office.

**Sign-in paused?** After several failed attempts, sign-in for your email is paused for a few minutes to
protect your account. Wait and try again with the right password.

**Change your password** with **Change password** at the top of every page. Changing it signs you out on
every other device. A sign-in lasts for a working day; after that, sign in again.
""",
    },
    {
        "slug": "manage-colleagues",
        "title": "Add or remove colleagues",
        "audience": "customers",
        "keywords": "add colleague, new user, invite user, remove user, deactivate, give access, portal admin, "
        "customer admin, roles",
        "body_markdown": """# Add or remove colleagues

Your company's portal administrators manage colleagues under **Account → Colleagues**:

* **Add a colleague**: name, email and role (user, or administrator who can also manage colleagues). They get a
  temporary password, shown once; share it securely and ask them to change it when they first sign in.
* **Change a role** or **switch an account off**: switching off signs the person out at once. The last
  administrator of a company cannot be switched off.

Not an administrator? Ask one of your company's portal administrators.
""",
    },
    {
        "slug": "notification-settings",
        "title": "Notifications and email settings",
        "audience": "customers",
        "keywords": "notifications, email settings, too many emails, stop emails, turn off alerts, daily summary, "
        "digest, follow shipment",
        "body_markdown": """# Notifications and email settings

The **Notifications** link at the top of every page shows what happened to your shipments, documents, bookings
and invoices, with the number of unread notices.

Under **Account → Notifications** choose, for each kind of event (milestones, ETA changes, documents,
invoices), whether you hear about it in the portal, by email or both. You can also:

* set how many hours an ETA must move before you are told;
* receive one daily email summary instead of separate emails.

Emails are bundled: many changes within a couple of minutes arrive as one email. You hear about shipments you
**Follow** and the ones you booked; choose Unfollow on a shipment page to stop its updates.
""",
    },
    {
        "slug": "demurrage-and-detention",
        "title": "Demurrage and detention charges",
        "audience": "public",
        "keywords": "demurrage, detention, free time, free days, storage, container charges, per diem, empty return",
        "body_markdown": """# Demurrage and detention charges

Carriers give a number of free days for their containers. After that they charge:

* **Demurrage**: the full container stays in the terminal after discharge beyond the free time.
* **Detention**: the container is out of the terminal (at your warehouse) beyond the free days before the empty
  is returned.
* **Storage**: charged by the terminal for cargo it keeps for you.

**Where to see your free time.** Every sea freight option on your quote shows its free time, for example
"Free time: Demurrage 7 free days, detention 14 free days". The days come from the carrier's tariff we priced the
option from, and they are shown again when you confirm the booking and on the quote PDF. Where an option reads
"Free time: standard terms", that tariff gives no fixed number and the carrier's standard free time at the
port applies; ask us for the number before you book if it matters for your delivery plan. Air and road
shipments have no container free time.

To avoid these charges, have documents and customs ready before the vessel arrives, plan the delivery as soon as
the container is released, and unload and return empties quickly. If the charges were caused by a delay on our
side, dispute the invoice.
""",
    },
]
