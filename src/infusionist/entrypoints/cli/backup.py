"""``infusionist backup FILE`` and ``infusionist restore FILE``: consistent copies, verified."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from infusionist.entrypoints.cli.errors import fail, reported_errors
from infusionist.entrypoints.cli.server import deps_for, settings


def backup_command(file: Annotated[Path, typer.Argument(help="Where to write the copy.")]) -> None:
    """Copy the database consistently, even while the server runs, and verify the copy."""
    from infusionist.adapters.db import backup

    current = settings()
    with reported_errors():
        source = current.sqlite_path()
        if source is None:
            backup.pg_dump(current.resolved_database_url, file)
            typer.echo(f"Backed up PostgreSQL to {file}.")
            return
        backup.sqlite_copy(source, file)
        rows = _verify_sqlite(file)
    typer.echo(f"Backed up to {file}: integrity ok, audit chain of {rows} row(s) intact.")


def restore_command(
    file: Annotated[Path, typer.Argument(help="A file made by `infusionist backup`.")],
) -> None:
    """Replace the database with a backup after checking it; stop the server first."""
    from infusionist.adapters.db import backup

    current = settings()
    if not file.exists():
        fail("RESTORE-NO-FILE", f"FILE: {file} does not exist.")
    with reported_errors():
        target = current.sqlite_path()
        if target is None:
            backup.pg_restore(current.resolved_database_url, file)
            rows = _verify(current)
        else:
            _verify_sqlite(file)
            for suffix in ("-wal", "-shm"):
                target.with_name(target.name + suffix).unlink(missing_ok=True)
            backup.sqlite_copy(file, target)
            rows = _verify(current)
    typer.echo(f"Restored from {file}: audit chain of {rows} row(s) intact.")


def _verify_sqlite(file: Path) -> int:
    from infusionist.adapters.db.backup import sqlite_integrity

    result = sqlite_integrity(file)
    if result != "ok":
        fail("BACKUP-CORRUPT", f"{file}: integrity check says {result}")
    from infusionist.config import Settings

    return _verify(Settings(database_url=f"sqlite:///{file}"), migrate=False)


def _verify(current: object, *, migrate: bool = True) -> int:
    from infusionist.config import Settings
    from infusionist.services.audit import verify

    assert isinstance(current, Settings)
    rows, broken = verify(deps_for(current, migrate=migrate))
    if broken is not None:
        fail("AUDIT-BROKEN", broken.describe())
    return rows
