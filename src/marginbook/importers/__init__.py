"""Readers that turn a source's rows into ledger events; one module per source format."""
