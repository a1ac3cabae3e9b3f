"""The shops' order webhooks, recorded before they are answered (``passerelle serve``).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("connection", sa.String(100), nullable=False),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("topic", sa.String(100), nullable=False),
        sa.Column("delivery_id", sa.String(255), nullable=False),
        sa.Column("shop_order_id", sa.String(255), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("deliveries", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("connection", "platform", "delivery_id", "body_sha256", name="uq_webhook_delivery"),
    )
    op.create_index("ix_webhook_event_status", "webhook_event", ["status", "connection"])


def downgrade() -> None:
    op.drop_index("ix_webhook_event_status", table_name="webhook_event")
    op.drop_table("webhook_event")
