"""Backtests: strategies turn bars into signals, a numba bar loop drives margin positions.

Data flow: :mod:`~marginbook.backtest.data` reads a price CSV into plain arrays;
:mod:`~marginbook.backtest.strategies` turns them into entry/exit signal arrays;
:mod:`~marginbook.backtest.kernel` runs the bar loop, which calls the margin rules of
:mod:`marginbook.margin.rules` compiled with numba; :mod:`~marginbook.backtest.results`
summarises, :mod:`~marginbook.backtest.ledger_export` writes ledger events with exact
decimals, :mod:`~marginbook.backtest.plot` draws, :mod:`~marginbook.backtest.sweep` runs
parameter grids. See ``docs/backtest.md``.
"""
