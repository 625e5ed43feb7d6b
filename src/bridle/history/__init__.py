"""One index of every session of every tool: importers, indexer, search, resume.

`claude`, `codex`, `gemini` and `copilot` read those tools' real on-disk session
formats; `roots` says where they live (primary config dirs and each account's
own dirs); `index` keeps the SQLite FTS5 index current by reading only appended
bytes; `search` answers queries; `resume` builds the command line that continues
a session in its own tool. Nothing is imported here, so `bridle sessions search`
loads only what it uses.
"""
