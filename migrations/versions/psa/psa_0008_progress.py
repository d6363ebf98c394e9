"""Billing sync progress, run alerts (acknowledgement, email sent) on psa_sync_run

Revision ID: psa_0008_progress
Revises: psa_0005_push
Create Date: 2026-11-27 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'psa_0008_progress'
down_revision = 'psa_0009_move'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('psa_sync_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('progress_done', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('progress_total', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('progress_failed', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('acknowledged_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('alert_sent_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('psa_sync_run', schema=None) as batch_op:
        batch_op.drop_column('alert_sent_at')
        batch_op.drop_column('acknowledged_at')
        batch_op.drop_column('acknowledged_by')
        batch_op.drop_column('progress_failed')
        batch_op.drop_column('progress_total')
        batch_op.drop_column('progress_done')
