"""Layered settings and bridle's paths; imports only `core`."""
