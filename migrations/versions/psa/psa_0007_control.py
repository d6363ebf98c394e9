"""Billing sync control: per-partner sync settings (schedule, approval, request limit), prepared previews

Revision ID: psa_0007_control
Revises: psa_0005_push
Create Date: 2026-11-27 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'psa_0007_control'
down_revision = 'psa_0008_progress'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('psa_sync_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('schedule_enabled', sa.Boolean(), nullable=False),
    sa.Column('schedule_time', sa.String(length=5), nullable=False),
    sa.Column('schedule_days', sa.String(length=27), nullable=False),
    sa.Column('schedule_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_slot_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approval', sa.String(length=8), nullable=False),
    sa.Column('requests_per_minute', sa.Integer(), nullable=True),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("approval IN ('default', 'always', 'never')", name='ck_sync_settings_approval'),
    sa.CheckConstraint('requests_per_minute IS NULL OR requests_per_minute > 0', name='ck_sync_settings_limit'),
    sa.ForeignKeyConstraint(['partner_id'], ['hub_partner.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('partner_id')
    )
    op.create_table('psa_sync_preview',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('prepared_by', sa.String(length=100), nullable=False),
    sa.Column('prepared_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('totals', sa.JSON(), nullable=True),
    sa.Column('catalog', sa.JSON(), nullable=True),
    sa.Column('lookups', sa.Integer(), nullable=False),
    sa.Column('selection', sa.JSON(), nullable=True),
    sa.Column('approved_by', sa.String(length=100), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('discarded_by', sa.String(length=100), nullable=True),
    sa.Column('discarded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('job_id', sa.String(length=120), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("source IN ('manual', 'schedule')", name='ck_sync_preview_source'),
    sa.CheckConstraint("status IN ('awaiting_approval', 'approved', 'discarded', 'expired')",
                       name='ck_sync_preview_status'),
    sa.ForeignKeyConstraint(['partner_id'], ['hub_partner.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['psa_sync_run.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('psa_sync_preview', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_psa_sync_preview_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index('uq_psa_sync_preview_awaiting', ['partner_id'], unique=True,
                              sqlite_where=sa.text("status = 'awaiting_approval'"),
                              postgresql_where=sa.text("status = 'awaiting_approval'"))
    op.create_table('psa_sync_preview_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('preview_id', sa.Integer(), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('selected', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['psa_cw_agreement.id'], ),
    sa.ForeignKeyConstraint(['preview_id'], ['psa_sync_preview.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['transaction_id'], ['hub_billing_transaction.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('preview_id', 'transaction_id')
    )


def downgrade():
    op.drop_table('psa_sync_preview_item')
    with op.batch_alter_table('psa_sync_preview', schema=None) as batch_op:
        batch_op.drop_index('uq_psa_sync_preview_awaiting', sqlite_where=sa.text("status = 'awaiting_approval'"),
                            postgresql_where=sa.text("status = 'awaiting_approval'"))
        batch_op.drop_index(batch_op.f('ix_psa_sync_preview_partner_id'))
    op.drop_table('psa_sync_preview')
    op.drop_table('psa_sync_settings')
