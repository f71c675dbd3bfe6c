"""The event-driven broker: orders in, fills, interest, funding, calls and liquidations out.

:mod:`.execution` moves the money of one fill (and emits its ledger events);
:mod:`.engine` runs the bar loop that decides what fills when.
"""
