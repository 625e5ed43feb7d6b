"""Wire formats: one module per format, turning `ModelRequest`s into HTTP requests
and HTTP bytes into `core.stream` events. Endpoints (where, who) live in
`providers/`; this package only knows how bytes look. `Assembler` (the one fold
from events to a `ModelResponse`) is public here, for readers of a stream such as
the engine's loop; its module stays private to the package."""

from bridle.wire._assembler import Assembler, assemble

__all__ = ["Assembler", "assemble"]
