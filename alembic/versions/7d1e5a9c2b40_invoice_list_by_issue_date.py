"""Invoice list by issue date: an index that walks a company's invoices newest first.

Revision ID: 7d1e5a9c2b40
Revises: 3cf2526314cf
Create Date: 2026-11-22 12:20:00.000000

"""
from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = '7d1e5a9c2b40'
down_revision: Union[str, Sequence[str], None] = '3cf2526314cf'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.create_index('ix_invoice_company_issued', ['company_id', 'issue_date'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_index('ix_invoice_company_issued')
