"""The app's version: the one place it is read. The installed package's metadata when the portal is installed as
a package (``forwarder-portal``), else ``pyproject.toml``'s ``[project] version`` of the checkout it runs from."""

from __future__ import annotations

import functools
from importlib import metadata

PACKAGE = "forwarder-portal"


@functools.cache
def app_version() -> str:
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        import tomllib

        from portal_app.settings import PROJECT_ROOT

        with open(PROJECT_ROOT / "pyproject.toml", "rb") as fh:
            return str(tomllib.load(fh)["project"]["version"])
