"""Each user's session generation: logging out ends every copy of the user's session cookie.

Revision ID: psa_0004_sessions
Revises: psa_0003_blocked
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'psa_0004_sessions'
down_revision = 'psa_0003_blocked'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('psa_user_session',
    sa.Column('user_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_psa_user_session'))
    )


def downgrade():
    op.drop_table('psa_user_session')
