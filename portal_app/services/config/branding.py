"""Branding: the product name, the logo and the accent colour shown in the portal's and the tower's headers.

Kept as JSON in ``AppSetting("branding")`` (the PDFs read the product name from it too). The accent must keep
WCAG AA contrast (4.5:1) against white, because buttons put white text on it and links use it on white: a colour
below that is refused with its ratio and a darker shade of the same colour that passes. The logo is a PNG or JPEG
(checked from its bytes and decoded, not from the name), at most ``MAX_LOGO_BYTES``, stored under the private data
directory and served by ``GET /api/branding/logo``.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session

from models import AppSetting
from portal_app.auth.principal import Principal
from portal_app.services import clock
from portal_app.services.config.common import NOTHING_SAVED, record, refuse_if, require_admin, text_in
from portal_app.services.errors import ErrorCode, ValidationFailed
from portal_app.settings import settings

KEY = "branding"
DEFAULT_NAME = "Harbor & Sky Portal"
DEFAULT_ACCENT = "#0b5cad"
MIN_CONTRAST = 4.5
MAX_LOGO_BYTES = 256 * 1024
MAX_LOGO_SIDE = 2000
LOGO_TYPES = {"png": "image/png", "jpeg": "image/jpeg"}
_HEX = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
CACHE_SECONDS = 10.0


@dataclass(frozen=True)
class Branding:
    product_name: str = DEFAULT_NAME
    accent_color: str = DEFAULT_ACCENT
    accent_dark: str = "#084685"
    logo_url: str = ""  # empty: no logo
    contrast: float = 0.0


# ------------------------------------------------------------------------------------------------ colour


def normalize_hex(value: str) -> str | None:
    m = _HEX.match((value or "").strip())
    if not m:
        return None
    digits = m.group(1).lower()
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    return "#" + digits


def _channel(c: int) -> float:
    s = c / 255
    return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4


def luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(a: str, b: str = "#ffffff") -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def darken(hex_colour: str, factor: float) -> str:
    h = hex_colour.lstrip("#")
    return "#" + "".join(f"{max(0, int(int(h[i:i + 2], 16) * factor)):02x}" for i in (0, 2, 4))


def passing_shade(hex_colour: str) -> str:
    """The lightest darker shade of the colour that reaches the minimum contrast against white."""
    factor = 1.0
    shade = hex_colour
    while contrast_ratio(shade) < MIN_CONTRAST and factor > 0:
        factor -= 0.02
        shade = darken(hex_colour, factor)
    return shade


def check_accent(value: str) -> str:
    """The accent as #rrggbb, or ValidationFailed saying its ratio and what to pick instead."""
    colour = normalize_hex(value)
    if colour is None:
        message = (f"Accent colour {value!r} is not a colour code. Give it as #rrggbb, e.g. {DEFAULT_ACCENT}. "
                   f"{NOTHING_SAVED}")
        raise ValidationFailed(message, code=ErrorCode.INVALID_COLOUR, fields={"accent_color": message})
    ratio = contrast_ratio(colour)
    if ratio < MIN_CONTRAST:
        message = (f"Accent colour {colour} has a contrast of only {ratio:.2f}:1 against white; buttons and links "
                   f"need at least {MIN_CONTRAST}:1 (WCAG AA). Pick a darker colour, e.g. {passing_shade(colour)} "
                   f"(the same hue darkened, {contrast_ratio(passing_shade(colour)):.2f}:1). {NOTHING_SAVED}")
        raise ValidationFailed(message, code=ErrorCode.LOW_CONTRAST, fields={"accent_color": message})
    return colour


# ------------------------------------------------------------------------------------------------ reading

_cache: tuple[float, Branding] | None = None
_lock = threading.Lock()


def _stored(db: Session) -> dict:
    row = db.get(AppSetting, KEY)
    if row is None:
        return {}
    try:
        value = json.loads(row.value)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _branding(data: dict) -> Branding:
    stored_name = data.get("product_name")
    name = stored_name if isinstance(stored_name, str) else ""
    accent = normalize_hex(str(data.get("accent_color") or "")) or DEFAULT_ACCENT
    if contrast_ratio(accent) < MIN_CONTRAST:  # written by hand into the database: never show a failing colour
        accent = DEFAULT_ACCENT
    logo = data.get("logo") if isinstance(data.get("logo"), dict) else None
    url = f"/api/branding/logo?v={logo.get('sha256', '')[:12]}" if logo else ""
    return Branding(name.strip() or DEFAULT_NAME, accent, darken(accent, 0.8), url, round(contrast_ratio(accent), 2))


def current(db: Session) -> Branding:
    """The branding to show (defaults where nothing is set); public, read by every page's header."""
    return _branding(_stored(db))


def cached(load) -> Branding:  # noqa: ANN001 - a callable returning Branding (opens its own session)
    """``current`` through a short per-process cache: the headers read it on every page event."""
    global _cache
    now = time.monotonic()
    with _lock:
        if _cache is not None and now - _cache[0] < CACHE_SECONDS:
            return _cache[1]
    value = load()
    with _lock:
        _cache = (now, value)
    return value


