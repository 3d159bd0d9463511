"""The analytics snapshot: the event record flattened into typed Parquet tables.

DuckDB's database scanners cannot be downloaded here, so the analytics read a Parquet snapshot
made through the database layer (``export_snapshot``). Each day event becomes one row with typed
columns (``snapshot_rows.py``: the tables' columns and ``flatten``, shared with the bulk
generator); a ``reaction_assessed`` row carries its CTCAE term and grade from the domain's own
grading (``domain/reactions.grade_reaction``), so no grading rule is repeated in SQL.
``synthetic_snapshot`` writes the same tables straight from the generator (benchmarks, and the
2,000-patient calibration test); a test checks both paths give the same rows for the same seed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from infusionist.analytics.snapshot_rows import COURSE_FIELDS, EVENT_FIELDS, PATIENT_FIELDS, flatten, to_float
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
                    "weight_kg": to_float(p["weight_kg"]),
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
