"""The host's own tables: its Contact model and its marketplace, offered to the plugin as views.

Revision ID: host_0001
Revises:
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "host_0001"
down_revision = None
branch_labels = None
depends_on = None

VIEWS = {
    "hub_distributor": "SELECT dist_id AS id, dist_name AS name FROM mkt_distributor",
    "hub_partner": "SELECT reseller_id AS id, dist_ref AS distributor_id, reseller_name AS name, "
    "currency_code AS currency, tz AS timezone FROM mkt_reseller",
    "hub_customer": "SELECT client_id AS id, reseller_ref AS partner_id, ext_ref AS external_id, "
    "client_name AS name, created AS created_at FROM mkt_client",
    "hub_product": "SELECT sku_id AS id, dist_ref AS distributor_id, vendor AS publisher, kind AS item_type, "
    "code AS product_id, label AS title, term AS billing_term, freq AS billing_frequency FROM mkt_sku",
    "hub_subscription": "SELECT plan_id AS id, reseller_ref AS partner_id, client_ref AS customer_id, "
    "sku_ref AS product_id, ext_ref AS external_id, plan_name AS name, qty AS quantity, "
    "price AS unit_price, cost AS unit_cost, state AS status, started AS start_date, "
    "ended AS end_date FROM mkt_plan",
    "hub_billing_transaction": "SELECT line_id AS id, reseller_ref AS partner_id, client_ref AS customer_id, "
    "plan_ref AS subscription_id, kind, period_from AS period_start, "
    "period_to AS period_end, qty AS quantity, price AS unit_price, cost AS unit_cost, "
    "total AS amount, currency_code AS currency, created AS created_at "
    "FROM mkt_invoice_line",
}
MONEY = sa.Numeric(14, 4)


def upgrade():
    if not sa.inspect(op.get_bind()).has_table("contact"):  # FAB's default FAB_CREATE_DB may have made it
        op.create_table(
            "contact",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(100), nullable=False, unique=True),
        )
    op.create_table(
        "mkt_distributor",
        sa.Column("dist_id", sa.Integer, primary_key=True),
        sa.Column("dist_name", sa.String(120), nullable=False),
    )
    op.create_table(
        "mkt_reseller",
        sa.Column("reseller_id", sa.Integer, primary_key=True),
        sa.Column("dist_ref", sa.Integer, sa.ForeignKey("mkt_distributor.dist_id"), index=True),
        sa.Column("reseller_name", sa.String(120)),
        sa.Column("currency_code", sa.String(3)),
        sa.Column("tz", sa.String(64)),
    )
    op.create_table(
        "mkt_client",
        sa.Column("client_id", sa.Integer, primary_key=True),
        sa.Column("reseller_ref", sa.Integer, sa.ForeignKey("mkt_reseller.reseller_id")),
        sa.Column("ext_ref", sa.String(40)),
        sa.Column("client_name", sa.String(200)),
        sa.Column("created", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_mkt_client_reseller_name", "mkt_client", ["reseller_ref", "client_name"])
    op.create_table(
        "mkt_sku",
        sa.Column("sku_id", sa.Integer, primary_key=True),
        sa.Column("dist_ref", sa.Integer, index=True),
        sa.Column("vendor", sa.String(100)),
        sa.Column("kind", sa.String(60)),
        sa.Column("code", sa.String(120)),
        sa.Column("label", sa.String(400)),
        sa.Column("term", sa.String(10)),
        sa.Column("freq", sa.String(10)),
    )
    op.create_table(
        "mkt_plan",
        sa.Column("plan_id", sa.Integer, primary_key=True),
        sa.Column("reseller_ref", sa.Integer, index=True),
        sa.Column("client_ref", sa.Integer, index=True),
        sa.Column("sku_ref", sa.Integer, index=True),
        sa.Column("ext_ref", sa.String(40)),
        sa.Column("plan_name", sa.String(400)),
        sa.Column("qty", MONEY),
        sa.Column("price", MONEY),
        sa.Column("cost", MONEY),
        sa.Column("state", sa.String(12)),
        sa.Column("started", sa.Date),
        sa.Column("ended", sa.Date, nullable=True),
    )
    op.create_table(
        "mkt_invoice_line",
        sa.Column("line_id", sa.Integer, primary_key=True),
        sa.Column("reseller_ref", sa.Integer),
        sa.Column("client_ref", sa.Integer, index=True),
        sa.Column("plan_ref", sa.Integer, index=True),
        sa.Column("kind", sa.String(6)),
        sa.Column("period_from", sa.Date),
        sa.Column("period_to", sa.Date),
        sa.Column("qty", MONEY),
        sa.Column("price", MONEY),
        sa.Column("cost", MONEY),
        sa.Column("total", MONEY),
        sa.Column("currency_code", sa.String(3)),
        sa.Column("created", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_mkt_invoice_line_reseller_period", "mkt_invoice_line", ["reseller_ref", "period_to"])
    for name, select in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {select}")


def downgrade():
    for name in reversed(list(VIEWS)):
        op.execute(f"DROP VIEW {name}")
    for table in (
        "mkt_invoice_line",
        "mkt_plan",
        "mkt_sku",
        "mkt_client",
        "mkt_reseller",
        "mkt_distributor",
        "contact",
    ):
        op.drop_table(table)
