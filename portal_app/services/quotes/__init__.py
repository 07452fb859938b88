"""Quote requests: drafts kept between visits, validation in a shipper's words, instant pricing against rate
cards, manual pricing by ops when nothing matches, the company's quotes list and one quote with its options.

Every query over quote rows is scoped by :func:`portal_app.auth.scope.company_filter` from the acting
principal. Status shown to people is derived on read: a quoted request whose offered options have all passed
their validity reads ``expired``, an offered option past ``valid_until`` reads ``expired``. Reads never write.
"""

from portal_app.services.quotes.common import (
    STANDARD_TERMS,
    cargo_of,
    exchange_rates,
    free_time_words,
    line_view,
    quote_reference,
    sort_options,
)
from portal_app.services.quotes.decisions import (
    add_manual_option,
    decline_quote,
    mark_booking_started,
)
from portal_app.services.quotes.drafts import (
    copy_to_draft,
    discard_draft,
    get_draft,
    save_draft,
)
from portal_app.services.quotes.pricing import (
    candidate_cards,
    price_request,
    submit_quote,
)
from portal_app.services.quotes.reading import (
    get_option,
    get_quote,
    list_quotes,
    manual_queue,
)
from portal_app.services.quotes.shapes import (
    ANY_MODE_EQUIVALENT,
    LIST_SORTS,
    MAX_CONTAINERS_PER_LINE,
    MAX_DIMENSION_CM,
    MAX_LINES,
    MAX_PACKAGES_PER_LINE,
    MAX_PAGE_SIZE,
    MAX_READY_DAYS_AHEAD,
    MAX_WEIGHT_KG,
    NOTHING_SUBMITTED,
    OPTION_VALID_DAYS,
    SORTS,
    CargoLineInput,
    CargoLineView,
    ManualChargeInput,
    ManualOptionInput,
    OptionChargeView,
    OptionView,
    QuoteInput,
    QuoteRow,
    QuoteView,
)

__all__ = [
    "ANY_MODE_EQUIVALENT",
    "LIST_SORTS",
    "MAX_CONTAINERS_PER_LINE",
    "MAX_DIMENSION_CM",
    "MAX_LINES",
    "MAX_PACKAGES_PER_LINE",
    "MAX_PAGE_SIZE",
    "MAX_READY_DAYS_AHEAD",
    "MAX_WEIGHT_KG",
    "NOTHING_SUBMITTED",
    "OPTION_VALID_DAYS",
    "SORTS",
    "STANDARD_TERMS",
    "CargoLineInput",
    "CargoLineView",
    "ManualChargeInput",
    "ManualOptionInput",
    "OptionChargeView",
    "OptionView",
    "QuoteInput",
    "QuoteRow",
    "QuoteView",
    "add_manual_option",
    "candidate_cards",
    "cargo_of",
    "copy_to_draft",
    "decline_quote",
    "discard_draft",
    "exchange_rates",
    "free_time_words",
    "get_draft",
    "get_option",
    "get_quote",
    "line_view",
    "list_quotes",
    "manual_queue",
    "mark_booking_started",
    "price_request",
    "quote_reference",
    "save_draft",
    "sort_options",
    "submit_quote",
]
