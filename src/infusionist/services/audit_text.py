"""The audit trail in sentences people read: "Vital signs recorded: 36.8 °C, 76/min, 124/78 mmHg".

Pure functions over the stored rows (no I/O): ``summary`` is what happened, with the clinical
values only when ``clinical`` is true (the admin role reads the trail without them, as
docs/security.md says); ``change`` is a correction or edit as "old -> new".
"""

from __future__ import annotations

from typing import Any

EVENT_WORDS = {
    "vital_signs": "Vital signs recorded", "infusion_started": "Infusion started",
    "paused": "Infusion paused", "resumed": "Infusion resumed", "infusion_stopped": "Infusion stopped",
    "flush_started": "Flush started", "flush_completed": "Flush complete",
    "premedication_given": "Premedication given", "procedure_done": "Procedure done",
    "solution_prepared": "Solution prepared", "reaction_onset": "Reaction began",
    "reaction_assessed": "Reaction assessed", "physician_informed": "Physician informed",
    "observation_completed": "Observation complete", "discharged": "Discharged",
    "discharge_item_done": "Discharge checklist point gone through",
    "correction": "Correction", "physician_override": "Physician's override",
}
ACTION_WORDS = {
    "patient.create": "Patient registered", "patient.edit": "Patient's details changed",
    "course.create": "Course planned", "lab_result.record": "Laboratory result recorded",
    "task.close": "Follow-up task closed", "task.answer_call": "Delayed-reaction call answered",
    "user.create": "User added", "user.deactivate": "User deactivated",
    "user.reactivate": "User reactivated", "user.role": "User's role changed",
    "user.password": "User's password set", "session.login": "Logged in",
    "session.logout": "Logged out", "token.create": "Device token issued",
    "centre.configure": "Centre settings saved", "device.configure": "Monitor placed",
    "device.retire": "Monitor retired", "event.append": "Entry recorded",
}
ACTIONS = tuple(ACTION_WORDS)


def values(payload: dict[str, Any]) -> str:
    """An entry's values as a nurse writes them: "36.8 °C, 76/min, 124/78 mmHg, SpO2 98 %"."""
    parts: list[str] = []
    p = payload
    if p.get("temperature_c") is not None:
        parts.append(f"{p['temperature_c']} °C")
    if p.get("heart_rate_bpm") is not None:
        parts.append(f"{p['heart_rate_bpm']}/min")
    if p.get("systolic_mmhg") is not None:
        parts.append(f"{p['systolic_mmhg']}/{p.get('diastolic_mmhg', '?')} mmHg")
    if p.get("respiratory_rate_per_min") is not None:
        parts.append(f"respiration {p['respiratory_rate_per_min']}/min")
    if p.get("spo2_percent") is not None:
        parts.append(f"SpO2 {p['spo2_percent']} %")
    if p.get("name"):
        parts.append(str(p["name"]))
    if p.get("item"):
        parts.append(str(p["item"]).replace("-", " "))
    dose = p.get("dose")
    if isinstance(dose, dict):
        parts.append(f"{dose.get('value')} {dose.get('unit')}")
    if p.get("route"):
        parts.append(str(p["route"]))
    for key, unit in (("rate_ml_per_h", "mL/h"), ("volume_ml", "mL"), ("dose_mg", "mg")):
        if p.get(key) is not None:
            parts.append(f"{p[key]} {unit}")
    if p.get("symptoms"):
        parts.append(", ".join(str(s).replace("_", " ") for s in p["symptoms"]))
    if p.get("grade") is not None:
        parts.append(f"grade {p['grade']}")
    return ", ".join(parts)


def event_title(payload: dict[str, Any]) -> str:
    kind = str(payload.get("type", ""))
    return EVENT_WORDS.get(kind, kind.replace("_", " ").capitalize())


def summary(action: str, new: Any, *, clinical: bool) -> str:
    """What the row records, in one sentence (values only for roles that read clinical data)."""
    new = new if isinstance(new, dict) else {}
    if action == "event.append" and isinstance(new.get("payload"), dict):
        payload = new["payload"]
        title = event_title(payload)
        if payload.get("type") == "correction":
            return title
        shown = values(payload) if clinical else ""
        return f"{title}: {shown}" if shown else title
    title = ACTION_WORDS.get(action, action)
    if action == "course.create" and clinical:
        version = new.get("centre_version")
        return (f"{title}: course {new.get('course')} from {new.get('first_day')}"
                + (f", centre settings version {version}" if version else ""))
    if action == "patient.create" and clinical:
        return f"{title}: {new.get('name')} ({new.get('pseudonym')})"
    if action == "lab_result.record" and clinical and new.get("analyte"):
        return f"{title}: {new['analyte']} {new.get('value')} {new.get('unit')}"
    if action.startswith("user.") and new.get("username"):
        extra = f" ({new['role']})" if action in ("user.create", "user.role") and new.get("role") else ""
        return f"{title}: {new['username']}{extra}"
    if action == "centre.configure" and new.get("version"):
        signed = f", signed by {new['signed_by']}" if new.get("signed_by") else ""
        return f"{title} as version {new['version']}{signed}"
    if action.startswith("device."):
        place = f" at {new['place']}" if new.get("place") else ""
        return f"{title}{place}"
    if action == "task.close" and new.get("status"):
        return f"{title}: {new['status']}"
    return title


def change(action: str, old: Any, new: Any, original: dict[str, Any] | None, *,
           clinical: bool) -> str:
    """A correction or an edit as "old -> new" (empty when the row changes nothing earlier)."""
    if not clinical:
        return ""
    if action == "event.append" and isinstance(new, dict) and isinstance(new.get("payload"), dict):
        payload = new["payload"]
        if payload.get("type") != "correction":
            return ""
        before = values(original) if original is not None else "the earlier entry"
        replacement = payload.get("replacement")
        after = values(replacement) if isinstance(replacement, dict) else "struck out"
        what = event_title(original) if original is not None else "Entry"
        return f"{what}: {before or 'no values'} → {after or 'no values'}"
    if action == "patient.edit" and isinstance(old, dict) and isinstance(new, dict):
        return "; ".join(f"{k.replace('_', ' ')}: {old.get(k) or '—'} → {new.get(k) or '—'}"
                         for k in sorted(new))
    return ""
