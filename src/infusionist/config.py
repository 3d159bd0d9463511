"""Typed settings from the environment (``INFUSIONIST_*``), validated at start-up."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("infusionist", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INFUSIONIST_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    # Default: an SQLite file in the data directory. PostgreSQL: postgresql+psycopg://user@host/db
    database_url: str | None = None
    # Identity (docs/security.md lists every number). A session ends after this many minutes
    # without a request (the timeout slides with activity) ...
    session_idle_minutes: int = Field(default=30, gt=0, le=24 * 60)
    # ... and this many hours after the log-in whatever the activity (ASVS 3.3.2: 12 hours).
    session_absolute_hours: int = Field(default=12, gt=0, le=7 * 24)
    # Failed log-ins within the window, per user name and per source address, before 429.
    login_account_failures: int = Field(default=5, ge=1, le=1000)
    login_address_failures: int = Field(default=20, ge=1, le=100_000)
    login_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # New passwords: at least this many characters (NIST SP 800-63B: 8 at least; ASVS 2.1.1: 12).
    password_min_length: int = Field(default=12, ge=8, le=64)
    # Device tokens: the life of a new token when none is asked for, and the longest allowed.
    token_days_default: int = Field(default=90, ge=1, le=3650)
    token_days_max: int = Field(default=365, ge=1, le=3650)
    # Largest request body (413 above it), and the smaller one for the anonymous log-in.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    max_login_body_bytes: int = Field(default=16 * 1024, ge=1024, le=1024 * 1024)
    # The session cookie's Secure flag. Unset (the default): Secure, except for a request over
    # plain HTTP to and from a loopback address (the demo on http://127.0.0.1); true: always;
    # false: never (plain-HTTP development on a network only).
    secure_cookies: bool | None = None
    # Origins besides the request's own host from which forms may be posted, e.g. the
    # https://name a reverse proxy serves when it rewrites the Host header (JSON list).
    trusted_origins: list[str] = Field(default_factory=list)
    protocol_file: Path | None = None
    # argon2id cost; the defaults are argon2-cffi's RFC 9106 low-memory profile.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8192)
    # MLLP listener limits (docs/hl7.md), product defaults: connections open at once (one more
    # is closed at once), seconds a connection may wait silent for its next message, and the
    # largest frame (bytes) read; a larger one is answered AR and its connection closed.
    hl7_max_connections: int = Field(default=64, ge=1)
    hl7_idle_timeout_seconds: float = Field(default=300.0, gt=0)
    hl7_max_frame_bytes: int = Field(default=1024 * 1024, ge=1024)
    # TLS over MLLP: the listener's certificate chain and key (PEM); with a client CA, monitors
    # must present a certificate signed by it. Unset: plain MLLP (docs/hl7.md).
    hl7_tls_certificate: Path | None = None
    hl7_tls_key: Path | None = None
    hl7_tls_client_ca: Path | None = None
    # How many argon2 computations (log-ins, signatures, new passwords) run at once per process;
    # more wait their turn, so a burst of log-ins cannot take every core from the other requests.
    argon2_at_once: int = Field(default=2, ge=1, le=64)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'infusionist.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        url = self.resolved_database_url
        return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None
