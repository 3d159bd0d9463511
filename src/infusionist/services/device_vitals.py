"""Use cases of monitor intake: keep every message, record its vital signs once, list devices.

Delivery guarantees (``docs/hl7.md``): :func:`receive` commits the raw messages before anything
parses them; :func:`settle` records each vital-sign event and its message's status in one
transaction, so the caller acknowledges AA only after both are durable. A message already
settled (a retransmission of the same sender and control ID) returns its first outcome, and
nothing is stored again. Both take a batch (the messages waiting at the moment) and commit it
once: one disk flush for many messages, each still acknowledged only after that commit.

Known senders only: :func:`receive` hears a message only from a registered, not retired device
sending from one of its addresses (:func:`configure_device`, :func:`retire_device`). Any other
message, and one that cannot be kept as an inbound message (a NUL byte, an over-long key), is
kept apart as a refused message and answered at once; such a refusal does not take the message's
key, so the same message is heard once its sender is registered.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from infusionist.domain.access import Permission, Role, require
from infusionist.domain.device_readings import (
    MAX_KEY_LENGTH,
    DeviceReading,
    DeviceRecord,
    InboundMessage,
    InboundStatus,
    RefusedMessage,
    device_actor_name,
    invalid_sources,
    sender_refusal,
)
from infusionist.domain.errors import InfusionistError, NotFound, ValidationFailed
from infusionist.domain.records import Actor, Context, CourseRecord, PatientRecord, StoredEvent
from infusionist.services import audit
from infusionist.services.course_store import course_zone, known_course
from infusionist.services.deps import Deps
from infusionist.services.device_view import DeviceAlert, DeviceView, device_view
from infusionist.services.events import append_in_transaction
from infusionist.services.ports import UnitOfWork


@dataclass(frozen=True)
class Outcome:
    """How to acknowledge: ``AA`` accepted, ``AE`` refused with the problem, ``AR`` refused
    before intake (the sender is not heard, the frame was too large)."""

    ack: str
    error_code: str | None = None
    error: str | None = None
    location: str = ""
    hl7_error: str = "207"
    event_id: int | None = None
    duplicate: bool = False


@dataclass(frozen=True)
class Incoming:
    """A message as it arrived: who sent it, its control ID (MSH-10), its text, the address it
    came from, and a refusal the transport already decided (a frame over the size limit)."""

    sender: str
    control_id: str
    raw: str
    peer: str = ""
    refused: Outcome | None = None


@dataclass(frozen=True)
class Received:
    message_id: int  # 0: refused before intake (kept apart, answered with ``settled``)
    received_at: datetime
    settled: Outcome | None  # set when already settled (or refused before intake)


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
    sent its control ID; the same message twice in one batch is stored once. A message that is
    not heard (see the module) is kept as a refused message and comes back settled."""
    with deps.uow(write=True) as uow:
        registry = {device.device_id: device for device in uow.devices.list()}
        received: dict[tuple[str, str], Received] = {}
        for message in messages:
            key = (message.sender, message.control_id)
            if key not in received:
                refusal = message.refused or _not_heard(message, registry)
                received[key] = (_receive_one(uow, deps, message) if refusal is None
                                 else _keep_refused(uow, deps, message, refusal))
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


def keep_unstorable(deps: Deps, message: Incoming, reason: str) -> Received:
    """Keep a message that the database refused to store as it came (in base64), refused AE."""
    refusal = Outcome("AE", "HL7-UNSTORABLE", f"The message could not be stored ({reason}); it is kept "
                      "for review and nothing was recorded.", hl7_error="207")
    with deps.uow(write=True) as uow:
        kept = _keep_refused(uow, deps, message, refusal, encode=True)
        uow.commit()
    return kept


