"""In-memory fakes of every storage port, and a clock the test drives (no mocks)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fake_devices import FakeDevices, FakeInbound

from infusionist.adapters.bedside import BedsideRules
from infusionist.adapters.common_passwords import CommonPasswords
from infusionist.adapters.protocol_files import load_protocol
from infusionist.domain.audit_chain import GENESIS_HASH, AuditEntry
from infusionist.domain.capacity import Chair, UnitRules
from infusionist.domain.centre import CentreConfig
from infusionist.domain.errors import ChairConflict, Conflict
from infusionist.domain.followup import FollowUpTask, TaskStatus
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
from infusionist.services.deps import Deps


class FakeClock:
    def __init__(self, now: datetime = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


class PlainHasher:
    """Not a hash at all: lets service tests run without argon2's cost. Never used in production."""

    def hash(self, password: str) -> str:
        return "plain$" + password

    def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == "plain$" + password


class FakeStore:
    """The committed state; each unit of work works on a copy and writes it back on commit."""

    def __init__(self) -> None:
        self.tables: dict[str, Any] = {name: {} for name in
                                       ("users", "sessions", "tokens", "centres", "patients",
                                        "courses", "events", "tasks", "audit", "inbound", "devices",
                                        "lab_results", "chairs", "unit_settings", "bookings", "refused", "login_failures",
                                        "centre_versions", "flashes")}


class FakeUnitOfWork:
    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.committed = False

    def __enter__(self) -> FakeUnitOfWork:
        self.t = {name: dict(rows) for name, rows in self.store.tables.items()}
        self.users = _Users(self.t["users"])
        self.sessions = _Sessions(self.t["sessions"])
        self.tokens = _Tokens(self.t["tokens"])
        self.login_failures = _LoginFailures(self.t["login_failures"])
        self.centres = _Centres(self.t["centres"])
        self.patients = _Patients(self.t["patients"])
        self.courses = _Courses(self.t["courses"])
        self.events = _Events(self.t["events"])
        self.tasks = _Tasks(self.t["tasks"], self.t["courses"], self.t["patients"])
        self.lab_results = _LabResults(self.t["lab_results"])
        self.audit = _Audit(self.t["audit"])
        self.ledger = _NoLedger()
        self.inbound = FakeInbound(self.t["inbound"], self.t["refused"])
        self.devices = FakeDevices(self.t["devices"])
        self.chairs = _Chairs(self.t["chairs"])
        self.unit_settings = _UnitSettings(self.t["unit_settings"])
        self.bookings = _Bookings(self.t["bookings"], self.t["courses"], self.t["patients"])
        self.centre_versions = _CentreVersions(self.t["centre_versions"])
        self.flashes = _Flashes(self.t["flashes"])
        return self

    def __exit__(self, *_: object) -> None:
        pass

    def commit(self) -> None:
        self.store.tables = self.t
        self.committed = True

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        saved = {name: dict(rows) for name, rows in self.t.items()}
        try:
            yield
        except BaseException:
            for name, rows in self.t.items():  # in place: the repositories hold these dicts
                rows.clear()
                rows.update(saved[name])
            raise


class FakeUnitOfWorkFactory:
    def __init__(self) -> None:
        self.store = FakeStore()

    def __call__(self, *, write: bool = False) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store)


class _ById:
    def __init__(self, rows: dict[Any, Any]) -> None:
        self.rows = rows

    def add(self, record: Any) -> Any:
        stored = replace(record, id=len(self.rows) + 1)
        self.rows[stored.id] = stored
        return stored

    def get(self, record_id: int) -> Any:
        return self.rows.get(record_id)

    def list(self) -> list[Any]:
        return list(self.rows.values())


class _Users(_ById):
    def by_username(self, username: str) -> User | None:
        return next((u for u in self.rows.values() if u.username == username), None)

    def count(self) -> int:
        return len(self.rows)

    def update(self, user: User) -> None:
        self.rows[user.id] = user


