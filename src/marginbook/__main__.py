"""``python -m marginbook`` runs the command line."""

from marginbook.cli.main import program

program()
