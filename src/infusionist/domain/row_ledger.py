"""The row ledger: a second hash chain, beside the audit trail, over every protected row.

Each time the application inserts or changes a protected row (a clinical event, a course, a lab
result, a follow-up task, a patient, a user ...), it appends in the same transaction one ledger
entry: the table, the row's primary key, the SHA-256 ``digest`` of the row's canonical content,
and the hash linking the entry to the one before (as the audit trail does). A row the application
removes gets an entry without digest. ``audit verify`` walks the chain, keeps the latest entry of
every row, and compares it with the row as it is now: a row whose content differs is *changed*,
a row that the ledger knows but the table lacks is *missing*, a row the ledger does not know
(or knows as removed) is *unexpected*.

``canonical`` of ``audit_chain`` is the one way to turn a row into hashed text; ``plain`` first
turns the values a row holds (instants, dates, decimals) into JSON values, the same for a row
about to be written and for one read back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Literal

from infusionist.domain.audit_chain import ChainBreak, canonical, first_break, sha256_hex

LEDGER_CHAIN = "ledger entry"

EntryKind = Literal["write", "remove", "seal"]
"""write: the application inserted or changed the row; remove: it removed the row; seal: the row
was taken under the ledger as it stood (a database made before the ledger, or a migration that
changed the table's columns)."""

FindingKind = Literal["changed", "missing", "unexpected"]

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]


def plain(value: object) -> JsonValue:
    """A stored value as JSON: instants in UTC ISO 8601, dates ISO, decimals as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"a naive instant cannot be hashed: {value.isoformat()}")
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    raise TypeError(f"a {type(value).__name__} cannot be hashed as a row value")


def row_digest(row: Mapping[str, object]) -> str:
    """SHA-256 of the canonical JSON of a row (every column, by name)."""
    return sha256_hex(canonical(plain(row)))


def row_key(values: Iterable[object]) -> str:
    """The text naming a row by its primary key (the columns' values joined with ``/``)."""
    return "/".join(str(v) for v in values)


@dataclass(frozen=True)
class LedgerEntry:
    """One ledger entry; ``seq`` numbers the entries 1, 2, 3 ... without gaps."""

    seq: int
    table_name: str
    row_key: str
    digest: str | None  # None: removed by the application
    kind: str
    prev_hash: str
    hash: str


def ledger_hash(prev_hash: str, entry: LedgerEntry) -> str:
    body = {"seq": entry.seq, "table": entry.table_name, "key": entry.row_key,
            "digest": entry.digest, "kind": entry.kind}
    return sha256_hex(prev_hash + canonical(body))


@dataclass(frozen=True)
class RowFinding:
    """A protected row that differs from what the application last wrote."""

    table: str
    key: str
    what: FindingKind

    def describe(self) -> str:
        meaning = {
            "changed": "changed outside the application",
            "missing": "missing (removed outside the application)",
            "unexpected": "unexpected (added outside the application)",
        }[self.what]
        return f"{self.table} row {self.key}: {meaning}"


@dataclass
class LedgerState:
    """What the ledger's chain says: its length, its first break, and each row's latest digest."""

    entries: int = 0
    broken: ChainBreak | None = None
    last_hash: str | None = None
    sealed: int = 0
    latest: dict[str, dict[str, str | None]] = field(default_factory=dict)


def read_ledger(entries: Iterable[LedgerEntry]) -> LedgerState:
    """Walk the chain once (in ``seq`` order): check every link, keep every row's latest entry.
    After a break the walk goes on, so the rows are still compared with what the ledger holds."""
    state = LedgerState()

    def tapped() -> Iterator[LedgerEntry]:
        for entry in entries:
            state.entries += 1
            state.last_hash = entry.hash
            state.sealed += entry.kind == "seal"
            state.latest.setdefault(entry.table_name, {})[entry.row_key] = entry.digest
            yield entry

    walk = tapped()
    state.broken = first_break(walk, ledger_hash, LEDGER_CHAIN)
    for _rest in walk:
        pass
    return state


def compare_table(table: str, latest: Mapping[str, str | None],
                  rows: Iterable[tuple[str, str]]) -> tuple[int, list[RowFinding]]:
    """Compare a table's rows ``(key, digest)`` with the ledger's latest digests; returns the
    number of rows read and the findings (changed and unexpected in row order, then missing)."""
    findings: list[RowFinding] = []
    seen: set[str] = set()
    count = 0
    for key, digest in rows:
        count += 1
        seen.add(key)
        expected = latest.get(key)
        if expected is None:
            findings.append(RowFinding(table, key, "unexpected"))
        elif expected != digest:
            findings.append(RowFinding(table, key, "changed"))
    findings.extend(RowFinding(table, key, "missing") for key, digest in latest.items()
                    if digest is not None and key not in seen)
    return count, findings


@dataclass(frozen=True)
class ChainHead:
    """Where a chain ended when it was anchored: its length and its last hash."""

    rows: int
    last_hash: str | None


@dataclass(frozen=True)
class Anchor:
    """The heads of both chains, written outside the database (``infusionist audit anchor``)."""

    audit: ChainHead
    ledger: ChainHead
    at: datetime


def anchor_break(chain: str, anchored: ChainHead, hash_at: str | None, rows_now: int) -> str | None:
    """Why a chain does not extend its anchored head (``hash_at``: its hash at the anchored
    length now), or None when it does."""
    if anchored.rows == 0:
        return None
    if rows_now < anchored.rows:
        return (f"{chain} {anchored.rows}: the chain has only {rows_now} now; "
                "entries written before the anchor were removed")
    if hash_at != anchored.last_hash:
        return (f"{chain} {anchored.rows}: its hash differs from the anchor's; "
                "the chain was rewritten since the anchor was taken")
    return None
