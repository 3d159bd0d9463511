"""The audit trail's SHA-256 hash chain: canonical JSON of each row, linked to the one before.

``row_hash`` = SHA-256(previous hash + canonical JSON of the row). ``first_break`` finds the
first row that was changed, inserted or removed behind the application's back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

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
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def row_hash(prev_hash: str, entry: AuditEntry) -> str:
    return hashlib.sha256((prev_hash + canonical_json(entry)).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    problem: str

    def describe(self) -> str:
        return f"audit row {self.seq}: {self.problem}"


def first_break(entries: Iterable[AuditEntry]) -> ChainBreak | None:
    """The first row (in ``seq`` order) where the chain does not hold, or None when intact."""
    previous_hash = GENESIS_HASH
    expected_seq = 1
    for entry in entries:
        if entry.seq != expected_seq:
            problem = (
                f"row(s) {expected_seq}..{entry.seq - 1} removed"
                if entry.seq > expected_seq
                else f"inserted or duplicated (expected row {expected_seq})"
            )
            return ChainBreak(entry.seq, problem)
        if entry.prev_hash != previous_hash:
            return ChainBreak(entry.seq, "does not link to the row before it (inserted or removed)")
        if row_hash(entry.prev_hash, entry) != entry.hash:
            return ChainBreak(entry.seq, "content changed after it was written")
        previous_hash = entry.hash
        expected_seq += 1
    return None
