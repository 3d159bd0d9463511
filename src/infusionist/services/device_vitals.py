"""Use cases of monitor intake: keep every message, record its vital signs once, list devices.

Delivery guarantees (``docs/hl7.md``): :func:`receive` commits the raw message before anything
parses it; :func:`settle` records the vital-sign event and the message's status in one
transaction, so the caller acknowledges AA only after both are durable. A message already
settled (a retransmission of the same sender and control ID) returns its first outcome, and
nothing is stored again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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
from infusionist.services.courses import course_zone
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
class Received:
    message_id: int
    received_at: datetime
    settled: Outcome | None  # set when this sender's control ID was already settled


def receive(deps: Deps, sender: str, control_id: str, raw: str) -> Received:
    """Store the raw message (committed) unless this sender already sent this control ID."""
    with deps.uow(write=True) as uow:
        known = uow.inbound.find(sender, control_id)
        if known is not None:
            settled = _outcome(known, duplicate=True) if known.status.final else None
            return Received(known.id, known.received_at, settled)
        stored = uow.inbound.add(InboundMessage(sender=sender, control_id=control_id, raw=raw,
                                                received_at=deps.clock.now()))
        uow.commit()
    return Received(stored.id, stored.received_at, None)


def settle(deps: Deps, message_id: int, reading: DeviceReading | None,
           problem: InfusionistError | None) -> Outcome:
    """Record the reading's vital signs and mark the message accepted, or mark it refused."""
    if problem is None and reading is not None:
        try:
            with deps.uow(write=True) as uow:
                message = _message(uow, message_id)
                if message.status.final:
                    return _outcome(message, duplicate=True)
                event = _record(uow, deps, reading, message)
                uow.inbound.settle(message_id, InboundStatus.ACCEPTED, "AA", event_id=event.id)
                uow.commit()
            return Outcome("AA", event_id=event.id)
        except InfusionistError as refused:  # the transaction rolled back: no half-stored event
            problem = refused
    assert problem is not None
    with deps.uow(write=True) as uow:
        message = _message(uow, message_id)
        if message.status.final:
            return _outcome(message, duplicate=True)
        uow.inbound.settle(message_id, InboundStatus.REFUSED, "AE", error_code=problem.code,
                           error=problem.message)
        uow.commit()
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


def _record(uow: UnitOfWork, deps: Deps, reading: DeviceReading, message: InboundMessage) -> StoredEvent:
    patient = _patient(uow, reading.patient)
    device = uow.devices.get(reading.device)
    if device is not None and reading.point_of_care and reading.point_of_care != device.place:
        raise ValidationFailed(
            "HL7-PLACE-MISMATCH",
            f"Monitor {reading.device} belongs to {device.place}, but the message says "
            f"{reading.point_of_care}; check the monitor's configuration.",
            details={"location": "PV1^1^3", "hl7_code": "103"})
    course, day, zone = _today(uow, patient, deps.clock.now())
    at = reading.observed_at or message.received_at
    if at.tzinfo is None:
        at = at.replace(tzinfo=zone)
    payload: dict[str, Any] = {"type": "vital_signs", "at": at.isoformat(),
                               **{name: str(value) for name, value in reading.values.items()}}
    actor = Actor(user_id=0, username=device_actor_name(reading.device),
                  full_name=f"Monitor {reading.device}", role=Role.NURSE)
    ctx = Context(actor=actor, request_id=f"hl7:{message.control_id}"[:64])
    return append_in_transaction(uow, deps, ctx, course, day, payload)


def _patient(uow: UnitOfWork, identifier: str) -> PatientRecord:
    found: PatientRecord | None = None
    if identifier.isdigit():
        found = uow.patients.get(int(identifier))
    else:
        found = next((p for p in uow.patients.list() if p.pseudonym == identifier), None)
    if found is None:
        raise NotFound("HL7-UNKNOWN-PATIENT",
                       f"PID-3: no patient {identifier!r} (give the patient number or pseudonym).",
                       details={"location": "PID^1^3", "hl7_code": "204"})
    return found


def _today(uow: UnitOfWork, patient: PatientRecord, now: datetime) -> tuple[CourseRecord, int, ZoneInfo]:
    for course in reversed(uow.courses.for_patient(patient.id)):
        zone = course_zone(course)
        today = now.astimezone(zone).date().isoformat()
        for day in course.plan.get("days", []):
            if day.get("date") == today:
                return course, int(day["day"]), zone
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
