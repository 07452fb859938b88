"""Signed webhooks: subscriptions for every company (staff), pausing after failures, the delivery log.

Revision ID: e8a1f4c2b9d7
Revises: c5d8e2f1a7b3
Create Date: 2026-12-07 22:30:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel

from alembic import op
from models.base import UTCDateTime

# revision identifiers, used by Alembic.
revision: str = 'e8a1f4c2b9d7'
down_revision: Union[str, Sequence[str], None] = 'c5d8e2f1a7b3'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('webhooksubscription', schema=None) as batch_op:
        batch_op.alter_column('secret', existing_type=sqlmodel.sql.sqltypes.AutoString(length=100),
                              type_=sqlmodel.sql.sqltypes.AutoString(length=300), existing_nullable=False)
        batch_op.add_column(sa.Column('all_companies', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('consecutive_failures', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('failing_since', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_success_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('paused_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('pause_reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
    with op.batch_alter_table('webhookdelivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('company_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('sent_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_attempt_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
        batch_op.create_foreign_key('fk_webhookdelivery_company_id_company', 'company', ['company_id'], ['id'])
        batch_op.create_index('ix_webhookdelivery_status_next', ['status', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('webhookdelivery', schema=None) as batch_op:
        batch_op.drop_index('ix_webhookdelivery_status_next')
        batch_op.drop_constraint('fk_webhookdelivery_company_id_company', type_='foreignkey')
        for name in ('last_error', 'last_attempt_at', 'sent_at', 'company_id', 'event_id'):
            batch_op.drop_column(name)
    with op.batch_alter_table('webhooksubscription', schema=None) as batch_op:
        for name in ('pause_reason', 'paused_at', 'last_success_at', 'failing_since', 'consecutive_failures',
                     'all_companies'):
            batch_op.drop_column(name)
        batch_op.alter_column('secret', existing_type=sqlmodel.sql.sqltypes.AutoString(length=300),
                              type_=sqlmodel.sql.sqltypes.AutoString(length=100), existing_nullable=False)
