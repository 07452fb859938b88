"""Trim the built global stylesheet to what the app can use, after the production build.

Radix Themes ships one stylesheet for all of its components, a dark theme and responsive variants of every layout
utility: about 630 KB (63 KB gzip) that every first visit waits for before anything paints. The app renders a
fraction of it. After the build this keeps only:

* component rules for the Radix components the compiled pages import, and the components those import in turn
  (read from the package's own sources in ``node_modules``, so a new component on a page is kept automatically);
* both themes, light and dark (the page follows the system setting, portal_app/theme.py); but a rule that needs
  ``.dark`` / ``.dark-theme`` moves into ``@media not print``, so paper always gets the light colours (its
  selectors are left as they were: a rule with light and dark selectors is split in two, in the same place);
* base layout utilities, without their breakpoint-prefixed copies (``md:rt-r-gtc-2``): pages lay out responsive
  columns with the app's own classes (``components.ui.responsive_grid``), and a test keeps ``rx.breakpoints`` out.

The trimmed file gets a new content-hashed name and every built file that named the old one is rewritten, so a
browser never keeps a cached copy under a name whose content changed. Anything unexpected leaves the build as it
was: a larger stylesheet, never a broken page.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path

import tinycss2
from tinycss2.ast import AtRule, Node, QualifiedRule

log = logging.getLogger(__name__)

STYLESHEET_GLOB = "assets/__reflex_global_styles-*.css"
RADIX_IMPORT = re.compile(r"import\s*\{([^}]*)\}\s*from\s*\"@radix-ui/themes\"")
IMPORTED_NAME = re.compile(r"(\w+)\s+as\s+\w+|(\w+)")
LOCAL_IMPORT = re.compile(r"from '\./([\w/.-]+)\.js'")
COMPONENT_CLASS = re.compile(r"rt-[A-Z]\w*")
BREAKPOINT_PREFIX = re.compile(r"^(xs|sm|md|lg|xl):")
DARK_THEME_CLASSES = frozenset({"dark", "dark-theme"})
GROUPING_AT_RULES = frozenset({"media", "supports", "layer", "container"})


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def radix_components_imported(web_dir: Path) -> set[str]:
    """Names of the Radix Themes components the compiled pages import (``Button``, ``TextField``...)."""
    names: set[str] = set()
    for folder in ("app", "app_components", "utils", "components"):
        for path in (web_dir / folder).rglob("*.js*") if (web_dir / folder).is_dir() else ():
            for group in RADIX_IMPORT.findall(path.read_text(encoding="utf-8", errors="replace")):
                names.update(a or b for a, b in IMPORTED_NAME.findall(group))
    return names


def component_classes(components: Iterable[str], radix_src: Path) -> set[str]:
    """Every ``rt-Component`` class the given components and the modules they import put on elements."""
    pending = [_kebab(name) for name in components]
    seen: set[str] = set()
    classes: set[str] = set()
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        source = radix_src / f"{module}.tsx"
        if not source.is_file():
            continue
        text = source.read_text(encoding="utf-8")
        classes.update(COMPONENT_CLASS.findall(text))
        base = Path(module).parent
        for imported in LOCAL_IMPORT.findall(text):
            if not imported.endswith(".props"):
                pending.append((base / imported).as_posix().removeprefix("./"))
    return classes


def _split_selectors(prelude: list[Node]) -> list[list[Node]]:
    """A selector list's selectors: commas inside ``:is()``/``:where()`` belong to a function block, not here."""
    selectors: list[list[Node]] = [[]]
    for token in prelude:
        if token.type == "literal" and token.value == ",":
            selectors.append([])
        else:
            selectors[-1].append(token)
    return selectors


def _class_can_appear(css_class: str, kept_classes: set[str], dark: bool) -> bool:
    if BREAKPOINT_PREFIX.match(css_class) or (css_class in DARK_THEME_CLASSES and not dark):
        return False
    return not COMPONENT_CLASS.fullmatch(css_class) or css_class in kept_classes