class _Patients(_ById):
    def by_pseudonym(self, pseudonym: str) -> PatientRecord | None:
        return next((p for p in self.rows.values() if p.pseudonym == pseudonym), None)

    def by_identifier(self, centre_id: str, identifier: str) -> PatientRecord | None:
        return next((p for p in self.rows.values()
                     if p.centre_id == centre_id and p.identifier == identifier), None)

    def search(self, text: str, limit: int) -> list[PatientRecord]:
        needle = text.lower()
        found = [p for p in self.rows.values()
                 if any(needle in (v or "").lower() for v in (p.name, p.identifier, p.pseudonym))]
        return sorted(found, key=lambda p: (p.name, p.id))[:limit]

    def update(self, patient: PatientRecord) -> None:
        self.rows[patient.id] = patient


class _CentreVersions:
    def __init__(self, rows: dict[Any, Any]) -> None:
        self.rows = rows

    def latest(self, centre_id: str) -> CentreVersion | None:
        mine = self.history(centre_id)
        return mine[0] if mine else None

    def get(self, centre_id: str, version: int) -> CentreVersion | None:
        return self.rows.get((centre_id, version))

    def history(self, centre_id: str) -> list[CentreVersion]:
        return sorted((v for v in self.rows.values() if v.centre_id == centre_id),
                      key=lambda v: -v.version)

    def add(self, version: CentreVersion) -> None:
        key = (version.centre_id, version.version)
        if key in self.rows:
            raise Conflict("CENTRE-VERSION-TAKEN", "version taken")
        self.rows[key] = version


class _Flashes:
    def __init__(self, rows: dict[Any, Any]) -> None:
        self.rows = rows

    def put(self, token_hash: str, flash: Flash, at: datetime) -> None:
        self.rows[token_hash] = flash

    def peek(self, token_hash: str) -> Flash | None:
        return self.rows.get(token_hash)

    def delete(self, token_hash: str) -> None:
        self.rows.pop(token_hash, None)


class _Sessions:
    def __init__(self, rows: dict[Any, Any]) -> None:
        self.rows = rows

    def add(self, session: SessionRecord) -> None:
        self.rows[session.token_hash] = session

    def get(self, token_hash: str) -> SessionRecord | None:
        return self.rows.get(token_hash)

    def touch(self, token_hash: str, at: datetime) -> None:
        self.rows[token_hash] = replace(self.rows[token_hash], last_seen_at=at)

    def delete(self, token_hash: str) -> None:
        self.rows.pop(token_hash, None)


class _Tokens(_ById):
    def by_hash(self, token_hash: str) -> DeviceToken | None:
        return next((t for t in self.rows.values() if t.token_hash == token_hash), None)

    def revoke(self, token_id: int, at: datetime, by: str) -> bool:
        token = self.rows.get(token_id)
        if token is None or token.revoked_at is not None:
            return False
        self.rows[token_id] = replace(token, revoked_at=at, revoked_by=by)
        return True


class _LoginFailures:
    def __init__(self, rows: dict[Any, Any]) -> None:
        self.rows = rows

    def add(self, failure: LoginFailure) -> None:
        self.rows[len(self.rows) + 1] = failure

    def recent(self, *, since: datetime, limit: int, username: str | None = None,
               address: str | None = None) -> list[datetime]:
        times = [f.at for f in self.rows.values() if f.at > since
                 and (username is None or f.username == username)
                 and (address is None or f.address == address)]
        return sorted(times, reverse=True)[:limit]

    def forget(self, username: str) -> None:
        for key in [k for k, f in self.rows.items() if f.username == username]:
            del self.rows[key]


class _Centres:
    def __init__(self, rows: dict[Any, Any]) -> None:
        self.rows = rows

    def get(self, centre_id: str) -> CentreConfig | None:
        return self.rows.get(centre_id)

    def put(self, centre_id: str, config: CentreConfig) -> None:
        self.rows[centre_id] = config


class _UnitSettings:
    def __init__(self, rows: dict[Any, Any]) -> None:
        self.rows = rows

    def get(self, centre_id: str) -> UnitRules | None:
        return self.rows.get(centre_id)

    def put(self, centre_id: str, rules: UnitRules, at: datetime) -> None:
        self.rows[centre_id] = rules


