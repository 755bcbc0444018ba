"""``locker``, the command-line client (docs/cli.md): it speaks only Locker's public HTTP API, so it works with any
Locker server, and imports nothing of the server's code (the layer contract in pyproject.toml)."""
