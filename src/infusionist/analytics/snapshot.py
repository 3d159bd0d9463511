"""The analytics snapshot: the event record flattened into typed Parquet tables.

DuckDB's database scanners cannot be downloaded here, so the analytics read a Parquet snapshot
made through the database layer (``export_snapshot``). Each stored day is read by the domain
(``domain/day_reading.read_day``, the bedside's own fold: corrections applied, reactions graded,
pump arithmetic exact) and its reading becomes typed rows (``snapshot_rows.py``, shared with the
bulk generator): ``events`` (the entries in force), ``segments``, ``reactions`` and ``days``, so
no grading rule, correction rule or pump calculation is repeated in SQL or in an export.
``synthetic_snapshot`` writes the same tables straight from the generator (benchmarks, and the
2,000-patient calibration test); a test checks both paths give the same rows for the same seed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from itertools import groupby
from pathlib import Path
from typing import Any

from infusionist.analytics.snapshot_rows import (
    COURSE_FIELDS,
    DAY_FIELDS,
    EVENT_FIELDS,
    PATIENT_FIELDS,
    REACTION_FIELDS,
    SEGMENT_FIELDS,
    course_row,
    day_rows,
    read_stored_day,
    to_float,
)
from infusionist.domain.plan_json import plan_from_json
from infusionist.domain.planning import CoursePlan
from infusionist.domain.protocol import Protocol


def _arrow_type(kind: str) -> Any:
    import pyarrow as pa

    return {
        "int64": pa.int64(),
        "int32": pa.int32(),
        "string": pa.string(),
        "float64": pa.float64(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "date": pa.date32(),
        "bool": pa.bool_(),
        "decimal": pa.decimal128(18, 6),
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


TABLES = ("patients", "courses", "events", "segments", "reactions", "days")


class SnapshotWriter:
    def __init__(self, out_dir: Path) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.patients = _TableWriter(out_dir / "patients.parquet", PATIENT_FIELDS)
        self.courses = _TableWriter(out_dir / "courses.parquet", COURSE_FIELDS)
        self.events = _TableWriter(out_dir / "events.parquet", EVENT_FIELDS)
        self.segments = _TableWriter(out_dir / "segments.parquet", SEGMENT_FIELDS)
        self.reactions = _TableWriter(out_dir / "reactions.parquet", REACTION_FIELDS)
        self.days = _TableWriter(out_dir / "days.parquet", DAY_FIELDS)

    def add(self, table: str, row: dict[str, Any]) -> None:
        getattr(self, table).add(row)

    def close(self) -> None:
        for table in (self.patients, self.courses, self.events, self.segments, self.reactions, self.days):
            table.close()


def export_snapshot(engine: Any, protocol: Protocol, out_dir: Path) -> Path:
    """Read patients, courses and day events through the database layer, each day through the
    domain's reading (``read_day``), into Parquet."""
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
                    "weight_kg": to_float(p["weight_kg"]),
                    "centre_id": p["centre_id"],
                }
            )
        meta: dict[int, tuple[int, int, CoursePlan]] = {}
        columns = (
            t.courses.c.id,
            t.courses.c.patient_id,
            t.courses.c.number,
            t.courses.c.plan,
            t.courses.c.protocol_id,
            t.courses.c.protocol_version,
        )
        for c in connection.execute(select(*columns).order_by(t.courses.c.id)).mappings():
            document = json.loads(c["plan"]) if isinstance(c["plan"], str) else c["plan"]
            # The reading needs the infusion days, not the plan's follow-up activities (the
            # 48-month series was 9/10 of the time to rebuild a plan).
            plan = plan_from_json({**document, "activities": []})
            meta[c["id"]] = (c["patient_id"], c["number"], plan)
            writer.courses.add(course_row(c["id"], c["patient_id"], c["number"], plan))
        e = t.day_events.c
        ordered = select(e.course_id, e.day, e.seq, e.payload, e.signature).order_by(
            e.course_id, e.day, e.seq)
        stream = connection.execution_options(yield_per=50_000).execute(ordered)
        for (course_id, day), group in groupby(stream, key=lambda r: (r[0], r[1])):
            patient_id, number, plan = meta[course_id]
            stored = [(seq, _json(payload), _json(signature)) for _c, _d, seq, payload, signature in group]
            reading, seqs = read_stored_day(plan, day, stored, protocol)
            for table, row in day_rows(reading, course_id, patient_id, number, seqs):
                writer.add(table, row)
    writer.close()
    return out_dir


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def synthetic_snapshot(
    protocol: Protocol, seed: int, patients: int, out_dir: Path, advance: Callable[[], None] = lambda: None
) -> Path:
    """The snapshot of the trial ``write_bulk`` would store, without a database (benchmarks)."""
    from infusionist.analytics.synth_bulk import synthetic_rows

    writer = SnapshotWriter(out_dir)
    for kind, row in synthetic_rows(protocol, seed, patients, advance):
        writer.add(kind, row)
    writer.close()
    return out_dir


def rows(path: Path) -> Iterator[dict[str, Any]]:
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(path).iter_batches(batch_size=100_000):
        yield from batch.to_pylist()
