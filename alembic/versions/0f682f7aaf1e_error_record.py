"""The record of recent unexpected errors (API requests and page events) that the tower's System page lists.

Revision ID: 0f682f7aaf1e
Revises: d4b8e2f6a1c3
Create Date: 2026-12-08 01:30:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa

import models.base
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0f682f7aaf1e'
down_revision: Union[str, Sequence[str], None] = 'd4b8e2f6a1c3'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'errorrecord',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('occurred_at', models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('source', sa.String(length=10), nullable=False),
        sa.Column('location', sa.String(length=200), nullable=False),
        sa.Column('error_id', sa.String(length=64), nullable=False),
        sa.Column('error_type', sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('errorrecord')
