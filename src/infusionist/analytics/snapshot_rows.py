"""The rows of the analytics snapshot: each table's columns and ``day_rows`` (a day's reading ->
typed rows). Shared by the snapshot writers (``snapshot.py``) and the bulk generator
(``synth_bulk.py``), so neither imports the other for it.

Every row comes from the domain's one reading of the day (``domain/day_reading.read_day``): the
events table holds the events in force (corrections applied, withdrawn entries absent; a
corrected row names its correction and why), the reactions table the reactions as the bedside
grades them, the segments table the pump's constant-rate stretches with their exact volume and
dose (C-11), the days table how each day ended. No row is computed here from raw events.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from infusionist.domain.day_events import ClinicalEvent, parse_event
from infusionist.domain.day_reading import DayReading, read_day, reading_moment
from infusionist.domain.planning import CoursePlan
from infusionist.domain.protocol import Protocol
from infusionist.domain.records import signed_by

VITALS = (
    "temperature_c",
    "heart_rate_bpm",
    "systolic_mmhg",
    "diastolic_mmhg",
    "respiratory_rate_per_min",
    "spo2_percent",
)
_KEY = (("course_id", "int64"), ("patient_id", "int64"), ("course", "int32"), ("day", "int32"))
EVENT_FIELDS: tuple[tuple[str, str], ...] = (
    *_KEY,
    ("seq", "int32"),  # the original entry's sequence number in the day's record
    ("type", "string"),
    ("at", "timestamp"),
    ("rate_ml_per_h", "float64"),
    ("symptoms", "list"),
    ("name", "string"),
    ("dose_value", "float64"),
    ("dose_unit", "string"),
    ("route", "string"),
    ("reason", "string"),
    ("volume_ml", "float64"),  # solution_prepared: the volume actually prepared (C-11)
    *((v, "float64") for v in VITALS),
    ("corrected_by", "int32"),  # the correction's sequence number, when the entry was corrected
    ("correction_reason", "string"),
)
SEGMENT_FIELDS: tuple[tuple[str, str], ...] = (
    *_KEY,
    ("number", "int32"),
    ("start", "timestamp"),
    ("end", "timestamp"),
    ("rate_ml_per_h", "decimal"),
    ("volume_ml", "decimal"),
    ("dose_mg", "decimal"),
    ("started_by", "string"),
    ("ended_by", "string"),  # null: still running when the record was read
)
REACTION_FIELDS: tuple[tuple[str, str], ...] = (
    *_KEY,
    ("seq", "int32"),  # the onset entry's sequence number
    ("at", "timestamp"),
    ("symptoms", "list"),
    ("grade", "int32"),
    ("term", "string"),
    ("severe", "bool"),  # the protocol's severe_from_grade
    ("after_infusion", "bool"),
    ("pump_after", "string"),
)
DAY_FIELDS: tuple[tuple[str, str], ...] = (
    *_KEY,
    ("ending", "string"),
    ("infusion_started_at", "timestamp"),
    ("infusion_ended_at", "timestamp"),
    ("prepared_volume_ml", "decimal"),
    ("prepared_dose_mg", "decimal"),
    ("volume_ml", "decimal"),  # the day's infused volume (sum of its segments)
    ("dose_mg", "decimal"),
    ("withdrawn_entries", "int32"),
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
    ("planned_days", "int32"),  # the plan's infusion days (the protocol's course rule)
)
DECIMAL_PLACES = Decimal("0.000001")  # the snapshot's decimal columns: decimal(18, 6)


def to_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _utc(at: datetime | None) -> datetime | None:
    return None if at is None else at.astimezone(UTC)


def _exact(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(DECIMAL_PLACES)


def read_stored_day(
    plan: CoursePlan, day: int, stored: list[tuple[int, dict[str, Any], dict[str, Any] | None]],
    protocol: Protocol, *, checked: bool = False,
) -> tuple[DayReading, list[int]]:
    """A stored day (``(seq, payload, signature)`` in recorded order) read by the domain, as the
    bedside reads it (the signature's signer on signed entries), and the entries' seqs."""
    events = [parse_event(payload if signature is None else signed_by(payload, signature["username"]))
              for _seq, payload, signature in stored]
    reading = read_day(plan, day, events, reading_moment(events), protocol, checked=checked)
    return reading, [seq for seq, _, _ in stored]


def course_row(course_id: int, patient_id: int, number: int, plan: CoursePlan) -> dict[str, Any]:
    return {
        "course_id": course_id,
        "patient_id": patient_id,
        "course": number,
        "first_day": plan.days[0].date,
        "protocol": f"{plan.protocol_id} {plan.protocol_version}",
        "planned_days": len(plan.days),
    }


def day_rows(
    reading: DayReading, course_id: int, patient_id: int, course: int, seqs: list[int]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The snapshot rows of one day's reading: ``(table, row)``; ``seqs[i]`` is the stored
    sequence number of the record's ``i``-th entry."""
    key = {"course_id": course_id, "patient_id": patient_id, "course": course, "day": reading.day}
    for entry in reading.events:
        yield "events", {
            **key, "seq": seqs[entry.index], **_event_columns(entry.event),
            "corrected_by": None if entry.corrected_by is None else seqs[entry.corrected_by],
            "correction_reason": entry.reason,
        }
    for s in reading.segments:
        yield "segments", {
            **key, "number": s.number, "start": _utc(s.start), "end": _utc(s.end),
            "rate_ml_per_h": _exact(s.rate_ml_per_h), "volume_ml": _exact(s.volume_ml),
            "dose_mg": _exact(s.dose_mg), "started_by": s.started_by, "ended_by": s.ended_by,
        }
    for r in reading.reactions:
        yield "reactions", {
            **key, "seq": seqs[r.index], "at": _utc(r.onset), "symptoms": list(r.symptoms),
            "grade": r.grade, "term": r.term, "severe": r.severe, "after_infusion": r.after_infusion,
            "pump_after": r.pump_after,
        }
    yield "days", {
        **key, "ending": reading.ending.value,
        "infusion_started_at": _utc(reading.infusion_started_at),
        "infusion_ended_at": _utc(reading.infusion_ended_at),
        "prepared_volume_ml": _exact(reading.prepared_volume_ml),
        "prepared_dose_mg": _exact(reading.prepared_dose_mg),
        "volume_ml": _exact(sum((s.volume_ml for s in reading.segments), Decimal(0))),
        "dose_mg": _exact(sum((s.dose_mg for s in reading.segments), Decimal(0))),
        "withdrawn_entries": len(reading.withdrawn),
    }


def _event_columns(event: ClinicalEvent) -> dict[str, Any]:
    values = event.__dict__
    dose = values.get("dose")
    row: dict[str, Any] = {
        "type": event.type,
        "at": event.at.astimezone(UTC),
        "rate_ml_per_h": to_float(values.get("rate_ml_per_h")),
        "symptoms": None if values.get("symptoms") is None else list(values["symptoms"]),
        "name": values.get("name"),
        "dose_value": None if dose is None else float(dose.value),
        "dose_unit": None if dose is None else str(dose.unit),
        "route": values.get("route"),
        "reason": values.get("reason"),
        "volume_ml": to_float(values.get("volume_ml")),
    }
    if event.type == "solution_prepared":
        row["dose_value"], row["dose_unit"] = to_float(values.get("dose_mg")), "mg"
    for vital in VITALS:
        row[vital] = to_float(values.get(vital))
    return row
