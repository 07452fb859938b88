"""API keys: the client address of their last use, shown beside its time.

Revision ID: f3a9c1d7e2b8
Revises: a4e9c2d7f150
Create Date: 2026-12-07 19:00:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel

from alembic import op

# revision identifiers, used by Alembic.
revision: str = 'f3a9c1d7e2b8'
down_revision: Union[str, Sequence[str], None] = 'a4e9c2d7f150'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('apikey', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_used_ip', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('apikey', schema=None) as batch_op:
        batch_op.drop_column('last_used_ip')
