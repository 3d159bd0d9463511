"""Use cases of the infusion day: append an event at an expected sequence number; replay it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from infusionist.domain.access import (
    Permission,
    redact_free_text,
    redact_signature,
    require,
    require_recording,
    sees_identity,
    strip_free_text,
)
from infusionist.domain.day_events import Correction, DayEvent, PhysicianDecision
from infusionist.domain.day_reading import DayReading
from infusionist.domain.day_state_json import state_to_json
from infusionist.domain.errors import Conflict, NotFound, ValidationFailed
from infusionist.domain.infusion_day import DayState
from infusionist.domain.planning import CoursePlan
from infusionist.domain.records import Context, CourseRecord, StoredEvent
from infusionist.services import audit
from infusionist.services.auth import reauthenticate
from infusionist.services.course_store import known_course, parsed_plan
from infusionist.services.deps import Deps
from infusionist.services.ports import UnitOfWork

# Event types that are a physician's electronic signature (21 CFR 11.50): the password again.
# Any other entry may be signed too (a correction that lifts a restriction must be).
SIGNED_EVENT_TYPES = frozenset({"physician_override", "physician_decision"})


@dataclass(frozen=True)
class Signature:
    password: str
    meaning: str


@dataclass(frozen=True)
class AppendEvent:
    course_id: int
    day: int
    expected_seq: int
    payload: Mapping[str, Any]  # the event as the client sent it (JSON)
    signature: Signature | None = None


class EventView(BaseModel):
    """A stored event as its reader may see it (free text redacted for investigators)."""

    model_config = ConfigDict(frozen=True)

    course_id: int
    day: int
    seq: int
    type: str
    recorded_at: str
    recorded_by: str
    payload: dict[str, Any]
    signature: dict[str, str] | None = None

    def as_json(self) -> dict[str, Any]:
        return self.model_dump()


@dataclass(frozen=True)
class DayView:
    """The day's one reading now (its state included), the number of events it holds, and whether
    its reader sees free text."""

    reading: DayReading
    seq: int
    identity: bool

    @property
    def state(self) -> DayState:
        return self.reading.state

    @property
    def next_seq(self) -> int:
        return self.seq + 1

    def as_json(self) -> dict[str, Any]:
        """The state's JSON contract (docs/day-events.md) with ``seq`` and ``next_seq``; without
        free text for a reader who sees no identity."""
        shown = {**state_to_json(self.state), "seq": self.seq, "next_seq": self.next_seq}
        return shown if self.identity else strip_free_text(shown)


def needs_signature(event_type: str) -> bool:
    return event_type in SIGNED_EVENT_TYPES or event_type.endswith("_override")


def append_event(deps: Deps, ctx: Context, command: AppendEvent) -> EventView:
    """Record one event if nobody wrote since the client read (``expected_seq``), else 409."""
    require_recording(ctx.actor.role, str(command.payload.get("type", "")))
    # The server knows who is recording: the author is the logged-in user (or the device), never
    # what was sent.
    _refuse_claimed_signature(command.payload)
    payload = {**command.payload, "by": ctx.actor.username}
    event = deps.rules.parse(payload)
    require_recording(ctx.actor.role, event.type)
    _check_correction(event)
    signed = needs_signature(event.type) or command.signature is not None
    signature = _sign(deps, ctx, command.signature) if signed else None
    with deps.uow(write=True) as uow:
        course, plan = _known_course_day(deps, uow, command.course_id, command.day)
        latest = uow.events.last(course.id, command.day)
        last = latest.seq if latest is not None else 0
        if command.expected_seq != last + 1:
            raise Conflict(
                "EVENT-SEQ-STALE",
                f"expected_seq: the day has {last} event(s), so the next is {last + 1}, "
                f"not {command.expected_seq}; reload and try again.",
                details={"expected_seq": f"stale, next is {last + 1}"},
            )
        stored = _checked_append(uow, deps, ctx, course, plan, command.day, latest, payload, event,
                                 signature)
        uow.commit()
    return event_view(stored, ctx)


def append_in_transaction(
    uow: UnitOfWork, deps: Deps, ctx: Context, course: CourseRecord, day: int, sent: Mapping[str, Any]
) -> StoredEvent:
    """Append an unsigned event as the next of the day in the caller's transaction (no commit).

    The same parsing, guards and audit row as :func:`append_event`; for devices (HL7), whose
    messages carry no sequence number and whose events commit together with the message status.
    """
    require_recording(ctx.actor.role, str(sent.get("type", "")))
    _refuse_claimed_signature(sent)
    payload = {**sent, "by": ctx.actor.username}
    event = deps.rules.parse(payload)
    require_recording(ctx.actor.role, event.type)
    _check_correction(event)
    if needs_signature(event.type):
        raise ValidationFailed("INPUT-SIGNATURE-REQUIRED",
                               f"{event.type}: needs a person's signature; a device cannot record it.")
    plan = _plan_day(course, day)
    return _checked_append(uow, deps, ctx, course, plan, day, uow.events.last(course.id, day), payload,
                           event, None)


def _checked_append(uow: UnitOfWork, deps: Deps, ctx: Context, course: CourseRecord, plan: CoursePlan,
                    day: int, latest: StoredEvent | None, payload: dict[str, Any], event: DayEvent,
                    signature: dict[str, str] | None) -> StoredEvent:
    """Guard ``event`` (sent as ``payload``) as the event after ``latest`` (None: the day's first),
    then store it."""
    now = deps.clock.now()
    candidate = StoredEvent(
        course_id=course.id, day=day, seq=(latest.seq if latest is not None else 0) + 1,
        type=event.type, recorded_at=now, recorded_by=ctx.actor.username, payload=payload,
        signature=signature,
    )
    if _course_wide(event):  # what the course's other days decide (positive test, dates)
        others = {d.day: uow.events.for_day(course.id, d.day) for d in plan.days if d.day != day}
        deps.rules.check_course(plan, day, candidate, others)
    deps.rules.check_append(
        plan, day, candidate, prior_count=candidate.seq - 1, prior_last=latest,
        load_prior=lambda: uow.events.for_day(course.id, day), now=now,
    )
    stored = uow.events.add(candidate)
    audit.record_for(uow, deps, ctx, "event.append", "day_event", f"{course.id}/{day}/{stored.seq}",
                     new={"payload": payload, "signature": signature}, reason=_reason(event))
    return stored


def list_events(deps: Deps, ctx: Context, course_id: int, day: int) -> list[EventView]:
    require(ctx.actor.role, Permission.READ_PSEUDONYMISED)
    with deps.uow() as uow:
        _known_course_day(deps, uow, course_id, day)
        return [event_view(e, ctx) for e in uow.events.for_day(course_id, day)]


def day_state(deps: Deps, ctx: Context, course_id: int, day: int) -> DayView:
    """The day now, read once (``domain/day_reading.py``): its state for the page and the API, its
    reading for the chart."""
    require(ctx.actor.role, Permission.READ_PSEUDONYMISED)
    with deps.uow() as uow:
        _course, plan = _known_course_day(deps, uow, course_id, day)
        events = uow.events.for_day(course_id, day)
    reading = deps.rules.read(plan, day, events, deps.clock.now())
    return DayView(reading, len(events), sees_identity(ctx.actor.role))


def event_view(event: StoredEvent, ctx: Context) -> EventView:
    identity = sees_identity(ctx.actor.role)
    payload = event.payload if identity else redact_free_text(event.payload)
    signature = event.signature
    if signature is not None and not identity:
        signature = redact_signature(signature)
    return EventView(course_id=event.course_id, day=event.day, seq=event.seq, type=event.type,
                     recorded_at=event.recorded_at.isoformat(), recorded_by=event.recorded_by,
                     payload=payload, signature=signature)


def _known_course_day(
    deps: Deps, uow: UnitOfWork, course_id: int, day: int
) -> tuple[CourseRecord, CoursePlan]:
    course, plan = known_course(deps, uow, course_id)
    _check_day(course, plan, day)
    return course, plan


def _plan_day(course: CourseRecord, day: int) -> CoursePlan:
    plan = parsed_plan(course)
    _check_day(course, plan, day)
    return plan


def _check_day(course: CourseRecord, plan: CoursePlan, day: int) -> None:
    if day not in {d.day for d in plan.days}:
        raise NotFound("DAY-NOT-FOUND", f"day: course {course.id} has no infusion day {day}.",
                       details={"day": f"not an infusion day (1..{len(plan.days)})"})


def _sign(deps: Deps, ctx: Context, signature: Signature | None) -> dict[str, str]:
    require(ctx.actor.role, Permission.SIGN)
    if signature is None or not signature.meaning.strip():
        raise ValidationFailed("INPUT-SIGNATURE-REQUIRED",
                               "signature: this entry needs your password again and its meaning.",
                               details={"signature": "required"})
    user = reauthenticate(deps, ctx, signature.password)
    return {"printed_name": user.full_name, "username": user.username,
            "signed_at": deps.clock.now().isoformat(), "meaning": signature.meaning.strip()}


def _course_wide(event: DayEvent) -> bool:
    """Entries that the course's other days can refuse: a start, a reschedule."""
    rescheduled = isinstance(event, PhysicianDecision) and event.decision == "reschedule"
    return event.type == "infusion_started" or rescheduled


def _refuse_claimed_signature(payload: Mapping[str, Any]) -> None:
    replacement = payload.get("replacement")
    if "signed_by" in payload or (isinstance(replacement, dict) and "signed_by" in replacement):
        raise ValidationFailed("INPUT-SIGNED-BY",
                               "An entry is signed with the physician's password, not by naming a signer.",
                               details={"signed_by": "set by the server from the signature"})


def _check_correction(event: DayEvent) -> None:
    if isinstance(event, Correction) and not event.reason.strip():
        raise ValidationFailed("INPUT-REASON-REQUIRED", "reason: a correction needs a reason.",
                               details={"reason": "required for a correction"})


def _reason(event: DayEvent) -> str | None:
    reason = getattr(event, "reason", None)
    return str(reason) if reason is not None else None
