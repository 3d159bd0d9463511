"""The one place where adapters are wired to services."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from infusionist.adapters.bedside import BedsideRules
from infusionist.adapters.common_passwords import CommonPasswords
from infusionist.adapters.db.engine import make_engine
from infusionist.adapters.db.migrate import current_revision, upgrade
from infusionist.adapters.db.protected import guard
from infusionist.adapters.db.uow import SqlUnitOfWorkFactory
from infusionist.adapters.protocol_files import (
    bundled_protocol_ids,
    bundled_protocol_path,
    load_protocol,
)
from infusionist.adapters.security import Argon2Hasher, SystemClock
from infusionist.config import Settings
from infusionist.domain.protocol import Protocol
from infusionist.services import audit
from infusionist.services.deps import AuthPolicy, Deps


def engine_for(settings: Settings) -> Engine:
    path = settings.sqlite_path()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    guard(engine)  # no write of a protected table without its ledger entry
    return engine


def migrate(settings: Settings) -> str | None:
    engine = engine_for(settings)
    try:
        build(settings, engine=engine)
        return current_revision(engine)
    finally:
        engine.dispose()


def build(settings: Settings, *, engine: Engine | None = None, run_migrations: bool = True) -> Deps:
    # The protocol is checked first (schema, release record, drug library): a refused protocol
    # stops the start-up before the database is touched.
    protocol = load_protocol(settings.protocol_file)
    engine = engine if engine is not None else engine_for(settings)
    before = current_revision(engine) if run_migrations else None
    after = upgrade(engine) if run_migrations else None
    deps = _deps(settings, engine, protocol)
    if before != after:
        # Rows stored before the ledger existed, or whose columns a migration changed, are taken
        # under the ledger as they stand now; the seal is recorded (ledger and audit trail).
        audit.seal(deps, f"database migrated from {before or 'nothing'} to {after}")
    return deps


def _deps(settings: Settings, engine: Engine, protocol: Protocol) -> Deps:
    others = other_protocols(protocol)
    return Deps(
        uow=SqlUnitOfWorkFactory(engine),
        clock=SystemClock(),
        hasher=Argon2Hasher(settings.argon2_time_cost, settings.argon2_memory_kib,
                            settings.argon2_at_once),
        rules=BedsideRules(protocol, others),
        protocol=protocol,
        common_passwords=CommonPasswords(),
        auth=auth_policy(settings),
        secure_cookies=settings.secure_cookies,
        database=engine.dialect.name,
        protocols=others,
    )


def other_protocols(default: Protocol) -> dict[str, Protocol]:
    """The bundled protocols besides the default, each checked as it loads (issue 16)."""
    return {pid: load_protocol(bundled_protocol_path(pid))
            for pid in bundled_protocol_ids() if pid != default.id}


def auth_policy(settings: Settings) -> AuthPolicy:
    return AuthPolicy(
        session_idle=timedelta(minutes=settings.session_idle_minutes),
        session_absolute=timedelta(hours=settings.session_absolute_hours),
        account_failures=settings.login_account_failures,
        address_failures=settings.login_address_failures,
        failure_window=timedelta(minutes=settings.login_window_minutes),
        password_min_length=settings.password_min_length,
        token_days_default=min(settings.token_days_default, settings.token_days_max),
        token_days_max=settings.token_days_max,
    )
