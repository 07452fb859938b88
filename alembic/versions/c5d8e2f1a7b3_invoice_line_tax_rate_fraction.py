"""Invoice lines store their tax rate as a fraction (0.19 for 19 %), as the invoice page, the PDF and the e-invoice
read it; lines recorded through the API had kept the percent they were given (19). Those (any rate above 1, which
as a fraction would be over 100 %) are converted.

Revision ID: c5d8e2f1a7b3
Revises: b7e4d1c9a2f6
Create Date: 2026-12-07 22:20:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op

# revision identifiers, used by Alembic.
revision: str = 'c5d8e2f1a7b3'
down_revision: Union[str, Sequence[str], None] = 'b7e4d1c9a2f6'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Percent rates become fractions. ``100.0``, not ``100``: SQLite keeps a whole-number rate in a NUMERIC column
    as an integer, and integer division would turn 19 into 0."""
    op.execute(sa.text("UPDATE invoiceline SET tax_rate = tax_rate / 100.0 WHERE tax_rate > 1"))


def downgrade() -> None:
    """Nothing to undo: which rates were converted is not recorded, and fractions are what every reader expects."""
