"""The app the browser tests drive, started exactly as `make run` starts it, and a Chromium page on it.

The one addition is a fault the tests can trigger on purpose (tests/faults/sitecustomize.py): a help-centre search
for one exact phrase fails as an unexpected error would; nothing else behaves differently.

Starting the app takes most of a minute (migrate, seed, build the frontend), so every browser module shares one
copy: it starts when the first test asks for it and stops, the way a service manager stops it, after the last test
that uses it. So no test may rely on what another module did or did not change: each makes or picks its own records,
or reads demo data that no test changes. tests/conftest.py registers the fixtures and the hook that stops the app.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.app_server import AppStartError, RunningApp, restart, start_app, stop
from portal_app.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
DEMO_CUSTOMER = ("alice@acme.example", "demo-Pass-2026")
# The app trusts one reverse proxy at this loopback address (PORTAL_TRUSTED_PROXIES); tests connect from it to act as
# the proxy, and from 127.0.0.1 like any other client (tests/browser/test_browser_sign_in.py).
TRUSTED_PROXY = "127.0.0.2"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-quic", "--no-first-run", "--disable-sync"]


def _at(path: str, query: bool = False) -> re.Pattern:
    """A URL matcher for ``path`` with or without the trailing slash the static export adds."""
    return re.compile(rf"^https?://[^/]+{re.escape(path.rstrip('/'))}/?" + (r"\?.*$" if query else r"$"))


def sign_in(pg, email: str, next_path: str, lands_on: str | None = None) -> None:
    """Open ``next_path`` signed out, sign in where it sends you, and land on ``lands_on`` (by default on it).

    The form goes only once the sign-in page holds ``next_path``: its page event fills that field, and a click
    before the event's answer (the tab may still hold an earlier sign-in's destination) would land elsewhere.
    """
    from playwright.sync_api import expect

    pg.goto(next_path)
    pg.wait_for_url(_at("/login", query=True))
    expect(pg.locator("input[name=next]")).to_have_value(re.compile(rf"^{re.escape(next_path.rstrip('/'))}/?$"))
    pg.get_by_label("Email").fill(email)
    pg.get_by_label("Password").fill(DEMO_CUSTOMER[1])
    pg.get_by_role("button", name="Sign in").click()
    pg.wait_for_url(_at(lands_on or next_path))


def checkout_build_fingerprint() -> dict[str, int]:
    """Every file of the checkout's own front-end build (`.web`, packages aside) with its modification time."""
    web = ROOT / ".web"
    if not web.is_dir():
        return {}
    return {str(f.relative_to(web)): f.stat().st_mtime_ns for f in web.rglob("*")
            if f.is_file() and "node_modules" not in f.parts}


def fault_injection_env() -> dict[str, str]:
    """Start the app with tests/faults/sitecustomize.py loaded: one help search raises on purpose (nothing else
    changes), so the tests can see what a person sees when a page action fails."""
    paths = [str(ROOT / "tests" / "faults"), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {"PYTHONPATH": os.pathsep.join(paths), "PORTAL_TEST_FAULTS": "1"}


def sso_env() -> dict[str, str]:
    """Single sign-on against the tests' provider on loopback (tests/oidc_mock.py), with the tests' key, so a test
    can connect a provider through the services and the app can read its secret."""
    return {"PORTAL_SSO_KEY": os.environ["PORTAL_SSO_KEY"], "PORTAL_SSO_ALLOW_LOOPBACK": "1"}


def webhook_env() -> dict[str, str]:
    """Webhooks may go to a receiver a test runs on loopback, and the worker sends every two seconds."""
    return {"PORTAL_WEBHOOK_ALLOW_PRIVATE": "1", "PORTAL_WEBHOOK_EVERY_SECONDS": "2"}


class SharedApp:
    """One running app (and an engine on its SQLite database) for the browser tests of a test run."""

    def __init__(self) -> None:
        self.app: RunningApp | None = None
        self.engine: sa.Engine | None = None
        self.failure: str | None = None
        # The checkout's own build before the app started: an installation may be serving from it.
        self.checkout_build_before: dict[str, int] | None = None

    def url(self, tmp_path_factory: pytest.TempPathFactory) -> str:
        if self.failure:  # every later test fails at once instead of waiting for another start
            pytest.fail(self.failure)
        if self.app is None:
            if not Path(CHROMIUM).exists():
                pytest.fail("Debian Chromium is missing: `make test` installs it (apt-get install chromium)")
            data = tmp_path_factory.mktemp("browser-data")
            self.checkout_build_before = checkout_build_fingerprint()
            try:
                self.app = start_app(data, {"PORTAL_TRUSTED_PROXIES": TRUSTED_PROXY, **fault_injection_env(),
                                            **sso_env(), **webhook_env()})
            except AppStartError as exc:
                self.failure = str(exc)
                pytest.fail(self.failure)
            self.engine = make_engine(f"sqlite:///{data / 'portal.db'}")
        return self.app.url

    def restart(self) -> float:
        """Stop the app and start it again with nothing changed (same build directory, port, data and settings), as
        a second `make run` does; the seconds from that `make run` to serving."""
        assert self.app is not None, "the app is not running"
        try:
            self.app, seconds = restart(self.app)
        except AppStartError as exc:
            self.app, self.failure = None, str(exc)
            raise
        return seconds

    def stop(self) -> None:
        """SIGTERM to `make run` alone, as a service manager stops it; everything it started must go away."""
        if self.app is None:
            return
        app, engine, self.app, self.engine = self.app, self.engine, None, None
        engine.dispose()
        assert stop(app), f"`make run` did not stop on SIGTERM:\n{app.log_tail()}"


SHARED_APP = SharedApp()


def uses_the_app(item: pytest.Item) -> bool:
    """Whether the test needs the running app (directly or through ``page`` or ``app_engine``)."""
    return "app_url" in getattr(item, "fixturenames", ())


def stop_after_last_user(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stop the app once the next test does not need it, rather than leave it running through the rest of the
    suite. The app's users run together at the end (tests/conftest.py sorts them there), so it starts once; a later
    one (in an order given by hand) starts a fresh app."""
    if nextitem is None or not uses_the_app(nextitem):
        SHARED_APP.stop()


@pytest.fixture(scope="session")
def shared_app() -> Iterator[SharedApp]:
    """Stops the app at the end of the session too, when a run ends early (-x, Ctrl-C)."""
    yield SHARED_APP
    SHARED_APP.stop()


@pytest.fixture()
def app_url(shared_app: SharedApp, tmp_path_factory: pytest.TempPathFactory) -> str:
    return shared_app.url(tmp_path_factory)


@pytest.fixture()
def app_engine(shared_app: SharedApp, app_url: str) -> sa.Engine:
    """An engine on the running app's database, for tests that make their world through the services."""
    return shared_app.engine


# Every page reports what its Content-Security-Policy blocked (an inline script without its hash, eval, a foreign
# source) to the test, which fails on any: the policy must fit everything the pages really do.
REPORT_CSP_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', (e) => window.reportCspViolation({
    page: location.pathname, directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample,
    source: e.sourceFile, line: e.lineNumber}));
"""


@pytest.fixture()
def page(app_url: str):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    violations: list[dict] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=app_url, viewport={"width": 1366, "height": 900})

        def report_csp_violation(violation: dict) -> None:  # Playwright marks the function it is given: no builtin
            violations.append(violation)

        context.expose_function("reportCspViolation", report_csp_violation)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        pg = context.new_page()
        pg.set_default_timeout(30_000)
        yield pg
        context.close()
        browser.close()
    assert not violations, f"the Content-Security-Policy blocked: {violations}"
