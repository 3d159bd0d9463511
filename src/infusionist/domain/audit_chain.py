"""The audit trail's SHA-256 hash chain: canonical JSON of each row, linked to the one before.

``row_hash`` = SHA-256(previous hash + canonical JSON of the row). ``first_break`` finds the
first row that was changed, inserted or removed behind the application's back.

``canonical`` is the one way the product turns a value into the text it hashes (sorted keys, no
spaces, UTF-8); the row ledger (``row_ledger``) hashes clinical rows and its own entries with it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    """One audit row. ``seq`` numbers the rows 1, 2, 3 ... without gaps."""

    seq: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    old_value: Any
    new_value: Any
    reason: str | None
    request_id: str | None
    prev_hash: str
    hash: str


def canonical(value: object) -> str:
    """The canonical JSON text of ``value``: sorted keys, no spaces, non-ASCII kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical_json(entry: AuditEntry) -> str:
    body = {
        "seq": entry.seq,
        "at": entry.at.astimezone(UTC).isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "entity": entry.entity,
        "entity_id": entry.entity_id,
        "old_value": entry.old_value,
        "new_value": entry.new_value,
        "reason": entry.reason,
        "request_id": entry.request_id,
    }
    return canonical(body)


def row_hash(prev_hash: str, entry: AuditEntry) -> str:
    return sha256_hex(prev_hash + canonical_json(entry))


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    problem: str
    chain: str = "audit row"

    def describe(self) -> str:
        return f"{self.chain} {self.seq}: {self.problem}"


class Linked(Protocol):
    """A row of a hash chain: numbered 1, 2, 3 ... and linked to the one before."""

    @property
    def seq(self) -> int: ...

    @property
    def prev_hash(self) -> str: ...

    @property
    def hash(self) -> str: ...


L = TypeVar("L", bound=Linked)


def first_break(entries: Iterable[L], hash_of: Callable[[str, L], str] | None = None,
                chain: str = "audit row") -> ChainBreak | None:
    """The first row (in ``seq`` order) where the chain does not hold, or None when intact.
    ``hash_of(prev_hash, row)`` is the chain's row hash (the audit trail's ``row_hash``)."""
    compute: Callable[[str, Any], str] = hash_of if hash_of is not None else row_hash
    previous_hash = GENESIS_HASH
    expected_seq = 1
    for entry in entries:
        if entry.seq != expected_seq:
            problem = (
                f"row(s) {expected_seq}..{entry.seq - 1} removed"
                if entry.seq > expected_seq
                else f"inserted or duplicated (expected row {expected_seq})"
            )
            return ChainBreak(entry.seq, problem, chain)
        if entry.prev_hash != previous_hash:
            return ChainBreak(entry.seq, "does not link to the row before it (inserted or removed)", chain)
        if compute(entry.prev_hash, entry) != entry.hash:
            return ChainBreak(entry.seq, "content changed after it was written", chain)
        previous_hash = entry.hash
        expected_seq += 1
    return None
