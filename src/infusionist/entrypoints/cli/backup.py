"""``infusionist backup FILE`` and ``infusionist restore FILE``: consistent copies, verified."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from infusionist.entrypoints.cli.errors import fail, reported_errors
from infusionist.entrypoints.cli.server import deps_for, settings

if TYPE_CHECKING:
    from infusionist.config import Settings


def backup_command(file: Annotated[Path, typer.Argument(help="Where to write the copy.")]) -> None:
    """Copy the database consistently, even while the server runs, and verify the copy."""
    from infusionist.adapters.anchor_file import beside, write_anchor
    from infusionist.adapters.db import backup
    from infusionist.services.audit import head

    current = settings()
    with reported_errors():
        source = current.sqlite_path()
        if source is None:
            # The heads are taken before the dump, so the dump (and the live database) extend them.
            anchor = head(deps_for(current))
            backup.pg_dump(current.resolved_database_url, file)
            write_anchor(beside(file), anchor)
            typer.echo(f"Backed up PostgreSQL to {file}; chains' heads in {beside(file)}.")
            return
        backup.sqlite_copy(source, file)
        rows = _verify_sqlite(file)
        write_anchor(beside(file), head(deps_for(_sqlite_settings(file), migrate=False)))
    typer.echo(f"Backed up to {file}: integrity ok, audit trail and row ledger intact ({rows} "
               f"audit row(s)); chains' heads in {beside(file)}.")


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
    return _verify(_sqlite_settings(file), migrate=False)


def _sqlite_settings(file: Path) -> Settings:
    from infusionist.config import Settings

    return Settings(database_url=f"sqlite:///{file}")


def _verify(current: Settings, *, migrate: bool = True) -> int:
    from infusionist.services.audit import verify

    checked = verify(deps_for(current, migrate=migrate))
    problems = checked.problems()
    if problems:
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        fail("AUDIT-BROKEN", problems[0] + more)
    return checked.audit_rows
