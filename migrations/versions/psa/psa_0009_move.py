"""Outbox states for moving pushed transactions to a new agreement: moving, removing

Revision ID: psa_0009_move
Revises: psa_0005_push
Create Date: 2026-11-27 10:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'psa_0009_move'
down_revision = 'psa_0005_push'
branch_labels = None
depends_on = None

OLD_STATES = "state IN ('pending', 'sending', 'pushed', 'failed', 'skipped')"
NEW_STATES = "state IN ('pending', 'sending', 'pushed', 'failed', 'skipped', 'moving', 'removing')"


def _replace_check(condition: str) -> None:
    """Swap the outbox's state CHECK (SQLite recreates the table in batch mode)."""
    with op.batch_alter_table('psa_sync_item', schema=None) as batch_op:
        batch_op.drop_constraint('ck_sync_item_state', type_='check')
        batch_op.create_check_constraint('ck_sync_item_state', condition)


def upgrade():
    _replace_check(NEW_STATES)


def downgrade():
    # rows in the new states go back to what they are in ConnectWise: still on the old agreement
    op.execute("UPDATE psa_sync_item SET state = 'pushed' WHERE state IN ('moving', 'removing')")
    _replace_check(OLD_STATES)
