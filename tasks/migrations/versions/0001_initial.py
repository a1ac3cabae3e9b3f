"""Initial state store: binding, cursor, quarantine.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "binding",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("connection", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("erp_key", sa.String(255), nullable=False),
        sa.Column("shop_id", sa.String(255), nullable=True),
        sa.Column("parent_key", sa.String(255), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("data", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("connection", "entity", "erp_key", name="uq_binding_erp"),
        sa.UniqueConstraint("connection", "entity", "shop_id", name="uq_binding_shop"),
    )
    op.create_index("ix_binding_parent_key", "binding", ["parent_key"])
    op.create_table(
        "cursor",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("connection", sa.String(100), nullable=False),
        sa.Column("flow", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("connection", "flow", "entity", name="uq_cursor"),
    )
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("connection", sa.String(100), nullable=False),
        sa.Column("flow", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("record_key", sa.String(255), nullable=False),
        sa.Column("check", sa.String(100), nullable=False),
        sa.Column("field", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("connection", "flow", "entity", "record_key", "check", "field", name="uq_quarantine"),
    )
    op.create_index("ix_quarantine_status", "quarantine", ["status"])


def downgrade() -> None:
    op.drop_table("quarantine")
    op.drop_table("cursor")
    op.drop_index("ix_binding_parent_key", "binding")
    op.drop_table("binding")
