"""Compact history: no whole report per scan.

A scan keeps its header (the report without its results: tier, scopes,
summary, attainment, coverage) as JSON, a ``state`` (``pending`` until its
outputs are written), and the fingerprints and statuses of its passing,
not-applicable and excluded results packed into one binary column; only
failing, waived and error results keep a row each (with the result's JSON).
Existing scans are converted from their stored report.

Revision ID: 0002
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import context, op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from posture.history import pack_statuses, result_row, split_report

    p = context.config.attributes["table_prefix"]
    with op.batch_alter_table(f"{p}scans") as batch:
        batch.add_column(sa.Column("state", sa.String(10), nullable=False, server_default="recorded"))
        batch.add_column(sa.Column("header", sa.Text, nullable=True))
        batch.add_column(sa.Column("statuses", sa.LargeBinary, nullable=True))
    with op.batch_alter_table(f"{p}scan_results") as batch:
        batch.add_column(sa.Column("region", sa.String(100), nullable=False, server_default=""))
        batch.add_column(sa.Column("result", sa.Text, nullable=True))
    bind = op.get_bind()
    md = sa.MetaData()
    scans = sa.Table(f"{p}scans", md, autoload_with=bind)
    results = sa.Table(f"{p}scan_results", md, autoload_with=bind)
    for row in bind.execute(sa.select(scans.c.id, scans.c.report)).fetchall():
        header, kept, others = split_report(json.loads(row.report))
        bind.execute(scans.update().where(scans.c.id == row.id).values(
            header=json.dumps(header, sort_keys=True), statuses=pack_statuses(others)))
        bind.execute(results.delete().where(results.c.scan_id == row.id))
        if kept:
            bind.execute(results.insert(), [result_row(row.id, r) for r in kept])
    with op.batch_alter_table(f"{p}scans") as batch:
        batch.drop_column("report")
        batch.create_index(f"{p}ix_scans_key_state", ["scan_key", "state"])


def downgrade() -> None:
    raise NotImplementedError("the compact history cannot be turned back into whole reports")
