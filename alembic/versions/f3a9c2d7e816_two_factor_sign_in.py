"""Two-factor sign-in: the confirmed TOTP factor and its last used time-step, recovery codes, and a company's
policy requiring a second factor.

Revision ID: f3a9c2d7e816
Revises: f3a9c1d7e2b8
Create Date: 2026-12-07 19:00:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel

from alembic import op
from models.base import UTCDateTime

# revision identifiers, used by Alembic.
revision: str = 'f3a9c2d7e816'
down_revision: Union[str, Sequence[str], None] = 'f3a9c1d7e2b8'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.alter_column('mfa_secret', existing_type=sa.VARCHAR(length=64),
                              type_=sqlmodel.sql.sqltypes.AutoString(length=255), existing_nullable=True)
        batch_op.add_column(sa.Column('mfa_enabled_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('mfa_last_step', sa.Integer(), nullable=True))
    with op.batch_alter_table('company', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mfa_required', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        'mfarecoverycode',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('used_at', UTCDateTime(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('mfarecoverycode', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mfarecoverycode_user_id'), ['user_id'], unique=False)
        batch_op.create_index('ix_mfarecoverycode_user_hash', ['user_id', 'code_hash'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('mfarecoverycode', schema=None) as batch_op:
        batch_op.drop_index('ix_mfarecoverycode_user_hash')
        batch_op.drop_index(batch_op.f('ix_mfarecoverycode_user_id'))
    op.drop_table('mfarecoverycode')
    with op.batch_alter_table('company', schema=None) as batch_op:
        batch_op.drop_column('mfa_required')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('mfa_last_step')
        batch_op.drop_column('mfa_enabled_at')
        batch_op.alter_column('mfa_secret', existing_type=sqlmodel.sql.sqltypes.AutoString(length=255),
                              type_=sa.VARCHAR(length=64), existing_nullable=True)
