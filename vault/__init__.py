"""The encrypted vault: folders, files, versions, trash, transfers, derived data, notes and search.

What each sub-package owns, and the layers: docs/architecture.md.
"""
