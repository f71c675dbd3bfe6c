"""Use cases that join the parts (import a file, tax a year, ...); the CLI and web call these."""
