"""The address an audited action came from, and when a person was erased (GDPR).

Revision ID: a4e9c2d7f150
Revises: d8b3f1a6c524
Create Date: 2026-12-07 19:10:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa

import models.base

from alembic import op

# revision identifiers, used by Alembic.
revision: str = 'a4e9c2d7f150'
down_revision: Union[str, Sequence[str], None] = 'd8b3f1a6c524'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('auditlog', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ip_address', sa.String(length=64), nullable=True))
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
    with op.batch_alter_table('auditlog', schema=None) as batch_op:
        batch_op.drop_column('ip_address')
