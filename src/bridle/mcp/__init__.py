"""MCP servers in Claude Code's formats: configuration scopes (`config`), client
sessions on a background event loop (`client`), and adapters that turn a server's
tools and resources into bridle tools (`tools`). Importing this package imports
nothing heavy: the official `mcp` SDK is loaded only when a server is started.
"""
