"""Whether the front end built in `.web` is still the one the sources and configuration would build now.

`make run` compiles every page into `.web` and builds the production bundle from it (`npm run export`): most of a
start's time, and the same result every time nothing changed. After a successful build, `portal_app/reflex_run.py`
stores a fingerprint of everything that fed it in the build output (`.web/build/portal-fingerprint`); a later start
whose fingerprint is the same serves that build without compiling or building. The fingerprint covers:

- the content (not the dates) of every file of the checkout that the app can read: the packages (`portal_app/`,
  `models/`, `seed/`), `assets/`, `rxconfig.py`, `requirements.txt`, `pyproject.toml`, `reflex.lock/`, the
  Makefile, and any other file there, except the folders the app never reads (`tests/`, `bench/`, `docs/`,
  `alembic/`, `.ci/`) and local state (`.git`, `.venv`, `.web`, the data directory, caches, databases, logs);
- the names and values of every ``REFLEX_*``, ``PORTAL_*`` and ``VITE_*`` environment variable and
  ``PYTHONPATH`` (the configuration, the port and public address the pages are built for), except keys and
  passwords (``*_KEY``, ``*_PASSWORD``, ``*_SECRET``, ``*_TOKEN``, a password in a URL), which no page uses;
- the arguments `reflex run` is given (port, host, environment), and the Python and Reflex versions.

Anything else missing or different (no stored fingerprint, no built pages, a `.web` made by another Reflex
version) means a full build, as before. The build output is deleted at the start of every build, so a build that
fails leaves no fingerprint behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

FINGERPRINT_FILE = "portal-fingerprint"  # in .web/build, next to (not inside) the served client/ folder
BUILD_DIR = "build"
# Folders at the top of the checkout that feed no page: tests, benchmarks, documents, migrations (their own check,
# portal_app/prestart.py) and local state or output.
SKIPPED_AT_TOP = frozenset({
    ".git", ".venv", ".web", ".states", ".ci", "data", "tests", "bench", "docs", "alembic", "uploaded_files",
    "test-artifacts", ".lock",
})
SKIPPED_ANYWHERE = frozenset({
    "__pycache__", "node_modules", ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache",
})
SKIPPED_SUFFIXES = (".pyc", ".pyo", ".db", ".db-journal", ".db-wal", ".db-shm", ".sqlite", ".sqlite3", ".log")
ENV_PREFIXES = ("REFLEX_", "PORTAL_", "VITE_")
ENV_NAMES = frozenset({"PYTHONPATH"})
SECRET_SUFFIXES = ("_KEY", "_PASSWORD", "_SECRET", "_TOKEN")
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*):[^@/\s]*@")


def input_files(root: Path, data_dir: Path | None = None) -> Iterator[Path]:
    """Every file under ``root`` that can feed the front end, in a stable order (paths relative to ``root``)."""
    data = data_dir.resolve() if data_dir is not None else None
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        at_top = here == root
        dirnames[:] = sorted(
            d for d in dirnames
            if d not in SKIPPED_ANYWHERE and not (at_top and d in SKIPPED_AT_TOP)
            and (data is None or (here / d).resolve() != data)
        )
        for name in sorted(filenames):
            if name.endswith(SKIPPED_SUFFIXES) or (at_top and name in SKIPPED_AT_TOP):
                continue
            yield (here / name).relative_to(root)


def relevant_environment(environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """The variables that count, secrets left out: keys and passwords (``*_KEY``, ``*_PASSWORD``, ``*_SECRET``,
    ``*_TOKEN``) and the password in a URL never feed a page, and the fingerprint is kept in a file beside the build,
    where a guessable input must not be checkable against it."""
    return sorted(
        (k, _URL_PASSWORD.sub(r"\1:***@", v)) for k, v in environ.items()
        if (k.startswith(ENV_PREFIXES) or k in ENV_NAMES) and not k.endswith(SECRET_SUFFIXES)
    )


def fingerprint(
    root: Path,
    run_args: Iterable[str],
    environ: Mapping[str, str],
    *,
    data_dir: Path | None = None,
    versions: Mapping[str, str] | None = None,
) -> str:
    """SHA-256 over the inputs listed in the module's docstring."""
    root = root.resolve()
    digest = hashlib.sha256()

    def add(kind: str, *parts: str) -> None:
        digest.update(json.dumps([kind, *parts]).encode())
        digest.update(b"\n")

    for rel in input_files(root, data_dir):
        path = root / rel
        if path.is_symlink() and not path.exists():
            add("dangling", rel.as_posix(), os.readlink(path))
            continue
        file_digest = hashlib.sha256(path.read_bytes()).hexdigest()
        add("file", rel.as_posix(), file_digest)
    for name, value in relevant_environment(environ):
        add("env", name, value)
    add("args", *run_args)
    for name, version in sorted((versions if versions is not None else installed_versions()).items()):
        add("version", name, version)
    return digest.hexdigest()


def installed_versions() -> dict[str, str]:
    from importlib import metadata

    versions = {"python": sys.version}
    for dist in ("reflex", "reflex-base"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "missing"
    return versions


def stored(web_dir: Path) -> str | None:
    try:
        return (web_dir / BUILD_DIR / FINGERPRINT_FILE).read_text().strip() or None
    except OSError:
        return None


def store(web_dir: Path, value: str) -> None:
    target = web_dir / BUILD_DIR / FINGERPRINT_FILE
    partial = target.with_suffix(".partial")
    partial.write_text(value + "\n")
    os.replace(partial, target)


def forget(web_dir: Path) -> None:
    (web_dir / BUILD_DIR / FINGERPRINT_FILE).unlink(missing_ok=True)


def build_is_current(web_dir: Path, value: str) -> bool:
    """The stored fingerprint is ``value`` and the built pages and the compile's backend files are all there."""
    return (
        stored(web_dir) == value
        and (web_dir / BUILD_DIR / "client" / "index.html").is_file()
        and (web_dir / "backend" / "stateful_pages.json").is_file()
        and (web_dir / "reflex.json").is_file()
    )
