"""Secrets kept at rest encrypted (identity providers' client secrets), with the Fernet keys of ``PORTAL_SSO_KEY``.

Fernet (cryptography) is AES-128-CBC with an HMAC-SHA256: a changed or foreign token is refused, never decrypted to
garbage. Several keys may be set: the first encrypts, all decrypt (``MultiFernet``), so a key is replaced by putting
the new one first and keeping the old one until every secret has been saved again.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from portal_app.settings import settings


class SecretKeyMissing(Exception):
    """No key is set: nothing can be encrypted or decrypted."""


class SecretUnreadable(Exception):
    """The stored secret was encrypted with a key that is no longer set (or was altered)."""


def available() -> bool:
    return bool(settings.sso_keys)


def _box() -> MultiFernet:
    if not settings.sso_keys:
        raise SecretKeyMissing
    return MultiFernet([Fernet(key.encode()) for key in settings.sso_keys])


def encrypt(plain: str) -> str:
    return _box().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _box().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable from exc
