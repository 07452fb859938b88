"""Single sign-on: a connection may trust its provider's multi-factor assertion (amr); a session remembers that its
provider asserted one.

Revision ID: b7e4d1c9a2f6
Revises: f3c9d2e7a4b1
Create Date: 2026-12-07 22:10:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op

# revision identifiers, used by Alembic.
revision: str = 'b7e4d1c9a2f6'
down_revision: Union[str, Sequence[str], None] = 'f3c9d2e7a4b1'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('sso_connection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trust_provider_mfa', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('usersession', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mfa_by_provider', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('usersession', schema=None) as batch_op:
        batch_op.drop_column('mfa_by_provider')
    with op.batch_alter_table('sso_connection', schema=None) as batch_op:
        batch_op.drop_column('trust_provider_mfa')
