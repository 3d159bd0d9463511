"""Consistent copies of the database while the server runs, and restoring them.

SQLite: the online backup API copies a consistent snapshot page by page while writers go on.
PostgreSQL: ``pg_dump`` in custom format (one consistent snapshot) and ``pg_restore``.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from infusionist.domain.errors import InfusionistError


class BackupError(InfusionistError):
    """A backup or restore could not be made."""


def sqlite_copy(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` as one consistent snapshot (online backup API)."""
    if not source.exists():
        raise BackupError("BACKUP-NO-DATABASE", f"database: {source} does not exist.")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst, pages=1024)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        dst.close()
        src.close()
    partial.replace(target)


def sqlite_integrity(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


def pg_dsn(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgresql") else url


def pg_dump(url: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    _run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", f"--dbname={pg_dsn(url)}"])


def pg_restore(url: str, source: Path) -> None:
    _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
          f"--dbname={pg_dsn(url)}", str(source)])


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError("BACKUP-TOOL-MISSING", f"{command[0]} is not installed (PostgreSQL client).")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError("BACKUP-FAILED", f"{command[0]}: {done.stderr.strip()[:500]}")
