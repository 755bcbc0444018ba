"""The change feed for sync clients (docs/changes.md)."""