class _Courses(_ById):
    def for_patient(self, patient_id: int) -> list[CourseRecord]:
        return [c for c in self.rows.values() if c.patient_id == patient_id]

    def ids_with_days_between(self, first: date, last: date, *, patient_id: int | None = None) -> list[int]:
        return sorted(c.id for c in self.rows.values()
                      if (patient_id is None or c.patient_id == patient_id)
                      and (c.first_day is None or c.last_day is None
                           or (c.last_day >= first and c.first_day <= last)))


class _Events(_ById):
    def last_seq(self, course_id: int, day: int) -> int:
        return max((e.seq for e in self.for_day(course_id, day)), default=0)

    def last(self, course_id: int, day: int) -> StoredEvent | None:
        events = self.for_day(course_id, day)
        return events[-1] if events else None

    def add(self, event: StoredEvent) -> StoredEvent:
        if any(e.seq == event.seq for e in self.for_day(event.course_id, event.day)):
            raise Conflict("EVENT-SEQ-STALE", "expected_seq: already taken",
                           details={"expected_seq": "already taken"})
        stored: StoredEvent = super().add(event)
        return stored

    def for_day(self, course_id: int, day: int) -> list[StoredEvent]:
        return sorted((e for e in self.rows.values() if (e.course_id, e.day) == (course_id, day)),
                      key=lambda e: e.seq)


class _Tasks(_ById):
    def __init__(self, rows: dict[Any, Any], courses: dict[Any, Any], patients: dict[Any, Any]) -> None:
        super().__init__(rows)
        self.courses, self.patients = courses, patients

    def add(self, record: FollowUpTask) -> FollowUpTask:
        stored = record.model_copy(update={"id": len(self.rows) + 1})
        self.rows[stored.id] = stored
        return stored

    def for_course(self, course_id: int) -> list[FollowUpTask]:
        return sorted((t for t in self.rows.values() if t.course_id == course_id),
                      key=lambda t: (t.due, t.id))

    def _open(self, today: date, horizon: date) -> list[FollowUpTask]:
        return [task for task in self.rows.values()
                if task.status == "due" and task.due <= horizon and task.opens <= today]

    def open_worklist(self, today: date, horizon: date, limit: int | None = None,
                      offset: int = 0) -> list[WorklistRow]:
        found = []
        for task in sorted(self._open(today, horizon),
                           key=lambda k: (today < k.overdue_from, k.due, k.id)):
            course = self.courses[task.course_id]
            patient = self.patients[course.patient_id]
            found.append(WorklistRow(task.id, patient.id, patient.name, patient.pseudonym, course.id,
                                     course.number, task.activity_id, task.name, task.kind.value,
                                     task.due, task.opens, task.overdue_from))
        return found[offset:] if limit is None else found[offset:offset + limit]

    def worklist_counts(self, today: date, horizon: date) -> WorklistCounts:
        tasks = self._open(today, horizon)
        return WorklistCounts(total=len(tasks), overdue=sum(today >= k.overdue_from for k in tasks))

    def close(self, task_id: int, status: str, closed_on: date, reason: str | None) -> bool:
        task = self.rows.get(task_id)
        if task is None or task.status != "due":
            return False
        self.rows[task_id] = task.model_copy(update={"status": TaskStatus(status),
                                                    "closed_on": closed_on, "reason": reason})
        return True


class _LabResults(_ById):
    def for_patient(self, patient_id: int) -> list[LabResultRecord]:
        return sorted((r for r in self.rows.values() if r.patient_id == patient_id),
                      key=lambda r: (r.taken_on, r.id))


class _Audit:
    def __init__(self, rows: dict[Any, Any]) -> None:
        self.rows = rows

    def last(self) -> AuditEntry | None:
        return self.rows[max(self.rows)] if self.rows else None

    def add(self, entry: AuditEntry) -> None:
        self.rows[entry.seq] = entry

    def all(self) -> Iterator[AuditEntry]:
        return iter([self.rows[k] for k in sorted(self.rows)])

    def at(self, seq: int) -> AuditEntry | None:
        return self.rows.get(seq)

    def page(self, after_seq: int, limit: int) -> list[AuditEntry]:
        return [e for e in self.all() if e.seq > after_seq][:limit]


