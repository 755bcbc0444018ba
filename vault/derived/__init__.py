"""Data derived from content (thumbnails, text for search), made in a worker process outside any transaction."""
