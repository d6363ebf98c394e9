"""The plugin's tables: tenancy, toggle, integration, audit, directory cache, mappings, rules, billing sync.

Revision ID: psa_0001
Revises:
Create Date: 2026-12-07

No foreign key points at a marketplace relation (a host may satisfy the contract with views); the one
foreign key outside the plugin is the tenant row's user, on the host's FAB user table.
"""
import sqlalchemy as sa
from alembic import context, op


# revision identifiers, used by Alembic.
revision = 'psa_0001'
down_revision = None
branch_labels = None
depends_on = None


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
    sa.CheckConstraint("outcome IN ('ok', 'refused', 'failed')", name=op.f('ck_psa_audit_event_outcome')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_audit_event'))
    )
    with op.batch_alter_table('psa_audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_psa_audit_event_at'), ['at'], unique=False)
        batch_op.create_index('ix_psa_audit_event_partner_at', ['partner_id', 'at'], unique=False)

    op.create_table('psa_catalog_sync',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('identifier', sa.String(length=75), nullable=False),
    sa.Column('remote_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=True),
    sa.Column('error_code', sa.String(length=100), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('differs', sa.Text(), nullable=True),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('synced', 'refused')", name=op.f('ck_psa_catalog_sync_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_catalog_sync')),
    sa.UniqueConstraint('partner_id', 'product_id', name='uq_psa_catalog_sync_partner_product')
    )
    op.create_table('psa_company',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('psa_kind', sa.String(length=20), server_default='connectwise', nullable=False),
    sa.Column('remote_id', sa.Integer(), nullable=False),
    sa.Column('identifier', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=60), nullable=True),
    sa.Column('types', sa.String(length=200), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('remote_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cached_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_company')),
    sa.UniqueConstraint('partner_id', 'remote_id', name='uq_psa_company_partner_remote')
    )
    with op.batch_alter_table('psa_company', schema=None) as batch_op:
        batch_op.create_index('ix_psa_company_partner_name', ['partner_id', 'name'], unique=False)

    op.create_table('psa_integration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('psa_kind', sa.String(length=20), server_default='connectwise', nullable=False),
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
    sa.Column('activated_by_name', sa.String(length=200), nullable=True),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deactivated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('validation_result', sa.String(length=12), nullable=True),
    sa.Column('validated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("psa_kind IN ('connectwise')", name=op.f('ck_psa_integration_psa_kind')),
    sa.CheckConstraint("status IN ('inactive', 'validating', 'active', 'invalid', 'deactivated')", name=op.f('ck_psa_integration_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_integration')),
    sa.UniqueConstraint('partner_id', name=op.f('uq_psa_integration_partner_id'))
    )
    op.create_table('psa_list_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('psa_kind', sa.String(length=20), server_default='connectwise', nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('remote_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('category_remote_id', sa.Integer(), nullable=True),
    sa.Column('inactive', sa.Boolean(), nullable=False),
    sa.CheckConstraint("kind IN ('category', 'subcategory', 'type')", name=op.f('ck_psa_list_entry_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_list_entry')),
    sa.UniqueConstraint('partner_id', 'kind', 'remote_id', name='uq_psa_list_entry')
    )
    op.create_table('psa_list_refresh',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.CheckConstraint("status IN ('never', 'queued', 'ok', 'failed')", name=op.f('ck_psa_list_refresh_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_list_refresh')),
    sa.UniqueConstraint('partner_id', name=op.f('uq_psa_list_refresh_partner_id'))
    )
    op.create_table('psa_partner_feature',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_partner_feature')),
    sa.UniqueConstraint('partner_id', name=op.f('uq_psa_partner_feature_partner_id'))
    )
    op.create_table('psa_product_default_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=50), nullable=False),
    sa.Column('subcategory', sa.String(length=50), nullable=False),
    sa.Column('product_type', sa.String(length=50), nullable=False),
    sa.Column('product_class', sa.String(length=12), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("product_class IN ('Agreement', 'Bundle', 'Inventory', 'NonInventory', 'Service')", name=op.f('ck_psa_product_default_rule_class')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_product_default_rule')),
    sa.UniqueConstraint('partner_id', name=op.f('uq_psa_product_default_rule_partner_id'))
    )
    op.create_table('psa_product_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('conditions', sa.JSON(), nullable=False),
    sa.Column('category', sa.String(length=50), nullable=False),
    sa.Column('subcategory', sa.String(length=50), nullable=False),
    sa.Column('product_type', sa.String(length=50), nullable=False),
    sa.Column('product_class', sa.String(length=12), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("product_class IN ('Agreement', 'Bundle', 'Inventory', 'NonInventory', 'Service')", name=op.f('ck_psa_product_rule_class')),
    sa.CheckConstraint('priority >= 1', name=op.f('ck_psa_product_rule_priority')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_product_rule'))
    )
    with op.batch_alter_table('psa_product_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_psa_product_rule_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index('ix_psa_product_rule_partner_priority', ['partner_id', 'priority'], unique=False)

    op.create_table('psa_reconciliation_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('refresh_status', sa.String(length=12), nullable=False),
    sa.Column('refresh_job_id', sa.String(length=80), nullable=True),
    sa.Column('refresh_requested_by', sa.String(length=100), nullable=True),
    sa.Column('refresh_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_refreshed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refresh_progress', sa.JSON(), nullable=True),
    sa.Column('refresh_error', sa.Text(), nullable=True),
    sa.Column('companies_updated_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('agreements_updated_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revenue_watermark', sa.Integer(), nullable=False),
    sa.CheckConstraint("refresh_status IN ('never', 'queued', 'running', 'done', 'failed')", name=op.f('ck_psa_reconciliation_state_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_reconciliation_state')),
    sa.UniqueConstraint('partner_id', name=op.f('uq_psa_reconciliation_state_partner_id'))
    )
    op.create_table('psa_revenue_month',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('net_unpushed', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('net_unmapped', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_revenue_month')),
    sa.UniqueConstraint('customer_id', 'month', name='uq_psa_revenue_month_customer_month')
    )
    with op.batch_alter_table('psa_revenue_month', schema=None) as batch_op:
        batch_op.create_index('ix_psa_revenue_month_partner_month', ['partner_id', 'month'], unique=False)

    op.create_table('psa_sync_lease',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('holder', sa.String(length=64), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_sync_lease')),
    sa.UniqueConstraint('partner_id', name=op.f('uq_psa_sync_lease_partner_id'))
    )
    op.create_table('psa_sync_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('requested_by', sa.String(length=100), nullable=False),
    sa.Column('job_id', sa.String(length=120), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=True),
    sa.Column('psa_calls', sa.Integer(), nullable=False),
    sa.Column('writes', sa.Integer(), nullable=False),
    sa.Column('lookups', sa.Integer(), nullable=False),
    sa.Column('catalog_calls', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('progress_done', sa.Integer(), server_default='0', nullable=False),
    sa.Column('progress_total', sa.Integer(), nullable=True),
    sa.Column('progress_failed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('acknowledged_by', sa.String(length=100), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('alert_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('running', 'succeeded', 'partial', 'stopped', 'failed', 'abandoned')", name=op.f('ck_psa_sync_run_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_sync_run'))
    )
    with op.batch_alter_table('psa_sync_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_psa_sync_run_partner_id'), ['partner_id'], unique=False)

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
    sa.CheckConstraint("approval IN ('default', 'always', 'never')", name=op.f('ck_psa_sync_settings_approval')),
    sa.CheckConstraint('requests_per_minute IS NULL OR requests_per_minute > 0', name=op.f('ck_psa_sync_settings_limit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_sync_settings')),
    sa.UniqueConstraint('partner_id', name=op.f('uq_psa_sync_settings_partner_id'))
    )
    op.create_table('psa_user_tenant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('distributor_id', sa.Integer(), nullable=True),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.CheckConstraint('(distributor_id IS NULL) <> (partner_id IS NULL)', name=op.f('ck_psa_user_tenant_one_scope')),
    sa.ForeignKeyConstraint(['user_id'], [f"{context.config.attributes.get('user_table', 'ab_user')}.id"],
                            name=op.f('fk_psa_user_tenant_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_user_tenant')),
    sa.UniqueConstraint('user_id', name=op.f('uq_psa_user_tenant_user_id'))
    )
    with op.batch_alter_table('psa_user_tenant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_psa_user_tenant_partner_id'), ['partner_id'], unique=False)

    op.create_table('psa_agreement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('psa_kind', sa.String(length=20), server_default='connectwise', nullable=False),
    sa.Column('remote_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('remote_company_id', sa.Integer(), nullable=True),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.Column('type_name', sa.String(length=100), nullable=True),
    sa.Column('agreement_status', sa.String(length=40), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('no_ending_date', sa.Boolean(), nullable=False),
    sa.Column('bill_start_date', sa.Date(), nullable=True),
    sa.Column('billing_cycle', sa.String(length=40), nullable=True),
    sa.Column('cancelled', sa.Boolean(), nullable=False),
    sa.Column('date_cancelled', sa.Date(), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('remote_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cached_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['psa_company.id'], name=op.f('fk_psa_agreement_company_id_psa_company')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_agreement')),
    sa.UniqueConstraint('partner_id', 'remote_id', name='uq_psa_agreement_partner_remote')
    )
    with op.batch_alter_table('psa_agreement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_psa_agreement_company_id'), ['company_id'], unique=False)

    op.create_table('psa_customer_mapping',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=12), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_by', sa.String(length=100), nullable=True),
    sa.CheckConstraint("method IN ('manual', 'exact', 'suggestion')", name=op.f('ck_psa_customer_mapping_method')),
    sa.ForeignKeyConstraint(['company_id'], ['psa_company.id'], name=op.f('fk_psa_customer_mapping_company_id_psa_company')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_customer_mapping'))
    )
    with op.batch_alter_table('psa_customer_mapping', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_psa_customer_mapping_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_psa_customer_mapping_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_psa_customer_mapping_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index('uq_psa_customer_mapping_active_company', ['company_id'], unique=True, sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
        batch_op.create_index('uq_psa_customer_mapping_active_customer', ['customer_id'], unique=True, sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))

    op.create_table('psa_sync_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=30), nullable=False),
    sa.Column('record_kind', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('agreement_remote_id', sa.Integer(), nullable=True),
    sa.Column('remote_record_id', sa.Integer(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.Column('last_error_code', sa.String(length=100), nullable=True),
    sa.Column('last_error_message', sa.Text(), nullable=True),
    sa.Column('sending_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pushed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("record_kind IN ('charge', 'credit')", name=op.f('ck_psa_sync_item_kind')),
    sa.CheckConstraint("state IN ('pending', 'sending', 'pushed', 'failed', 'skipped', 'moving', 'removing')", name=op.f('ck_psa_sync_item_state')),
    sa.ForeignKeyConstraint(['run_id'], ['psa_sync_run.id'], name=op.f('fk_psa_sync_item_run_id_psa_sync_run'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_sync_item')),
    sa.UniqueConstraint('transaction_id', name=op.f('uq_psa_sync_item_transaction_id'))
    )
    with op.batch_alter_table('psa_sync_item', schema=None) as batch_op:
        batch_op.create_index('ix_psa_sync_item_partner_state', ['partner_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_psa_sync_item_subscription_id'), ['subscription_id'], unique=False)

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
    sa.CheckConstraint("source IN ('manual', 'schedule')", name=op.f('ck_psa_sync_preview_source')),
    sa.CheckConstraint("status IN ('awaiting_approval', 'approved', 'discarded', 'expired')", name=op.f('ck_psa_sync_preview_status')),
    sa.ForeignKeyConstraint(['run_id'], ['psa_sync_run.id'], name=op.f('fk_psa_sync_preview_run_id_psa_sync_run'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_sync_preview'))
    )
    with op.batch_alter_table('psa_sync_preview', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_psa_sync_preview_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index('uq_psa_sync_preview_awaiting', ['partner_id'], unique=True, sqlite_where=sa.text("status = 'awaiting_approval'"), postgresql_where=sa.text("status = 'awaiting_approval'"))

    op.create_table('psa_subscription_mapping',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('from_date_mode', sa.String(length=8), nullable=False),
    sa.Column('from_date', sa.Date(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_by', sa.String(length=100), nullable=True),
    sa.Column('method', sa.String(length=8), server_default='manual', nullable=False),
    sa.Column('previous_mapping_id', sa.Integer(), nullable=True),
    sa.Column('move_pushed', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('move_transaction_ids', sa.JSON(), nullable=True),
    sa.CheckConstraint("from_date_mode IN ('all', 'custom', 'auto')", name=op.f('ck_psa_subscription_mapping_mode')),
    sa.CheckConstraint('active = (ended_at IS NULL)', name=op.f('ck_psa_subscription_mapping_active')),
    sa.ForeignKeyConstraint(['agreement_id'], ['psa_agreement.id'], name=op.f('fk_psa_subscription_mapping_agreement_id_psa_agreement')),
    sa.ForeignKeyConstraint(['previous_mapping_id'], ['psa_subscription_mapping.id'], name=op.f('fk_psa_subscription_mapping_previous_mapping_id_psa_subscription_mapping')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_subscription_mapping'))
    )
    with op.batch_alter_table('psa_subscription_mapping', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_psa_subscription_mapping_agreement_id'), ['agreement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_psa_subscription_mapping_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_psa_subscription_mapping_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_psa_subscription_mapping_subscription_id'), ['subscription_id'], unique=False)
        batch_op.create_index('uq_psa_subscription_mapping_active', ['subscription_id'], unique=True, sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))

    op.create_table('psa_sync_preview_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('preview_id', sa.Integer(), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('selected', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['psa_agreement.id'], name=op.f('fk_psa_sync_preview_item_agreement_id_psa_agreement')),
    sa.ForeignKeyConstraint(['preview_id'], ['psa_sync_preview.id'], name=op.f('fk_psa_sync_preview_item_preview_id_psa_sync_preview'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_sync_preview_item')),
    sa.UniqueConstraint('preview_id', 'transaction_id', name='uq_psa_sync_preview_item_preview_tx')
    )
    op.create_table('psa_sync_transition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('from_state', sa.String(length=8), nullable=True),
    sa.Column('to_state', sa.String(length=8), nullable=False),
    sa.Column('event', sa.String(length=20), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['psa_sync_item.id'], name=op.f('fk_psa_sync_transition_item_id_psa_sync_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['psa_sync_run.id'], name=op.f('fk_psa_sync_transition_run_id_psa_sync_run'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_sync_transition'))
    )
    with op.batch_alter_table('psa_sync_transition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_psa_sync_transition_item_id'), ['item_id'], unique=False)



def downgrade():
    with op.batch_alter_table('psa_sync_transition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_psa_sync_transition_item_id'))

    op.drop_table('psa_sync_transition')
    op.drop_table('psa_sync_preview_item')
    with op.batch_alter_table('psa_subscription_mapping', schema=None) as batch_op:
        batch_op.drop_index('uq_psa_subscription_mapping_active', sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_psa_subscription_mapping_subscription_id'))
        batch_op.drop_index(batch_op.f('ix_psa_subscription_mapping_partner_id'))
        batch_op.drop_index(batch_op.f('ix_psa_subscription_mapping_customer_id'))
        batch_op.drop_index(batch_op.f('ix_psa_subscription_mapping_agreement_id'))

    op.drop_table('psa_subscription_mapping')
    with op.batch_alter_table('psa_sync_preview', schema=None) as batch_op:
        batch_op.drop_index('uq_psa_sync_preview_awaiting', sqlite_where=sa.text("status = 'awaiting_approval'"), postgresql_where=sa.text("status = 'awaiting_approval'"))
        batch_op.drop_index(batch_op.f('ix_psa_sync_preview_partner_id'))

    op.drop_table('psa_sync_preview')
    with op.batch_alter_table('psa_sync_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_psa_sync_item_subscription_id'))
        batch_op.drop_index('ix_psa_sync_item_partner_state')

    op.drop_table('psa_sync_item')
    with op.batch_alter_table('psa_customer_mapping', schema=None) as batch_op:
        batch_op.drop_index('uq_psa_customer_mapping_active_customer', sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
        batch_op.drop_index('uq_psa_customer_mapping_active_company', sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_psa_customer_mapping_partner_id'))
        batch_op.drop_index(batch_op.f('ix_psa_customer_mapping_customer_id'))
        batch_op.drop_index(batch_op.f('ix_psa_customer_mapping_company_id'))

    op.drop_table('psa_customer_mapping')
    with op.batch_alter_table('psa_agreement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_psa_agreement_company_id'))

    op.drop_table('psa_agreement')
    with op.batch_alter_table('psa_user_tenant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_psa_user_tenant_partner_id'))

    op.drop_table('psa_user_tenant')
    op.drop_table('psa_sync_settings')
    with op.batch_alter_table('psa_sync_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_psa_sync_run_partner_id'))

    op.drop_table('psa_sync_run')
    op.drop_table('psa_sync_lease')
    with op.batch_alter_table('psa_revenue_month', schema=None) as batch_op:
        batch_op.drop_index('ix_psa_revenue_month_partner_month')

    op.drop_table('psa_revenue_month')
    op.drop_table('psa_reconciliation_state')
    with op.batch_alter_table('psa_product_rule', schema=None) as batch_op:
        batch_op.drop_index('ix_psa_product_rule_partner_priority')
        batch_op.drop_index(batch_op.f('ix_psa_product_rule_partner_id'))

    op.drop_table('psa_product_rule')
    op.drop_table('psa_product_default_rule')
    op.drop_table('psa_partner_feature')
    op.drop_table('psa_list_refresh')
    op.drop_table('psa_list_entry')
    op.drop_table('psa_integration')
    with op.batch_alter_table('psa_company', schema=None) as batch_op:
        batch_op.drop_index('ix_psa_company_partner_name')

    op.drop_table('psa_company')
    op.drop_table('psa_catalog_sync')
    with op.batch_alter_table('psa_audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_psa_audit_event_partner_at')
        batch_op.drop_index(batch_op.f('ix_psa_audit_event_at'))

    op.drop_table('psa_audit_event')
