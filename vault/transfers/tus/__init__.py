"""Resumable uploads over tus 1.0 (docs/uploads.md)."""
