"""The Locker project: settings, URLs, the pure crypto layer, HTTP helpers and errors."""
