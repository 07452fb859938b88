"""The look of every page: Radix Themes with indigo accents, loading only the colour scales the app uses.

Light or dark follows the system setting (``prefers-color-scheme``): the theme names no appearance, so Reflex's
colour mode defaults to "system" and puts ``light`` or ``dark`` on the page's root element before the first paint.
The app's own colours are CSS variables in assets/portal.css with a light and a dark value. Print is always light
(the dark rules only apply on screens: portal_app/stylesheet_trim.py).

Radix's full stylesheet carries all 31 colour scales (about 800 KB before compression, render-blocking on every
first visit). The app names its colours in one place, ``THEME_COLORS``; a test checks that every colour the
code asks for is in it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import reflex as rx
from reflex.utils.prerequisites import get_web_dir

from portal_app.stylesheet_trim import trim_built_stylesheet

ACCENT = "indigo"
GRAY = "slate"
THEME_COLORS = ("indigo", "slate", "gray", "amber", "blue", "green", "orange", "red", "teal")


@dataclasses.dataclass
class PortalThemePlugin(rx.plugins.RadixThemesPlugin):
    def get_stylesheet_paths(self, **context: Any) -> tuple[str, ...]:
        if not self.enabled:
            return ()
        return (
            "@radix-ui/themes/tokens/base.css",
            *(f"@radix-ui/themes/tokens/colors/{color}.css" for color in THEME_COLORS),
            "@radix-ui/themes/components.css",
            "@radix-ui/themes/utilities.css",
        )

    def post_build(self, **context: Any) -> None:
        """Drop the stylesheet rules no page can use (portal_app/stylesheet_trim.py)."""
        static_dir = Path(context["static_dir"])
        trim_built_stylesheet(static_dir, get_web_dir())


def theme_plugin() -> PortalThemePlugin:
    return PortalThemePlugin(theme=rx.theme(accent_color=ACCENT, gray_color=GRAY))
