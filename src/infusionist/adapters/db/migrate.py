"""Run the Alembic migrations programmatically (``infusionist db upgrade`` and at start-up)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from infusionist.adapters.db.ledger import MIGRATING

SCRIPT_LOCATION = "infusionist.adapters.db:migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def upgrade(engine: Engine) -> str | None:
    """Bring the schema to the newest revision; returns the revision now in place."""
    with engine.begin() as connection:
        connection.execution_options(**{MIGRATING: True})  # data migrations may rewrite rows
        config = _config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return current_revision(engine)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()
