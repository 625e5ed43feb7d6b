"""Claude Code's extension formats: skills, slash commands, agent definitions and
output styles, loaded from the same folders Claude Code reads, validated (a bad
file is reported with its path and field, and skipped), and expanded for a
request. This package reads files and returns values; the engine decides what
goes into a request, and the front ends show the problems."""
