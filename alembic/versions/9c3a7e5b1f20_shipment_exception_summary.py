"""Each shipment's open-exception summary (count and next SLA due time), kept by triggers on opsexception, and
the board's partial index over shipments with an open exception (see models/exception_summary.py); shipments by
owner, team and branch with their status, so the board counts such a filter from an index alone; exceptions by
kind and status with the times the KPIs read.

Revision ID: 9c3a7e5b1f20
Revises: 4b8e2f61d0a7
Create Date: 2026-11-22 22:30:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op
from models import exception_summary
from models.base import UTCDateTime

# revision identifiers, used by Alembic.
revision: str = '9c3a7e5b1f20'
down_revision: Union[str, Sequence[str], None] = '4b8e2f61d0a7'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OPEN = sa.text("open_exceptions > 0")


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('open_exceptions', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('next_sla_due_at', UTCDateTime(), nullable=True))
    op.create_index('ix_shipment_open_exceptions', 'shipment', ['updated_at', 'next_sla_due_at', 'status', 'mode',
                                                                 'company_id', 'branch_id', 'team_id', 'owner_id',
                                                                 'open_exceptions'], unique=False,
                    sqlite_where=OPEN, postgresql_where=OPEN)
    for column in ('owner', 'team', 'branch'):
        op.create_index(f'ix_shipment_{column}_status', 'shipment', [f'{column}_id', 'status'], unique=False)
    with op.batch_alter_table('opsexception', schema=None) as batch_op:
        batch_op.create_index('ix_opsexception_kind_status_times', ['kind', 'status', 'created_at', 'sla_due_at',
                                                                    'company_id', 'shipment_id'], unique=False)
        batch_op.drop_index('ix_opsexception_kind_status')
    dialect = op.get_bind().dialect.name
    op.execute(exception_summary.backfill_statement())
    for statement in exception_summary.create_statements(dialect):
        op.execute(statement)


def downgrade() -> None:
    """Downgrade schema."""
    for statement in exception_summary.drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    with op.batch_alter_table('opsexception', schema=None) as batch_op:
        batch_op.create_index('ix_opsexception_kind_status', ['kind', 'status'], unique=False)
        batch_op.drop_index('ix_opsexception_kind_status_times')
    op.drop_index('ix_shipment_open_exceptions', table_name='shipment')
    for column in ('owner', 'team', 'branch'):
        op.drop_index(f'ix_shipment_{column}_status', table_name='shipment')
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.drop_column('next_sla_due_at')
        batch_op.drop_column('open_exceptions')
