"""Host tables: FAB security and the MSP Hub marketplace stand-in

Revision ID: host_0001
Revises: 
Create Date: 2026-11-26 08:45:22.985856

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'host_0001'
down_revision = None
branch_labels = ('host',)
depends_on = None


def upgrade():
    op.create_table('ab_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('label', sa.String(length=150), nullable=True),
    sa.Column('description', sa.String(length=512), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('ab_permission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('ab_register_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=64), nullable=False),
    sa.Column('last_name', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=128), nullable=False),
    sa.Column('password', sa.String(length=256), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('registration_date', sa.DateTime(), nullable=True),
    sa.Column('registration_hash', sa.String(length=256), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email'),
    sa.UniqueConstraint('username')
    )
    op.create_table('ab_role',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('ab_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=64), nullable=False),
    sa.Column('last_name', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=128), nullable=False),
    sa.Column('password', sa.String(length=256), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('last_login', sa.DateTime(), nullable=True),
    sa.Column('login_count', sa.Integer(), nullable=True),
    sa.Column('fail_login_count', sa.Integer(), nullable=True),
    sa.Column('created_on', sa.DateTime(), nullable=True),
    sa.Column('changed_on', sa.DateTime(), nullable=True),
    sa.Column('created_by_fk', sa.Integer(), nullable=True),
    sa.Column('changed_by_fk', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email'),
    sa.UniqueConstraint('username')
    )
    op.create_table('ab_view_menu',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=250), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('hub_distributor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('ab_api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('key_hash', sa.String(length=256), nullable=False),
    sa.Column('lookup_hash', sa.String(length=256), nullable=True),
    sa.Column('key_prefix', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('scopes', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_on', sa.DateTime(), nullable=True),
    sa.Column('expires_on', sa.DateTime(), nullable=True),
    sa.Column('revoked_on', sa.DateTime(), nullable=True),
    sa.Column('last_used_on', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('lookup_hash'),
    sa.UniqueConstraint('uuid')
    )
    with op.batch_alter_table('ab_api_key', schema=None) as batch_op:
        batch_op.create_index('idx_api_key_lookup_hash', ['lookup_hash'], unique=True)
        batch_op.create_index('idx_api_key_prefix', ['key_prefix'], unique=False)
        batch_op.create_index('idx_api_key_user_id', ['user_id'], unique=False)
    op.create_table('ab_group_role',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('role_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['ab_group.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['role_id'], ['ab_role.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('group_id', 'role_id')
    )
    with op.batch_alter_table('ab_group_role', schema=None) as batch_op:
        batch_op.create_index('idx_group_id', ['group_id'], unique=False)
        batch_op.create_index('idx_group_role_id', ['role_id'], unique=False)
    op.create_table('ab_permission_view',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('permission_id', sa.Integer(), nullable=False),
    sa.Column('view_menu_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['permission_id'], ['ab_permission.id'], ),
    sa.ForeignKeyConstraint(['view_menu_id'], ['ab_view_menu.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('permission_id', 'view_menu_id')
    )
    with op.batch_alter_table('ab_permission_view', schema=None) as batch_op:
        batch_op.create_index('idx_permission_id', ['permission_id'], unique=False)
        batch_op.create_index('idx_view_menu_id', ['view_menu_id'], unique=False)
    op.create_table('ab_user_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['ab_group.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'group_id')
    )
    with op.batch_alter_table('ab_user_group', schema=None) as batch_op:
        batch_op.create_index('idx_user_group_id', ['group_id'], unique=False)
        batch_op.create_index('idx_user_id', ['user_id'], unique=False)
    op.create_table('ab_user_role',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('role_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['role_id'], ['ab_role.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'role_id')
    )
    op.create_table('hub_partner',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('distributor_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['distributor_id'], ['hub_distributor.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('distributor_id', 'name')
    )
    with op.batch_alter_table('hub_partner', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hub_partner_distributor_id'), ['distributor_id'], unique=False)
    op.create_table('hub_product',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('distributor_id', sa.Integer(), nullable=False),
    sa.Column('publisher', sa.String(length=100), nullable=False),
    sa.Column('item_type', sa.String(length=60), nullable=False),
    sa.Column('product_id', sa.String(length=120), nullable=False),
    sa.Column('title', sa.String(length=400), nullable=False),
    sa.Column('billing_term', sa.String(length=10), nullable=False),
    sa.Column('billing_frequency', sa.String(length=10), nullable=False),
    sa.CheckConstraint("billing_frequency IN ('monthly', 'annual', 'one_time')", name='ck_product_frequency'),
    sa.ForeignKeyConstraint(['distributor_id'], ['hub_distributor.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('distributor_id', 'product_id', 'billing_term', 'billing_frequency')
    )
    with op.batch_alter_table('hub_product', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hub_product_distributor_id'), ['distributor_id'], unique=False)
    op.create_table('ab_permission_view_role',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('permission_view_id', sa.Integer(), nullable=True),
    sa.Column('role_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['permission_view_id'], ['ab_permission_view.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['role_id'], ['ab_role.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('permission_view_id', 'role_id')
    )
    with op.batch_alter_table('ab_permission_view_role', schema=None) as batch_op:
        batch_op.create_index('idx_permission_view_id', ['permission_view_id'], unique=False)
        batch_op.create_index('idx_role_id', ['role_id'], unique=False)
    op.create_table('hub_customer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['hub_partner.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('external_id')
    )
    with op.batch_alter_table('hub_customer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hub_customer_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index('ix_hub_customer_partner_name', ['partner_id', 'name'], unique=False)
    op.create_table('hub_subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=400), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('unit_cost', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.CheckConstraint("status IN ('active', 'suspended', 'cancelled')", name='ck_subscription_status'),
    sa.CheckConstraint('quantity >= 0', name='ck_subscription_quantity'),
    sa.ForeignKeyConstraint(['customer_id'], ['hub_customer.id'], ),
    sa.ForeignKeyConstraint(['partner_id'], ['hub_partner.id'], ),
    sa.ForeignKeyConstraint(['product_id'], ['hub_product.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('external_id')
    )
    with op.batch_alter_table('hub_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hub_subscription_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hub_subscription_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hub_subscription_product_id'), ['product_id'], unique=False)
    op.create_table('hub_billing_transaction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=6), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('unit_cost', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('charge', 'credit')", name='ck_transaction_kind'),
    sa.CheckConstraint('period_end >= period_start', name='ck_transaction_period'),
    sa.ForeignKeyConstraint(['customer_id'], ['hub_customer.id'], ),
    sa.ForeignKeyConstraint(['partner_id'], ['hub_partner.id'], ),
    sa.ForeignKeyConstraint(['subscription_id'], ['hub_subscription.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('hub_billing_transaction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hub_billing_transaction_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_hub_billing_transaction_partner_period', ['partner_id', 'period_end'], unique=False)
        batch_op.create_index(batch_op.f('ix_hub_billing_transaction_subscription_id'), ['subscription_id'], unique=False)


def downgrade():
    with op.batch_alter_table('hub_billing_transaction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hub_billing_transaction_subscription_id'))
        batch_op.drop_index('ix_hub_billing_transaction_partner_period')
        batch_op.drop_index(batch_op.f('ix_hub_billing_transaction_customer_id'))
    op.drop_table('hub_billing_transaction')
    with op.batch_alter_table('hub_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hub_subscription_product_id'))
        batch_op.drop_index(batch_op.f('ix_hub_subscription_partner_id'))
        batch_op.drop_index(batch_op.f('ix_hub_subscription_customer_id'))
    op.drop_table('hub_subscription')
    with op.batch_alter_table('hub_customer', schema=None) as batch_op:
        batch_op.drop_index('ix_hub_customer_partner_name')
        batch_op.drop_index(batch_op.f('ix_hub_customer_partner_id'))
    op.drop_table('hub_customer')
    with op.batch_alter_table('ab_permission_view_role', schema=None) as batch_op:
        batch_op.drop_index('idx_role_id')
        batch_op.drop_index('idx_permission_view_id')
    op.drop_table('ab_permission_view_role')
    with op.batch_alter_table('hub_product', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hub_product_distributor_id'))
    op.drop_table('hub_product')
    with op.batch_alter_table('hub_partner', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hub_partner_distributor_id'))
    op.drop_table('hub_partner')
    op.drop_table('ab_user_role')
    with op.batch_alter_table('ab_user_group', schema=None) as batch_op:
        batch_op.drop_index('idx_user_id')
        batch_op.drop_index('idx_user_group_id')
    op.drop_table('ab_user_group')
    with op.batch_alter_table('ab_permission_view', schema=None) as batch_op:
        batch_op.drop_index('idx_view_menu_id')
        batch_op.drop_index('idx_permission_id')
    op.drop_table('ab_permission_view')
    with op.batch_alter_table('ab_group_role', schema=None) as batch_op:
        batch_op.drop_index('idx_group_role_id')
        batch_op.drop_index('idx_group_id')
    op.drop_table('ab_group_role')
    with op.batch_alter_table('ab_api_key', schema=None) as batch_op:
        batch_op.drop_index('idx_api_key_user_id')
        batch_op.drop_index('idx_api_key_prefix')
        batch_op.drop_index('idx_api_key_lookup_hash')
    op.drop_table('ab_api_key')
    op.drop_table('hub_distributor')
    op.drop_table('ab_view_menu')
    op.drop_table('ab_user')
    op.drop_table('ab_role')
    op.drop_table('ab_register_user')
    op.drop_table('ab_permission')
    op.drop_table('ab_group')
