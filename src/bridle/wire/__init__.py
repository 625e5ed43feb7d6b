"""Wire formats: one module per format, turning `ModelRequest`s into HTTP requests
and HTTP bytes into `core.stream` events. Endpoints (where, who) live in
`providers/`; this package only knows how bytes look."""
