"""The plan's JSON contract (docs/plan-json.md): to and from plain JSON-ready dicts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from infusionist.domain.activities import Activity, RateSpan
from infusionist.domain.planning import CoursePlan, Patient, PlannedDay
from infusionist.domain.units import Quantity, json_number

PLAN_JSON_VERSION = 1


def plan_to_json(plan: CoursePlan) -> dict[str, Any]:
    return {
        "format": PLAN_JSON_VERSION,
        "protocol": {"id": plan.protocol_id, "version": plan.protocol_version,
                     "digest": plan.protocol_digest},
        "centre": plan.centre_id,
        "course": plan.course,
        "timezone": plan.timezone,
        "patient": _patient(plan.patient),
        "options": dict(plan.options),
        "warnings": list(plan.warnings),
        "days": [day_to_json(day) for day in plan.days],
        "activities": [_activity(a) for a in plan.activities],
    }


def plan_from_json(data: dict[str, Any]) -> CoursePlan:
    """Rebuild a plan from its JSON (as printed by ``infusionist plan --format json``)."""
    return CoursePlan(
        protocol_id=data["protocol"]["id"],
        protocol_version=data["protocol"]["version"],
        protocol_digest=data["protocol"].get("digest"),
        centre_id=data.get("centre", "default"),
        course=data["course"],
        timezone=data["timezone"],
        patient=Patient.model_validate(data["patient"]),
        options=data.get("options", {}),
        days=tuple(PlannedDay.model_validate(_with_instants(day, _DAY_INSTANTS)) for day in data["days"]),
        activities=tuple(_activity_from(a) for a in data["activities"]),
        warnings=tuple(data.get("warnings", ())),
    )


def _patient(patient: Patient) -> dict[str, Any]:
    return {
        "id": patient.id,
        "sex": patient.sex,
        "childbearing_potential": patient.childbearing_potential,
        "weight_kg": _number(patient.weight_kg),
    } | ({} if patient.prior_serious_reaction is None
         else {"prior_serious_reaction": patient.prior_serious_reaction})


def day_to_json(day: PlannedDay) -> dict[str, Any]:
    return {
        "day": day.day,
        "date": day.date.isoformat(),
        "chair_start": day.chair_start.isoformat(),
        "infusion_start": day.infusion_start.isoformat(),
        "infusion_end": day.infusion_end.isoformat(),
        "flush_end": day.flush_end.isoformat(),
        "observation_end": day.observation_end.isoformat(),
        "chair_minutes": day.chair_minutes,
    }


def _activity(a: Activity) -> dict[str, Any]:
    out = _activity_fields(a)
    if a.rate_steps:
        out["rate_steps"] = [
            {"start": s.start.isoformat(), "end": s.end.isoformat(),
             "rate_ml_per_h": _number(s.rate_ml_per_h), "volume_ml": _number(s.volume_ml)}
            for s in a.rate_steps
        ]
    return out


def _activity_fields(a: Activity) -> dict[str, Any]:
    return {
        "id": a.id,
        "element": a.element,
        "day": a.day,
        "kind": a.kind.value,
        "name": a.name,
        "start": a.start.isoformat(),
        "end": a.end.isoformat() if a.end else None,
        "all_day": a.all_day,
        "dose": _quantity(a.dose),
        "dose_display": a.dose_display,
        "route": a.route,
        "volume_ml": _number(a.volume_ml),
        "rate_ml_per_h": _number(a.rate_ml_per_h),
        "requirements": list(a.requirements),
        "advisories": list(a.advisories),
        "text": a.text,
    }


def _activity_from(data: dict[str, Any]) -> Activity:
    fields = _with_instants({k: v for k, v in data.items() if k in Activity.model_fields},
                            _ACTIVITY_INSTANTS)
    for key in ("volume_ml", "rate_ml_per_h"):
        if fields.get(key) is not None:
            fields[key] = Decimal(str(fields[key]))
    fields["rate_steps"] = tuple(
        RateSpan(start=parse_instant(s["start"]), end=parse_instant(s["end"]),
                 rate_ml_per_h=Decimal(str(s["rate_ml_per_h"])),
                 volume_ml=Decimal(str(s["volume_ml"])))
        for s in data.get("rate_steps", ())
    )
    return Activity.model_validate(fields)


# Instants are parsed here, not by pydantic: a historical zone offset can have seconds
# (Africa/Monrovia -00:44:30 until 1972, local mean time before the 1890s), which ISO 8601 and
# ``datetime.isoformat`` write as ``-00:44:30`` but pydantic's parser refuses. A stored plan must
# always read back.
_DAY_INSTANTS = ("chair_start", "infusion_start", "infusion_end", "flush_end", "observation_end")
_ACTIVITY_INSTANTS = ("start", "end")


def _with_instants(data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: parse_instant(v) if k in keys and isinstance(v, str) else v for k, v in data.items()}


def _quantity(q: Quantity | None) -> dict[str, Any] | None:
    return None if q is None else {"value": json_number(q.value), "unit": q.unit}


def _number(value: Decimal | None) -> int | float | None:
    return None if value is None else json_number(value)


def parse_instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return moment


def parse_date(text: str) -> date:
    return date.fromisoformat(text)
