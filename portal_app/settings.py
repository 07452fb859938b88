"""Configuration, read once from environment variables (see README, "Configuration").

Nothing here is edited per installation: every value comes from the environment, with a default that makes a
single-machine install work out of the box.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw and raw.strip() else default


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw and raw.strip() else default


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(raw: str, name: str = "PORTAL_TRUSTED_PROXIES") -> tuple[IPNetwork, ...]:
    """A comma-separated list of addresses and CIDR networks; a mistake stops the start with a message."""
    networks = []
    for item in (part.strip() for part in (raw or "").split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item))
        except ValueError as exc:
            raise ValueError(
                f"{name}: {item!r} is not an IP address or network. List addresses and networks separated by "
                "commas, e.g. 127.0.0.1,10.0.0.0/8 (a network is written with its first address: 192.168.1.0/24)."
            ) from exc
    return tuple(networks)


DEFAULT_PORTS = {"http": 80, "https": 443}


def web_origin(url: str, name: str) -> str:
    """``scheme://host[:port]`` of an absolute http(s) URL, exactly as a browser writes it in an ``Origin`` header
    (lower case, no default port, no path). Anything else stops the start with a message naming the variable."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = -1
    if scheme not in DEFAULT_PORTS or not parts.hostname or port == -1 or parts.username or parts.password:
        raise ValueError(f"{name}: {url!r} is not an http:// or https:// address such as https://portal.example.com")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname.lower()
    return f"{scheme}://{host}" + (f":{port}" if port and port != DEFAULT_PORTS[scheme] else "")


def _allowed_origins(public_url: str, public_url_set: bool, port: int) -> tuple[str, ...]:
    """The installation's own origin, the loopback twin of the default one (``make run`` on this machine is
    reached as localhost or 127.0.0.1 alike), and ``PORTAL_ALLOWED_ORIGINS``."""
    origins = [web_origin(public_url, "PORTAL_PUBLIC_URL")]
    if not public_url_set:
        origins.append(f"http://127.0.0.1:{port}")
    for extra in (os.environ.get("PORTAL_ALLOWED_ORIGINS") or "").split(","):
        if extra.strip():
            origins.append(web_origin(extra, "PORTAL_ALLOWED_ORIGINS"))
    return tuple(dict.fromkeys(origins))


def parse_sso_keys(raw: str) -> tuple[str, ...]:
    """``PORTAL_SSO_KEY``: one or more Fernet keys separated by commas (the first encrypts, every one decrypts, so a
    key can be replaced without losing what the old one encrypted). A malformed key stops the start."""
    keys = tuple(part.strip() for part in (raw or "").split(",") if part.strip())
    for key in keys:
        try:
            ok = len(base64.urlsafe_b64decode(key.encode())) == 32
        except (binascii.Error, ValueError):
            ok = False
        if not ok:
            raise ValueError(
                "PORTAL_SSO_KEY: each key must be 32 random bytes in URL-safe base64 (44 characters), as made by "
                "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`."
            )
    return keys


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str | None
    session_hours: int
    seed_demo: bool
    cookie_secure: bool
    login_max_failures: int
    login_lockout_minutes: int
    login_ip_limit: int
    login_ip_window_minutes: int
    rules_every_minutes: int
    sqlite_mmap_mb: int
    public_url: str = "http://localhost:3000"
    # Origins whose pages may use a signed-in session (CORS, the page websocket, cookie-authenticated changes).
    allowed_origins: tuple[str, ...] = ("http://localhost:3000", "http://127.0.0.1:3000")
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    smtp_from: str = "portal@localhost"
    smtp_timeout_seconds: int = 20
    email_every_seconds: int = 30
    email_batch_seconds: int = 120
    email_max_attempts: int = 8
    email_digest_hour: int = 7
    help_anonymous_searches_per_hour: int = 200
    # Reverse proxies whose X-Forwarded-For is believed (portal_app/client_address.py); empty: nobody's.
    trusted_proxies: tuple[IPNetwork, ...] = field(default_factory=tuple)
    login_delay_max_seconds: float = 4.0
    login_email_hourly_limit: int = 100
    login_known_address_days: int = 90
    # How long the scheduled upkeep keeps each kind of record (services/retention.py); 0 keeps it for ever.
    audit_retention_days: int = 400
    login_attempt_retention_days: int = 180
    usage_event_retention_days: int = 400
    notification_retention_days: int = 180
    carrier_event_retention_days: int = 400
    # Two-factor sign-in (docs/identity.md): every staff member must use it; the key that encrypts TOTP secrets.
    staff_mfa: bool = False
    mfa_key: str | None = None
    # Fernet keys for the identity providers' client secrets (first encrypts); empty: single sign-on cannot be set up.
    sso_keys: tuple[str, ...] = ()
    # Development and tests only: identity providers on this machine's loopback addresses (plain http too).
    sso_allow_loopback: bool = False
    # Signed webhooks (docs/webhooks.md): private and loopback receivers over plain http (development, or a receiver
    # inside the forwarder's own network); link-local and cloud metadata addresses are refused whatever this says.
    webhook_allow_private: bool = False
    webhook_every_seconds: int = 10
    webhook_pause_after_failures: int = 10
    webhook_pause_after_hours: int = 24
    webhook_give_up_hours: int = 72

    @property
    def public_origin(self) -> str:
        return self.allowed_origins[0]

    @property
    def https(self) -> bool:
        """Customers reach the portal over HTTPS: HSTS is sent and the session cookie is ``Secure``."""
        return self.public_origin.startswith("https://")

    @property
    def files_dir(self) -> Path:
        """Private storage for customer files; never served without an authenticated route."""
        return self.data_dir / "files"


