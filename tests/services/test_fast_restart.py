"""A second `make run` with nothing changed skips what is already done, and any change still rebuilds or migrates.

The front end's fingerprint (portal_app/build_fingerprint.py) and the build skip (portal_app/reflex_run.py), the
migrate and seed checks (portal_app/prestart.py); none of these start the app. `tests/browser/test_app_harness.py`
restarts the running test app and checks that the second start skipped all of it.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal_app import build_fingerprint, prestart, reflex_run
from tests.paths import PROJECT_ROOT

RUN_ARGS = ["run", "--env", "prod", "--backend-host", "127.0.0.1", "--frontend-port", "3000", "--backend-port", "3000"]
ENV = {"PORTAL_PORT": "3000", "REFLEX_USE_NPM": "1", "HOME": "/root", "PATH": "/usr/bin"}
VERSIONS = {"python": "3.11", "reflex": "0.10.1"}


@pytest.fixture()
def checkout(tmp_path: Path) -> Path:
    """A small copy of the checkout's shape: the files that feed the front end and some that do not."""
    root = tmp_path / "checkout"
    for rel, text in {
        "rxconfig.py": "config = 1\n",
        "requirements.txt": "reflex==0.10.1\n",
        "pyproject.toml": "[project]\nname = 'x'\n",
        "reflex.lock/package-lock.json": "{}\n",
        "assets/portal.css": "body { color: black; }\n",
        "portal_app/__init__.py": "",
        "portal_app/portal/dashboard.py": "TITLE = 'Dashboard'\n",
        "models/shipment.py": "class Shipment: ...\n",
        "seed/org_data.py": "NAMES = []\n",
        "tests/test_x.py": "def test(): ...\n",
        "docs/portal.md": "# Portal\n",
        "bench/x.py": "X = 1\n",
        "alembic/versions/a.py": "revision = 'a'\n",
    }.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def fp(root: Path, args: list[str] = RUN_ARGS, env: dict[str, str] = ENV, versions: dict[str, str] = VERSIONS,
       data_dir: Path | None = None) -> str:
    return build_fingerprint.fingerprint(root, args, env, data_dir=data_dir, versions=versions)


# --------------------------------------------------------------------------- the front end's fingerprint


@pytest.mark.parametrize("rel", [
    "portal_app/portal/dashboard.py", "assets/portal.css", "rxconfig.py", "requirements.txt", "pyproject.toml",
    "reflex.lock/package-lock.json", "models/shipment.py", "seed/org_data.py",
])
def test_fingerprint_changes_with_any_file_that_feeds_the_front_end(checkout: Path, rel: str):
    before = fp(checkout)
    with open(checkout / rel, "a") as fh:
        fh.write("# changed\n")
    assert fp(checkout) != before


def test_fingerprint_changes_when_a_page_is_added_removed_or_renamed(checkout: Path):
    before = fp(checkout)
    page = checkout / "portal_app" / "portal" / "new_page.py"
    page.write_text("TITLE = 'New'\n")
    added = fp(checkout)
    assert added != before
    page.rename(checkout / "portal_app" / "portal" / "renamed_page.py")
    assert fp(checkout) not in (before, added)
    (checkout / "portal_app" / "portal" / "renamed_page.py").unlink()
    assert fp(checkout) == before


def test_fingerprint_ignores_dates_tests_docs_migrations_caches_and_output(checkout: Path):
    before = fp(checkout)
    for rel in ("portal_app/portal/dashboard.py", "assets/portal.css"):  # copied again: new dates, same content
        shutil.copy2(checkout / rel, checkout / f"{rel}.tmp")
        (checkout / f"{rel}.tmp").replace(checkout / rel)
    for rel in ("tests/test_x.py", "docs/portal.md", "bench/x.py", "alembic/versions/a.py"):
        (checkout / rel).write_text("changed\n")
    for rel in (".web/build/client/index.html", ".web/node_modules/x.js", "data/portal.db", "data/files/a.pdf",
                "portal_app/__pycache__/x.cpython-311.pyc", ".git/HEAD", "uploaded_files/x", "portal.db",
                "make-run.log"):
        (checkout / rel).parent.mkdir(parents=True, exist_ok=True)
        (checkout / rel).write_text("anything\n")
    assert fp(checkout) == before


