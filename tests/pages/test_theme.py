"""Only the colour scales in portal_app.theme.THEME_COLORS reach the browser: every colour the code names must be
one of them, or its badges and callouts would render without colour."""

from __future__ import annotations

import re

from portal_app.theme import ACCENT, GRAY, THEME_COLORS
from tests.paths import PROJECT_ROOT

RADIX_SCALES = {
    "amber", "blue", "bronze", "brown", "crimson", "cyan", "gold", "grass", "gray", "green", "indigo", "iris",
    "jade", "lime", "mauve", "mint", "olive", "orange", "pink", "plum", "purple", "red", "ruby", "sage", "sand",
    "sky", "slate", "teal", "tomato", "violet", "yellow",
}
SOURCE = PROJECT_ROOT / "portal_app"
# Packages that render nothing: a word there that happens to name a colour ("iris", a sign-in method) is not one.
NOT_RENDERING = {"api", "auth", "edge", "services"}


def test_every_colour_named_in_the_code_is_loaded():
    named = set()
    for path in SOURCE.rglob("*.py"):
        if path.relative_to(SOURCE).parts[0] in NOT_RENDERING:
            continue
        named |= {m for m in re.findall(r"[\"']([a-z]+)[\"']", path.read_text()) if m in RADIX_SCALES}
    assert named, "the scan found no colour names at all"
    assert named <= set(THEME_COLORS), f"add to THEME_COLORS: {sorted(named - set(THEME_COLORS))}"
    assert {ACCENT, GRAY} <= set(THEME_COLORS)


def test_no_page_uses_radix_breakpoint_props():
    """Breakpoint utilities are trimmed from the shipped stylesheet; responsive columns use responsive_grid."""
    offenders = [str(p.relative_to(SOURCE)) for p in SOURCE.rglob("*.py") if "rx.breakpoints(" in p.read_text()]
    assert offenders == [], f"use components.ui.responsive_grid instead of rx.breakpoints in {offenders}"
