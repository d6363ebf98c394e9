"""Products / Subscriptions tab: subscription mapping method, history link and the move choice.

Revision ID: psa_0005_subs
Revises: psa_0002_rules
Create Date: 2026-11-26 09:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'psa_0005_subs'
down_revision = 'psa_0002_rules'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('psa_subscription_mapping', schema=None) as batch_op:
        batch_op.add_column(sa.Column('method', sa.String(length=8), server_default='manual', nullable=False))
        batch_op.add_column(sa.Column('previous_mapping_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('move_pushed', sa.Boolean(), server_default=sa.text('false'), nullable=False))
        batch_op.add_column(sa.Column('move_transaction_ids', sa.JSON(), nullable=True))
        batch_op.create_foreign_key('fk_psa_subscription_mapping_previous', 'psa_subscription_mapping',
                                    ['previous_mapping_id'], ['id'])


def downgrade():
    with op.batch_alter_table('psa_subscription_mapping', schema=None) as batch_op:
        batch_op.drop_constraint('fk_psa_subscription_mapping_previous', type_='foreignkey')
        batch_op.drop_column('move_transaction_ids')
        batch_op.drop_column('move_pushed')
        batch_op.drop_column('previous_mapping_id')
        batch_op.drop_column('method')
