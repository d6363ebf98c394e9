"""Pre-flight checks: the outbox state ``blocked`` (a row a check stopped before any call), the run's
``check_calls``, and a mapping's ``mismatch_accepted`` (the partner accepted an agreement whose billing cycle does
not match the subscription).

Revision ID: psa_0003_blocked
Revises: psa_0002_assurance
Create Date: 2026-12-07

The state check constraint is replaced; on SQLite the table is copied (batch mode), with both checks.
"""
import sqlalchemy as sa
from alembic import op

revision = 'psa_0003_blocked'
down_revision = 'psa_0002_assurance'
branch_labels = None
depends_on = None

OLD = ('pending', 'sending', 'pushed', 'failed', 'skipped', 'moving', 'removing')
NEW = OLD + ('blocked',)


def _states(states):
    return "state IN (" + ", ".join(f"'{s}'" for s in states) + ")"


def _replace(states):
    with op.batch_alter_table('psa_sync_item', recreate='auto') as batch_op:
        batch_op.drop_constraint(op.f('ck_psa_sync_item_state'), type_='check')
        batch_op.create_check_constraint(op.f('ck_psa_sync_item_state'), sa.text(_states(states)))


def upgrade():
    _replace(NEW)
    with op.batch_alter_table('psa_sync_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('check_calls', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('psa_subscription_mapping', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mismatch_accepted', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    # a mapping made before the checks existed was chosen by hand with the mismatch warning shown: accepted
    op.execute(sa.text("UPDATE psa_subscription_mapping SET mismatch_accepted = true"))


def downgrade():
    with op.batch_alter_table('psa_subscription_mapping', schema=None) as batch_op:
        batch_op.drop_column('mismatch_accepted')
    with op.batch_alter_table('psa_sync_run', schema=None) as batch_op:
        batch_op.drop_column('check_calls')
    op.execute(sa.text("UPDATE psa_sync_item SET state = 'pending' WHERE state = 'blocked'"))
    _replace(OLD)
