"""The built stylesheet keeps what the pages can render and drops the rest (portal_app/stylesheet_trim.py)."""

from __future__ import annotations

from pathlib import Path

from portal_app.stylesheet_trim import component_classes, radix_components_imported, trim_built_stylesheet, trim_css

KEPT = {"rt-Button", "rt-BaseButton"}


def _selectors(css: str) -> str:
    return " ".join(css.split())


def test_rules_for_components_no_page_renders_go():
    out = trim_css(".rt-Button{color:red}.rt-AvatarRoot{color:blue}.rt-BaseButton .rt-AvatarFallback{x:1}", KEPT)
    assert ".rt-Button{color:red}" in out
    assert "Avatar" not in out


def test_selector_lists_keep_their_live_members():
    out = trim_css(".rt-Button, .rt-AvatarRoot, .rt-reset { margin: 0 }", KEPT)
    assert _selectors(out) == ".rt-Button, .rt-reset { margin: 0 }"


def test_classes_inside_not_or_alternatives_never_decide():
    css = ".rt-Button:not(.rt-AvatarRoot){a:1} :where(.rt-AvatarRoot, .rt-Button){b:2} .rt-Button:where(.rt-Kbd){c:3}"
    out = trim_css(css, KEPT)
    assert "a:1" in out and "b:2" in out
    assert "c:3" not in out  # a single-selector :where() is a requirement like any other class


def test_breakpoint_variants_go():
    css = (
        "@media (min-width: 1024px){.md\\:rt-r-gtc-2{grid-template-columns:1fr 1fr}}"
        ".rt-Button:where(.md\\:rt-r-size-2){--z:3}.rt-r-gtc-2{grid-template-columns:1fr 1fr}"
    )
    out = trim_css(css, KEPT)
    assert "--z" not in out
    assert "@media" not in out, "an @media block left empty is dropped"
    assert ".rt-r-gtc-2{" in out


def test_dark_theme_rules_stay_for_screens_and_never_print():
    """The dark theme follows the system setting on screen; on paper the light values are the only ones."""
    css = (
        ".light,.dark{--x:1}.dark-theme .rt-Button{--y:2}.dark .rt-AvatarRoot{--gone:0}"
        "@supports (color: red){@media (color-gamut: p3){.dark{--p3:4}}}"
    )
    out = _selectors(trim_css(css, KEPT))
    assert out.startswith(".light{--x:1}@media not print{.dark{--x:1}}"), out
    assert "@media not print{.dark-theme .rt-Button{--y:2}}" in out
    assert "--gone" not in out, "a dark rule for a component no page renders still goes"
    assert "@media (color-gamut: p3){@media not print{.dark{--p3:4}}}" in out


def _fake_web_dir(tmp_path: Path) -> Path:
    web = tmp_path / ".web"
    src = web / "node_modules" / "@radix-ui" / "themes" / "src" / "components"
    (src / "_internal").mkdir(parents=True)
    (src / "button.tsx").write_text("import { BaseButton } from './_internal/base-button.js';\n"
                                    "import { x } from './button.props.js';\nconst c = 'rt-Button';")
    (src / "_internal" / "base-button.tsx").write_text("className={classNames('rt-reset', 'rt-BaseButton')}")
    (src / "avatar.tsx").write_text("const c = 'rt-AvatarRoot';")
    (src / "theme.tsx").write_text("const c = 'rt-Theme';")
    routes = web / "app" / "routes"
    routes.mkdir(parents=True)
    (routes / "page.jsx").write_text(
        'import {Button as RadixThemesButton,Theme as RadixThemesTheme} from "@radix-ui/themes"\n')
    return web


def test_components_are_read_from_the_compiled_pages_and_followed_through_their_imports(tmp_path):
    web = _fake_web_dir(tmp_path)
    names = radix_components_imported(web)
    assert names == {"Button", "Theme"}
    src = web / "node_modules" / "@radix-ui" / "themes" / "src" / "components"
    assert component_classes(names, src) == {"rt-Button", "rt-BaseButton", "rt-Theme"}


def test_the_trimmed_file_gets_a_new_name_everywhere_it_was_named(tmp_path):
    web = _fake_web_dir(tmp_path)
    static = web / "build" / "client"
    (static / "assets").mkdir(parents=True)
    old = static / "assets" / "__reflex_global_styles-AbC123.css"
    old.write_text(".rt-Button{a:1}.rt-AvatarRoot{b:2}")
    (static / "assets" / "__reflex_global_styles-AbC123.css.gz").write_bytes(b"stale")
    page = static / "portal.html"
    page.write_text('<link href="/assets/__reflex_global_styles-AbC123.css" rel="stylesheet"/>')
    new = trim_built_stylesheet(static, web)
    assert new is not None and new.name.startswith("__reflex_global_styles-trim")
    assert new.read_text() == ".rt-Button{a:1}"
    assert not old.exists() and not old.with_name(old.name + ".gz").exists()
    assert new.name in page.read_text() and old.name not in page.read_text()


def test_without_the_radix_sources_the_build_is_left_as_it_was(tmp_path):
    static = tmp_path / "client"
    (static / "assets").mkdir(parents=True)
    css = static / "assets" / "__reflex_global_styles-AbC123.css"
    css.write_text(".rt-AvatarRoot{b:2}")
    assert trim_built_stylesheet(static, tmp_path / "missing-web") is None
    assert css.read_text() == ".rt-AvatarRoot{b:2}"


def test_an_is_list_goes_when_none_of_its_alternatives_can_match():
    out = trim_css(":is(.rt-AvatarRoot,.md\\:rt-r-size-2) .x{a:1}:is(.rt-AvatarRoot,.light) .y{b:2}", KEPT)
    assert "a:1" not in out and "b:2" in out


def test_an_is_list_of_dark_classes_is_for_screens_only():
    out = _selectors(trim_css(":is(.dark,.dark-theme) .x{a:1}:is(.dark,.light) .y{b:2}", KEPT))
    assert out == "@media not print{:is(.dark,.dark-theme) .x{a:1}}:is(.dark,.light) .y{b:2}"
