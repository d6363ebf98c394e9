"""Pushes delivered in slices: the run status ``yielded`` (a queued push gave its worker back after
``PSA_PUSH_SLICE_SECONDS`` of delivery and continues in a new run queued behind the other jobs), and the run's
``continues_run_id`` (the yielded run a run continues).

Revision ID: psa_0007_push_slices
Revises: psa_0006_preview_lines
Create Date: 2026-12-07

The status check constraint is replaced; on SQLite the table is copied (batch mode).
"""
import sqlalchemy as sa
from alembic import op

revision = 'psa_0007_push_slices'
down_revision = 'psa_0006_preview_lines'
branch_labels = None
depends_on = None

OLD = ('running', 'succeeded', 'partial', 'stopped', 'failed', 'abandoned')
NEW = OLD + ('yielded',)


def _statuses(statuses):
    return "status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")"


def _replace(statuses):
    with op.batch_alter_table('psa_sync_run', recreate='auto') as batch_op:
        batch_op.drop_constraint(op.f('ck_psa_sync_run_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_psa_sync_run_status'), sa.text(_statuses(statuses)))


def upgrade():
    _replace(NEW)
    with op.batch_alter_table('psa_sync_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('continues_run_id', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('psa_sync_run', schema=None) as batch_op:
        batch_op.drop_column('continues_run_id')
    # a yielded run ended well: what it pushed is pushed, its rows left pending wait for the next push
    op.execute(sa.text("UPDATE psa_sync_run SET status = 'succeeded' WHERE status = 'yielded'"))
    _replace(OLD)
