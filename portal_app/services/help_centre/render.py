"""Article Markdown to safe HTML (and to plain text for search and snippets), on the server.

- ``markdown-it-py`` in CommonMark mode with tables and strikethrough, **raw HTML off**: ``<script>`` in an article
  is shown as text, never run.
- Links and images are checked (:func:`safe_url`): only ``http``, ``https``, ``mailto`` and addresses on this site
  (``/help/...``, ``#part``, ``other-article``). ``javascript:``, ``data:``, ``vbscript:``, ``file:`` and
  protocol-relative ``//host`` links are dropped (the text stays, without a link). Links to other sites get
  ``rel="noopener noreferrer nofollow"``.
- The page shows the title as its only ``h1``: a leading ``# Title`` equal to the title is dropped and every other
  heading moves one level down (``#`` becomes ``h2``), so the outline stays right for screen readers.
"""

from __future__ import annotations

import re
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def safe_url(url: str) -> bool:
    """True for an http(s) or mailto address or a path on this site; False for anything a browser could run."""
    text = (url or "").strip()
    if not text or any(ord(c) < 32 or ord(c) == 127 for c in text) or "\\" in text:
        return False
    scheme = _SCHEME.match(text)
    if scheme:
        return scheme.group(1).lower() in ALLOWED_SCHEMES
    return not text.startswith("//")


class _SafeLinks(MarkdownIt):
    """A parser whose links and images pass :func:`safe_url` (markdown-it-py's way to change the check)."""

    def validateLink(self, url: str) -> bool:
        return safe_url(url)


def _markdown() -> MarkdownIt:
    md = _SafeLinks("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])

    def link_open(renderer, tokens, idx, options, env):  # noqa: ANN001, ANN202
        href = str(tokens[idx].attrGet("href") or "")
        if _SCHEME.match(href) and not href.lower().startswith("mailto:"):
            tokens[idx].attrSet("rel", "noopener noreferrer nofollow")
        return renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    return md


_MD = _markdown()


def _same(a: str, b: str) -> bool:
    return " ".join(a.lower().split()) == " ".join(b.lower().split())


def _tokens(title: str, markdown: str) -> list[Token]:
    tokens = _MD.parse(markdown or "")
    if (
        len(tokens) >= 3
        and tokens[0].type == "heading_open"
        and tokens[0].tag == "h1"
        and _same(tokens[1].content, title)
    ):
        tokens = tokens[3:]
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + 1)}"
    return tokens


@lru_cache(maxsize=512)
def to_html(title: str, markdown: str) -> str:
    """The article body as HTML that is safe to put in a page as it is."""
    return _MD.renderer.render(_tokens(title, markdown), _MD.options, {})


@lru_cache(maxsize=512)
def to_text(title: str, markdown: str) -> str:
    """The article body as plain text, one line per block (for the search index and snippets)."""
    lines: list[str] = []
    for token in _tokens(title, markdown):
        if token.type == "inline":
            parts = []
            for child in token.children or []:
                if child.type in ("text", "code_inline"):
                    parts.append(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    parts.append(" ")
            line = "".join(parts).strip()
            if line:
                lines.append(line)
        elif token.type in ("fence", "code_block") and token.content.strip():
            lines.append(" ".join(token.content.split()))
    return "\n".join(lines)


def sentences(text: str) -> list[str]:
    return [s.strip() for line in text.splitlines() for s in _SENTENCE_END.split(line) if s.strip()]


def shorten(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"
