"""Presentation of one infusion day: the plan's checklist, action buttons, the event log."""

from __future__ import annotations

from typing import Any

from infusionist.domain.day_guards import ACTION_WORDS
from infusionist.domain.errors import InfusionistError
from infusionist.domain.protocol import Protocol

CHECKLIST_KINDS = ("test", "procedure", "premedication")
PHASE_WORDS = {
    "planned": "Planned", "ready": "Ready to start", "running": "Running", "paused": "Paused",
    "flushing": "Flushing", "observing": "Observation", "stopped_for_day": "Stopped for the day",
    "discharged": "Discharged", "infusion_ended": "Ended early", "transferred": "Transferred",
}
NEXT_STEPS = (
    ("infusion_started", "Record the checklist items, then start the infusion."),
    ("resumed", "Work through the reaction checklist; restart at the reduced rate when symptoms resolve."),
    ("flush_started", "Infusion running: check vital signs when due; start the flush when the bag is empty."),
    ("flush_completed", "Flushing: record the end of the flush."),
    ("discharged", "Observation: discharge when the countdown ends, with the instructions below."),
)
EVENT_EVENT_FOR_ACTION = {
    "infusion_paused": "paused", "physician_informed": "physician_informed",
    "emergency_called": "emergency_called", "infusion_stopped": "infusion_stopped",
    "medication_given": "medication_given", "procedure_done": "procedure_done",
}


def _same(a: str, b: str) -> bool:
    return a.strip().lower() == b.strip().lower()


def _names(payload: dict[str, Any], activity: dict[str, Any]) -> bool:
    name = payload.get("name")
    return bool(name) and (_same(str(name), activity["name"]) or _same(str(name), activity["element"]))


def checklist(plan: dict[str, Any], day: int, stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The day's tests, procedures and premedications, each with the event that recorded it."""
    items = []
    for activity in plan["activities"]:
        if activity["day"] != day or activity["kind"] not in CHECKLIST_KINDS:
            continue
        done = next((e for e in stored if _names(e["payload"], activity)), None)
        items.append({**activity, "done": done,
                      "event": {"test": "test_result", "procedure": "procedure_done"}.get(
                          activity["kind"], "premedication_given")})
    return items


def infusion(plan: dict[str, Any], day: int) -> dict[str, Any] | None:
    """The day's planned infusion (drug, dose, volume) from the plan."""
    return next((a for a in plan["activities"] if a["day"] == day and a["kind"] == "infusion"), None)


def symptoms(protocol: Protocol) -> list[dict[str, str]]:
    rules = protocol.reactions
    return [] if rules is None else [{"id": s.id, "label": s.label, "category": s.category}
                                     for s in rules.symptoms]


def action_buttons(protocol: Protocol, state: dict[str, Any]) -> list[dict[str, Any]]:
    """The latest reaction's recommended actions, each with the event that records it."""
    rules = protocol.reactions
    by_code = {a.code: a for a in rules.actions} if rules is not None else {}
    out = []
    for action in state.get("recommended_actions", []):
        spec = by_code.get(action["code"])
        medicine = spec.medicine if spec is not None else None
        fields: dict[str, Any] = {}
        if medicine is not None:
            fields["name"] = medicine.name
            if medicine.dose is not None:
                fields["dose_value"] = str(medicine.dose.value)
                fields["dose_unit"] = medicine.dose.unit
            if medicine.route is not None:
                fields["route"] = medicine.route
        if action["done_by"] == "procedure_done":
            fields["name"] = "neurological examination"
        out.append({**action, "event": EVENT_EVENT_FOR_ACTION.get(action["done_by"]), "fields": fields})
    return out


def instructions(plan: dict[str, Any], day: int) -> list[dict[str, Any]]:
    """What the patient takes home: the plan's instructions up to today, once each."""
    seen: dict[str, dict[str, Any]] = {}
    for activity in plan["activities"]:
        if activity["kind"] == "instruction" and activity["day"] is not None and activity["day"] <= day:
            seen.setdefault(activity["element"], activity)
    for activity in plan["activities"]:
        if activity["kind"] == "instruction" and activity["day"] is None:
            seen.setdefault(activity["element"], activity)
    return list(seen.values())


def next_step(state: dict[str, Any]) -> str:
    allowed = state["allowed_actions"]
    if state["phase"] == "discharged":
        return "The patient has gone home. Delayed reactions can still be recorded for 24 hours."
    if state["phase"] == "transferred":
        return "The patient was transferred to a higher level of care; the day ends here."
    if state["phase"] == "infusion_ended":
        return "The infusion ended early: start the flush, or stop for the day."
    if state["phase"] == "paused" and state["reactions"] and state["reactions"][-1]["grade"] is None:
        return "Reaction: tick the symptoms, then answer the grading questions."
    return next((text for event, text in NEXT_STEPS if event in allowed), "Record what happens.")


def event_log(stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each event with the corrections that name it (the original stays, struck through)."""
    corrected: dict[int, list[dict[str, Any]]] = {}
    for event in stored:
        if event["type"] == "correction":
            target = event["payload"].get("corrects")
            if isinstance(target, int):
                corrected.setdefault(target, []).append(event)
    return [{**event, "index": i, "corrections": corrected.get(i, [])} for i, event in enumerate(stored)]


# How a recorded value reads in the day's record: "{}" is the value
READS_AS = {
    "temperature_c": "{} °C", "heart_rate_bpm": "heart rate {}/min",
    "respiratory_rate_per_min": "respiration {}/min", "spo2_percent": "SpO2 {} %",
    "rate_ml_per_h": "{} mL/h", "volume_ml": "{} mL", "dose_mg": "{} mg",
}


def describe(payload: dict[str, Any]) -> str:
    """An entry's details as a nurse writes them: "36.8 °C; heart rate 76/min; BP 124/78 mmHg"."""
    skip = {"type", "at", "by", "id", "replacement", "corrects", "diastolic_mmhg", "signed_by"}
    parts = []
    for key, value in payload.items():
        if key in skip:
            continue
        if key == "systolic_mmhg":
            parts.append(f"BP {value}/{payload.get('diastolic_mmhg', '?')} mmHg")
            continue
        if isinstance(value, dict) and "value" in value:
            value = f"{value['value']} {value['unit']}"
        elif isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, bool) or value is None:
            value = {True: "yes", False: "no", None: "not known"}[value]
        if key in READS_AS:
            parts.append(READS_AS[key].format(value))
        elif key in ("name", "dose", "route"):
            parts.append(str(value))
        else:
            parts.append(f"{key.replace('_', ' ')}: {value}")
    return "; ".join(parts)


def error_text(error: InfusionistError) -> str:
    extra = [v for k, v in error.details.items()
             if v not in error.message and k != "role" and not k.startswith("event") and k != "corrects"]
    return error.message + (" " + " ".join(extra) if extra and len(extra) < 6 else "")


def done_text(payload: dict[str, Any]) -> str:
    return f"Recorded: {ACTION_WORDS.get(payload['type'], payload['type'].replace('_', ' '))}."
