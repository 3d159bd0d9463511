"""The analytics snapshot: the event record flattened into typed Parquet tables.

DuckDB's database scanners cannot be downloaded here, so the analytics read a Parquet snapshot
made through the database layer (``export_snapshot``). Each day event becomes one row with typed
columns; a ``reaction_assessed`` row carries its CTCAE term and grade from the domain's own
grading (``domain/reactions.grade_reaction``), so no grading rule is repeated in SQL.
``synthetic_snapshot`` writes the same tables straight from the generator (benchmarks, and the
2,000-patient calibration test); a test checks both paths give the same rows for the same seed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infusionist.domain.day_events import ReactionAssessed
from infusionist.domain.protocol import Protocol
from infusionist.domain.reactions import grade_reaction

VITALS = (
    "temperature_c",
    "heart_rate_bpm",
    "systolic_mmhg",
    "diastolic_mmhg",
    "respiratory_rate_per_min",
    "spo2_percent",
)
EVENT_FIELDS: tuple[tuple[str, str], ...] = (
    ("course_id", "int64"),
    ("patient_id", "int64"),
    ("course", "int32"),
    ("day", "int32"),
    ("seq", "int32"),
    ("type", "string"),
    ("at", "timestamp"),
    ("rate_ml_per_h", "float64"),
    ("symptoms", "list"),
    ("grade", "int32"),
    ("term", "string"),
    ("name", "string"),
    ("dose_value", "float64"),
    ("dose_unit", "string"),
    ("route", "string"),
    ("reason", "string"),
    *((v, "float64") for v in VITALS),
)
PATIENT_FIELDS = (
    ("patient_id", "int64"),
    ("pseudonym", "string"),
    ("sex", "string"),
    ("birth_date", "date"),
    ("weight_kg", "float64"),
    ("centre_id", "string"),
)
COURSE_FIELDS = (
    ("course_id", "int64"),
    ("patient_id", "int64"),
    ("course", "int32"),
    ("first_day", "date"),
    ("protocol", "string"),
)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def flatten(
    protocol: Protocol,
    course_id: int,
    patient_id: int,
    course: int,
    day: int,
    seq: int,
    payload: dict[str, Any],
) -> dict[str, Any]:
    kind = payload["type"]
    row: dict[str, Any] = {
        "course_id": course_id,
        "patient_id": patient_id,
        "course": course,
        "day": day,
        "seq": seq,
        "type": kind,
        "at": datetime.fromisoformat(payload["at"]).astimezone(UTC),
        "rate_ml_per_h": _float(payload.get("rate_ml_per_h")),
        "symptoms": payload.get("symptoms"),
        "grade": None,
        "term": None,
        "name": payload.get("name"),
        "dose_value": None,
        "dose_unit": None,
        "route": payload.get("route"),
        "reason": payload.get("reason"),
    }
    dose = payload.get("dose")
    if isinstance(dose, dict):
        row["dose_value"], row["dose_unit"] = _float(dose.get("value")), dose.get("unit")
    for vital in VITALS:
        row[vital] = _float(payload.get(vital))
    if kind == "reaction_assessed":
        assert protocol.reactions is not None, "grading needs the protocol's reaction rules"
        grading = grade_reaction(ReactionAssessed.model_validate(payload), protocol.reactions)
        row["grade"], row["term"] = grading.grade, grading.term
    return row


def _arrow_type(kind: str) -> Any:
    import pyarrow as pa

    return {
        "int64": pa.int64(),
        "int32": pa.int32(),
        "string": pa.string(),
        "float64": pa.float64(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "date": pa.date32(),
        "list": pa.list_(pa.string()),
    }[kind]


class _TableWriter:
    """Rows in, Parquet out, in row groups so millions of rows never sit in memory as dicts."""

    def __init__(self, path: Path, fields: Iterable[tuple[str, str]], chunk: int = 200_000) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.schema = pa.schema([(name, _arrow_type(kind)) for name, kind in fields])
        self.writer = pq.ParquetWriter(path, self.schema)
        self.rows: list[dict[str, Any]] = []
        self.chunk = chunk

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.chunk:
            self.flush()

    def flush(self) -> None:
        import pyarrow as pa

        if self.rows:
            self.writer.write_table(pa.Table.from_pylist(self.rows, schema=self.schema))
            self.rows = []

    def close(self) -> None:
        self.flush()
        self.writer.close()


class SnapshotWriter:
    def __init__(self, out_dir: Path) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.patients = _TableWriter(out_dir / "patients.parquet", PATIENT_FIELDS)
        self.courses = _TableWriter(out_dir / "courses.parquet", COURSE_FIELDS)
        self.events = _TableWriter(out_dir / "events.parquet", EVENT_FIELDS)

    def close(self) -> None:
        for table in (self.patients, self.courses, self.events):
            table.close()


def export_snapshot(engine: Any, protocol: Protocol, out_dir: Path) -> Path:
    """Read patients, courses and day events through the database layer into Parquet."""
    from sqlalchemy import select

    from infusionist.adapters.db import tables as t

    writer = SnapshotWriter(out_dir)
    with engine.connect() as connection:
        for p in connection.execute(select(t.patients).order_by(t.patients.c.id)).mappings():
            writer.patients.add(
                {
                    "patient_id": p["id"],
                    "pseudonym": p["pseudonym"],
                    "sex": p["sex"],
                    "birth_date": p["birth_date"],
                    "weight_kg": _float(p["weight_kg"]),
                    "centre_id": p["centre_id"],
                }
            )
        meta: dict[int, tuple[int, int]] = {}
        columns = (
            t.courses.c.id,
            t.courses.c.patient_id,
            t.courses.c.number,
            t.courses.c.plan,
            t.courses.c.protocol_id,
            t.courses.c.protocol_version,
        )
        for c in connection.execute(select(*columns).order_by(t.courses.c.id)).mappings():
            meta[c["id"]] = (c["patient_id"], c["number"])
            writer.courses.add(
                {
                    "course_id": c["id"],
                    "patient_id": c["patient_id"],
                    "course": c["number"],
                    "first_day": datetime.fromisoformat(c["plan"]["days"][0]["date"]).date(),
                    "protocol": f"{c['protocol_id']} {c['protocol_version']}",
                }
            )
        query = select(
            t.day_events.c.course_id, t.day_events.c.day, t.day_events.c.seq, t.day_events.c.payload
        )
        ordered = query.order_by(t.day_events.c.course_id, t.day_events.c.day, t.day_events.c.seq)
        for course_id, day, seq, payload in connection.execution_options(yield_per=50_000).execute(ordered):
            patient_id, number = meta[course_id]
            data = json.loads(payload) if isinstance(payload, str) else payload
            writer.events.add(flatten(protocol, course_id, patient_id, number, day, seq, data))
    writer.close()
    return out_dir


def synthetic_snapshot(
    protocol: Protocol, seed: int, patients: int, out_dir: Path, advance: Callable[[], None] = lambda: None
) -> Path:
    """The snapshot of the trial ``write_bulk`` would store, without a database (benchmarks)."""
    from infusionist.analytics.synth_bulk import synthetic_rows

    writer = SnapshotWriter(out_dir)
    for kind, row in synthetic_rows(protocol, seed, patients, advance):
        getattr(writer, kind).add(row)
    writer.close()
    return out_dir


def rows(path: Path) -> Iterator[dict[str, Any]]:
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(path).iter_batches(batch_size=100_000):
        yield from batch.to_pylist()
