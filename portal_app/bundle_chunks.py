"""Fewer, larger script files per page: the production build groups the shared libraries into two chunks.

Left to itself the build splits the front end into one chunk per shared module, so a portal page loaded 24 to 28
script files: React, the router, socket.io and emotion in some, one per Radix component in others, many under
1 KB. A browser fetches at most six files at a time from one HTTP/1.1 server, and on a slow mobile link every
further round costs a round trip before the page can run. Grouping the libraries into ``vendor-core`` (React,
React Router, socket.io, emotion, cookies) and ``vendor-ui`` (Radix, the icons and their helpers) brings a page to
9-11 files and, compressed together, about 12 KB less JavaScript (docs/benchmarks.md). Every page uses both
groups, so no page loads code it did not load before.

The groups are added to the vite.config.js Reflex generates, before it is written (a plugin's pre-compile modify
task). If Reflex's template changes shape the config is left as it was and a warning is logged: more files, never
a broken build.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import reflex as rx

log = logging.getLogger(__name__)

VITE_CONFIG_FILE = "vite.config.js"
# The end of the one chunk group Reflex's template declares (its env.json); ours follow it.
_REFLEX_GROUP_END = re.compile(r'name:\s*"reflex-env",\s*\},')
VENDOR_GROUPS = {
    "vendor-core": (20, (r"react|react-dom|scheduler|react-router|@react-router|socket\.io-client|engine\.io-client"
                         r"|socket\.io-parser|@socket\.io|@emotion|universal-cookie|cookie")),
    "vendor-ui": (10, (r"@radix-ui|radix-ui|lucide-react|@floating-ui|react-remove-scroll|react-remove-scroll-bar"
                       r"|react-style-singleton|use-callback-ref|use-sidecar|get-nonce|aria-hidden|tslib|classnames")),
}


def _group(name: str, priority: int, packages: str) -> str:
    return f'\n            {{ test: /node_modules[\\\\/]({packages})[\\\\/]/, name: "{name}", priority: {priority} }},'


def add_vendor_chunks(config_js: str) -> str:
    """``config_js`` with the vendor chunk groups after Reflex's own; unchanged (and a warning) if it has no
    such group to follow or already has ours."""
    match = _REFLEX_GROUP_END.search(config_js)
    if match is None or "vendor-core" in config_js:
        log.warning("Vendor chunk groups not added: vite.config.js does not have the expected shape")
        return config_js
    groups = "".join(_group(name, priority, packages) for name, (priority, packages) in VENDOR_GROUPS.items())
    return config_js[: match.end()] + groups + config_js[match.end():]


class BundleChunksPlugin(rx.plugins.Plugin):
    def pre_compile(self, **context: Any) -> None:
        context["add_modify_task"](VITE_CONFIG_FILE, add_vendor_chunks)
