"""Sharing items with other users (and, later, public links)."""
