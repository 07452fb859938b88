"""A real OpenID Connect provider on loopback for the single sign-on tests: ``oidc-provider-mock`` (a Flask app,
requirements-test.txt) served by werkzeug in a thread on 127.0.0.1 and a free port. It accepts any client id and
secret; the test chooses who signs in (``set_user``: sub, email, email_verified and any other claim, e.g. ``amr``,
which the provider puts into the ID token and the userinfo answer) and whether consent is denied.

``claims_after_token`` gives a person other claims right after the provider has issued their next tokens: the ID
token keeps the claims it was signed with, while the provider's userinfo endpoint answers the new ones. That is how
a test gets an ID token without ``email`` whose userinfo has it (as providers that keep ID tokens small do)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import oidc_provider_mock
import werkzeug.serving
import werkzeug.test


@dataclass(frozen=True)
class MockProvider:
    issuer: str
    after_token: list[tuple[str, dict[str, object]]] = field(default_factory=list)

    def set_user(self, sub: str, email: str | None, *, verified: bool | None = True, name: str = "",
                 **more: object) -> None:
        """The claims of ``sub`` (``email``/``verified`` None: left out); ``more`` adds others, e.g. ``amr``."""
        claims = _claims(email, verified, name, more)
        assert httpx.put(f"{self.issuer}/users/{sub}", json=claims).status_code == 204

    def claims_after_token(self, sub: str, email: str | None, *, verified: bool | None = True,
                           **more: object) -> None:
        """What ``sub``'s claims become once the provider has answered its next token request."""
        self.after_token.append((sub, _claims(email, verified, "", more)))

    def authorize(self, authorize_url: str, sub: str | None = None, *, deny: bool = False) -> dict[str, str]:
        """What the provider's consent form does: the query it sends the browser back with (code or error)."""
        assert authorize_url.startswith(self.issuer + "/")
        form = {"action": "deny"} if deny else {"sub": sub or ""}
        answer = httpx.post(authorize_url, data=form, follow_redirects=False)
        assert answer.status_code == 302, answer.text[:500]
        return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}


def _claims(email: str | None, verified: bool | None, name: str, more: dict[str, object]) -> dict[str, object]:
    claims: dict[str, object] = {}
    if email is not None:
        claims["email"] = email
    if verified is not None:
        claims["email_verified"] = verified
    if name:
        claims["name"] = name
    return claims | more


def _claims_after_token(app, queue: list[tuple[str, dict[str, object]]]):
    """Once a token answer is complete, store the queued claims through the provider's own ``PUT /users/<sub>``."""
    inner = app.wsgi_app

    def wsgi(environ, start_response):
        if environ.get("PATH_INFO") != "/oauth2/token" or not queue:
            return inner(environ, start_response)
        result = inner(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
        while queue:
            sub, claims = queue.pop(0)
            put = werkzeug.test.EnvironBuilder(path=f"/users/{sub}", method="PUT", json=claims).get_environ()
            b"".join(inner(put, lambda status, headers, exc_info=None: None))
        return [body]

    app.wsgi_app = wsgi
    return app


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _token_issuer_host(app, host: str):
    """A provider that signs its ID tokens as another issuer: its token endpoint sees another Host."""
    inner = app.wsgi_app

    def wsgi(environ, start_response):
        if environ.get("PATH_INFO") == "/oauth2/token":
            environ = {**environ, "HTTP_HOST": host}
        return inner(environ, start_response)

    app.wsgi_app = wsgi
    return app


@contextmanager
def running_provider(*, token_max_age: timedelta = timedelta(hours=1),
                     token_issuer_host: str | None = None) -> Iterator[MockProvider]:
    """``token_max_age`` below zero gives ID tokens that have already expired; ``token_issuer_host`` ID tokens whose
    issuer is another address than the one discovery names."""
    app = oidc_provider_mock.app(require_nonce=True, access_token_max_age=token_max_age)
    if token_issuer_host:
        app = _token_issuer_host(app, token_issuer_host)
    queue: list[tuple[str, dict[str, object]]] = []
    app = _claims_after_token(app, queue)
    server = werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield MockProvider(f"http://127.0.0.1:{server.server_port}", queue)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
