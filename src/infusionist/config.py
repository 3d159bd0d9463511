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
    session_idle_minutes: int = Field(default=30, gt=0, le=24 * 60)
    # Send the session cookie over HTTPS only; switch off only for plain-HTTP development.
    secure_cookies: bool = False
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
