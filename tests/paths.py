"""Where the checkout and the shared reference lists are, for test modules at any depth under tests/."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_REFERENCE = PROJECT_ROOT.parent / "shared" / "reference"
