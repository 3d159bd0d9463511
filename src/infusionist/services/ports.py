"""What the services need from the outside world. Adapters implement these; tests use fakes."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from types import TracebackType
from typing import Protocol

from infusionist.domain.audit_chain import AuditEntry
from infusionist.domain.capacity import Chair, UnitRules
from infusionist.domain.centre import CentreConfig
from infusionist.domain.day_events import DayEvent
from infusionist.domain.day_reading import DayReading
from infusionist.domain.device_readings import (
    DeviceRecord,
    InboundMessage,
    InboundStatus,
    RefusedMessage,
)
from infusionist.domain.followup import FollowUpTask
from infusionist.domain.infusion_day import DayState
from infusionist.domain.planning import CoursePlan
from infusionist.domain.records import (
    BookingRecord,
    CalendarRow,
    CentreVersion,
    CourseRecord,
    DeviceToken,
    Flash,
    LabResultRecord,
    LoginFailure,
    PatientRecord,
    SessionRecord,
    SlotRow,
    StoredEvent,
    User,
    WorklistCounts,
    WorklistRow,
)
from infusionist.domain.row_ledger import LedgerState, RowFinding


class Clock(Protocol):
    def now(self) -> datetime: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...


class UserRepository(Protocol):
    def add(self, user: User) -> User: ...

    def get(self, user_id: int) -> User | None: ...

    def by_username(self, username: str) -> User | None: ...

    def list(self) -> list[User]: ...

    def count(self) -> int: ...

    def update(self, user: User) -> None:
        """Store the user's role, active flag, name and password hash (the username stays)."""
        ...


class SessionRepository(Protocol):
    def add(self, session: SessionRecord) -> None: ...

    def get(self, token_hash: str) -> SessionRecord | None: ...

    def touch(self, token_hash: str, at: datetime) -> None: ...

    def delete(self, token_hash: str) -> None: ...


class PasswordList(Protocol):
    """A list of common and breached passwords (lower case)."""

    def __contains__(self, password: object) -> bool: ...


class TokenRepository(Protocol):
    """Device tokens: added, listed, revoked; never deleted."""

    def add(self, token: DeviceToken) -> DeviceToken: ...

    def get(self, token_id: int) -> DeviceToken | None: ...

    def by_hash(self, token_hash: str) -> DeviceToken | None: ...

    def list(self) -> list[DeviceToken]: ...

    def revoke(self, token_id: int, at: datetime, by: str) -> bool:
        """Revoke the token if it is not revoked yet; False (nothing changed) if it is."""
        ...


class LoginFailureRepository(Protocol):
    def add(self, failure: LoginFailure) -> None: ...

    def recent(self, *, since: datetime, limit: int, username: str | None = None,
               address: str | None = None) -> list[datetime]:
        """When the latest failures (at most ``limit``, newest first) of the user name or of
        the address happened, after ``since``."""
        ...

    def forget(self, username: str) -> None:
        """Drop the user name's failures (after a successful log-in); the audit trail keeps them."""
        ...


class CentreRepository(Protocol):
    def get(self, centre_id: str) -> CentreConfig | None:
        """The centre's stored settings (None: never saved); ``CONFIG-INVALID`` when unreadable."""
        ...

    def put(self, centre_id: str, config: CentreConfig) -> None: ...


class PatientRepository(Protocol):
    def add(self, patient: PatientRecord) -> PatientRecord: ...

    def get(self, patient_id: int) -> PatientRecord | None: ...

    def by_pseudonym(self, pseudonym: str) -> PatientRecord | None: ...

    def list(self) -> list[PatientRecord]: ...

    def by_identifier(self, centre_id: str, identifier: str) -> PatientRecord | None: ...

    def search(self, text: str, limit: int) -> builtins.list[PatientRecord]:
        """Patients whose name, identifier or pseudonym contains ``text`` (any case), by name."""
        ...

    def update(self, patient: PatientRecord) -> None:
        """Store the patient's details (the pseudonym, centre and creation time stay)."""
        ...


class CentreVersionRepository(Protocol):
    """Every save of a centre's settings, numbered from 1; append-only."""

    def latest(self, centre_id: str) -> CentreVersion | None: ...

    def get(self, centre_id: str, version: int) -> CentreVersion | None: ...

    def history(self, centre_id: str) -> list[CentreVersion]:
        """Newest first."""
        ...

    def add(self, version: CentreVersion) -> None: ...


class FlashRepository(Protocol):
    """The one-time message of each session for the next page it shows."""

    def put(self, token_hash: str, flash: Flash, at: datetime) -> None: ...

    def peek(self, token_hash: str) -> Flash | None: ...

    def delete(self, token_hash: str) -> None: ...


