"""The analytics snapshot read back one patient at a time, for the exports (SDTM, FHIR).

The snapshot (``analytics/snapshot.py``) holds each day as the domain reads it
(``domain/day_reading.py``): the events in force, the pump's rate segments, the graded reactions
and how the day ended. The exports need them per patient, grouped by course and infusion day.
DuckDB sorts each table's rows (spilling to disk when they do not fit in memory) and hands them
over in Arrow batches, merged by patient, so a patient's rows are Python objects only while that
patient is exported: memory stays flat however large the trial. Rows are typed (the dataclasses
below, one per table); patients without any day are skipped (they have nothing to export).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import groupby
from pathlib import Path
from typing import Any

BATCH_ROWS = 50_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class EventRow:
    """An event in force (``snapshot_rows.EVENT_FIELDS``)."""

    course_id: int
    patient_id: int
    course: int
    day: int
    seq: int
    type: str
    at: datetime
    rate_ml_per_h: float | None
    symptoms: list[str] | None
    name: str | None
    dose_value: float | None
    dose_unit: str | None
    route: str | None
    reason: str | None
    volume_ml: float | None
    temperature_c: float | None
    heart_rate_bpm: float | None
    systolic_mmhg: float | None
    diastolic_mmhg: float | None
    respiratory_rate_per_min: float | None
    spo2_percent: float | None
    corrected_by: int | None
    correction_reason: str | None


@dataclass(frozen=True, slots=True)
class SegmentRow:
    """The pump at one rate (``snapshot_rows.SEGMENT_FIELDS``); volume and dose from the reading."""

    course_id: int
    patient_id: int
    course: int
    day: int
    number: int
    start: datetime
    end: datetime
    rate_ml_per_h: Decimal
    volume_ml: Decimal
    dose_mg: Decimal
    started_by: str
    ended_by: str | None


@dataclass(frozen=True, slots=True)
class ReactionRow:
    """A reaction in force, as the bedside grades it (``snapshot_rows.REACTION_FIELDS``)."""

    course_id: int
    patient_id: int
    course: int
    day: int
    seq: int
    at: datetime
    symptoms: list[str]
    grade: int | None
    term: str | None
    severe: bool
    after_infusion: bool
    pump_after: str


@dataclass(frozen=True, slots=True)
class DayRow:
    """How a day went (``snapshot_rows.DAY_FIELDS``)."""

    course_id: int
    patient_id: int
    course: int
    day: int
    ending: str
    infusion_started_at: datetime | None
    infusion_ended_at: datetime | None
    prepared_volume_ml: Decimal | None
    prepared_dose_mg: Decimal | None
    volume_ml: Decimal
    dose_mg: Decimal
    withdrawn_entries: int


@dataclass(frozen=True, slots=True)
class PatientRow:
    patient_id: int
    pseudonym: str
    sex: str
    birth_date: date
    weight_kg: float | None
    centre_id: str


@dataclass(frozen=True, slots=True)
class CourseRow:
    course_id: int
    patient_id: int
    course: int
    first_day: date
    protocol: str
    planned_days: int


@dataclass(frozen=True, slots=True)
class SnapshotDay:
    """One infusion day's rows, in recorded order."""

    course_id: int
    course: int
    day: int
    reading: DayRow
    events: list[EventRow]
    segments: list[SegmentRow]
    reactions: list[ReactionRow]
    last_of_course: bool  # the last day of its course with any event

    @property
    def infusion_start(self) -> datetime | None:
        return self.reading.infusion_started_at


@dataclass(frozen=True, slots=True)
class SnapshotPatient:
    """A patient row, the rows of their courses, and their days (by course number, then day)."""

    patient: PatientRow
    courses: dict[int, CourseRow]  # course_id -> course row
    days: list[SnapshotDay]


def _table(snapshot: Path, name: str) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    rows: list[dict[str, Any]] = pq.read_table(snapshot / f"{name}.parquet").to_pylist()
    return rows


def _values(column: Any) -> list[Any]:
    """A column's values; timestamps from their microseconds (pyarrow's own conversion is 10x slower)."""
    import pyarrow as pa

    if pa.types.is_timestamp(column.type):
        if (column.type.unit, column.type.tz) != ("us", "UTC"):
            raise ValueError(f"snapshot timestamps are microseconds in UTC, not {column.type}")
        return [None if us is None else _EPOCH + timedelta(microseconds=us)
                for us in column.cast(pa.int64()).to_pylist()]
    values: list[Any] = column.to_pylist()
    return values


_ORDER = {"events": "seq", "segments": "number", "reactions": "seq", "days": "day"}


def _stream(con: Any, snapshot: Path, name: str, row: type[Any]) -> Iterator[tuple[int, list[Any]]]:
    """``(patient_id, rows)`` of one table, by patient, course, day and place in the day."""
    con.execute("SET TimeZone = 'UTC'")
    path = str(snapshot / f"{name}.parquet").replace("'", "''")
    columns = ", ".join(f'"{f.name}"' for f in fields(row))
    reader = con.execute(
        f"SELECT {columns} FROM read_parquet('{path}') "
        f"ORDER BY patient_id, course, course_id, day, {_ORDER[name]}"
    ).to_arrow_reader(BATCH_ROWS)
    current: int | None = None
    rows: list[Any] = []
    for batch in reader:
        for values in zip(*(_values(column) for column in batch.columns), strict=True):
            item = row(*values)
            if item.patient_id != current:
                if rows:
                    yield current, rows  # type: ignore[misc]
                current, rows = item.patient_id, []
            rows.append(item)
    if rows:
        assert current is not None
        yield current, rows


def snapshot_patients(snapshot: Path) -> Iterator[SnapshotPatient]:
    """Every patient with at least one recorded day, by patient id, streamed."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        patients = {p["patient_id"]: PatientRow(**p) for p in _table(snapshot, "patients")}
        courses = {c["course_id"]: CourseRow(**c) for c in _table(snapshot, "courses")}
        tables = (("events", EventRow), ("segments", SegmentRow), ("reactions", ReactionRow))
        others = {name: _stream(con.cursor(), snapshot, name, row) for name, row in tables}
        pending: dict[str, tuple[int, list[Any]] | None] = {name: next(s, None) for name, s in others.items()}
        for patient_id, days in _stream(con.cursor(), snapshot, "days", DayRow):
            mine: dict[str, list[Any]] = {}
            for name, stream in others.items():
                head = pending[name]
                while head is not None and head[0] < patient_id:  # rows of a patient with no day
                    head = next(stream, None)
                if head is not None and head[0] == patient_id:
                    mine[name], head = head[1], next(stream, None)
                pending[name] = head
            yield _patient(patients[patient_id], courses, days, mine)
    finally:
        con.close()


def _patient(
    patient: PatientRow, courses: dict[int, CourseRow], days: list[DayRow], rows: dict[str, list[Any]]
) -> SnapshotPatient:
    grouped = {name: {key: list(group) for key, group in groupby(items, key=lambda r: (r.course_id, r.day))}
               for name, items in rows.items()}

    def of(name: str, key: tuple[int, int]) -> list[Any]:
        return grouped.get(name, {}).get(key, [])

    out = []
    for i, d in enumerate(days):
        key = (d.course_id, d.day)
        last = i + 1 == len(days) or days[i + 1].course_id != d.course_id
        out.append(SnapshotDay(d.course_id, d.course, d.day, d, of("events", key), of("segments", key),
                               of("reactions", key), last_of_course=last))
    return SnapshotPatient(patient, {d.course_id: courses[d.course_id] for d in days}, out)
