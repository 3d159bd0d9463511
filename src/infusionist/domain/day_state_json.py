"""The day state's JSON contract (``docs/day-events.md``): plain JSON-ready dicts."""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from infusionist.domain.infusion_day import DayState
from infusionist.domain.reactions import Reaction, RecommendedAction
from infusionist.domain.units import json_number
from infusionist.domain.vitals import Alert

DAY_STATE_JSON_VERSION = 1


def state_to_json(state: DayState) -> dict[str, Any]:
    """Every instant is written with the offset the centre's zone has at that instant (issue 12
    item 11), so a time shows as the unit's clocks showed it, also across a daylight-saving change."""
    zone = state.zone

    def _instant(moment: datetime | None) -> str | None:
        return _in_zone(moment, zone)

    return {
        "format": DAY_STATE_JSON_VERSION,
        "day": state.day,
        "day_date": state.day_date.isoformat(),
        "at": _instant(state.at),
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
        "earliest_start": _instant(state.earliest_start),
        "dose_complete": state.dose_complete,
        "transferred_at": _instant(state.transferred_at),
        "alerts": [_alert(a) for a in state.alerts],
        "reactions": [_reaction(r, zone) for r in state.reactions],
        "recommended_actions": [_action(a, zone) for a in state.recommended_actions],
        "suggested_resume_rate_ml_per_h": _number(state.suggested_resume_rate_ml_per_h),
        "rate_step_due_ml_per_h": _number(state.rate_step_due_ml_per_h),
        "next_rate_step_at": _instant(state.next_rate_step_at),
        "allowed_actions": list(state.allowed_actions),
        "events_applied": state.events_applied,
    }


def _alert(alert: Alert) -> dict[str, Any]:
    return {"code": alert.code, "severity": alert.severity, "message": alert.message,
            "requirements": list(alert.requirements), "grade": alert.grade}


def _reaction(reaction: Reaction, zone: tzinfo) -> dict[str, Any]:
    grading = reaction.grading
    return {
        "onset": _in_zone(reaction.onset, zone),
        "symptoms": list(reaction.symptoms),
        "term": None if grading is None else grading.term,
        "grade": None if grading is None else grading.grade,
        "ctcae_version": None if grading is None else grading.ctcae_version,
        "severity": None if grading is None else grading.severity,
        "reason": None if grading is None else grading.reason,
        "after_infusion": reaction.after_infusion,
        "facts": [{"kind": f.kind, "at": _in_zone(f.at, zone), "text": f.text} for f in reaction.facts],
    }


def _action(action: RecommendedAction, zone: tzinfo) -> dict[str, Any]:
    return {
        "code": action.code,
        "text": action.text,
        "done": action.done,
        "done_by": action.done_by,
        "done_at": _in_zone(action.done_at, zone),
        "requirements": list(action.requirements),
    }


def _in_zone(moment: datetime | None, zone: tzinfo) -> str | None:
    return None if moment is None else moment.astimezone(zone).isoformat()


def _number(value: Decimal | None) -> int | float | None:
    return None if value is None else json_number(value)
