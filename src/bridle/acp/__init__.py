"""bridle as an Agent Client Protocol agent (`bridle acp`), for Zed and other ACP editors.

`agent` serves the protocol over stdio with the official `agent-client-protocol`
SDK, `turn` drives one prompt through the engine, `updates` translates engine
events to session updates, `editor_files` puts the file tools (Read, Write,
Edit, MultiEdit, ApplyPatch) on the editor's buffers and `client_tools` Bash in
its terminals, both calling the client through `link`. A front end: it drives the engine
through `engine.setup.open_session` and ops, and imports nothing above it.
"""
