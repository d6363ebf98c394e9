"""Plugin tables: tenancy, feature toggle, integration, audit

Revision ID: psa_0001
Revises: 
Create Date: 2026-11-26 08:45:22.985856

"""
import os

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'psa_0001'
down_revision = None
branch_labels = ('psa',)
# The plugin's branch is a root of its own. Its foreign keys name the host's tables
# (ab_user, hub_*): in this repository they come from host_0001; another host application
# sets PSA_ALEMBIC_DEPENDS_ON to its own revision that creates them (or to "" if they exist).
depends_on = os.environ.get("PSA_ALEMBIC_DEPENDS_ON", "host_0001") or None


def upgrade():
    op.create_table('psa_audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('distributor_id', sa.Integer(), nullable=True),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('object_type', sa.String(length=60), nullable=False),
    sa.Column('object_id', sa.String(length=60), nullable=True),
    sa.Column('outcome', sa.String(length=12), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.CheckConstraint("outcome IN ('ok', 'refused', 'failed')", name='ck_audit_outcome'),
    sa.ForeignKeyConstraint(['distributor_id'], ['hub_distributor.id'], ),
    sa.ForeignKeyConstraint(['partner_id'], ['hub_partner.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('psa_audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_psa_audit_event_at'), ['at'], unique=False)
        batch_op.create_index('ix_psa_audit_event_partner_at', ['partner_id', 'at'], unique=False)
    op.create_table('psa_integration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('client_id_locked', sa.Boolean(), nullable=False),
    sa.Column('company_name', sa.String(length=100), nullable=False),
    sa.Column('public_key', sa.String(length=100), nullable=False),
    sa.Column('private_key_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('api_url', sa.String(length=300), nullable=False),
    sa.Column('pending', sa.JSON(), nullable=True),
    sa.Column('validation_job_id', sa.String(length=80), nullable=True),
    sa.Column('validation_hint', sa.String(length=200), nullable=True),
    sa.Column('last_validation_error', sa.Text(), nullable=True),
    sa.Column('activated_by_id', sa.Integer(), nullable=True),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deactivated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('inactive', 'validating', 'active', 'invalid', 'deactivated')", name='ck_integration_status'),
    sa.ForeignKeyConstraint(['activated_by_id'], ['ab_user.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['partner_id'], ['hub_partner.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('partner_id')
    )
    op.create_table('psa_partner_feature',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['ab_user.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['partner_id'], ['hub_partner.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('partner_id')
    )
    op.create_table('psa_user_tenant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('distributor_id', sa.Integer(), nullable=True),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.CheckConstraint('(distributor_id IS NULL) <> (partner_id IS NULL)', name='ck_user_tenant_one_scope'),
    sa.ForeignKeyConstraint(['distributor_id'], ['hub_distributor.id'], ),
    sa.ForeignKeyConstraint(['partner_id'], ['hub_partner.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id')
    )
    with op.batch_alter_table('psa_user_tenant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_psa_user_tenant_partner_id'), ['partner_id'], unique=False)


def downgrade():
    with op.batch_alter_table('psa_user_tenant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_psa_user_tenant_partner_id'))
    op.drop_table('psa_user_tenant')
    op.drop_table('psa_partner_feature')
    op.drop_table('psa_integration')
    with op.batch_alter_table('psa_audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_psa_audit_event_partner_at')
        batch_op.drop_index(batch_op.f('ix_psa_audit_event_at'))
    op.drop_table('psa_audit_event')
