"""Folders, files and their versions: services, selectors, filters, ordering by encrypted name, their kinds."""
