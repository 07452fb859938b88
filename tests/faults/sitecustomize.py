"""Fault injection for the browser tests' app; never part of the product.

Python imports ``sitecustomize`` at start-up from the path; tests/browser_app.py starts the app with this directory
on ``PYTHONPATH`` and ``PORTAL_TEST_FAULTS=1``. Then a help-centre search for exactly ``FAULT_QUERY`` raises inside
the search service, the way an unexpected failure (a bug, a database gone away) would; every other search works.
The tests use it to see what a person sees when a page action fails (tests/browser/test_browser_page_errors.py).
"""

import importlib.abc
import os
import sys

FAULT_QUERY = "fault injection 7c1f raise"
TARGET = "portal_app.services.help_centre"


class InjectedFault(RuntimeError):
    """Raised on purpose by the test app."""


def _wrap(module) -> None:
    real = module.search_articles

    def search_articles(db, principal, text, *args, **kwargs):
        if text == FAULT_QUERY:
            raise InjectedFault("help search failed on purpose (browser test fault injection)")
        return real(db, principal, text, *args, **kwargs)

    module.search_articles = search_articles


class _AfterImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself; lets the next finder load TARGET and patches the module once it has run."""

    def find_spec(self, name, path, target=None):
        if name != TARGET:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                run = spec.loader.exec_module

                def exec_module(module, run=run):
                    run(module)
                    _wrap(module)

                spec.loader.exec_module = exec_module
                return spec
        return None


if os.environ.get("PORTAL_TEST_FAULTS") == "1":
    sys.meta_path.insert(0, _AfterImport())