def test_fingerprint_leaves_out_a_data_directory_inside_the_checkout(checkout: Path):
    data = checkout / "var" / "portal"
    data.mkdir(parents=True)
    before = fp(checkout, data_dir=data)
    (data / "portal.sqlite-other").write_text("rows\n")
    assert fp(checkout, data_dir=data) == before


def test_fingerprint_changes_with_configuration_port_arguments_and_versions(checkout: Path):
    before = fp(checkout)
    assert fp(checkout, env={**ENV, "PORTAL_PUBLIC_URL": "https://portal.example"}) != before
    assert fp(checkout, env={**ENV, "REFLEX_REDIS_URL": "redis://127.0.0.1:6379/0"}) != before
    assert fp(checkout, env={**ENV, "PORTAL_PORT": "3001"}) != before
    assert fp(checkout, env={**ENV, "PYTHONPATH": "/somewhere"}) != before
    assert fp(checkout, args=[*RUN_ARGS[:-1], "3001"]) != before
    assert fp(checkout, versions={**VERSIONS, "reflex": "0.10.2"}) != before
    # Variables no build reads do not count, nor do keys and passwords (never written down, even hashed).
    assert fp(checkout, env={**ENV, "HOME": "/home/other", "TERM": "xterm"}) == before
    assert fp(checkout, env={**ENV, "PORTAL_SSO_KEY": "k1", "PORTAL_SMTP_PASSWORD": "p1"}) == before
    with_db = {**ENV, "REFLEX_DB_URL": "postgresql+psycopg://portal:first@db:5432/portal"}
    assert fp(checkout, env={**with_db, "REFLEX_DB_URL": "postgresql+psycopg://portal:second@db:5432/portal"}) == \
        fp(checkout, env=with_db) != before
    assert fp(checkout, env={**with_db, "REFLEX_DB_URL": "postgresql+psycopg://portal:first@db:5432/other"}) != \
        fp(checkout, env=with_db)


def _built(web: Path) -> Path:
    (web / "build" / "client").mkdir(parents=True, exist_ok=True)
    (web / "build" / "client" / "index.html").write_text("<html></html>")
    (web / "backend").mkdir(parents=True, exist_ok=True)
    (web / "backend" / "stateful_pages.json").write_text("[]")
    (web / "reflex.json").write_text('{"version": "0.10.1"}')
    return web


def test_a_build_is_current_only_with_its_fingerprint_and_its_output(tmp_path: Path):
    web = _built(tmp_path / ".web")
    assert not build_fingerprint.build_is_current(web, "abc")  # never recorded
    build_fingerprint.store(web, "abc")
    assert build_fingerprint.build_is_current(web, "abc")
    assert not build_fingerprint.build_is_current(web, "abd")
    (web / "build" / "client" / "index.html").unlink()
    assert not build_fingerprint.build_is_current(web, "abc")
    _built(web)
    build_fingerprint.forget(web)
    assert not build_fingerprint.build_is_current(web, "abc")
    # The fingerprint lives beside the served folder, never in it.
    build_fingerprint.store(web, "abc")
    assert not any(p.name == build_fingerprint.FINGERPRINT_FILE for p in (web / "build" / "client").rglob("*"))


# --------------------------------------------------------------------------- the build skip around `reflex run`


