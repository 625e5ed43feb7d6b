"""Helpers and tests that drive the real coding CLIs against the mock server."""
