"""Indexes for the tower's KPIs and board.

Shipments by departure and by arrival with the columns the on-time and transit-time figures read (index-only
range scans); exceptions by opening and by resolution time; milestones by shipment and code now carry the
actual time, so "has this step happened" is answered from the index (it replaces the narrower index). The
board: shipments by owner, team and branch in the list's order (replacing the single-column indexes), and open
exceptions by SLA with their shipment (replacing the index without it).

Revision ID: 4b8e2f61d0a7
Revises: 7d1e5a9c2b40
Create Date: 2026-11-22 19:10:00.000000

"""
from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = '4b8e2f61d0a7'
down_revision: Union[str, Sequence[str], None] = '7d1e5a9c2b40'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.create_index('ix_shipment_departed_kpi', ['atd', 'etd_planned', 'mode', 'company_id'], unique=False)
        batch_op.create_index('ix_shipment_arrived_kpi', ['ata', 'atd', 'eta_planned', 'mode', 'origin_id',
                                                          'destination_id', 'company_id'], unique=False)
        for column, name in (('owner_id', 'owner'), ('team_id', 'team'), ('branch_id', 'branch')):
            batch_op.create_index(f'ix_shipment_{name}_updated', [column, 'updated_at'], unique=False)
            batch_op.drop_index(f'ix_shipment_{column}')
    with op.batch_alter_table('opsexception', schema=None) as batch_op:
        batch_op.create_index('ix_opsexception_status_sla_shipment', ['status', 'sla_due_at', 'shipment_id'],
                              unique=False)
        batch_op.drop_index('ix_opsexception_status_sla')
        batch_op.create_index('ix_opsexception_created_kind', ['created_at', 'kind'], unique=False)
        batch_op.create_index('ix_opsexception_resolved_kind', ['resolved_at', 'kind', 'sla_due_at'], unique=False)
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.create_index('ix_milestone_shipment_code_actual', ['shipment_id', 'code', 'actual_at'],
                              unique=False)
        batch_op.drop_index('ix_milestone_shipment_code')


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.create_index('ix_milestone_shipment_code', ['shipment_id', 'code'], unique=False)
        batch_op.drop_index('ix_milestone_shipment_code_actual')
    with op.batch_alter_table('opsexception', schema=None) as batch_op:
        batch_op.create_index('ix_opsexception_status_sla', ['status', 'sla_due_at'], unique=False)
        batch_op.drop_index('ix_opsexception_status_sla_shipment')
        batch_op.drop_index('ix_opsexception_resolved_kind')
        batch_op.drop_index('ix_opsexception_created_kind')
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        for column, name in (('owner_id', 'owner'), ('team_id', 'team'), ('branch_id', 'branch')):
            batch_op.create_index(f'ix_shipment_{column}', [column], unique=False)
            batch_op.drop_index(f'ix_shipment_{name}_updated')
        batch_op.drop_index('ix_shipment_arrived_kpi')
        batch_op.drop_index('ix_shipment_departed_kpi')
