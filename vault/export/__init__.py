"""The data export: everything a user has, streamed as one JSON document (``GET /api/v1/me/data``)."""
