"""Use cases of the infusion day: append an event at an expected sequence number; replay it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infusionist.domain.access import (
    Permission,
    redact_free_text,
    redact_signature,
    require,
    require_recording,
    sees_identity,
    strip_free_text,
)
from infusionist.domain.day_reading import DayReading
from infusionist.domain.errors import Conflict, NotFound, ValidationFailed
from infusionist.domain.planning import CoursePlan
from infusionist.domain.records import Context, CourseRecord, StoredEvent, signed_by
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
    payload: dict[str, Any]
    signature: Signature | None = None


def needs_signature(event_type: str) -> bool:
    return event_type in SIGNED_EVENT_TYPES or event_type.endswith("_override")


def append_event(deps: Deps, ctx: Context, command: AppendEvent) -> dict[str, Any]:
    """Record one event if nobody wrote since the client read (``expected_seq``), else 409."""
    require_recording(ctx.actor.role, str(command.payload.get("type", "")))
    # The server knows who is recording: the author is the logged-in user (or the device), never
    # what was sent.
    _refuse_claimed_signature(command.payload)
    payload = deps.rules.parse({**command.payload, "by": ctx.actor.username})
    event_type = str(payload.get("type", ""))
    require_recording(ctx.actor.role, event_type)
    _check_correction(payload)
    signed = needs_signature(event_type) or command.signature is not None
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
        stored = _checked_append(uow, deps, ctx, course, plan, command.day, latest, payload, signature)
        uow.commit()
    return event_view(stored, ctx)


def append_in_transaction(
    uow: UnitOfWork, deps: Deps, ctx: Context, course: CourseRecord, day: int, payload: dict[str, Any]
) -> StoredEvent:
    """Append an unsigned event as the next of the day in the caller's transaction (no commit).

    The same parsing, guards and audit row as :func:`append_event`; for devices (HL7), whose
    messages carry no sequence number and whose events commit together with the message status.
    """
    require_recording(ctx.actor.role, str(payload.get("type", "")))
    _refuse_claimed_signature(payload)
    payload = deps.rules.parse({**payload, "by": ctx.actor.username})
    event_type = str(payload.get("type", ""))
    require_recording(ctx.actor.role, event_type)
    _check_correction(payload)
    if needs_signature(event_type):
        raise ValidationFailed("INPUT-SIGNATURE-REQUIRED",
                               f"{event_type}: needs a person's signature; a device cannot record it.")
    plan = _plan_day(course, day)
    return _checked_append(uow, deps, ctx, course, plan, day, uow.events.last(course.id, day), payload, None)


def _checked_append(uow: UnitOfWork, deps: Deps, ctx: Context, course: CourseRecord, plan: CoursePlan,
                    day: int, latest: StoredEvent | None, payload: dict[str, Any],
                    signature: dict[str, str] | None) -> StoredEvent:
    """Guard ``payload`` as the event after ``latest`` (None: the day's first), then store it."""
    seq = (latest.seq if latest is not None else 0) + 1
    recorded = payload if signature is None else signed_by(payload, signature["username"])
    if _course_wide(payload):  # what the course's other days decide (positive test, dates)
        others = {d.day: [e.as_recorded() for e in uow.events.for_day(course.id, d.day)]
                  for d in plan.days if d.day != day}
        deps.rules.check_course(plan, day, recorded, others)
    deps.rules.check_append(
        plan, day, recorded, prior_count=seq - 1,
        prior_last=latest.as_recorded() if latest is not None else None,
        load_prior=lambda: [e.as_recorded() for e in uow.events.for_day(course.id, day)],
        now=deps.clock.now(),
    )
    stored = uow.events.add(StoredEvent(
        course_id=course.id, day=day, seq=seq, type=str(payload.get("type", "")),
        recorded_at=deps.clock.now(), recorded_by=ctx.actor.username, payload=payload,
        signature=signature,
    ))
    audit.record_for(uow, deps, ctx, "event.append", "day_event", f"{course.id}/{day}/{stored.seq}",
                     new={"payload": payload, "signature": signature}, reason=_reason(payload))
    return stored


def list_events(deps: Deps, ctx: Context, course_id: int, day: int) -> list[dict[str, Any]]:
    require(ctx.actor.role, Permission.READ_PSEUDONYMISED)
    with deps.uow() as uow:
        _known_course_day(deps, uow, course_id, day)
        return [event_view(e, ctx) for e in uow.events.for_day(course_id, day)]


def day_state(deps: Deps, ctx: Context, course_id: int, day: int) -> dict[str, Any]:
    require(ctx.actor.role, Permission.READ_PSEUDONYMISED)
    with deps.uow() as uow:
        _course, plan = _known_course_day(deps, uow, course_id, day)
        events = uow.events.for_day(course_id, day)
    state = deps.rules.state(plan, day, [e.as_recorded() for e in events], deps.clock.now())
    state = {**state, "seq": len(events), "next_seq": len(events) + 1}
    return state if sees_identity(ctx.actor.role) else strip_free_text(state)


def day_reading(deps: Deps, ctx: Context, course_id: int, day: int) -> DayReading:
    """The day's one reading now (``domain/day_reading.py``): what the chart draws."""
    require(ctx.actor.role, Permission.READ_PSEUDONYMISED)
    with deps.uow() as uow:
        _course, plan = _known_course_day(deps, uow, course_id, day)
        events = uow.events.for_day(course_id, day)
    return deps.rules.read(plan, day, [e.as_recorded() for e in events], deps.clock.now())


def event_view(event: StoredEvent, ctx: Context) -> dict[str, Any]:
    identity = sees_identity(ctx.actor.role)
    payload = event.payload if identity else redact_free_text(event.payload)
    signature = event.signature
    if signature is not None and not identity:
        signature = redact_signature(signature)
    return {
        "course_id": event.course_id,
        "day": event.day,
        "seq": event.seq,
        "type": event.type,
        "recorded_at": event.recorded_at.isoformat(),
        "recorded_by": event.recorded_by,
        "payload": payload,
        "signature": signature,
    }


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


def _course_wide(payload: dict[str, Any]) -> bool:
    """Entries that the course's other days can refuse: a start, a reschedule."""
    kind = payload.get("type")
    rescheduled = kind == "physician_decision" and payload.get("decision") == "reschedule"
    return kind == "infusion_started" or rescheduled


def _refuse_claimed_signature(payload: dict[str, Any]) -> None:
    replacement = payload.get("replacement")
    if "signed_by" in payload or (isinstance(replacement, dict) and "signed_by" in replacement):
        raise ValidationFailed("INPUT-SIGNED-BY",
                               "An entry is signed with the physician's password, not by naming a signer.",
                               details={"signed_by": "set by the server from the signature"})


def _check_correction(payload: dict[str, Any]) -> None:
    is_correction = payload.get("type") == "correction" or payload.get("corrects") is not None
    if is_correction and not str(payload.get("reason") or "").strip():
        raise ValidationFailed("INPUT-REASON-REQUIRED", "reason: a correction needs a reason.",
                               details={"reason": "required for a correction"})


def _reason(payload: dict[str, Any]) -> str | None:
    reason = payload.get("reason")
    return str(reason) if reason is not None else None
