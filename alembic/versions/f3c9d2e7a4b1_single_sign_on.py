"""Single sign-on: an OpenID Connect provider per company, its email domains, sign-ins under way.

Revision ID: f3c9d2e7a4b1
Revises: f3a9c2d7e816
Create Date: 2026-12-07 19:00:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa

import models.base
from alembic import op

# revision identifiers, used by Alembic.
revision: str = 'f3c9d2e7a4b1'
down_revision: Union[str, Sequence[str], None] = 'f3a9c2d7e816'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'sso_connection',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('issuer', sa.String(length=255), nullable=False),
        sa.Column('client_id', sa.String(length=255), nullable=False),
        sa.Column('client_secret_encrypted', sa.String(length=2000), nullable=False),
        sa.Column('default_role', sa.String(length=20), nullable=False),
        sa.Column('password_login_allowed', sa.Boolean(), nullable=False),
        sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['company.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('company_id'),
    )
    op.create_table(
        'sso_domain',
        sa.Column('domain', sa.String(length=253), nullable=False),
        sa.Column('connection_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['connection_id'], ['sso_connection.id']),
        sa.PrimaryKeyConstraint('domain'),
    )
    op.create_index('ix_sso_domain_connection_id', 'sso_domain', ['connection_id'], unique=False)
    op.create_table(
        'sso_pending',
        sa.Column('state_hash', sa.String(length=64), nullable=False),
        sa.Column('connection_id', sa.Integer(), nullable=False),
        sa.Column('nonce', sa.String(length=64), nullable=False),
        sa.Column('code_verifier', sa.String(length=128), nullable=False),
        sa.Column('email_hint', sa.String(length=254), nullable=False),
        sa.Column('next_url', sa.String(length=500), nullable=False),
        sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['connection_id'], ['sso_connection.id']),
        sa.PrimaryKeyConstraint('state_hash'),
    )
    op.create_index('ix_sso_pending_connection_id', 'sso_pending', ['connection_id'], unique=False)
    op.create_index('ix_sso_pending_created_at', 'sso_pending', ['created_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_sso_pending_created_at', table_name='sso_pending')
    op.drop_index('ix_sso_pending_connection_id', table_name='sso_pending')
    op.drop_table('sso_pending')
    op.drop_index('ix_sso_domain_connection_id', table_name='sso_domain')
    op.drop_table('sso_domain')
    op.drop_table('sso_connection')