def load_settings() -> Settings:
    data_dir = Path(os.environ.get("PORTAL_DATA_DIR") or PROJECT_ROOT / "data").resolve()
    default_db = f"sqlite:///{data_dir / 'portal.db'}"
    port = _int("PORTAL_PORT", 3000)
    public_url_set = bool((os.environ.get("PORTAL_PUBLIC_URL") or "").strip())
    public_url = (os.environ.get("PORTAL_PUBLIC_URL") or "").strip().rstrip("/") or f"http://localhost:{port}"
    allowed_origins = _allowed_origins(public_url, public_url_set, port)
    return Settings(
        data_dir=data_dir,
        database_url=os.environ.get("REFLEX_DB_URL") or default_db,
        redis_url=os.environ.get("REFLEX_REDIS_URL") or None,
        session_hours=_int("PORTAL_SESSION_HOURS", 12),
        seed_demo=_bool("PORTAL_SEED_DEMO", True),
        cookie_secure=_bool("PORTAL_COOKIE_SECURE", False) or allowed_origins[0].startswith("https://"),
        login_max_failures=_int("PORTAL_LOGIN_MAX_FAILURES", 5),
        login_lockout_minutes=_int("PORTAL_LOGIN_LOCKOUT_MINUTES", 15),
        login_ip_limit=_int("PORTAL_LOGIN_IP_LIMIT", 30),
        login_ip_window_minutes=_int("PORTAL_LOGIN_IP_WINDOW_MINUTES", 10),
        rules_every_minutes=_int("PORTAL_RULES_EVERY_MINUTES", 15),
        sqlite_mmap_mb=_int("PORTAL_SQLITE_MMAP_MB", 1024),
        public_url=public_url,
        allowed_origins=allowed_origins,
        smtp_host=(os.environ.get("PORTAL_SMTP_HOST") or "").strip() or None,
        smtp_port=_int("PORTAL_SMTP_PORT", 587),
        smtp_user=os.environ.get("PORTAL_SMTP_USER") or None,
        smtp_password=os.environ.get("PORTAL_SMTP_PASSWORD") or None,
        smtp_starttls=_bool("PORTAL_SMTP_STARTTLS", True),
        smtp_from=os.environ.get("PORTAL_SMTP_FROM") or "portal@localhost",
        smtp_timeout_seconds=_int("PORTAL_SMTP_TIMEOUT_SECONDS", 20),
        email_every_seconds=_int("PORTAL_EMAIL_EVERY_SECONDS", 30),
        email_batch_seconds=_int("PORTAL_EMAIL_BATCH_SECONDS", 120),
        email_max_attempts=_int("PORTAL_EMAIL_MAX_ATTEMPTS", 8),
        email_digest_hour=_int("PORTAL_EMAIL_DIGEST_HOUR", 7),
        help_anonymous_searches_per_hour=_int("PORTAL_HELP_ANONYMOUS_SEARCHES_PER_HOUR", 200),
        trusted_proxies=parse_networks(os.environ.get("PORTAL_TRUSTED_PROXIES", "")),
        login_delay_max_seconds=_float("PORTAL_LOGIN_DELAY_MAX_SECONDS", 4.0),
        login_email_hourly_limit=_int("PORTAL_LOGIN_EMAIL_HOURLY_LIMIT", 100),
        login_known_address_days=_int("PORTAL_LOGIN_KNOWN_ADDRESS_DAYS", 90),
        audit_retention_days=_int("PORTAL_AUDIT_RETENTION_DAYS", 400),
        login_attempt_retention_days=_int("PORTAL_LOGIN_ATTEMPT_RETENTION_DAYS", 180),
        usage_event_retention_days=_int("PORTAL_USAGE_EVENT_RETENTION_DAYS", 400),
        notification_retention_days=_int("PORTAL_NOTIFICATION_RETENTION_DAYS", 180),
        carrier_event_retention_days=_int("PORTAL_CARRIER_EVENT_RETENTION_DAYS", 400),
        staff_mfa=_bool("PORTAL_STAFF_MFA", False),
        mfa_key=(os.environ.get("PORTAL_MFA_KEY") or "").strip() or None,
        sso_keys=parse_sso_keys(os.environ.get("PORTAL_SSO_KEY", "")),
        sso_allow_loopback=_bool("PORTAL_SSO_ALLOW_LOOPBACK", False),
        webhook_allow_private=_bool("PORTAL_WEBHOOK_ALLOW_PRIVATE", False),
        webhook_every_seconds=_int("PORTAL_WEBHOOK_EVERY_SECONDS", 10),
        webhook_pause_after_failures=_int("PORTAL_WEBHOOK_PAUSE_AFTER_FAILURES", 10),
        webhook_pause_after_hours=_int("PORTAL_WEBHOOK_PAUSE_AFTER_HOURS", 24),
        webhook_give_up_hours=_int("PORTAL_WEBHOOK_GIVE_UP_HOURS", 72),
    )


settings = load_settings()
