"""Free time: demurrage and detention free days on rate cards and on the options priced from them.

Revision ID: d8b3f1a6c524
Revises: c7a4e2d9b316
Create Date: 2026-12-07 17:00:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op

# revision identifiers, used by Alembic.
revision: str = 'd8b3f1a6c524'
down_revision: Union[str, Sequence[str], None] = 'c7a4e2d9b316'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    for table in ('ratecard', 'quoteoption'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('demurrage_free_days', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('detention_free_days', sa.Integer(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    for table in ('quoteoption', 'ratecard'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('detention_free_days')
            batch_op.drop_column('demurrage_free_days')
