"""Pure values shared by every layer: messages, stream events, usage and errors.

No I/O and no third-party imports live here; see `messages`, `stream` and `errors`.
"""
