"""Encrypted Markdown notes: services, API, rendering, their kind."""
