"""Records the services store and read: plain frozen values (the tables live in adapters/db)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from infusionist.domain.access import Role


@dataclass(frozen=True, kw_only=True)
class User:
    id: int = 0
    username: str
    full_name: str
    role: Role
    password_hash: str
    active: bool = True
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class SessionRecord:
    token_hash: str
    user_id: int
    created_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True, kw_only=True)
class DeviceToken:
    """A token for a named device (no user behind it); only its SHA-256 digest is stored."""

    id: int = 0
    device: str
    token_hash: str
    created_at: datetime
    created_by: str
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None


@dataclass(frozen=True, kw_only=True)
class LoginFailure:
    """A refused log-in: the name typed, the source address and when (for throttling)."""

    username: str
    address: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class PatientRecord:
    id: int = 0
    centre_id: str
    name: str
    birth_date: date | None
    sex: str
    childbearing_potential: bool
    weight_kg: str | None
    pseudonym: str
    created_at: datetime
    identifier: str | None = None  # the hospital's patient number
    contact: str | None = None  # phone or address the unit reaches the patient at


@dataclass(frozen=True, kw_only=True)
class CourseRecord:
    id: int = 0
    patient_id: int
    number: int
    protocol_id: str
    protocol_version: str
    plan: dict[str, Any]
    created_at: datetime
    created_by: str
    first_day: date | None = None  # first and last infusion day (None: written without them)
    last_day: date | None = None
    centre_version: int | None = None  # the centre's settings the plan was made with


@dataclass(frozen=True, kw_only=True)
class StoredEvent:
    id: int = 0
    course_id: int
    day: int
    seq: int
    type: str
    recorded_at: datetime
    recorded_by: str
    payload: dict[str, Any]
    signature: dict[str, str] | None = None

    def as_recorded(self) -> dict[str, Any]:
        """The entry as the bedside rules read it: the payload and, when the entry was signed,
        who signed it (``signed_by`` comes only from the stored signature, never from a client)."""
        return self.payload if self.signature is None else signed_by(self.payload, self.signature["username"])


def signed_by(payload: dict[str, Any], username: str) -> dict[str, Any]:
    """``payload`` signed by ``username``: the entry and, for a correction, its replacement."""
    signed = {**payload, "signed_by": username}
    replacement = payload.get("replacement")
    if isinstance(replacement, dict):
        signed["replacement"] = {**replacement, "signed_by": username}
    return signed


@dataclass(frozen=True, kw_only=True)
class LabResultRecord:
    """A stored laboratory result (append-only). Values and limits are kept as the exact
    decimal text that was entered, never as floats."""

    id: int = 0
    patient_id: int
    course_id: int
    analyte: str
    value: str
    unit: str
    reference_low: str | None = None
    reference_high: str | None = None
    taken_on: date
    recorded_by: str
    recorded_at: datetime


class WorklistRow(NamedTuple):
    """One open task of the worklist with its patient and course: only the columns the worklist
    shows, read as a plain tuple (the query's row, no record per task)."""

    task_id: int
    patient_id: int
    patient_name: str
    pseudonym: str
    course_id: int
    course: int
    activity_id: str
    name: str
    kind: str
    due: date
    opens: date
    overdue_from: date


@dataclass(frozen=True, kw_only=True)
class WorklistCounts:
    """How many open tasks the whole worklist holds on a day, and how many of them are overdue."""

    total: int
    overdue: int


@dataclass(frozen=True)
class Actor:
    """The person, or the device (role ``device``, user id 0), behind a request."""

    user_id: int
    username: str
    full_name: str
    role: Role


@dataclass(frozen=True)
class Context:
    actor: Actor
    request_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class BookingRecord:
    """A stored chair booking of one planned infusion day (``domain.capacity``): the patient is
    in the chair from ``starts_at`` to ``ends_at``; the chair is held until ``held_until``. A
    cancelled booking keeps its row, with ``cancelled_at``."""

    id: int = 0
    chair_id: int
    course_id: int
    day: int
    starts_at: datetime
    infusion_at: datetime
    ends_at: datetime
    held_until: datetime
    booked_at: datetime
    booked_by: str
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None
    cancel_reason: str | None = None


class SlotRow(NamedTuple):
    """A live booking as the booking rules read it (one row of the search's query)."""

    id: int
    chair_id: int
    course_id: int
    day: int
    starts_at: datetime
    infusion_at: datetime
    ends_at: datetime
    held_until: datetime


class CalendarRow(NamedTuple):
    """A live booking with its course and patient, for the unit's calendar (one query)."""

    booking: BookingRecord
    patient_id: int
    patient_name: str
    pseudonym: str
    course: int


@dataclass(frozen=True, kw_only=True)
class CentreVersion:
    """One saved version of a centre's settings; never changed once stored."""

    centre_id: str
    version: int
    config: dict[str, Any]
    created_at: datetime
    created_by: str
    signed_by: str | None = None  # the physician who signed its clinical settings
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class Flash:
    """A one-time message for the next page a session shows (``notice`` or ``error``)."""

    kind: str
    message: str
