"""Customers hear about every shipment of their company by default: the user's choice of which shipments.

Revision ID: c7a4e2d9b316
Revises: b5d2c8e4a190
Create Date: 2026-12-07 16:30:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op

# revision identifiers, used by Alembic.
revision: str = 'c7a4e2d9b316'
down_revision: Union[str, Sequence[str], None] = 'b5d2c8e4a190'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shipment_news', sa.String(length=10), nullable=False, server_default='all'))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('shipment_news')
