"""Search over encrypted data: the blind index, search and tag selectors, reindex."""
