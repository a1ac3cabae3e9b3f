"""Last values sent to the shop for value syncs (stock levels, prices).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sent_value",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("connection", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("shop_id", sa.String(255), nullable=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("connection", "entity", "key", name="uq_sent_value"),
    )


def downgrade() -> None:
    op.drop_table("sent_value")
