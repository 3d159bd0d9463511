"""Presentation of one infusion day: the plan's checklist, action buttons, the event log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from infusionist.domain.activities import Activity
from infusionist.domain.day_events import DischargeItemDone
from infusionist.domain.day_guards import ACTION_WORDS, words
from infusionist.domain.day_reading import DayReading, EffectiveEvent
from infusionist.domain.discharge_items import discharge_items as domain_discharge_items
from infusionist.domain.discharge_items import is_last_day
from infusionist.domain.errors import InfusionistError
from infusionist.domain.infusion_day import DayState
from infusionist.domain.number_text import format_number
from infusionist.domain.planning import CoursePlan
from infusionist.domain.protocol import Protocol
from infusionist.domain.units import json_number
from infusionist.services.events import EventView

CHECKLIST_KINDS = ("test", "procedure", "premedication")
PHASE_WORDS = {
    "planned": "Planned", "ready": "Ready to start", "running": "Running", "paused": "Paused",
    "flushing": "Flushing", "observing": "Observation", "stopped_for_day": "Stopped for the day",
    "discharged": "Discharged", "infusion_ended": "Ended early", "transferred": "Transferred",
}
EVENT_EVENT_FOR_ACTION = {
    "infusion_paused": "paused", "physician_informed": "physician_informed",
    "emergency_called": "emergency_called", "infusion_stopped": "infusion_stopped",
    "medication_given": "medication_given", "procedure_done": "procedure_done",
}


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One stored entry of the day's record with the correction in force that names it (the
    domain's reading says which: ``DayReading.events``/``withdrawn``)."""

    index: int
    event: EventView
    corrections: tuple[EventView, ...] = ()

    @property
    def seq(self) -> int:
        return self.event.seq

    @property
    def type(self) -> str:
        return self.event.type

    @property
    def payload(self) -> dict[str, object]:
        return self.event.payload

    @property
    def recorded_by(self) -> str:
        return self.event.recorded_by

    @property
    def recorded_at(self) -> str:
        return self.event.recorded_at


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """A planned test, procedure or premedication of the day, with the entry in force that
    recorded it (None: not yet)."""

    name: str
    start: datetime
    event: str  # the event type that records it
    done: EventView | None
    dose: PlannedDose | None = None
    route: str | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class PlannedDose:
    value: str
    unit: str


@dataclass(frozen=True, slots=True)
class DischargeItem:
    id: str
    name: str
    text: str
    requirements: tuple[str, ...]
    done: EventView | None


@dataclass(frozen=True, slots=True)
class DischargeList:
    """Today's discharge checklist, split into what the patient is told and what the staff do."""

    patient: tuple[DischargeItem, ...]
    staff: tuple[DischargeItem, ...]


@dataclass(frozen=True, slots=True)
class ActionButton:
    """A recommended action of the latest reaction, with the event that records it and the
    fields that event is posted with."""

    code: str
    text: str
    done: bool
    done_by: str
    done_at: datetime | None
    requirements: tuple[str, ...]
    event: str | None
    fields: dict[str, str]


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refused form: which form, the sentence shown in it, and what the nurse typed."""

    form: str
    message: str
    values: dict[str, str]


@dataclass(frozen=True, slots=True)
class Symptom:
    id: str
    label: str
    category: str


def _same(a: str, b: str) -> bool:
    return a.strip().lower() == b.strip().lower()


def _recorded_by(entry: EffectiveEvent, stored: Sequence[EventView]) -> EventView | None:
    """The stored entry that put ``entry`` in force: its correction when corrected."""
    index = entry.index if entry.corrected_by is None else entry.corrected_by
    return stored[index] if index < len(stored) else None


def checklist(plan: CoursePlan, day: int, reading: DayReading,
              stored: Sequence[EventView]) -> list[ChecklistItem]:
    """The day's tests, procedures and premedications, each with the entry in force that recorded
    it (a withdrawn entry records nothing)."""
    items = []
    for activity in plan.activities:
        if activity.day != day or activity.kind not in CHECKLIST_KINDS:
            continue
        names = (activity.name, activity.element)
        done = next((e for e in reading.events
                     if _named(getattr(e.event, "name", None), names)), None)
        dose = activity.dose
        items.append(ChecklistItem(
            name=activity.name, start=activity.start,
            event={"test": "test_result", "procedure": "procedure_done"}.get(
                activity.kind.value, "premedication_given"),
            done=None if done is None else _recorded_by(done, stored),
            dose=None if dose is None else PlannedDose(str(json_number(dose.value)), str(dose.unit)),
            route=activity.route, text=activity.text))
    return items


def _named(name: object, names: tuple[str, ...]) -> bool:
    return isinstance(name, str) and bool(name) and any(_same(name, n) for n in names)


def infusion(plan: CoursePlan, day: int) -> Activity | None:
    """The day's planned infusion (drug, dose, volume) from the plan."""
    return next((a for a in plan.activities if a.day == day and a.kind == "infusion"), None)


