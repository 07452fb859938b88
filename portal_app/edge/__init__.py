"""The web edge: ASGI layers around the whole app (pages, page websocket, uploads and the HTTP API).

`portal_app/portal_app.py` lists them in `api_transformer`, innermost first:

- `upload_gate.UploadGate` lets a page upload (`POST /_upload`) act only as the session of its own cookie;
- `body_limit.RequestBodyLimit` counts request body bytes as they arrive and stops at each route's limit;
- `origins.RequestOriginCheck` lets only the installation's own origins use a session (CSRF, websocket origin);
- `headers.SecurityHeaders` puts the security headers (CSP and the rest) on every response, refusals included.

CORS itself is Reflex's (`rxconfig.py` hands it `settings.allowed_origins`).
"""