class CourseRepository(Protocol):
    def add(self, course: CourseRecord) -> CourseRecord: ...

    def get(self, course_id: int) -> CourseRecord | None: ...

    def for_patient(self, patient_id: int) -> list[CourseRecord]: ...

    def ids_with_days_between(self, first: date, last: date, *, patient_id: int | None = None) -> list[int]:
        """Courses (of one patient, if given) with an infusion day possibly between ``first`` and
        ``last`` (both included), and every course stored without its first and last day (the
        caller checks the plan), in the order they were created."""
        ...


class EventRepository(Protocol):
    def last_seq(self, course_id: int, day: int) -> int: ...

    def last(self, course_id: int, day: int) -> StoredEvent | None:
        """The day's latest event (highest sequence number), or None for an empty day."""
        ...

    def add(self, event: StoredEvent) -> StoredEvent:
        """Append; raises ``Conflict`` when ``(course_id, day, seq)`` is already taken."""
        ...

    def for_day(self, course_id: int, day: int) -> list[StoredEvent]: ...


class TaskRepository(Protocol):
    def add(self, task: FollowUpTask) -> FollowUpTask: ...

    def for_course(self, course_id: int) -> list[FollowUpTask]: ...

    def get(self, task_id: int) -> FollowUpTask | None: ...

    def open_worklist(self, today: date, horizon: date, limit: int | None = None,
                      offset: int = 0) -> list[WorklistRow]:
        """Open tasks with ``due <= horizon`` and ``opens <= today``, with patient and course,
        overdue first (``overdue_from <= today``), then by due date and id; the ``limit`` rows
        after the first ``offset`` (all of them when ``limit`` is None). One query."""
        ...

    def worklist_counts(self, today: date, horizon: date) -> WorklistCounts:
        """How many tasks ``open_worklist`` holds in all, and how many are overdue. One query."""
        ...

    def close(self, task_id: int, status: str, closed_on: date, reason: str | None) -> bool:
        """Close the task if it is still open; False when it is not (nothing written)."""
        ...


class LabResultRepository(Protocol):
    """Laboratory results, append-only."""

    def add(self, result: LabResultRecord) -> LabResultRecord: ...

    def for_patient(self, patient_id: int) -> list[LabResultRecord]:
        """The patient's results, oldest sampling date first (then in the order recorded)."""
        ...


class AuditRepository(Protocol):
    def last(self) -> AuditEntry | None: ...

    def add(self, entry: AuditEntry) -> None: ...

    def all(self) -> Iterator[AuditEntry]: ...

    def at(self, seq: int) -> AuditEntry | None: ...

    def page(self, after_seq: int, limit: int) -> list[AuditEntry]: ...


class LedgerRepository(Protocol):
    """The row ledger (``domain/row_ledger.py``): the adapters append to it with every write of a
    protected row; the services read it to verify, and seal rows it does not hold yet."""

    def snapshot(self) -> None:
        """Make the rest of this read transaction one consistent snapshot (call it first)."""
        ...

    def state(self) -> LedgerState:
        """The chain walked once: its length, first break and every row's latest digest."""
        ...

    def head(self) -> tuple[int, str]:
        """(entries, last hash)."""
        ...

    def hash_at(self, seq: int) -> str | None: ...

    def compare(self, state: LedgerState) -> tuple[dict[str, int], list[RowFinding]]:
        """Rows read by protected table, and every row that differs from the ledger."""
        ...

    def seal(self) -> dict[str, int]:
        """Take every row the ledger does not hold (new, or changed) under it as it stands;
        how many were sealed, by table."""
        ...


class InboundMessageRepository(Protocol):
    """HL7 messages as received; ``(sender, control_id)`` is unique."""

    def find(self, sender: str, control_id: str) -> InboundMessage | None: ...

    def get(self, message_id: int) -> InboundMessage | None: ...

    def add(self, message: InboundMessage) -> InboundMessage: ...

    def settle(self, message_id: int, status: InboundStatus, ack_code: str, *,
               error_code: str | None = None, error: str | None = None,
               event_id: int | None = None) -> bool:
        """Settle a message that is still ``received``; False (nothing changed) if it is not."""
        ...

    def last_seen(self) -> dict[str, datetime]: ...

    def count(self, status: InboundStatus | None = None) -> int: ...

    def add_refused(self, message: RefusedMessage) -> RefusedMessage:
        """Keep a message refused before intake (unknown sender, too large, unstorable)."""
        ...

    def refused(self, sender: str | None = None) -> list[RefusedMessage]: ...

    def refusals_by_sender(self) -> dict[str, tuple[int, datetime]]:
        """Per sender: the number of refused messages and when the last arrived."""
        ...


class DeviceRepository(Protocol):
    def get(self, device_id: str) -> DeviceRecord | None: ...

    def put(self, device: DeviceRecord) -> None: ...

    def list(self) -> list[DeviceRecord]: ...


