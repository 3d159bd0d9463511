"""The row ledger's writes: every INSERT, UPDATE and DELETE of a protected table (the registry is
``protected.PROTECTED``) goes through ``Ledger.insert``, ``insert_many``, ``update`` or ``delete``.
The statement returns the whole row as stored (``RETURNING``) and the ledger appends an entry with
that row's digest in the same transaction: the digest is computed from the values as the database
gives them back, exactly as ``audit verify`` reads them later.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, Delete, Insert, RowMapping, Table, Update, insert, select

from infusionist.adapters.db import tables as t
from infusionist.domain.audit_chain import GENESIS_HASH
from infusionist.domain.row_ledger import LedgerEntry, ledger_hash, row_digest, row_key

LEDGERED = "infusionist_ledgered"  # execution option of a write made through the ledger
MIGRATING = "infusionist_migrating"  # execution option of the migrations' connection

STREAM = 5000  # rows fetched at a time when a whole table is read (PostgreSQL: a server-side cursor)
_LAST = select(t.row_ledger.c.seq, t.row_ledger.c.hash).order_by(t.row_ledger.c.seq.desc()).limit(1)
_APPEND = insert(t.row_ledger).execution_options(**{LEDGERED: True})


def _columns(table: Table) -> tuple[str, ...]:
    return tuple(column.name for column in table.columns)


def _key_of(table: Table, row: Mapping[Any, Any]) -> str:
    return row_key(row[column.name] for column in table.primary_key.columns)


def _digest_of(table: Table, row: Mapping[Any, Any]) -> str:
    return row_digest({name: row[name] for name in _columns(table)})


class Ledger:
    """The ledger of one transaction. The head (last entry) is read once, at the first append,
    and kept; a write transaction holds the writer's lock, so no one else appends meanwhile.

    ``deferred`` (the unit of work's ledger): the entries are computed at once but inserted in one
    statement by ``flush``, which the unit of work calls right before it commits; an HL7 batch
    then writes its ledger entries with one INSERT instead of two or three per message. Without
    it (bulk writers that commit the connection themselves) every append is inserted at once."""

    def __init__(self, connection: Connection, *, deferred: bool = False) -> None:
        self.c = connection
        self._head: tuple[int, str] | None = None
        self._deferred = deferred
        self._pending: list[dict[str, Any]] = []

    # -- writes ---------------------------------------------------------------------------
    def insert(self, table: Table, values: Mapping[str, Any]) -> RowMapping:
        """INSERT one row; returns it as stored, after recording it."""
        statement = _insert_all(table)
        row = self.c.execute(statement, dict(values)).mappings().one()
        self._append([(table.name, _key_of(table, row), _digest_of(table, row), "write")])
        return row

    def insert_many(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """INSERT many rows in one statement (bulk writers), recording each."""
        if not rows:
            return
        stored = self.c.execute(
            insert(table).returning(*table.c, sort_by_parameter_order=True)
            .execution_options(**{LEDGERED: True}), [dict(r) for r in rows]).mappings().all()
        self._append([(table.name, _key_of(table, row), _digest_of(table, row), "write")
                      for row in stored])

    def update(self, statement: Update, parameters: Mapping[str, Any] | None = None) -> list[RowMapping]:
        """Run an UPDATE of a protected table; returns the changed rows as stored, recorded."""
        table = statement.table
        assert isinstance(table, Table)
        rows = self.c.execute(statement.returning(*table.c).execution_options(**{LEDGERED: True}),
                              dict(parameters) if parameters is not None else None).mappings().all()
        self._append([(table.name, _key_of(table, row), _digest_of(table, row), "write")
                      for row in rows])
        return list(rows)

    def delete(self, statement: Delete) -> int:
        """Run a DELETE of a protected table, recording each removed row as removed."""
        table = statement.table
        assert isinstance(table, Table)
        keys = self.c.execute(statement.returning(*table.primary_key.columns)
                              .execution_options(**{LEDGERED: True})).mappings().all()
        self._append([(table.name, _key_of(table, row), None, "remove") for row in keys])
        return len(keys)

    def _append(self, items: Iterable[tuple[str, str, str | None, str]]) -> None:
        pending = list(items)
        if not pending:
            return
        seq, previous = self.head()
        entries = []
        for table_name, key, digest, kind in pending:
            seq += 1
            draft = LedgerEntry(seq, table_name, key, digest, kind, previous, "")
            previous = ledger_hash(previous, draft)
            entries.append({**vars(draft), "hash": previous})
        self._head = (seq, previous)
        self._pending.extend(entries)
        if not self._deferred:
            self.flush()

    def flush(self) -> None:
        """Insert the entries computed so far (before the transaction commits)."""
        if self._pending:
            pending, self._pending = self._pending, []
            self.c.execute(_APPEND, pending[0] if len(pending) == 1 else pending)

    # -- savepoints -----------------------------------------------------------------------
    def mark(self) -> tuple[tuple[int, str] | None, int]:
        return self._head, len(self._pending)

    def reset(self, mark: tuple[tuple[int, str] | None, int]) -> None:
        """After a savepoint rolled back: the head, and the entries still to insert, are again
        what they were at ``mark`` (the rows they named were rolled back with the savepoint)."""
        self._head, pending = mark
        del self._pending[pending:]

    # -- reads ----------------------------------------------------------------------------
    def head(self) -> tuple[int, str]:
        """(entries, last hash) of the chain."""
        if self._head is None:
            last = self.c.execute(_LAST).first()
            self._head = (int(last[0]), str(last[1])) if last is not None else (0, GENESIS_HASH)
        return self._head

    def entries(self) -> Iterator[LedgerEntry]:
        self.flush()
        query = select(t.row_ledger).order_by(t.row_ledger.c.seq).execution_options(yield_per=STREAM)
        for row in self.c.execute(query).mappings():
            yield LedgerEntry(**dict(row))

    def hash_at(self, seq: int) -> str | None:
        self.flush()
        query = select(t.row_ledger.c.hash).where(t.row_ledger.c.seq == seq)
        found = self.c.execute(query).scalar_one_or_none()
        return str(found) if found is not None else None

    def rows(self, table: Table) -> Iterator[tuple[str, str]]:
        """(key, digest) of every row of a table as it is now."""
        for row in self.c.execute(select(table).execution_options(yield_per=STREAM)).mappings():
            yield _key_of(table, row), _digest_of(table, row)

    def seal(self, table: Table, keys: Iterable[str], digests: Mapping[str, str]) -> int:
        """Append a seal entry for each of these rows of ``table``, with its digest now."""
        items = [(table.name, key, digests[key], "seal") for key in keys]
        self._append(items)
        return len(items)


@cache
def _insert_all(table: Table) -> Insert:
    """``INSERT ... RETURNING *`` of a table, built once."""
    return insert(table).returning(*table.c).execution_options(**{LEDGERED: True})