def _selector_can_match(selector: list[Node], kept_classes: set[str], dark: bool = True) -> bool:
    """False when the selector needs a class no page renders: at its top level, or in every alternative of an
    ``:is()``/``:where()``/``:has()`` (Radix writes ``:where(.md\\:rt-r-size-2)`` and ``:is(.dark, .dark-theme)``).
    What ``:not()`` mentions never decides. ``dark``: whether the dark theme's classes can be on the page."""
    for dot, name in pairwise(selector):
        if (dot.type == "literal" and dot.value == "." and name.type == "ident"
                and not _class_can_appear(name.value, kept_classes, dark)):
            return False
    for token in selector:
        if (token.type == "function" and token.lower_name in ("where", "is", "has")
                and not any(_selector_can_match(alt, kept_classes, dark) for alt in _split_selectors(token.arguments))):
            return False
    return True


def _with_selectors(rule: QualifiedRule, selectors: list[list[Node]]) -> QualifiedRule:
    """A copy of ``rule`` for these of its selectors."""
    prelude = tinycss2.parse_component_value_list(",".join(tinycss2.serialize(s) for s in selectors))
    return QualifiedRule(rule.source_line, rule.source_column, prelude, rule.content)


def _on_screens_only(rule: QualifiedRule) -> AtRule:
    """``rule`` inside ``@media not print``."""
    wrapped = tinycss2.parse_stylesheet(f"@media not print{{{tinycss2.serialize([rule])}}}")
    return next(node for node in wrapped if isinstance(node, AtRule))


def _trim_rules(rules: list[Node], kept_classes: set[str]) -> list[Node]:
    kept: list[Node] = []
    for rule in rules:
        if isinstance(rule, QualifiedRule):
            selectors = _split_selectors(rule.prelude)
            alive = [s for s in selectors if _selector_can_match(s, kept_classes)]
            light = [s for s in alive if _selector_can_match(s, kept_classes, dark=False)]
            dark = [s for s in alive if not _selector_can_match(s, kept_classes, dark=False)]
            if light:
                kept.append(rule if len(light) == len(selectors) else _with_selectors(rule, light))
            if dark:
                kept.append(_on_screens_only(_with_selectors(rule, dark)))
            continue
        if isinstance(rule, AtRule) and rule.content is not None and rule.lower_at_keyword in GROUPING_AT_RULES:
            inner = _trim_rules(tinycss2.parse_rule_list(rule.content), kept_classes)
            if not any(isinstance(r, (QualifiedRule, AtRule)) for r in inner):
                continue
            rule.content = inner
        kept.append(rule)
    return kept


def trim_css(css: str, kept_classes: set[str]) -> str:
    """The stylesheet without the rules that cannot match anything the app renders (see the module docstring).

    A selector is only dropped, never rewritten, and only for a class it cannot match without.
    """
    return tinycss2.serialize(_trim_rules(tinycss2.parse_stylesheet(css), kept_classes))


def trim_built_stylesheet(static_dir: Path, web_dir: Path) -> Path | None:
    """Trim the build's global stylesheet in place under a new hashed name; the new path, or None if skipped."""
    radix_src = web_dir / "node_modules" / "@radix-ui" / "themes" / "src" / "components"
    built = sorted(static_dir.glob(STYLESHEET_GLOB))
    components = radix_components_imported(web_dir)
    if len(built) != 1 or not radix_src.is_dir() or "Theme" not in components:
        log.warning("Stylesheet left untrimmed: expected one global stylesheet and the Radix Themes sources")
        return None
    old = built[0]
    kept_classes = component_classes(components, radix_src)
    trimmed = trim_css(old.read_text(encoding="utf-8"), kept_classes)
    digest = hashlib.sha256(trimmed.encode()).hexdigest()[:10]
    new = old.with_name(f"__reflex_global_styles-trim{digest}.css")
    new.write_text(trimmed, encoding="utf-8")
    for path in static_dir.rglob("*"):
        if path.suffix in (".html", ".js", ".json") and path.is_file():
            text = path.read_text(encoding="utf-8", errors="surrogateescape")
            if old.name in text:
                path.write_text(text.replace(old.name, new.name), encoding="utf-8", errors="surrogateescape")
    for stale in old.parent.glob(old.name + "*"):
        stale.unlink()
    return new
