"""Password hashing with argon2id (argon2-cffi) and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# Verified against when the email is unknown, so an unknown user costs the same time as a wrong password. Made
# once ahead (hashing at import would cost every server start most of a second); it must carry the hasher's own
# cost parameters, and if a new argon2-cffi ever changes them, one is made here with the new ones instead.
_PREMADE_DUMMY_HASH = ("$argon2id$v=19$m=65536,t=3,p=4$g244fwyZpVi8rE8LUbT1Bg"
                       "$GInDXTO07zjLBvll60PmF5YER9ik1V9vaH7IxWwBXcA")
_DUMMY_HASH = (_PREMADE_DUMMY_HASH if not _hasher.check_needs_rehash(_PREMADE_DUMMY_HASH)
               else _hasher.hash("not-a-real-password-only-for-timing"))

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; always spends one argon2 verification, even without a hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str, *, email: str = "") -> str | None:
    """A sentence saying what is wrong with a new password, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > 256:
        return "Use at most 256 characters."
    if email and password.lower() == email.lower():
        return "Do not use your email address as your password."
    if password.isdigit() or password.isalpha():
        return "Mix letters with digits or symbols."
    return None
