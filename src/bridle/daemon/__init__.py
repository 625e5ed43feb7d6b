"""The daemon: coding tasks over HTTP, run by worker processes from a task backend."""
