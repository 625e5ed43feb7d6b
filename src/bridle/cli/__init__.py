"""Command-line front end: thin Click commands that parse flags and call services."""
