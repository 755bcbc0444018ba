"""The append-only activity log."""
