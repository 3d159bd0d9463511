"""The row ledger's pure parts (issue 14 item 3): row digests, the chain walk, the comparison of a
table with the ledger, anchors."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from infusionist.domain.audit_chain import GENESIS_HASH
from infusionist.domain.row_ledger import (
    ChainHead,
    LedgerEntry,
    anchor_break,
    compare_table,
    ledger_hash,
    plain,
    read_ledger,
    row_digest,
)


def chain(*items: tuple[str, str, str | None, str]) -> list[LedgerEntry]:
    entries, previous = [], GENESIS_HASH
    for seq, (table, key, digest, kind) in enumerate(items, start=1):
        draft = LedgerEntry(seq, table, key, digest, kind, previous, "")
        previous = ledger_hash(previous, draft)
        entries.append(replace(draft, hash=previous))
    return entries


def test_a_row_digest_does_not_depend_on_the_zone_an_instant_was_written_in() -> None:
    utc = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    berlin = utc.astimezone(timezone(timedelta(hours=1)))
    assert row_digest({"at": utc, "id": 1}) == row_digest({"id": 1, "at": berlin})
    assert row_digest({"at": utc}) != row_digest({"at": utc + timedelta(microseconds=1)})


def test_plain_values_are_json() -> None:
    assert plain({"d": date(2026, 3, 2), "n": Decimal("1.50"), "t": (1, "x"), "b": True}) == {
        "d": "2026-03-02", "n": "1.50", "t": [1, "x"], "b": True}
    with pytest.raises(ValueError, match="naive"):
        plain(datetime(2026, 3, 2))
    with pytest.raises(TypeError):
        plain(object())


def test_the_latest_entry_of_a_row_counts_and_a_removed_row_is_known_as_removed() -> None:
    state = read_ledger(chain(("t", "1", "a", "write"), ("t", "2", "b", "write"), ("t", "1", "c", "write"),
                              ("t", "2", None, "remove"), ("t", "3", "d", "seal")))
    assert (state.entries, state.broken, state.sealed) == (5, None, 1)
    assert state.latest == {"t": {"1": "c", "2": None, "3": "d"}}
    count, findings = compare_table("t", state.latest["t"], [("1", "c"), ("2", "x"), ("4", "e")])
    assert count == 3
    assert [(f.key, f.what) for f in findings] == [("2", "unexpected"), ("4", "unexpected"), ("3", "missing")]
    _, changed = compare_table("t", state.latest["t"], [("1", "zz"), ("3", "d")])
    assert [f.describe() for f in changed] == ["t row 1: changed outside the application"]


def test_a_changed_or_removed_entry_breaks_the_chain_and_the_walk_goes_on() -> None:
    entries = chain(("t", "1", "a", "write"), ("t", "2", "b", "write"), ("t", "3", "c", "write"))
    state = read_ledger([entries[0], replace(entries[1], digest="forged"), entries[2]])
    assert state.broken is not None and state.broken.describe() == (
        "ledger entry 2: content changed after it was written")
    assert state.entries == 3 and state.latest["t"]["3"] == "c"
    gap = read_ledger([entries[0], entries[2]])
    assert gap.broken is not None and gap.broken.describe() == "ledger entry 3: row(s) 2..2 removed"


def test_a_chain_extends_its_anchor_only_with_the_same_hash_at_the_same_length() -> None:
    head = ChainHead(2, "h2")
    assert anchor_break("ledger entry", head, "h2", 5) is None
    assert anchor_break("ledger entry", ChainHead(0, None), None, 0) is None
    assert "hash differs" in (anchor_break("ledger entry", head, "other", 5) or "")
    assert "only 1 now" in (anchor_break("ledger entry", head, None, 1) or "")
