"""Reflex configuration. Every installation-specific value comes from the environment (README, "Configuration")."""

import os

import reflex as rx
from reflex.constants import StateManagerMode
from reflex.plugins.sitemap import SitemapPlugin

from portal_app.bundle_chunks import BundleChunksPlugin
from portal_app.settings import settings
from portal_app.theme import theme_plugin

settings.data_dir.mkdir(parents=True, exist_ok=True)
# uvicorn (alone or under gunicorn) believes X-Forwarded-For from 127.0.0.1 by default and rewrites the peer address
# before the app sees it. The app decides the client address itself (PORTAL_TRUSTED_PROXIES), so the server it is
# started under by `reflex run`, however that is launched, trusts nobody (`make run` also passes the flag).
os.environ["FORWARDED_ALLOW_IPS"] = ""
# The pages open their websocket and send uploads to the address customers use (PORTAL_PUBLIC_URL): behind a reverse
# proxy that is the proxy, on whatever port and scheme it listens. Reflex's default (`http://localhost:<port>`, kept
# for a local `make run` without PORTAL_PUBLIC_URL) makes a page use its own host name but the backend's port, which
# bypasses a proxy on another port, and over https always uses port 443.
public_backend = {"api_url": settings.public_origin} if (os.environ.get("PORTAL_PUBLIC_URL") or "").strip() else {}

config = rx.Config(
    app_name="portal_app",
    db_url=settings.database_url,
    redis_url=settings.redis_url,
    # Page state lives in this process's memory on one machine (never written to disk: it can hold customer
    # rows) and in Redis when several workers share it. A restart only makes open pages reload their data.
    state_manager_mode=StateManagerMode.REDIS if settings.redis_url else StateManagerMode.MEMORY,
    # Only the installation's own origins may call the backend with credentials: CORS answers and the page
    # websocket's handshake (Reflex's socket server) both use this list (see portal_app/edge/origins.py).
    cors_allowed_origins=list(settings.allowed_origins),
    telemetry_enabled=False,
    show_built_with_reflex=False,
    disable_plugins=[SitemapPlugin],
    plugins=[theme_plugin(), BundleChunksPlugin()],
    # Page events get the client address the app decided (portal_app/client_address.py), not X-Forwarded-For.
    trusted_proxy_hops=0,
    **public_backend,
)
if config.trusted_proxy_hops:  # REFLEX_TRUSTED_PROXY_HOPS would let Reflex pick another address for page events
    raise SystemExit(
        "REFLEX_TRUSTED_PROXY_HOPS is not used by this portal: list your reverse proxies in PORTAL_TRUSTED_PROXIES "
        "instead (README, 'Behind a reverse proxy')."
    )