def discharge_items(protocol: Protocol, plan: CoursePlan, day: int, reading: DayReading,
                    stored: Sequence[EventView]) -> DischargeList:
    """Today's discharge checklist (domain/discharge_items.py), split into what the patient is
    told and what the staff do, each with the entry that recorded it (the correction, if
    corrected; a withdrawn one records nothing), as the domain's reading holds them."""
    planned = plan.days[day - 1].date
    others = [d.date for d in plan.days if d.day != day]
    done: dict[str, EventView | None] = {}
    for entry in reading.events:
        if isinstance(entry.event, DischargeItemDone):
            done[entry.event.item] = _recorded_by(entry, stored)
    patient: list[DischargeItem] = []
    staff: list[DischargeItem] = []
    for item in domain_discharge_items(protocol, is_last_day(planned, others)):
        (patient if item.audience == "patient" else staff).append(DischargeItem(
            id=item.id, name=item.name, text=item.text, requirements=tuple(item.requirements),
            done=done.get(item.id)))
    return DischargeList(tuple(patient), tuple(staff))


def symptoms(protocol: Protocol) -> list[Symptom]:
    rules = protocol.reactions
    return [] if rules is None else [Symptom(s.id, s.label, s.category) for s in rules.symptoms]


def action_buttons(protocol: Protocol, state: DayState, *, identity: bool = True) -> list[ActionButton]:
    """The latest reaction's recommended actions, each with the event that records it (without
    their text for a reader who sees no free text, as the state's JSON shows them)."""
    rules = protocol.reactions
    by_code = {a.code: a for a in rules.actions} if rules is not None else {}
    out = []
    for action in state.recommended_actions:
        spec = by_code.get(action.code)
        medicine = spec.medicine if spec is not None else None
        fields: dict[str, str] = {}
        if medicine is not None:
            fields["name"] = medicine.name
            if medicine.dose is not None:
                fields["dose_value"] = str(medicine.dose.value)
                fields["dose_unit"] = medicine.dose.unit
            if medicine.route is not None:
                fields["route"] = medicine.route
        if action.done_by == "procedure_done":
            fields["name"] = "neurological examination"
        out.append(ActionButton(
            code=action.code, text=action.text if identity else "", done=action.done, done_by=action.done_by,
            done_at=action.done_at, requirements=tuple(action.requirements),
            event=EVENT_EVENT_FOR_ACTION.get(action.done_by), fields=fields))
    return out


def instructions(plan: CoursePlan, day: int) -> list[Activity]:
    """What the patient takes home: the plan's instructions up to today, once each."""
    seen: dict[str, Activity] = {}
    for activity in plan.activities:
        if activity.kind == "instruction" and activity.day is not None and activity.day <= day:
            seen.setdefault(activity.element, activity)
    for activity in plan.activities:
        if activity.kind == "instruction" and activity.day is None:
            seen.setdefault(activity.element, activity)
    return list(seen.values())


def extra_instructions(plan: CoursePlan, day: int, protocol: Protocol,
                       items: DischargeList) -> list[Activity]:
    """The patient's other instructions up to today (on the printed plan), not the staff's."""
    listed = {i.id for i in (*items.patient, *items.staff)}
    staff = {i.id for i in protocol.instructions if i.audience == "staff"}
    return [a for a in instructions(plan, day) if a.element not in listed | staff]


def _reaction_to_grade(state: DayState) -> bool:
    reactions = state.reactions
    return bool(reactions) and reactions[-1].grading is None and "reaction_assessed" in state.allowed_actions


def next_step(state: DayState) -> str:
    """What to do now, by phase (issue 15 item 4): nothing about observation or discharge before
    the infusion; after a stop, what remains to do."""
    phase, allowed = state.phase, state.allowed_actions
    if _reaction_to_grade(state):
        return "Reaction: tick the symptoms, then answer the grading questions."
    if phase == "stopped_for_day":
        if state.infusion_started_at is None:
            return ("Stopped before the infusion: let the patient go home with the discharge "
                    "checklist; a physician may give the day on another date.")
        return ("Stopped for the day: the patient stays for observation. Record vital signs, go "
                "through the discharge checklist, then discharge when observation ends.")
    if phase == "observing" and "observation_completed" not in allowed:
        return "Observation complete: finish the discharge checklist with the patient, then discharge."
    return NEXT_BY_PHASE.get(phase.value, "Record what happens.")


