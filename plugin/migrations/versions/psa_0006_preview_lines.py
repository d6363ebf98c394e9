"""Prepared previews store their page: each customer → agreement group at its position with its totals
(``psa_sync_preview_group``), and each line's place and outcome on ``psa_sync_preview_item`` (group and line
number, status, quantity, unit price, amount, description, error, check), so reading a page of a stored preview is
a few queries, whatever its size, and its totals are read, not recomputed. ``psa_sync_preview.lines_stored`` tells
a preview prepared before this revision (false: its page is still computed from its transactions).
``psa_sync_preview.catalog_read`` keeps what the preview's catalog step read, which its approved push reuses
instead of reading the catalog again (while fresh).

Revision ID: psa_0006_preview_lines
Revises: psa_0005_list_values
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = 'psa_0006_preview_lines'
down_revision = 'psa_0005_list_values'
branch_labels = None
depends_on = None

ITEM_COLUMNS = (
    ('group_no', sa.Integer()),
    ('line_no', sa.Integer()),
    ('status', sa.String(length=10)),
    ('quantity', sa.String(length=40)),
    ('unit_price', sa.String(length=40)),
    ('amount', sa.String(length=40)),
    ('description', sa.Text()),
    ('error', sa.Text()),
    ('check_block', sa.JSON()),
)


def upgrade():
    with op.batch_alter_table('psa_sync_preview') as batch_op:
        batch_op.add_column(sa.Column('catalog_read', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('lines_stored', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    with op.batch_alter_table('psa_sync_preview_item') as batch_op:
        for name, type_ in ITEM_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
        batch_op.create_index('ix_psa_sync_preview_item_page', ['preview_id', 'group_no', 'line_no'], unique=False)
    op.create_table('psa_sync_preview_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('preview_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['preview_id'], ['psa_sync_preview.id'], name=op.f('fk_psa_sync_preview_group_preview_id_psa_sync_preview'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_sync_preview_group')),
    sa.UniqueConstraint('preview_id', 'position', name='uq_psa_sync_preview_group_position')
    )


def downgrade():
    op.drop_table('psa_sync_preview_group')
    with op.batch_alter_table('psa_sync_preview_item') as batch_op:
        batch_op.drop_index('ix_psa_sync_preview_item_page')
        for name, _type in reversed(ITEM_COLUMNS):
            batch_op.drop_column(name)
    with op.batch_alter_table('psa_sync_preview') as batch_op:
        batch_op.drop_column('lines_stored')
        batch_op.drop_column('catalog_read')
