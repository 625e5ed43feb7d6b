"""Claude Code hooks for bridle: settings, matchers, handlers and their JSON protocol.

`config` parses hook settings from every source (settings layers, plugins'
`hooks/hooks.json`, skill and agent frontmatter, `--hook EVENT:COMMAND`),
`events` builds each event's stdin JSON, `matchers` decides which handlers
fire, `runner` runs them (command, http, prompt, mcp_tool, and the Agent
SDK's `callback` hooks answered over its control channel) and folds their
answers into one `HookOutcome`, and `transcript` writes the Claude Code-format
JSONL transcript that hook scripts read. Nothing here is imported until a
session has hooks configured.
"""
