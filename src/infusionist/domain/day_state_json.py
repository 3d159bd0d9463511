"""The day state's JSON contract (``docs/day-events.md``): plain JSON-ready dicts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from infusionist.domain.infusion_day import DayState
from infusionist.domain.reactions import Reaction, RecommendedAction
from infusionist.domain.units import json_number
from infusionist.domain.vitals import Alert

DAY_STATE_JSON_VERSION = 1


def state_to_json(state: DayState) -> dict[str, Any]:
    return {
        "format": DAY_STATE_JSON_VERSION,
        "day": state.day,
        "at": state.at.isoformat(),
        "phase": state.phase.value,
        "rate_ml_per_h": _number(state.rate_ml_per_h),
        "max_rate_ml_per_h": _number(state.max_rate_ml_per_h),
        "prepared_volume_ml": _number(state.prepared_volume_ml),
        "volume_infused_ml": _number(state.volume_infused_ml),
        "dose_delivered_mg": _number(state.dose_delivered_mg),
        "remaining_ml": _number(state.remaining_ml),
        "infusion_started_at": _instant(state.infusion_started_at),
        "infusion_ended_at": _instant(state.infusion_ended_at),
        "projected_infusion_end": _instant(state.projected_infusion_end),
        "projected_flush_end": _instant(state.projected_flush_end),
        "projected_observation_end": _instant(state.projected_observation_end),
        "solution_expires_at": _instant(state.solution_expires_at),
        "expiry_margin_min": state.expiry_margin_min,
        "next_vital_signs_due": _instant(state.next_vital_signs_due),
        "vital_signs_overdue": state.vital_signs_overdue,
        "alerts": [_alert(a) for a in state.alerts],
        "reactions": [_reaction(r) for r in state.reactions],
        "recommended_actions": [_action(a) for a in state.recommended_actions],
        "suggested_resume_rate_ml_per_h": _number(state.suggested_resume_rate_ml_per_h),
        "allowed_actions": list(state.allowed_actions),
        "events_applied": state.events_applied,
    }


def _alert(alert: Alert) -> dict[str, Any]:
    return {"code": alert.code, "severity": alert.severity, "message": alert.message,
            "requirements": list(alert.requirements)}


def _reaction(reaction: Reaction) -> dict[str, Any]:
    grading = reaction.grading
    return {
        "onset": reaction.onset.isoformat(),
        "symptoms": list(reaction.symptoms),
        "term": None if grading is None else grading.term,
        "grade": None if grading is None else grading.grade,
        "ctcae_version": None if grading is None else grading.ctcae_version,
        "severity": None if grading is None else grading.severity,
        "reason": None if grading is None else grading.reason,
        "after_infusion": reaction.after_infusion,
    }


def _action(action: RecommendedAction) -> dict[str, Any]:
    return {
        "code": action.code,
        "text": action.text,
        "done": action.done,
        "done_by": action.done_by,
        "done_at": _instant(action.done_at),
        "requirements": list(action.requirements),
    }


def _instant(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _number(value: Decimal | None) -> int | float | None:
    return None if value is None else json_number(value)
