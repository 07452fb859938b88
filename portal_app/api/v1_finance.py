"""REST v1: finance (scoped to the caller)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["finance"])