NEXT_BY_PHASE = {
    "planned": ("Before the infusion: record the tests, the premedications, the solution and the "
                "baseline vital signs."),
    "ready": "Ready: start the infusion (not before the earliest start shown at the Start button).",
    "running": "Infusion running: check vital signs when due; start the flush when the bag is empty.",
    "paused": ("Paused: work through the reaction checklist; restart at the reduced rate when the "
               "symptoms resolve, or stop for the day."),
    "infusion_ended": "The infusion ended early: start the flush, or stop for the day.",
    "flushing": "Flushing: record the end of the flush; observation starts then.",
    "observing": ("Observation: the patient stays until the countdown ends. Record vital signs "
                  "before discharge and go through the discharge checklist."),
    "discharged": "The patient has gone home. Delayed reactions can still be recorded for 24 hours.",
    "transferred": "The patient was transferred to a higher level of care; the day ends here.",
}


def landing(state: DayState) -> str:
    """The card a page opens at after an entry: the one that is relevant now."""
    if _reaction_to_grade(state):
        return "reaction"
    return {"planned": "checklist", "observing": "discharge", "stopped_for_day": "discharge",
            "discharged": "discharge", "transferred": "log"}.get(state.phase.value, "pump")


def stale_text(stored: Sequence[EventView], seen: int, zone: str) -> str:
    """Why a page from history (back button, a second tab) is not taken: what was recorded since
    it was opened, in words (no sequence numbers)."""
    since = []
    for event in stored[max(seen, 0):][-3:]:
        moment = datetime.fromisoformat(str(event.payload["at"])).astimezone(ZoneInfo(zone))
        since.append(f"{words(event.type)} at {moment:%H:%M} by {event.recorded_by}")
    what = "; ".join(since) or "an entry"
    return (f"Someone recorded something on this day since you opened it: {what}. Here is the "
            "current day; nothing of yours was saved. Check it, then enter yours again if it is "
            "still needed.")


# Entries that ask once more, with what will happen (issue 15 item 4); without script the box
# must be ticked (the browser asks for it; the server refuses without it).
CONFIRM = {
    "infusion_stopped": ("The infusion stops for today and is not restarted today; the patient "
                         "stays for observation."),
    "transferred": "The day ends here: nothing more is given today.",
    "discharged": "The patient goes home now; afterwards only a late reaction can be recorded.",
    "physician_decision": "My signed decision lifts this restriction of the day, in my name.",
    "correction": "The entry is struck through and replaced (or withdrawn); the original stays visible.",
}


def unconfirmed(kind: str, form: dict[str, str]) -> str | None:
    """The sentence a page shows when a dangerous entry was posted without its confirmation."""
    if kind in CONFIRM and form.get("confirm") != "yes":
        return f"Tick the box to confirm: {CONFIRM[kind]} Nothing was recorded."
    return None


def event_log(reading: DayReading, stored: Sequence[EventView]) -> list[LogEntry]:
    """Each stored entry with the correction in force that names it, as the domain's reading
    holds it (the original stays, struck through)."""
    by: dict[int, int] = {e.index: e.corrected_by for e in reading.events if e.corrected_by is not None}
    by |= {w.index: w.withdrawn_by for w in reading.withdrawn}
    return [LogEntry(i, event, tuple(stored[c] for c in (by.get(i),) if c is not None and c < len(stored)))
            for i, event in enumerate(stored)]


# How a recorded value reads in the day's record: "{}" is the value
READS_AS = {
    "temperature_c": "{} °C", "heart_rate_bpm": "heart rate {}/min",
    "respiratory_rate_per_min": "respiration {}/min", "spo2_percent": "SpO2 {} %",
    "rate_ml_per_h": "{} mL/h", "volume_ml": "{} mL", "dose_mg": "{} mg",
}


def describe(payload: dict[str, Any], locale: str = "en") -> str:
    """An entry's details as a nurse writes them: "36.8 °C; heart rate 76/min; BP 124/78 mmHg"
    ("36,8 °C" where the centre writes a decimal comma)."""
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
            parts.append(READS_AS[key].format(format_number(value, locale)))
        elif key in ("name", "dose", "route", "item"):
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
