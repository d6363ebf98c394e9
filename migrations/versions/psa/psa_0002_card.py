"""ConnectWise card: validation result

Revision ID: psa_0002_card
Revises: psa_0001
Create Date: 2026-11-26 08:59:00.341180

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'psa_0002_card'
down_revision = 'psa_0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('psa_integration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('validation_result', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('validated_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('psa_integration', schema=None) as batch_op:
        batch_op.drop_column('validated_at')
        batch_op.drop_column('validation_result')
