"""Secrets kept at rest encrypted (identity providers' client secrets, carrier connections' and webhooks' signing
secrets), with the Fernet keys of ``PORTAL_SSO_KEY``, or without it the installation's own key in
``<data dir>/secrets.key`` (portal_app/key_files.py).

Fernet (cryptography) is AES-128-CBC with an HMAC-SHA256: a changed or foreign token is refused, never decrypted to
garbage. Several keys may be set: the first encrypts, all decrypt (``MultiFernet``), so a key is replaced by putting
the new one first and keeping the old one until every secret has been saved again.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from portal_app.key_files import installation_key
from portal_app.settings import settings


class SecretKeyMissing(Exception):
    """No key is set and the data directory cannot hold one: nothing can be encrypted or decrypted."""


class SecretUnreadable(Exception):
    """The stored secret was encrypted with a key that is no longer set (or was altered)."""


# What a refusal tells the person when there is no key (it is not theirs to fix).
NO_KEY_ADVICE = ("Ask whoever runs the installation to set PORTAL_SSO_KEY, or to make the data directory "
                 "writable so the portal can keep a key of its own, and restart.")


def _keys() -> list[bytes]:
    if settings.sso_keys:
        return [key.encode() for key in settings.sso_keys]
    try:
        return [installation_key("secrets.key", "PORTAL_SSO_KEY")]
    except OSError:
        return []


def available() -> bool:
    return bool(_keys())


def _box() -> MultiFernet:
    keys = _keys()
    if not keys:
        raise SecretKeyMissing
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(plain: str) -> str:
    return _box().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _box().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable from exc
