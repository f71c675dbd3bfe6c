"""Create the events table.

Revision ID: 0001
Revises:
Create Date: 2026-11-24

A frozen copy of the first ``events`` schema (see ``marginbook/ledger/schema.py`` for why
amounts are text and times integer microseconds). Later changes go in new revisions; this
file is never edited once released.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``events`` with its unique id and its (time, import order) index."""
    op.create_table(
        "events",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("ts_us", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("wallet", sa.Text(), nullable=False),
        sa.Column("asset", sa.Text(), nullable=False),
        sa.Column("amount", sa.Text(), nullable=False),
        sa.Column("counter_asset", sa.Text()),
        sa.Column("counter_amount", sa.Text()),
        sa.Column("fee_asset", sa.Text()),
        sa.Column("fee_amount", sa.Text()),
        sa.Column("usd_value", sa.Text()),
        sa.Column("to_wallet", sa.Text()),
        sa.Column("cost_basis_usd", sa.Text()),
        sa.Column("acquired_at_us", sa.BigInteger()),
        sa.Column("lots", sa.Text()),
        sa.Column("position", sa.Text()),
        sa.Column("opened_at_us", sa.BigInteger()),
        sa.Column("note", sa.Text()),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_row", sa.Integer()),
        sa.Column("source_ref", sa.Text()),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.UniqueConstraint("id", name="uq_events_id"),
    )
    op.create_index("ix_events_ts_seq", "events", ["ts_us", "seq"])


def downgrade() -> None:
    """Drop ``events`` (and every event in it)."""
    op.drop_index("ix_events_ts_seq", table_name="events")
    op.drop_table("events")
