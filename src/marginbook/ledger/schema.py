"""The ledger's tables, as SQLAlchemy Core metadata.

Why these column types:

- Quantities and USD amounts are ``TEXT`` holding the exact decimal string (``plain()``:
  no exponent, no trailing zeros). A float column cannot hold ``0.1``, and ``NUMERIC`` means
  different things on SQLite (a float in disguise) and PostgreSQL; text reads back exactly
  on both, and the ledger never sums amounts in SQL.
- Times are ``BIGINT`` microseconds since 1970-01-01 UTC: exact, zone-free (every time in
  the ledger is UTC), compact and sortable the same way on both backends.
- ``seq`` is the import order. Events are read in ``(ts_us, seq)`` order, so events with the
  same timestamp keep their file row order and, across files, the order of import.
- ``fingerprint`` is a digest of :meth:`LedgerEvent.fingerprint`; an event re-imported under
  a known id with the same digest is the same event, with another digest a conflict.

This module is the live description the queries use; the migrations in ``migrations/`` are
frozen copies of its history, and a test checks that the two agree.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, Table, Text, UniqueConstraint

metadata = MetaData()

#: ``BIGINT`` on PostgreSQL, ``INTEGER`` on SQLite (where only ``INTEGER PRIMARY KEY`` is the rowid).
SeqInteger = BigInteger().with_variant(Integer(), "sqlite")

events = Table(
    "events",
    metadata,
    Column("seq", SeqInteger, primary_key=True, autoincrement=True),
    Column("id", Text, nullable=False),
    Column("ts_us", BigInteger, nullable=False),
    Column("kind", Text, nullable=False),
    Column("wallet", Text, nullable=False),
    Column("asset", Text, nullable=False),
    Column("amount", Text, nullable=False),
    Column("counter_asset", Text),
    Column("counter_amount", Text),
    Column("fee_asset", Text),
    Column("fee_amount", Text),
    Column("usd_value", Text),
    Column("to_wallet", Text),
    Column("cost_basis_usd", Text),
    Column("acquired_at_us", BigInteger),
    Column("lots", Text),
    Column("position", Text),
    Column("opened_at_us", BigInteger),
    Column("note", Text),
    Column("source", Text, nullable=False),
    Column("source_row", Integer),
    Column("source_ref", Text),
    Column("fingerprint", Text, nullable=False),
    UniqueConstraint("id", name="uq_events_id"),
    Index("ix_events_ts_seq", "ts_us", "seq"),
)