def _not_heard(message: Incoming, registry: dict[str, DeviceRecord]) -> Outcome | None:
    """AR when the sender is not heard; AE when the message cannot be kept as an inbound one."""
    refused = sender_refusal(registry.get(message.sender), message.sender, message.peer)
    if refused is not None:
        return Outcome("AR", refused[0], refused[1], "MSH^1^3", "204")
    if "\x00" in message.raw:
        return Outcome("AE", "HL7-MALFORMED", "The message contains a NUL character, which HL7 does not "
                       "allow; nothing was recorded.", "MSH", "102")
    if len(message.control_id) > MAX_KEY_LENGTH:
        return Outcome("AE", "HL7-MALFORMED", f"MSH-10 (message control ID) is longer than "
                       f"{MAX_KEY_LENGTH} characters; nothing was recorded.", "MSH^1^10", "102")
    return None


def _keep_refused(uow: UnitOfWork, deps: Deps, message: Incoming, refusal: Outcome, *,
                  encode: bool = False) -> Received:
    def key(text: str, length: int) -> str:
        return text.replace("\x00", "\ufffd")[:length]

    encode = encode or "\x00" in message.raw
    raw = base64.b64encode(message.raw.encode("utf-8", "replace")).decode("ascii") if encode else message.raw
    kept = uow.inbound.add_refused(RefusedMessage(
        received_at=deps.clock.now(), peer=key(message.peer, 100),
        sender=key(message.sender, MAX_KEY_LENGTH), control_id=key(message.control_id, MAX_KEY_LENGTH),
        raw=raw, raw_encoding="base64" if encode else "text", ack_code=refusal.ack,
        error_code=refusal.error_code or "HL7-REFUSED", error=key(refusal.error or "", 2000)))
    return Received(0, kept.received_at, refusal)


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
    return Outcome(message.ack_code or "AE", message.error_code, message.error, duplicate=duplicate)


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
    latest = now + _clock_tolerance(deps)
    _not_in_future(at, latest, reading.observed_where or "OBX")
    if reading.sent_at is not None:
        sent = reading.sent_at if reading.sent_at.tzinfo is not None else reading.sent_at.replace(tzinfo=zone)
        _not_in_future(sent, latest, "MSH^1^7")
    payload: dict[str, Any] = {"type": "vital_signs", "at": at.isoformat(),
                               **{name: str(value) for name, value in reading.values.items()}}
    actor = Actor(user_id=0, username=device_actor_name(reading.device),
                  full_name=f"Monitor {reading.device}", role=Role.DEVICE)
    ctx = Context(actor=actor, request_id=f"hl7:{control_id}"[:64])
    return append_in_transaction(uow, deps, ctx, course, day, payload)


def _clock_tolerance(deps: Deps) -> timedelta:
    """How far ahead of the server's clock an entry may be timed: the protocol's one tolerance,
    the same for the bedside record and the monitors (``bedside_record.clock_tolerance_minutes``)."""
    rules = deps.protocol.bedside_record
    return timedelta(minutes=rules.clock_tolerance_minutes if rules is not None else 0)


def _not_in_future(at: datetime, latest: datetime, location: str) -> None:
    """A time later than the server's clock beyond the tolerance is refused (``HL7-TIME-IN-FUTURE``)."""
    if at > latest:
        raise ValidationFailed(
            "HL7-TIME-IN-FUTURE",
            f"The time {at.isoformat()} is later than now; check the monitor's clock. Nothing was recorded.",
            details={"location": location, "hl7_code": "102"})