class ChairRepository(Protocol):
    """The chairs of each centre's unit; ``(centre, name)`` is unique (``Conflict``)."""

    def list(self, centre_id: str) -> list[Chair]: ...

    def add(self, centre_id: str, chair: Chair, created_at: datetime) -> Chair: ...

    def update(self, centre_id: str, chair: Chair) -> bool: ...


class UnitSettingsRepository(Protocol):
    def get(self, centre_id: str) -> UnitRules | None:
        """The unit's stored rules (None: never saved); ``UNIT-INVALID`` when unreadable."""
        ...

    def put(self, centre_id: str, rules: UnitRules, at: datetime) -> None: ...


class BookingRepository(Protocol):
    """Chair bookings. ``add`` raises ``ChairConflict`` when the database's safeguard refuses it
    (the day already booked; on PostgreSQL an overlap on the chair), undoing only that insert."""

    def add(self, booking: BookingRecord) -> BookingRecord: ...

    def get(self, booking_id: int) -> BookingRecord | None: ...

    def live_between(self, first: datetime, last: datetime) -> list[BookingRecord]:
        """Live bookings starting in ``[first, last)``, by start time."""
        ...

    def live_slots_between(self, first: datetime, last: datetime) -> list[SlotRow]:
        """The same as ``live_between``, as plain rows of the columns the booking rules read."""
        ...

    def for_course(self, course_id: int) -> list[BookingRecord]: ...

    def calendar(self, first: datetime, last: datetime) -> list[CalendarRow]: ...

    def cancel(self, booking_id: int, at: datetime, by: str, reason: str) -> bool:
        """Cancel a live booking; False (nothing written) when it is not live."""
        ...


class UnitOfWork(Protocol):
    """One transaction. ``commit`` makes every change durable; leaving without it rolls back."""

    @property
    def users(self) -> UserRepository: ...

    @property
    def sessions(self) -> SessionRepository: ...

    @property
    def tokens(self) -> TokenRepository: ...

    @property
    def login_failures(self) -> LoginFailureRepository: ...

    @property
    def centres(self) -> CentreRepository: ...

    @property
    def patients(self) -> PatientRepository: ...

    @property
    def courses(self) -> CourseRepository: ...

    @property
    def events(self) -> EventRepository: ...

    @property
    def tasks(self) -> TaskRepository: ...

    @property
    def lab_results(self) -> LabResultRepository: ...

    @property
    def audit(self) -> AuditRepository: ...

    @property
    def ledger(self) -> LedgerRepository: ...

    @property
    def inbound(self) -> InboundMessageRepository: ...

    @property
    def devices(self) -> DeviceRepository: ...

    @property
    def chairs(self) -> ChairRepository: ...

    @property
    def unit_settings(self) -> UnitSettingsRepository: ...

    @property
    def bookings(self) -> BookingRepository: ...

    @property
    def centre_versions(self) -> CentreVersionRepository: ...

    @property
    def flashes(self) -> FlashRepository: ...


    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def savepoint(self) -> AbstractContextManager[object]:
        """A nested transaction: what the block wrote is undone if it raises; the rest stays."""
        ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, write: bool = False) -> UnitOfWork:
        """A read transaction, or a write transaction that holds the writer's lock."""
        ...


class DayRules(Protocol):
    """The bedside domain: event parsing, the guards and the replay into a day state. Stored
    entries come as :class:`StoredEvent` records; the rules read each as recorded
    (:meth:`StoredEvent.as_recorded`: the payload with the signer of a signed entry)."""

    def parse(self, payload: Mapping[str, object]) -> DayEvent:
        """The validated event; raises ``ValidationFailed``."""
        ...

    def check_append(
        self, plan: CoursePlan, day: int, new: StoredEvent, *, prior_count: int,
        prior_last: StoredEvent | None, load_prior: Callable[[], Sequence[StoredEvent]],
        now: datetime,
    ) -> None:
        """Raises ``EventRefused`` when a guard refuses ``new`` after the day's ``prior_count``
        events, the latest of which is ``prior_last``, or when ``new`` is timed later than ``now``.
        ``load_prior`` reads them all; an implementation that keeps the day's fold between calls
        needs it only on a cache miss."""
        ...

    def state(self, plan: CoursePlan, day: int, events: Sequence[StoredEvent], at: datetime) -> DayState:
        """The day's replay at ``at``."""
        ...

    def read(self, plan: CoursePlan, day: int, events: Sequence[StoredEvent], at: datetime) -> DayReading:
        """The day's one reading at ``at`` (``domain/day_reading.py``), for the pages that draw it."""
        ...

    def check_course(self, plan: CoursePlan, day: int, new: StoredEvent,
                     other_days: Mapping[int, Sequence[StoredEvent]]) -> None:
        """Raises ``EventRefused`` when the course's other days refuse ``new`` on ``day``: a
        positive test not cleared blocks later starts (PROT-07); a reschedule onto another day's
        date (PROT-04, PROT-05)."""
        ...