class _NoLedger:
    """The row ledger is written by the database adapters (``adapters/db/ledger.py``), which the
    fakes replace: here it is empty and holds no rows (the integration tests cover it)."""

    def snapshot(self) -> None:
        pass

    def state(self) -> LedgerState:
        return LedgerState()

    def head(self) -> tuple[int, str]:
        return 0, GENESIS_HASH

    def hash_at(self, seq: int) -> str | None:
        return None

    def compare(self, state: LedgerState) -> tuple[dict[str, int], list[RowFinding]]:
        return {}, []

    def seal(self) -> dict[str, int]:
        return {}


def fake_deps() -> tuple[Deps, FakeClock, FakeUnitOfWorkFactory]:
    protocol = load_protocol()
    clock = FakeClock()
    uow = FakeUnitOfWorkFactory()
    deps = Deps(uow=uow, clock=clock, hasher=PlainHasher(), rules=BedsideRules(protocol),
                protocol=protocol, common_passwords=CommonPasswords())
    return deps, clock, uow


__all__ = ["FakeClock", "PatientRecord", "fake_deps"]  # PatientRecord: for tests building rows


class _Chairs:
    """Chairs per centre: rows are (centre_id, Chair) by id."""

    def __init__(self, rows: dict[Any, Any]) -> None:
        self.rows = rows

    def list(self, centre_id: str) -> list[Chair]:
        return [chair for centre, chair in self.rows.values() if centre == centre_id]

    def add(self, centre_id: str, chair: Chair, created_at: datetime) -> Chair:
        if any(c.name == chair.name for c in self.list(centre_id)):
            raise Conflict("CHAIR-NAME-EXISTS", "name taken")
        stored = chair.model_copy(update={"id": len(self.rows) + 1})
        self.rows[stored.id] = (centre_id, stored)
        return stored

    def update(self, centre_id: str, chair: Chair) -> bool:
        if chair.id not in self.rows:
            return False
        self.rows[chair.id] = (centre_id, chair)
        return True


class _Bookings(_ById):
    def __init__(self, rows: dict[Any, Any], courses: dict[Any, Any], patients: dict[Any, Any]) -> None:
        super().__init__(rows)
        self.courses, self.patients = courses, patients

    def _live(self) -> list[BookingRecord]:
        return [b for b in self.rows.values() if b.cancelled_at is None]

    def add(self, record: Any) -> Any:
        if any(b.course_id == record.course_id and b.day == record.day for b in self._live()):
            raise ChairConflict("CHAIR-TAKEN", "day already booked")
        return super().add(record)

    def live_between(self, first: datetime, last: datetime) -> list[BookingRecord]:
        return sorted((b for b in self._live() if first <= b.starts_at < last), key=lambda b: b.starts_at)

    def live_slots_between(self, first: datetime, last: datetime) -> list[SlotRow]:
        return [SlotRow(b.id, b.chair_id, b.course_id, b.day, b.starts_at, b.infusion_at, b.ends_at,
                        b.held_until) for b in self.live_between(first, last)]

    def for_course(self, course_id: int) -> list[BookingRecord]:
        return sorted((b for b in self._live() if b.course_id == course_id), key=lambda b: b.day)

    def calendar(self, first: datetime, last: datetime) -> list[CalendarRow]:
        rows = []
        for booking in self.live_between(first, last):
            course = self.courses[booking.course_id]
            patient = self.patients[course.patient_id]
            rows.append(CalendarRow(booking, patient.id, patient.name, patient.pseudonym, course.number))
        return rows

    def cancel(self, booking_id: int, at: datetime, by: str, reason: str) -> bool:
        booking = self.rows.get(booking_id)
        if booking is None or booking.cancelled_at is not None:
            return False
        self.rows[booking_id] = replace(booking, cancelled_at=at, cancelled_by=by, cancel_reason=reason)
        return True