def fresh_cached() -> Branding | None:
    """The cached branding while it is fresh, else None (the caller loads it off the event loop)."""
    with _lock:
        if _cache is not None and time.monotonic() - _cache[0] < CACHE_SECONDS:
            return _cache[1]
    return None


def forget_cache() -> None:
    global _cache
    with _lock:
        _cache = None


def logo_file(db: Session) -> tuple[Path, str] | None:
    """(path, content type) of the stored logo, or None."""
    logo = _stored(db).get("logo")
    if not isinstance(logo, dict) or logo.get("type") not in LOGO_TYPES.values():
        return None
    path = (_logo_dir() / str(logo.get("file", ""))).resolve()
    if not path.is_relative_to(_logo_dir().resolve()) or not path.is_file():
        return None
    return path, logo["type"]


# ------------------------------------------------------------------------------------------------ changing


def _logo_dir() -> Path:
    return settings.data_dir / "branding"


def check_logo(data: bytes) -> tuple[str, str]:
    """(extension, content type) of a PNG or JPEG logo; ValidationFailed for anything else."""
    if not data:
        raise ValidationFailed(f"The logo file is empty. Choose a PNG or JPEG image. {NOTHING_SAVED}",
                               code=ErrorCode.INVALID_LOGO)
    if len(data) > MAX_LOGO_BYTES:
        raise ValidationFailed(f"The logo is {len(data) // 1024} KB; the limit is {MAX_LOGO_BYTES // 1024} KB. Save "
                               f"it smaller (a header logo needs about 200 × 60 pixels). {NOTHING_SAVED}",
                               code=ErrorCode.LOGO_TOO_LARGE)
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        ext = "png"
    elif data.startswith(b"\xff\xd8\xff"):
        ext = "jpeg"
    else:
        raise ValidationFailed(f"The logo must be a PNG or JPEG image (SVG and other types are not accepted). "
                               f"{NOTHING_SAVED}", code=ErrorCode.INVALID_LOGO)
    from PIL import Image  # a real decode: a renamed or truncated file is refused here

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
            width, height = img.size
            fmt = (img.format or "").lower()
    except Exception:  # noqa: BLE001 - any decoder error means the file is not a usable image
        raise ValidationFailed(f"The logo file is damaged or not really a {ext.upper()} image. Export it again. "
                               f"{NOTHING_SAVED}", code=ErrorCode.INVALID_LOGO) from None
    if fmt != ext:
        raise ValidationFailed(f"The logo's content does not match its type. Export it again as PNG or JPEG. "
                               f"{NOTHING_SAVED}", code=ErrorCode.INVALID_LOGO)
    if width > MAX_LOGO_SIDE or height > MAX_LOGO_SIDE:
        raise ValidationFailed(f"The logo is {width} × {height} pixels; at most {MAX_LOGO_SIDE} on each side. "
                               f"{NOTHING_SAVED}", code=ErrorCode.LOGO_TOO_LARGE)
    return ext, LOGO_TYPES[ext]


def save_branding(db: Session, principal: Principal, *, product_name: str, accent_color: str,
                  logo: bytes | None = None, remove_logo: bool = False) -> Branding:
    """Set the product name and accent (and optionally a new logo, or none) in one step: all checked first."""
    require_admin(principal)
    problems: dict[str, str] = {}
    name = text_in(product_name, 2, 60, problems, "product_name")
    refuse_if(problems, "The branding")
    accent = check_accent(accent_color)
    new_logo: dict[str, Any] | None = None
    if logo is not None:
        ext, content_type = check_logo(logo)
        sha = hashlib.sha256(logo).hexdigest()
        new_logo = {"file": f"logo-{sha[:24]}.{ext}", "type": content_type, "sha256": sha, "bytes": len(logo)}
    stored = _stored(db)
    before = {k: stored.get(k) for k in ("product_name", "accent_color", "logo")}
    after = dict(stored)
    after.update(product_name=name, accent_color=accent)
    if new_logo is not None:
        after["logo"] = new_logo
    elif remove_logo:
        after.pop("logo", None)
    if after == stored:
        return _branding(stored)
    if new_logo is not None and logo is not None:
        folder = _logo_dir()
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / new_logo["file"]
        if not target.exists():  # named by content: an unchanged file is not written twice
            tmp = folder / f".{new_logo['file']}.tmp"
            tmp.write_bytes(logo)
            tmp.replace(target)
    row = db.get(AppSetting, KEY) or AppSetting(key=KEY, value="{}")
    row.value, row.updated_at, row.updated_by_id = json.dumps(after), clock.now(), principal.user_id
    db.add(row)
    record(db, principal, "config_branding_saved", "setting", KEY, before,
           {k: after.get(k) for k in ("product_name", "accent_color", "logo")})
    db.commit()
    forget_cache()
    return _branding(after)


def as_dict(b: Branding) -> dict:
    return asdict(b)
