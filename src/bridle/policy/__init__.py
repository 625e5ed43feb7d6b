"""Permissions: Claude-Code-syntax rules, modes, and shell-command parsing.

Callers use `bridle.policy.engine.PermissionPolicy` (built with
`bridle.policy.sources.build_policy`) and never the parser directly.
"""
