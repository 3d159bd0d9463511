"""The exports' reader of the snapshot: one patient at a time, the same whatever the batch size."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from infusionist.adapters import snapshot_days
from infusionist.adapters.fhir.resources import NAMESPACE, uuid5
from infusionist.adapters.snapshot_days import snapshot_patients
from infusionist.analytics.snapshot import rows


def _shape(snapshot: Path) -> list[tuple[object, ...]]:
    return [(p.patient.patient_id, [(d.course, d.day, d.last_of_course, [e.seq for e in d.events])
                                        for d in p.days])
            for p in snapshot_patients(snapshot)]


def test_patients_come_whole_and_in_order_across_batches(small_snapshot: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = _shape(small_snapshot)
    monkeypatch.setattr(snapshot_days, "BATCH_ROWS", 7)  # patients and days split across batches
    assert _shape(small_snapshot) == whole
    ids = [patient for patient, _days in whole]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    events = list(rows(small_snapshot / "events.parquet"))
    assert sum(len(seqs) for _, days in whole for *_, seqs in days) == len(events)
    for _, days in whole:
        keys = [(course, day) for course, day, _, _ in days]
        assert keys == sorted(keys)
        assert [last for *_, last, _ in days] == [
            i + 1 == len(days) or days[i + 1][0] != course for i, (course, *_rest) in enumerate(days)]
        assert all(seqs == sorted(seqs) for *_, seqs in days)


def test_times_are_the_snapshot_times_in_utc(small_snapshot: Path) -> None:
    first = next(snapshot_patients(small_snapshot)).days[0].events[0]
    stored = next(r for r in rows(small_snapshot / "events.parquet")
                  if (r["course_id"], r["day"], r["seq"]) == (first.course_id, first.day, first.seq))
    assert first.at == stored["at"] and first.at.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("name", ["", "a", "SYNTH/S-0000003/Observation/1/2/33/0", "é" * 80])
def test_resource_ids_are_rfc_4122_uuid5(name: str) -> None:
    assert uuid5(NAMESPACE, name) == str(uuid.uuid5(NAMESPACE, name))
