"""Use cases of monitor intake: keep every message, record its vital signs once, list devices.

Delivery guarantees (``docs/hl7.md``): :func:`receive` commits the raw messages before anything
parses them; :func:`settle` records each vital-sign event and its message's status in one
transaction, so the caller acknowledges AA only after both are durable. A message already
settled (a retransmission of the same sender and control ID) returns its first outcome, and
nothing is stored again. Both take a batch (the messages waiting at the moment) and commit it
once: one disk flush for many messages, each still acknowledged only after that commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from infusionist.domain.access import Permission, Role, require
from infusionist.domain.device_readings import (
    DeviceReading,
    DeviceRecord,
    InboundMessage,
    InboundStatus,
    device_actor_name,
    is_silent,
)
from infusionist.domain.errors import InfusionistError, NotFound, ValidationFailed
from infusionist.domain.records import Actor, Context, CourseRecord, PatientRecord, StoredEvent
from infusionist.services import audit
from infusionist.services.courses import course_zone, known_course
from infusionist.services.deps import Deps
from infusionist.services.events import append_in_transaction
from infusionist.services.ports import UnitOfWork


@dataclass(frozen=True)
class Outcome:
    """How to acknowledge: ``AA`` accepted, ``AE`` refused with the problem."""

    ack: str
    error_code: str | None = None
    error: str | None = None
    location: str = ""
    hl7_error: str = "207"
    event_id: int | None = None
    duplicate: bool = False


@dataclass(frozen=True)
class Incoming:
    """A message as it arrived: who sent it, its control ID (MSH-10) and its text."""

    sender: str
    control_id: str
    raw: str


@dataclass(frozen=True)
class Received:
    message_id: int
    received_at: datetime
    settled: Outcome | None  # set when this sender's control ID was already settled


@dataclass(frozen=True)
class Settle:
    """What to record for one stored message: its reading, or the problem that refuses it."""

    message: Received
    control_id: str
    reading: DeviceReading | None
    problem: InfusionistError | None


class _SettledMeanwhile(Exception):
    """The message was settled since it was read (twice in one batch, or by another listener)."""


def receive(deps: Deps, messages: Sequence[Incoming]) -> list[Received]:
    """Store each raw message (committed, one transaction for all) unless its sender already
    sent its control ID; the same message twice in one batch is stored once."""
    with deps.uow(write=True) as uow:
        received: dict[tuple[str, str], Received] = {}
        for message in messages:
            key = (message.sender, message.control_id)
            if key not in received:
                received[key] = _receive_one(uow, deps, message)
        uow.commit()
    return [received[(m.sender, m.control_id)] for m in messages]


def _receive_one(uow: UnitOfWork, deps: Deps, message: Incoming) -> Received:
    known = uow.inbound.find(message.sender, message.control_id)
    if known is not None:
        settled = _outcome(known, duplicate=True) if known.status.final else None
        return Received(known.id, known.received_at, settled)
    stored = uow.inbound.add(InboundMessage(sender=message.sender, control_id=message.control_id,
                                            raw=message.raw, received_at=deps.clock.now()))
    return Received(stored.id, stored.received_at, None)


def settle(deps: Deps, items: Sequence[Settle]) -> list[Outcome]:
    """Settle each stored message in one transaction (one commit for all): record its reading's
    vital signs and mark it accepted, or mark it refused. Each message's writes are undone alone
    when it is refused (a savepoint), so none is ever half-stored; if the commit fails, none is
    settled and none is acknowledged."""
    with deps.uow(write=True) as uow:
        outcomes = [_settle_one(uow, deps, item) for item in items]
        uow.commit()
    return outcomes


def _settle_one(uow: UnitOfWork, deps: Deps, item: Settle) -> Outcome:
    """Settling marks a message that is still ``received``; if it is not any more (settled since
    it was read), its first outcome is answered and this attempt leaves nothing behind."""
    message_id = item.message.message_id
    problem = item.problem
    if problem is None and item.reading is not None:
        try:
            with uow.savepoint():
                event = _record(uow, deps, item.reading, item.control_id, item.message.received_at)
                if not uow.inbound.settle(message_id, InboundStatus.ACCEPTED, "AA", event_id=event.id):
                    raise _SettledMeanwhile
            return Outcome("AA", event_id=event.id)
        except InfusionistError as refused:  # the savepoint rolled back: no half-stored event
            problem = refused
        except _SettledMeanwhile:  # the savepoint rolled back: the event is not stored twice
            return _outcome(_message(uow, message_id), duplicate=True)
    assert problem is not None
    if not uow.inbound.settle(message_id, InboundStatus.REFUSED, "AE", error_code=problem.code,
                              error=problem.message):
        return _outcome(_message(uow, message_id), duplicate=True)
    return _refusal(problem)


def _message(uow: UnitOfWork, message_id: int) -> InboundMessage:
    message = uow.inbound.get(message_id)
    if message is None:
        raise NotFound("HL7-MESSAGE-NOT-FOUND", f"inbound message {message_id} does not exist.")
    return message


def _refusal(problem: InfusionistError) -> Outcome:
    details = problem.details
    location = details.get("location", "")
    hl7_code = details.get("hl7_code", "207" if not location else "102")
    return Outcome("AE", problem.code, problem.message, location, hl7_code)


def _outcome(message: InboundMessage, *, duplicate: bool) -> Outcome:
    if message.status is InboundStatus.ACCEPTED:
        return Outcome("AA", event_id=message.event_id, duplicate=duplicate)
    return Outcome("AE", message.error_code, message.error, duplicate=duplicate)


def _record(uow: UnitOfWork, deps: Deps, reading: DeviceReading, control_id: str,
            received_at: datetime) -> StoredEvent:
    now = deps.clock.now()
    known = _known_day(uow, deps, reading.patient, now)
    patient = _patient(uow, reading.patient) if known is None else None
    device = uow.devices.get(reading.device)
    if device is not None and reading.point_of_care and reading.point_of_care != device.place:
        raise ValidationFailed(
            "HL7-PLACE-MISMATCH",
            f"Monitor {reading.device} belongs to {device.place}, but the message says "
            f"{reading.point_of_care}; check the monitor's configuration.",
            details={"location": "PV1^1^3", "hl7_code": "103"})
    if patient is not None:
        known = _today(uow, deps, patient, now)
        _remember_day(deps, reading.patient, now, known)
    assert known is not None
    course, day, zone = known
    at = reading.observed_at or received_at
    if at.tzinfo is None:
        at = at.replace(tzinfo=zone)
    payload: dict[str, Any] = {"type": "vital_signs", "at": at.isoformat(),
                               **{name: str(value) for name, value in reading.values.items()}}
    actor = Actor(user_id=0, username=device_actor_name(reading.device),
                  full_name=f"Monitor {reading.device}", role=Role.DEVICE)
    ctx = Context(actor=actor, request_id=f"hl7:{control_id}"[:64])
    return append_in_transaction(uow, deps, ctx, course, day, payload)


def _patient(uow: UnitOfWork, identifier: str) -> PatientRecord:
    if identifier.isdigit():
        found = uow.patients.get(int(identifier))
    else:
        found = uow.patients.by_pseudonym(identifier)
    if found is None:
        raise NotFound("HL7-UNKNOWN-PATIENT",
                       f"PID-3: no patient {identifier!r} (give the patient number or pseudonym).",
                       details={"location": "PID^1^3", "hl7_code": "204"})
    return found


_REMEMBERED_DAYS = 4096


def _known_day(uow: UnitOfWork, deps: Deps, identifier: str,
               now: datetime) -> tuple[CourseRecord, int, ZoneInfo] | None:
    """The infusion day a patient identifier (PID-3) was found on earlier today, if it still is
    today in the course's time zone. Patients, their identifiers and stored courses never change,
    so a day once found stays right; only finding it again is saved (two queries a message)."""
    remembered = deps.device_days.get((identifier, now.astimezone(UTC).date()))
    if remembered is None:
        return None
    course, plan = known_course(deps, uow, remembered[0])
    zone = course_zone(course)
    if plan.day(remembered[1]).date != now.astimezone(zone).date():
        return None
    return course, remembered[1], zone


def _remember_day(deps: Deps, identifier: str, now: datetime,
                  found: tuple[CourseRecord, int, ZoneInfo]) -> None:
    if len(deps.device_days) >= _REMEMBERED_DAYS:
        deps.device_days.clear()
    deps.device_days[(identifier, now.astimezone(UTC).date())] = (found[0].id, found[1])


def _today(uow: UnitOfWork, deps: Deps, patient: PatientRecord,
           now: datetime) -> tuple[CourseRecord, int, ZoneInfo]:
    """The patient's latest course with an infusion day today, in the course's own time zone
    (candidates by stored first and last day, a day either side of UTC's date)."""
    utc_today = now.astimezone(UTC).date()
    margin = timedelta(days=1)
    candidates = uow.courses.ids_with_days_between(utc_today - margin, utc_today + margin,
                                                   patient_id=patient.id)
    for course_id in reversed(candidates):
        course, plan = known_course(deps, uow, course_id)
        zone = course_zone(course)
        today = now.astimezone(zone).date()
        for day in plan.days:
            if day.date == today:
                return course, day.day, zone
    raise NotFound("HL7-NO-INFUSION-DAY",
                   f"Patient {patient.pseudonym} has no infusion day today; nothing was recorded.",
                   details={"location": "PID^1^3", "hl7_code": "204"})


def configure_device(deps: Deps, ctx: Context, device: DeviceRecord) -> dict[str, Any]:
    """Say which place a monitor belongs to and how often it sends (admin)."""
    require(ctx.actor.role, Permission.CONFIGURE_CENTRE)
    if device.interval_seconds <= 0 or not device.place.strip() or not device.device_id.strip():
        raise ValidationFailed("INPUT-DEVICE", "device: give an identifier, a place and an interval > 0 s.",
                               details={"device": "incomplete"})
    with deps.uow(write=True) as uow:
        old = uow.devices.get(device.device_id)
        uow.devices.put(device)
        audit.record_for(uow, deps, ctx, "device.configure", "device", device.device_id,
                         old=vars(old) if old is not None else None, new=vars(device))
        uow.commit()
    return device_view(device, None, deps.clock.now())


def list_devices(deps: Deps, ctx: Context) -> list[dict[str, Any]]:
    """Configured monitors and any other sender, with the time of the last message and silence."""
    require(ctx.actor.role, Permission.READ_CENTRE)
    with deps.uow() as uow:
        configured = {d.device_id: d for d in uow.devices.list()}
        seen = uow.inbound.last_seen()
    now = deps.clock.now()
    views = [device_view(device, seen.get(key), now) for key, device in configured.items()]
    views += [device_view(None, at, now, key) for key, at in seen.items() if key not in configured]
    return sorted(views, key=lambda v: str(v["device_id"]))


def device_alerts(deps: Deps, ctx: Context) -> list[dict[str, Any]]:
    """``DEVICE-SILENT`` for every configured monitor silent for twice its interval."""
    return [view["alert"] for view in list_devices(deps, ctx) if view["alert"] is not None]


def device_view(device: DeviceRecord | None, last: datetime | None, now: datetime,
                key: str = "") -> dict[str, Any]:
    silent = device is not None and is_silent(last, device.interval_seconds, now)
    device_id = device.device_id if device is not None else key
    alert = None
    if device is not None and silent:
        since = f"since {last.isoformat()}" if last is not None else "ever"
        alert = {"code": "DEVICE-SILENT", "severity": "warning",
                 "message": f"Monitor {device_id} at {device.place} has sent nothing {since} "
                            f"(expected every {device.interval_seconds} s); check it is on and connected.",
                 "requirements": []}
    return {
        "device_id": device_id,
        "configured": device is not None,
        "place": device.place if device is not None else None,
        "interval_seconds": device.interval_seconds if device is not None else None,
        "description": device.description if device is not None else "",
        "last_message_at": last.isoformat() if last is not None else None,
        "silent": silent,
        "alert": alert,
    }
