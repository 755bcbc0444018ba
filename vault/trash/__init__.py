"""The trash: trashing, restoring, purging (crypto-shred), expiry, and wiping a whole vault."""
