"""Use cases that join the parts: import files into the ledger, show it, run the demo ...

The command line and the web dashboard are thin shells over these functions.
"""
