"""The suite's own app never touches the installation it runs in.

`make run` compiles the front end into `.web` beside the sources, with the backend's address in it. An app the
tests start from the checkout would rebuild that `.web` for its own port, and a live `make run` serving from the
same checkout would then point every page's websocket at the test app.
"""

from __future__ import annotations

import pytest

from tests.browser_app import ROOT, SharedApp, checkout_build_fingerprint

pytestmark = pytest.mark.browser


def test_the_app_is_built_and_served_outside_the_checkout(shared_app: SharedApp, app_url: str) -> None:
    workdir = shared_app.app.workdir.resolve()
    assert not workdir.is_relative_to(ROOT), f"the test app runs inside the checkout: {workdir}"
    assert (workdir / ".web").is_dir(), "the test app's front end was not built in its own directory"
    assert checkout_build_fingerprint() == shared_app.checkout_build_before, (
        "starting the test app changed the checkout's own front-end build (.web)"
    )
