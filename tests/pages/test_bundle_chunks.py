"""The production build groups the shared libraries into two chunks (portal_app/bundle_chunks.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from reflex.utils import frontend_skeleton
from reflex_base.config import get_config

from portal_app.bundle_chunks import add_vendor_chunks


def test_the_generated_vite_config_gets_both_groups_and_stays_valid_javascript(tmp_path: Path):
    generated = frontend_skeleton._compile_vite_config(get_config())
    changed = add_vendor_chunks(generated)
    assert 'name: "vendor-core"' in changed and 'name: "vendor-ui"' in changed
    assert changed.index('"reflex-env"') < changed.index('"vendor-core"') < changed.index('"vendor-ui"')
    config = tmp_path / "vite.config.mjs"
    config.write_text(changed)
    node = Path(sys.executable).with_name("node")
    checked = subprocess.run([str(node), "--check", str(config)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    assert add_vendor_chunks(changed) == changed  # applied once, however often Reflex compiles


def test_the_groups_match_library_paths_only():
    import re

    changed = add_vendor_chunks(frontend_skeleton._compile_vite_config(get_config()))
    tests = {name: re.compile(pattern.replace("\\\\/", "\\/")) for pattern, name in
             re.findall(r'test: /(.*?)/, name: "(vendor-[a-z]+)"', changed)}
    assert tests["vendor-core"].search("/w/.web/node_modules/react-dom/cjs/react-dom.js")
    assert tests["vendor-core"].search("/w/.web/node_modules/socket.io-client/build/esm/index.js")
    assert tests["vendor-ui"].search("/w/.web/node_modules/@radix-ui/themes/dist/esm/components/button.js")
    assert not tests["vendor-core"].search("/w/.web/app/routes/[portal].[shipments]._index.jsx")
    assert not tests["vendor-ui"].search("/w/.web/node_modules/recharts/es6/index.js")


def test_an_unexpected_template_is_left_alone(caplog):
    assert add_vendor_chunks("export default {};") == "export default {};"
    assert "not added" in caplog.text
