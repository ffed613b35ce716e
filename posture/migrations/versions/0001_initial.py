"""The first store layout: one row per scan holding the whole report, one row per result.

Stores created before migrations existed already have these tables; this
revision then creates nothing and only stamps them.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    p = context.config.attributes["table_prefix"]
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if f"{p}scans" not in existing:
        op.create_table(
            f"{p}scans",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("scan_key", sa.String(64), nullable=False, index=True),
            sa.Column("tier", sa.String(200), nullable=False),
            sa.Column("scopes", sa.Text, nullable=False),
            sa.Column("started_at", sa.String(40), nullable=False),
            sa.Column("finished_at", sa.String(40), nullable=False),
            sa.Column("recorded_at", sa.String(40), nullable=False),
            sa.Column("passed", sa.Integer, nullable=False),
            sa.Column("failed", sa.Integer, nullable=False),
            sa.Column("errors", sa.Integer, nullable=False),
            sa.Column("waived", sa.Integer, nullable=False),
            sa.Column("results", sa.Integer, nullable=False),
            sa.Column("report", sa.Text, nullable=False),
        )
    if f"{p}scan_results" not in existing:
        op.create_table(
            f"{p}scan_results",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("scan_id", sa.Integer, sa.ForeignKey(f"{p}scans.id", ondelete="CASCADE"), nullable=False),
            sa.Column("fingerprint", sa.String(64), nullable=False),
            sa.Column("check_id", sa.String(300), nullable=False),
            sa.Column("resource_id", sa.Text, nullable=False),
            sa.Column("provider", sa.String(50), nullable=False),
            sa.Column("scope", sa.String(300), nullable=False),
            sa.Column("status", sa.String(20), nullable=False),
            sa.Column("severity", sa.String(10), nullable=False),
            sa.Index(f"{p}ix_results_scan_fp", "scan_id", "fingerprint"),
        )


def downgrade() -> None:
    p = context.config.attributes["table_prefix"]
    op.drop_table(f"{p}scan_results")
    op.drop_table(f"{p}scans")
