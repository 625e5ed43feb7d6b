"""The agent loop, session assembly and the events front ends render."""