@pytest.fixture()
def reflex_modules(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Reflex's build steps replaced by recorders, its web directory in tmp_path (the real ones are restored)."""
    from reflex import reflex as reflex_cli
    from reflex.utils import build, prerequisites

    web = tmp_path / "checkout" / ".web"
    calls: list[str] = []

    def fake_build(_root: Path) -> None:
        calls.append("build")
        _built(web)

    monkeypatch.setattr(prerequisites, "get_web_dir", lambda: web)
    monkeypatch.setattr(prerequisites, "needs_reinit", lambda: False)
    monkeypatch.setattr(reflex_cli, "_compile_app", lambda **_kw: calls.append("compile"))
    monkeypatch.setattr(build, "setup_frontend_prod", fake_build)
    monkeypatch.setattr(build, "setup_frontend", lambda _root: calls.append("env.json"))
    return reflex_cli, build, calls, web


def _start(reflex_modules, root: Path) -> tuple[str, list[str]]:
    """What one `reflex run` would do: decide, then compile and build through whatever Reflex's modules hold."""
    reflex_cli, build, calls, _web = reflex_modules
    calls.clear()
    decision = reflex_run.install_build_skip(RUN_ARGS, root)
    reflex_cli._compile_app(avoid_dirty_check=False)
    build.setup_frontend_prod(root)
    return decision, list(calls)


def test_the_second_start_skips_compile_and_build_and_a_change_builds_again(
    reflex_modules, checkout: Path, monkeypatch: pytest.MonkeyPatch
):
    reflex_cli, build, _calls, web = reflex_modules
    original_compile, original_build = reflex_cli._compile_app, build.setup_frontend_prod
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(checkout / "data"))

    assert _start(reflex_modules, checkout) == ("build", ["compile", "build"])
    assert build_fingerprint.stored(web)
    # Nothing changed: no compile, no npm build; env.json is still written.
    monkeypatch.setattr(reflex_cli, "_compile_app", original_compile)
    monkeypatch.setattr(build, "setup_frontend_prod", original_build)
    assert _start(reflex_modules, checkout) == ("skipped", ["env.json"])

    # A page changes: compile and build again.
    monkeypatch.setattr(reflex_cli, "_compile_app", original_compile)
    monkeypatch.setattr(build, "setup_frontend_prod", original_build)
    (checkout / "portal_app" / "portal" / "dashboard.py").write_text("TITLE = 'Overview'\n")
    assert _start(reflex_modules, checkout) == ("build", ["compile", "build"])
    # Configuration changes too.
    monkeypatch.setattr(reflex_cli, "_compile_app", original_compile)
    monkeypatch.setattr(build, "setup_frontend_prod", original_build)
    monkeypatch.setenv("PORTAL_PUBLIC_URL", "https://portal.example")
    assert _start(reflex_modules, checkout)[0] == "build"


def test_a_failed_build_leaves_no_fingerprint(reflex_modules, checkout: Path, monkeypatch: pytest.MonkeyPatch):
    _reflex_cli, build, _calls, web = reflex_modules
    _built(web)
    build_fingerprint.store(web, "from-an-earlier-build")

    def failing_build(_root: Path) -> None:
        raise SystemExit(1)

    monkeypatch.setattr(build, "setup_frontend_prod", failing_build)
    assert reflex_run.install_build_skip(RUN_ARGS, checkout) == "build"
    with pytest.raises(SystemExit):
        build.setup_frontend_prod(checkout)
    assert build_fingerprint.stored(web) is None


def test_a_file_changed_during_the_build_is_not_recorded_as_built(
    reflex_modules, checkout: Path, monkeypatch: pytest.MonkeyPatch
):
    _reflex_cli, build, _calls, web = reflex_modules

    def build_while_someone_edits(_root: Path) -> None:
        _built(web)
        (checkout / "assets" / "portal.css").write_text("body { color: red; }\n")

    monkeypatch.setattr(build, "setup_frontend_prod", build_while_someone_edits)
    reflex_run.install_build_skip(RUN_ARGS, checkout)
    build.setup_frontend_prod(checkout)
    assert build_fingerprint.stored(web) is None


def test_only_a_production_run_with_a_front_end_is_touched():
    assert reflex_run._prod_frontend_run(RUN_ARGS)
    assert not reflex_run._prod_frontend_run(["run", "--env", "dev"])
    assert not reflex_run._prod_frontend_run([*RUN_ARGS, "--backend-only"])
    assert not reflex_run._prod_frontend_run(["db", "migrate"])


# --------------------------------------------------------------------------- migrate and seed only when needed


def test_the_heads_read_as_text_are_alembics_own():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(Config(str(PROJECT_ROOT / "alembic.ini")))
    assert prestart.script_heads(PROJECT_ROOT / "alembic" / "versions") == set(script.get_heads())


