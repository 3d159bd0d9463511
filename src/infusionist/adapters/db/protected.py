"""The registry of the tables under the row ledger, the guard that refuses an unledgered write of
one of them, and the ledger's reads for ``audit verify`` and the seal.

Adding a table to the ledger is one line: append its ``Table`` to ``PROTECTED`` (its primary key
names its rows) and write it through ``Ledger`` (``adapters/db/ledger.py``); the guard refuses any
Core INSERT, UPDATE or DELETE of it that does not. A migration that changes the columns of a
protected table needs nothing more: after the migrations ran, ``bootstrap`` seals the rows whose
digest changed, and the seal is recorded in the ledger and the audit trail.

Sessions are not protected: they are short-lived log-in state, touched as users work; a forged
session row can be added, used and removed between two checks and so leaves nothing to compare,
and ledgering them would add a ledger write to every touch. What is done in a session is in the
audit trail and in the protected rows it writes. Device tokens (``device_tokens``) are protected: a
token added behind the application's back would be a lasting way in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Delete, Engine, Insert, Table, Update, event, text

from infusionist.adapters.db import tables as t
from infusionist.adapters.db.inbound import devices, inbound_messages
from infusionist.adapters.db.ledger import LEDGERED, MIGRATING, Ledger
from infusionist.domain.errors import InfusionistError
from infusionist.domain.row_ledger import LedgerState, RowFinding, compare_table, read_ledger

PROTECTED: tuple[Table, ...] = (
    t.users,
    t.device_tokens,
    t.centres,
    devices,
    t.patients,
    t.courses,
    t.follow_up_tasks,
    t.day_events,
    t.lab_results,
    inbound_messages,
)
PROTECTED_NAMES = frozenset(table.name for table in PROTECTED)


class LedgerBypassed(InfusionistError):
    """Code tried to write a protected table without the ledger (a programming error)."""


def guard(engine: Engine) -> None:
    """Refuse, on this engine, any Core INSERT, UPDATE or DELETE of a protected table that does
    not go through the ledger, so that no writer can forget it. Raw SQL text is not checked (it
    is what ``audit verify`` finds). The migrations' connection is exempt (``MIGRATING``)."""

    @event.listens_for(engine, "before_execute")
    def _refuse_unledgered(_connection: Connection, statement: Any, _multi: Any, _params: Any,
                           options: Mapping[str, Any]) -> None:
        if not isinstance(statement, Insert | Update | Delete):
            return
        name = getattr(statement.table, "name", None)
        if name in PROTECTED_NAMES and not options.get(LEDGERED) and not options.get(MIGRATING):
            raise LedgerBypassed("LEDGER-BYPASSED",
                                 f"{name}: a protected table is written only through the ledger.")


class LedgerRepository:
    """The ledger's reads and the seal, over the registry (``uow.ledger``)."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def snapshot(self) -> None:
        """PostgreSQL reads each statement at its own moment (READ COMMITTED): switch this
        transaction to one snapshot. A SQLite read transaction is one snapshot already."""
        connection = self._ledger.c
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))

    def state(self) -> LedgerState:
        return read_ledger(self._ledger.entries())

    def head(self) -> tuple[int, str]:
        return self._ledger.head()

    def hash_at(self, seq: int) -> str | None:
        return self._ledger.hash_at(seq)

    def compare(self, state: LedgerState) -> tuple[dict[str, int], list[RowFinding]]:
        """Rows read by table, and every protected row that differs from the ledger's latest."""
        counts: dict[str, int] = {}
        findings: list[RowFinding] = []
        for table in PROTECTED:
            count, found = compare_table(table.name, state.latest.get(table.name, {}),
                                         self._ledger.rows(table))
            counts[table.name] = count
            findings.extend(found)
        return counts, findings

    def seal(self) -> dict[str, int]:
        """Take every protected row whose content the ledger does not hold (new to it, or
        changed) under the ledger as it stands; returns how many were sealed, by table."""
        state = self.state()
        sealed: dict[str, int] = {}
        for table in PROTECTED:
            digests = dict(self._ledger.rows(table))
            _count, found = compare_table(table.name, state.latest.get(table.name, {}), digests.items())
            keys = [f.key for f in found if f.what != "missing"]
            if keys:
                sealed[table.name] = self._ledger.seal(table, keys, digests)
        return sealed
