"""The margin engine: accounts (isolated, cross), orders, borrowing, interest, margin calls,
liquidation, venue profiles; every money movement becomes a ledger event.

The venues' rules live once, as plain numeric functions, in :mod:`marginbook.margin.rules`;
the event-driven engine calls them directly and the backtest kernel compiles the same
functions with numba, so the two can never disagree. This package imports nothing heavy at
import time, so the command line starts fast.
"""
