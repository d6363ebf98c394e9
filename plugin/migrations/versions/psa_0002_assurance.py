"""Revenue assurance: read-back runs and findings.

Revision ID: psa_0002_assurance
Revises: psa_0001
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'psa_0002_assurance'
down_revision = 'psa_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('psa_assurance_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('requested_by', sa.String(length=100), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('agreements', sa.Integer(), nullable=False),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('psa_calls', sa.Integer(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('running', 'succeeded', 'failed')", name=op.f('ck_psa_assurance_run_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_assurance_run'))
    )
    with op.batch_alter_table('psa_assurance_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_psa_assurance_run_partner_id'), ['partner_id'], unique=False)

    op.create_table('psa_assurance_finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('agreement_remote_id', sa.Integer(), nullable=True),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('transaction_id', sa.Integer(), nullable=True),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('sent', sa.JSON(), nullable=True),
    sa.Column('held', sa.JSON(), nullable=True),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_by', sa.String(length=100), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.CheckConstraint("code IN ('missing', 'edited', 'moved_or_cancelled', 'double_billing', 'orphan', 'under_invoiced', 'over_invoiced')", name=op.f('ck_psa_assurance_finding_code')),
    sa.CheckConstraint("status IN ('open', 'recreating', 'recreated', 'accepted', 'ignored', 'cleared')", name=op.f('ck_psa_assurance_finding_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_assurance_finding')),
    sa.UniqueConstraint('partner_id', 'key', name='uq_psa_assurance_finding_partner_key')
    )
    with op.batch_alter_table('psa_assurance_finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_psa_assurance_finding_partner_id'), ['partner_id'], unique=False)


def downgrade():
    with op.batch_alter_table('psa_assurance_finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_psa_assurance_finding_partner_id'))
    op.drop_table('psa_assurance_finding')
    with op.batch_alter_table('psa_assurance_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_psa_assurance_run_partner_id'))
    op.drop_table('psa_assurance_run')
