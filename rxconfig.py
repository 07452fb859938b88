"""Reflex configuration. Every installation-specific value comes from the environment (README, "Configuration")."""

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

from portal_app.settings import settings

settings.data_dir.mkdir(parents=True, exist_ok=True)

config = rx.Config(
    app_name="portal_app",
    db_url=settings.database_url,
    redis_url=settings.redis_url,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    disable_plugins=[SitemapPlugin],
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(appearance="light", accent_color="indigo"))],
)
