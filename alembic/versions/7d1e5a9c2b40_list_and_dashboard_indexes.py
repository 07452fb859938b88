"""Indexes for the invoice list and the dashboard.

Invoices by company and issue date (the list, newest first); shipments by company, status and delay (the
dashboard's delayed figures read the index alone); invoices by company and status with currency and balance
(the open balance per currency reads the index alone). The two last replace the narrower (company, status)
indexes they extend.

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
        batch_op.create_index('ix_invoice_company_status_balance', ['company_id', 'status', 'currency', 'balance'],
                              unique=False)
        batch_op.drop_index('ix_invoice_company_status')
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.create_index('ix_shipment_company_status_delay', ['company_id', 'status', 'delay_minutes'],
                              unique=False)
        batch_op.drop_index('ix_shipment_company_status')


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.create_index('ix_shipment_company_status', ['company_id', 'status'], unique=False)
        batch_op.drop_index('ix_shipment_company_status_delay')
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.create_index('ix_invoice_company_status', ['company_id', 'status'], unique=False)
        batch_op.drop_index('ix_invoice_company_status_balance')
        batch_op.drop_index('ix_invoice_company_issued')