def _revision_file(folder: Path, name: str, body: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(body)


def test_heads_of_branches_merges_and_unreadable_files(tmp_path: Path):
    versions = tmp_path / "versions"
    _revision_file(versions, "a", "revision: str = 'a'\ndown_revision: str | None = None\n")
    _revision_file(versions, "b", "revision = 'b'\ndown_revision = 'a'\n")
    _revision_file(versions, "c", "revision = 'c'\ndown_revision = 'a'\n")
    assert prestart.script_heads(versions) == {"b", "c"}
    _revision_file(versions, "d", "revision = 'd'\ndown_revision = ('b', 'c')\n")
    assert prestart.script_heads(versions) == {"d"}
    _revision_file(versions, "e", "revision = 'e'\ndown_revision = 'd'\ndepends_on = 'x'\n")
    with pytest.raises(prestart.UnreadableRevision):
        prestart.script_heads(versions)
    _revision_file(versions, "e", "revision = make_id()\ndown_revision = 'd'\n")
    with pytest.raises(prestart.UnreadableRevision):
        prestart.script_heads(versions)


def _sqlite_at(tmp_path: Path, revision: str | None) -> str:
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
        if revision:
            conn.execute(sa.text("INSERT INTO alembic_version VALUES (:r)"), {"r": revision})
    engine.dispose()
    return url


def test_migrate_runs_unless_the_database_is_at_head(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    versions = PROJECT_ROOT / "alembic" / "versions"
    (head,) = prestart.script_heads(versions)
    older = next(r.revision for p in sorted(versions.glob("*.py")) if (r := prestart.read_revision(p)).revision != head)
    for name in ("old", "empty", "now"):
        (tmp_path / name).mkdir()
    assert prestart.at_head(f"sqlite:///{tmp_path / 'missing.db'}", versions)[0] is False
    assert prestart.at_head(_sqlite_at(tmp_path / "old", older), versions) == (
        False, f"the database is at {older}, the migrations end at {head}")
    assert prestart.at_head(_sqlite_at(tmp_path / "empty", None), versions)[0] is False
    url = _sqlite_at(tmp_path / "now", head)
    assert prestart.at_head(url, versions)[0] is True

    # The command: nothing runs at head; `reflex db migrate` otherwise.
    ran: list[list[str]] = []
    monkeypatch.setattr(prestart, "_run", lambda argv: ran.append(argv) or 0)
    monkeypatch.chdir(PROJECT_ROOT)
    assert prestart.main(["migrate"], url) == 0 and ran == []
    prestart.main(["migrate"], f"sqlite:///{tmp_path / 'missing.db'}")
    assert ran and ran[0][-2:] == ["db", "migrate"]


def test_seed_runs_unless_the_demo_data_is_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import seed
    from portal_app.db import make_engine
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    engine = make_engine(url)
    seed.create_schema(engine)
    ran: list[list[str]] = []
    monkeypatch.setattr(prestart, "_run", lambda argv: ran.append(argv) or 0)
    assert not prestart.demo_data_present(url)
    prestart.main(["seed"], url)
    assert ran and ran[0][-3:] == ["-m", "seed", "--if-empty"]

    seed.run(engine, shipments=2, today=date(2026, 11, 10), files_dir=tmp_path / "files", write_files=False)
    assert prestart.demo_data_present(url)
    ran.clear()
    assert prestart.main(["seed"], url) == 0 and ran == []
    # Without the demo carrier connection, `seed --if-empty` runs to add it back (as it always did).
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM carrier_connection WHERE subscription_id = :s"),
                     {"s": prestart.DEMO_CARRIER_SUBSCRIPTION_ID})
    assert not prestart.demo_data_present(url)
    monkeypatch.setenv("PORTAL_SEED_DEMO", "0")
    assert prestart.main(["seed"], url) == 0 and ran == []
    engine.dispose()


def test_the_demo_carrier_connection_id_is_the_seeds():
    from seed import carrier_demo

    assert prestart.DEMO_CARRIER_SUBSCRIPTION_ID == carrier_demo.DEMO_SUBSCRIPTION_ID
