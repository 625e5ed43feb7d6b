"""Textual front ends. Nothing is imported here: Textual loads only when a picker runs."""
