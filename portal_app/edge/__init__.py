"""The web edge: ASGI middleware in front of the API and the pages (see docs/security.md)."""
