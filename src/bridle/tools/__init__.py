"""Built-in tools, one module per tool, with Claude Code names and parameters.

Tools do their job and report; they never check permissions (the engine's
dispatcher runs policy and hooks first). See `base` for the contract.
"""
