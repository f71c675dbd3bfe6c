"""Use cases that join the parts: import a file into the ledger, tax a year, value a portfolio."""
