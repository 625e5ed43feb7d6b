"""bridle's one SQLite database: sessions, events, and the history index."""
