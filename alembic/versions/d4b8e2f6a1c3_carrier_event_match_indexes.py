"""Indexes for matching carrier events: container numbers and voyage numbers compared in capitals.

Without them every equipment event scans the container table and every transport event the ocean shipments.

Revision ID: d4b8e2f6a1c3
Revises: c1e7a5d3b902
Create Date: 2026-12-07 23:05:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

# revision identifiers, used by Alembic.
revision: str = 'd4b8e2f6a1c3'
down_revision: str | Sequence[str] | None = 'c1e7a5d3b902'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index('ix_container_number_upper', 'container', [sa.text('upper(number)')], unique=False)
    op.create_index('ix_shipment_voyage_upper', 'shipment', [sa.text('upper(voyage_number)')], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_shipment_voyage_upper', table_name='shipment')
    op.drop_index('ix_container_number_upper', table_name='container')