def _patient(uow: UnitOfWork, identifier: str) -> PatientRecord:
    found: PatientRecord | None = None
    if identifier.isascii() and identifier.isdigit():
        found = uow.patients.get(int(identifier)) if len(identifier) <= 9 else None
    elif len(identifier) <= 64:
        found = uow.patients.by_pseudonym(identifier)
    if found is None:
        raise NotFound("HL7-UNKNOWN-PATIENT",
                       f"PID-3: no patient {identifier[:64]!r} (give the patient number or pseudonym).",
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


def configure_device(deps: Deps, ctx: Context, device: DeviceRecord) -> DeviceView:
    """Register a monitor (admin): the sender it is (MSH-3^MSH-4), the place it belongs to, how
    often it sends, and the addresses or networks (CIDR) it may send from. Registering a retired
    monitor again hears it again. Audited."""
    require(ctx.actor.role, Permission.CONFIGURE_CENTRE)
    if device.interval_seconds <= 0 or not device.place.strip() or not device.device_id.strip():
        raise ValidationFailed("INPUT-DEVICE", "device: give an identifier, a place and an interval > 0 s.",
                               details={"device": "incomplete"})
    sources = tuple(source.strip() for source in device.sources if source.strip())
    bad = invalid_sources(sources)
    if not sources or bad or len(",".join(sources)) > _SOURCES_LENGTH:
        raise ValidationFailed(
            "INPUT-DEVICE-SOURCES", "Give the addresses the monitor sends from, as IP addresses or "
            f"networks such as 10.1.2.0/24{f' (not {bad[0]!r})' if bad else ''}.",
            details={"sources": "invalid" if bad or sources else "missing"})
    device = replace(device, sources=sources, retired_at=None)
    with deps.uow(write=True) as uow:
        old = uow.devices.get(device.device_id)
        uow.devices.put(device)
        audit.record_for(uow, deps, ctx, "device.configure", "device", device.device_id,
                         old=_audited(old), new=_audited(device))
        uow.commit()
    return device_view(device, None, deps.clock.now())


def retire_device(deps: Deps, ctx: Context, device_id: str, reason: str | None = None) -> DeviceView:
    """Stop hearing a monitor (admin): its later messages are refused ``HL7-SENDER-RETIRED``; what
    it sent stays. Audited (with the admin's reason, if given); registering it again undoes it."""
    require(ctx.actor.role, Permission.CONFIGURE_CENTRE)
    with deps.uow(write=True) as uow:
        old = uow.devices.get(device_id)
        if old is None:
            raise NotFound("DEVICE-NOT-FOUND", f"No monitor {device_id[:200]!r} is registered.")
        retired = old if old.retired_at is not None else replace(old, retired_at=deps.clock.now())
        uow.devices.put(retired)
        audit.record_for(uow, deps, ctx, "device.retire", "device", device_id,
                         old=_audited(old), new=_audited(retired), reason=(reason or "").strip() or None)
        uow.commit()
    return device_view(retired, None, deps.clock.now())


_SOURCES_LENGTH = 500  # the stored list's column


def _audited(device: DeviceRecord | None) -> dict[str, Any] | None:
    if device is None:
        return None
    retired = device.retired_at.isoformat() if device.retired_at is not None else None
    return {**vars(device), "sources": list(device.sources), "retired_at": retired}


def list_devices(deps: Deps, ctx: Context) -> list[DeviceView]:
    """Registered monitors and any other sender (heard before, or refused), with the time of the
    last message, silence, and how many of its messages were refused."""
    require(ctx.actor.role, Permission.READ_CENTRE)
    with deps.uow() as uow:
        configured = {d.device_id: d for d in uow.devices.list()}
        seen = uow.inbound.last_seen()
        refused = uow.inbound.refusals_by_sender()
    now = deps.clock.now()
    views = [device_view(device, seen.get(key), now, refusals=refused.get(key))
             for key, device in configured.items()]
    others = (set(seen) | set(refused)) - set(configured)
    views += [device_view(None, seen.get(key), now, key, refusals=refused.get(key)) for key in others]
    return sorted(views, key=lambda v: v.device_id)


def refused_messages(deps: Deps, ctx: Context, sender: str | None = None) -> list[RefusedMessage]:
    """Messages refused before intake, oldest first, as kept (admin: they may hold patient data)."""
    require(ctx.actor.role, Permission.CONFIGURE_CENTRE)
    with deps.uow() as uow:
        return uow.inbound.refused(sender)


def device_alerts(deps: Deps, ctx: Context) -> list[DeviceAlert]:
    """``DEVICE-SILENT`` for every configured monitor silent for twice its interval."""
    return [view.alert for view in list_devices(deps, ctx) if view.alert is not None]
