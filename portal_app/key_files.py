"""Keys an installation makes for itself when none is set in the environment.

Two-factor secrets (``PORTAL_MFA_KEY``) and the other secrets kept at rest (identity providers' client secrets,
carrier connections' and webhooks' signing secrets: ``PORTAL_SSO_KEY``) are encrypted with Fernet keys. A single
machine needs no setting: the first use writes a new key into the data directory, readable by its owner only, and
every worker reads the same file. Several hosts must share one key, so they set the variable instead (and anyone
who keeps the key apart from the database's backups does too).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from cryptography.fernet import Fernet

from portal_app.settings import settings


def key_path(name: str) -> Path:
    return settings.data_dir / name


def installation_key(name: str, variable: str) -> bytes:
    """The key in ``<data dir>/<name>``, made on first use; ``variable`` is the setting that replaces it (named
    in the error when the file is unusable). An unwritable data directory raises ``OSError``."""
    path = key_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another worker may have created it a moment ago and be writing it now
            key = path.read_bytes().strip()
            if key:
                return key
            time.sleep(0.02)
        raise RuntimeError(f"{path} is empty: delete it (nothing was encrypted with it) or set {variable}.") from None
    key = Fernet.generate_key()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key
