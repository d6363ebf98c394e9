"""Sync settings: whether the catalog sync may create the categories, subcategories and types the rules name
(on, as before, unless the partner turns it off).

Revision ID: psa_0005_list_values
Revises: psa_0004_sessions
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = 'psa_0005_list_values'
down_revision = 'psa_0004_sessions'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('psa_sync_settings') as batch_op:
        batch_op.add_column(sa.Column('create_list_values', sa.Boolean(), server_default=sa.text('true'), nullable=False))


def downgrade():
    with op.batch_alter_table('psa_sync_settings') as batch_op:
        batch_op.drop_column('create_list_values')
