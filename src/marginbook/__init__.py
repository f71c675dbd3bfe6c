"""marginbook: a margin trading simulator, portfolio tracker and US tax engine on one ledger.

The package is layered (see ``docs/architecture.md``): ``domain`` holds pure value types;
``ledger`` stores events; ``importers`` and ``margin`` produce events; ``tax`` and
``reports`` consume them; ``app`` joins the parts; ``cli`` and ``web`` are thin shells.
"""

__version__ = "0.1.0"
