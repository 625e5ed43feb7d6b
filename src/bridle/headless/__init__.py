"""Headless front end: `bridle -p` runs, batches, stream-json input and the Agent SDK protocol."""
