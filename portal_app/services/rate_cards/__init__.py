"""Rate cards for ops managers: list, read, create, edit, deactivate, and import from CSV or Excel.

An import is all or nothing: every row is checked first; a file with any bad row is refused whole with a report
(row number as the spreadsheet shows it, column, problem in plain words) and nothing is stored. A good file is
stored in one transaction. The file layout is in docs/quotes.md and :data:`IMPORT_COLUMNS`.
"""

from portal_app.services.rate_cards.importing import (
    import_rate_cards,
    import_template_csv,
)
from portal_app.services.rate_cards.reading import (
    get_rate_card,
    list_rate_cards,
)
from portal_app.services.rate_cards.shapes import (
    BASES_BY_MODE,
    CARD_COLUMNS,
    CHARGE_COLUMNS,
    IMPORT_COLUMNS,
    MAX_CHARGES,
    MAX_FREE_DAYS,
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    MAX_PAGE_SIZE,
    MAX_REPORTED_PROBLEMS,
    MAX_TRANSIT_DAYS,
    NOTHING_IMPORTED,
    RATE_QUANTUM,
    REQUIRED_COLUMNS,
    ImportProblem,
    ImportRefused,
    ImportReport,
    RateCardInput,
    RateCardRow,
    RateCardView,
    RateChargeInput,
    RateChargeView,
)
from portal_app.services.rate_cards.writing import (
    create_rate_card,
    set_rate_card_active,
    update_rate_card,
)

__all__ = [
    "BASES_BY_MODE",
    "CARD_COLUMNS",
    "CHARGE_COLUMNS",
    "IMPORT_COLUMNS",
    "MAX_CHARGES",
    "MAX_FREE_DAYS",
    "MAX_IMPORT_BYTES",
    "MAX_IMPORT_ROWS",
    "MAX_PAGE_SIZE",
    "MAX_REPORTED_PROBLEMS",
    "MAX_TRANSIT_DAYS",
    "NOTHING_IMPORTED",
    "RATE_QUANTUM",
    "REQUIRED_COLUMNS",
    "ImportProblem",
    "ImportRefused",
    "ImportReport",
    "RateCardInput",
    "RateCardRow",
    "RateCardView",
    "RateChargeInput",
    "RateChargeView",
    "create_rate_card",
    "get_rate_card",
    "import_rate_cards",
    "import_template_csv",
    "list_rate_cards",
    "set_rate_card_active",
    "update_rate_card",
]
