"""The command line: thin Typer commands that parse input, call ``marginbook.app``, render."""
