"""Named accounts for the external coding CLIs and for bridle's own harness.

Modules, bottom up: `files` (atomic writes, quarantine, Claude-compatible lock),
`specs` (what each CLI is), `store` (account.json), `layout` (dirs and shared
links), `keys` (secrets; `account_keys`), `mcp_sync`, `sessions`, `launch` (pure
command lines), `runner` (runs them), `manage` (the `bridle accounts` operations)
and `altergo_import`. Nothing here prints; the CLI modules do.
"""

from __future__ import annotations

from bridle.accounts.keys import account_keys

__all__ = ["account_keys"]
