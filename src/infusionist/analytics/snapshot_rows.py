"""The rows of the analytics snapshot: each table's columns and ``flatten`` (a stored day event ->
one typed row). Shared by the snapshot writers (``snapshot.py``) and the bulk generator
(``synth_bulk.py``), so neither imports the other for it.
"""

from __future__ import annotations

from datetime import UTC, datetime
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
    ("volume_ml", "float64"),  # solution_prepared: the volume actually prepared (C-11)
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


def to_float(value: Any) -> float | None:
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
        "rate_ml_per_h": to_float(payload.get("rate_ml_per_h")),
        "symptoms": payload.get("symptoms"),
        "grade": None,
        "term": None,
        "name": payload.get("name"),
        "dose_value": None,
        "dose_unit": None,
        "route": payload.get("route"),
        "reason": payload.get("reason"),
        "volume_ml": to_float(payload.get("volume_ml")),
    }
    dose = payload.get("dose")
    if isinstance(dose, dict):
        row["dose_value"], row["dose_unit"] = to_float(dose.get("value")), dose.get("unit")
    elif kind == "solution_prepared":
        row["dose_value"], row["dose_unit"] = to_float(payload.get("dose_mg")), "mg"
    for vital in VITALS:
        row[vital] = to_float(payload.get(vital))
    if kind == "reaction_assessed":
        assert protocol.reactions is not None, "grading needs the protocol's reaction rules"
        grading = grade_reaction(ReactionAssessed.model_validate(payload), protocol.reactions)
        row["grade"], row["term"] = grading.grade, grading.term
    return row
