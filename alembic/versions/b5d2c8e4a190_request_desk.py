"""Requests: the link from a request to the shipment's exception, and the comment given with a rating.

Revision ID: b5d2c8e4a190
Revises: 9c3a7e5b1f20
Create Date: 2026-12-03 16:00:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op

# revision identifiers, used by Alembic.
revision: str = 'b5d2c8e4a190'
down_revision: Union[str, Sequence[str], None] = '9c3a7e5b1f20'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exception_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('satisfaction_comment', sa.String(length=1000), nullable=True))
        batch_op.create_index('ix_ticket_exception_id', ['exception_id'], unique=False)
        batch_op.create_foreign_key('fk_ticket_exception_id_opsexception', 'opsexception', ['exception_id'], ['id'])


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_constraint('fk_ticket_exception_id_opsexception', type_='foreignkey')
        batch_op.drop_index('ix_ticket_exception_id')
        batch_op.drop_column('satisfaction_comment')
        batch_op.drop_column('exception_id')
