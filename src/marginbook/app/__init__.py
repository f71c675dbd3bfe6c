"""Use cases that join the parts (import a file, tax a year, run a backtest ...)."""
