"""Repositories over one connection: rows in, frozen records out. No business rules here.

The statements of the frequent reads and inserts are built once (``_select_by``, the ledger's
inserts and the module constants) and run with bound parameters: building a statement and its
cache key anew for every call costs more than running it on SQLite.

Every write of a protected table (``protected.PROTECTED``) goes through the transaction's
``Ledger`` (``self.ledger``), which records the row as stored in the row ledger.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from functools import cache
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Select, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from infusionist.adapters.db import tables as t
from infusionist.adapters.db.ledger import Ledger
from infusionist.adapters.db.notify import notify_change
from infusionist.domain.access import Role
from infusionist.domain.audit_chain import AuditEntry
from infusionist.domain.centre import CentreConfig
from infusionist.domain.errors import Conflict, ValidationFailed
from infusionist.domain.followup import FollowUpTask, TaskKind, TaskStatus
from infusionist.domain.records import (
    CourseRecord,
    DeviceToken,
    LabResultRecord,
    LoginFailure,
    PatientRecord,
    SessionRecord,
    StoredEvent,
    User,
)


def _fields(record: Any, *, skip: tuple[str, ...] = ("id",)) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in skip}


@cache
def _select_by(table: Table, columns: tuple[str, ...]) -> Select[Any]:
    """``SELECT * FROM table WHERE column = :column AND ...``, built once per table and columns."""
    return select(table).where(*(table.c[name] == bindparam(name) for name in columns))


_DAY_EVENTS = t.day_events.c
_LAST_EVENT = (select(t.day_events)
               .where(_DAY_EVENTS.course_id == bindparam("course_id"), _DAY_EVENTS.day == bindparam("day"))
               .order_by(_DAY_EVENTS.seq.desc()).limit(1))
_DAY = (select(t.day_events)
        .where(_DAY_EVENTS.course_id == bindparam("course_id"), _DAY_EVENTS.day == bindparam("day"))
        .order_by(_DAY_EVENTS.seq))
_COURSES = t.courses.c
_COURSES_BETWEEN = select(_COURSES.id).where(
    ((_COURSES.last_day >= bindparam("first")) & (_COURSES.first_day <= bindparam("last")))
    | _COURSES.first_day.is_(None)
).order_by(_COURSES.id)
_PATIENT_COURSES_BETWEEN = _COURSES_BETWEEN.where(_COURSES.patient_id == bindparam("patient_id"))
_LAST_AUDIT = select(t.audit_log).order_by(t.audit_log.c.seq.desc()).limit(1)
_AUDIT_INSERT = insert(t.audit_log)


class _Repository:
    def __init__(self, connection: Connection, ledger: Ledger | None = None) -> None:
        self.c = connection
        self.ledger = ledger if ledger is not None else Ledger(connection)

    def _insert(self, table: Table, values: dict[str, Any]) -> int:
        """Insert a row of a protected table (through the ledger); returns its id."""
        return int(self.ledger.insert(table, values)["id"])

    def _first(self, table: Table, **equal: Any) -> dict[str, Any] | None:
        """The first row whose columns equal ``equal`` (column name -> value), or None."""
        row = self.c.execute(_select_by(table, tuple(equal)), equal).mappings().first()
        return dict(row) if row is not None else None

    def _rows(self, query: Any, parameters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return [dict(row) for row in self.c.execute(query, parameters).mappings()]


class UserRepository(_Repository):
    def add(self, user: User) -> User:
        values = {**_fields(user), "role": user.role.value}
        return User(**{**vars(user), "id": self._insert(t.users, values)})

    def get(self, user_id: int) -> User | None:
        row = self._first(t.users, id=user_id)
        return _user(row) if row is not None else None

    def by_username(self, username: str) -> User | None:
        row = self._first(t.users, username=username)
        return _user(row) if row is not None else None

    def list(self) -> list[User]:
        return [_user(row) for row in self._rows(select(t.users).order_by(t.users.c.id))]

    def count(self) -> int:
        return int(self.c.execute(select(func.count()).select_from(t.users)).scalar_one())

    def update(self, user: User) -> None:
        """Store the user's role, active flag, name and password hash (the username stays)."""
        self.ledger.update(update(t.users).where(t.users.c.id == user.id).values(
            full_name=user.full_name, role=user.role.value, active=user.active,
            password_hash=user.password_hash))


def _user(row: dict[str, Any]) -> User:
    return User(**{**row, "role": Role(row["role"])})


class SessionRepository(_Repository):
    def add(self, session: SessionRecord) -> None:
        self.c.execute(insert(t.sessions), vars(session))

    def get(self, token_hash: str) -> SessionRecord | None:
        row = self._first(t.sessions, token_hash=token_hash)
        return SessionRecord(**row) if row is not None else None

    def touch(self, token_hash: str, at: datetime) -> None:
        query = update(t.sessions).where(t.sessions.c.token_hash == token_hash)
        self.c.execute(query.values(last_seen_at=at))

    def delete(self, token_hash: str) -> None:
        self.c.execute(t.sessions.delete().where(t.sessions.c.token_hash == token_hash))


class TokenRepository(_Repository):
    def add(self, token: DeviceToken) -> DeviceToken:
        return DeviceToken(**{**vars(token), "id": self._insert(t.device_tokens, _fields(token))})

    def get(self, token_id: int) -> DeviceToken | None:
        row = self._first(t.device_tokens, id=token_id)
        return DeviceToken(**row) if row is not None else None

    def by_hash(self, token_hash: str) -> DeviceToken | None:
        row = self._first(t.device_tokens, token_hash=token_hash)
        return DeviceToken(**row) if row is not None else None

    def list(self) -> list[DeviceToken]:
        query = select(t.device_tokens).order_by(t.device_tokens.c.id)
        return [DeviceToken(**row) for row in self._rows(query)]

    def revoke(self, token_id: int, at: datetime, by: str) -> bool:
        tokens = t.device_tokens.c
        query = (update(t.device_tokens).where(tokens.id == token_id, tokens.revoked_at.is_(None))
                 .values(revoked_at=at, revoked_by=by))
        return bool(self.ledger.update(query))


class LoginFailureRepository(_Repository):
    def add(self, failure: LoginFailure) -> None:
        self.c.execute(insert(t.login_failures), vars(failure))

    def recent(self, *, since: datetime, limit: int, username: str | None = None,
               address: str | None = None) -> list[datetime]:
        failures = t.login_failures.c
        query = select(failures.at).where(failures.at > since)
        if username is not None:
            query = query.where(failures.username == username)
        if address is not None:
            query = query.where(failures.address == address)
        return list(self.c.execute(query.order_by(failures.at.desc()).limit(limit)).scalars())

    def forget(self, username: str) -> None:
        self.c.execute(delete(t.login_failures).where(t.login_failures.c.username == username))


class CentreRepository(_Repository):
    def get(self, centre_id: str) -> CentreConfig | None:
        row = self.c.execute(select(t.centres.c.config).where(t.centres.c.id == centre_id)).first()
        if row is None or not row[0]:
            return None
        try:
            return CentreConfig.model_validate(row[0])
        except ValidationError as exc:  # validated on write; a safety net
            raise ValidationFailed("CONFIG-INVALID",
                                   f"centre {centre_id}: {exc.errors()[0]['msg']}") from None

    def put(self, centre_id: str, config: CentreConfig) -> None:
        stored = config.model_dump(mode="json")
        changed = self.ledger.update(
            update(t.centres).where(t.centres.c.id == centre_id).values(config=stored))
        if not changed:
            self.ledger.insert(t.centres, {"id": centre_id, "name": config.name, "config": stored})


class PatientRepository(_Repository):
    def add(self, patient: PatientRecord) -> PatientRecord:
        return PatientRecord(**{**vars(patient), "id": self._insert(t.patients, _fields(patient))})

    def get(self, patient_id: int) -> PatientRecord | None:
        row = self._first(t.patients, id=patient_id)
        return PatientRecord(**row) if row is not None else None

    def by_pseudonym(self, pseudonym: str) -> PatientRecord | None:
        row = self._first(t.patients, pseudonym=pseudonym)
        return PatientRecord(**row) if row is not None else None

    def list(self) -> list[PatientRecord]:
        return [PatientRecord(**r) for r in self._rows(select(t.patients).order_by(t.patients.c.id))]

    def by_identifier(self, centre_id: str, identifier: str) -> PatientRecord | None:
        row = self._first(t.patients, centre_id=centre_id, identifier=identifier)
        return PatientRecord(**row) if row is not None else None

    def search(self, text: str, limit: int) -> builtins.list[PatientRecord]:
        """Patients whose name, identifier or pseudonym contains ``text`` (any case), by name."""
        like = f"%{text.lower()}%"
        c = t.patients.c
        query = (select(t.patients)
                 .where(func.lower(c.name).like(like) | func.lower(c.identifier).like(like)
                        | func.lower(c.pseudonym).like(like))
                 .order_by(c.name, c.id).limit(limit))
        return [PatientRecord(**r) for r in self._rows(query)]

    def update(self, patient: PatientRecord) -> None:
        """Store the patient's details (the pseudonym, centre and creation time stay)."""
        self.ledger.update(update(t.patients).where(t.patients.c.id == patient.id).values(
            name=patient.name, birth_date=patient.birth_date, sex=patient.sex,
            childbearing_potential=patient.childbearing_potential, weight_kg=patient.weight_kg,
            identifier=patient.identifier, contact=patient.contact))


class CourseRepository(_Repository):
    def add(self, course: CourseRecord) -> CourseRecord:
        return CourseRecord(**{**vars(course), "id": self._insert(t.courses, _fields(course))})

    def get(self, course_id: int) -> CourseRecord | None:
        row = self._first(t.courses, id=course_id)
        return CourseRecord(**row) if row is not None else None

    def for_patient(self, patient_id: int) -> list[CourseRecord]:
        query = select(t.courses).where(t.courses.c.patient_id == patient_id).order_by(t.courses.c.number)
        return [CourseRecord(**r) for r in self._rows(query)]

    def ids_with_days_between(self, first: date, last: date, *, patient_id: int | None = None) -> list[int]:
        query = _COURSES_BETWEEN if patient_id is None else _PATIENT_COURSES_BETWEEN
        parameters = {"first": first, "last": last, "patient_id": patient_id}
        return [int(row_id) for row_id in self.c.execute(query, parameters).scalars()]


class EventRepository(_Repository):
    def last_seq(self, course_id: int, day: int) -> int:
        query = select(func.max(t.day_events.c.seq)).where(
            t.day_events.c.course_id == course_id, t.day_events.c.day == day
        )
        return int(self.c.execute(query).scalar_one() or 0)

    def last(self, course_id: int, day: int) -> StoredEvent | None:
        rows = self._rows(_LAST_EVENT, {"course_id": course_id, "day": day})
        return StoredEvent(**rows[0]) if rows else None

    def add(self, event: StoredEvent) -> StoredEvent:
        # A taken (course, day, seq) fails the unique index. The caller's transaction (or its
        # savepoint) is then rolled back; nothing else is written in it after a Conflict.
        try:
            new_id = self._insert(t.day_events, _fields(event))
        except IntegrityError:
            raise Conflict(
                "EVENT-SEQ-STALE",
                f"expected_seq: sequence number {event.seq} of day {event.day} is already taken.",
                details={"expected_seq": "already taken"},
            ) from None
        return StoredEvent(**{**vars(event), "id": new_id})

    def for_day(self, course_id: int, day: int) -> list[StoredEvent]:
        return [StoredEvent(**r) for r in self._rows(_DAY, {"course_id": course_id, "day": day})]


def task_row(task: FollowUpTask, course_id: int | None = None) -> dict[str, Any]:
    """The stored row of a domain task (every writer uses it: create_course, the lab review, the
    bulk writers): the element, a call's infusion day and the requirement IDs are columns."""
    return {
        "course_id": task.course_id if course_id is None else course_id,
        "activity_id": task.activity_id, "name": task.name, "kind": task.kind.value,
        "due": task.due, "opens": task.opens, "overdue_from": task.overdue_from,
        "status": task.status.value, "closed_on": task.closed_on, "reason": task.reason,
        "element": task.element, "infusion_day": task.infusion_day,
        "requirements": list(task.requirements),
    }


def _task(row: Mapping[str, Any]) -> FollowUpTask:
    """A stored row (with its course's number as ``course``) as the domain's task."""
    return FollowUpTask(
        id=row["id"], course_id=row["course_id"], course=row["course"],
        activity_id=row["activity_id"], element=row["element"], kind=TaskKind(row["kind"]),
        name=row["name"], due=row["due"], opens=row["opens"], overdue_from=row["overdue_from"],
        requirements=tuple(row["requirements"]), infusion_day=row["infusion_day"],
        status=TaskStatus(row["status"]), closed_on=row["closed_on"], reason=row["reason"],
    )


def _tasks_with_course() -> Select[Any]:
    ft, c = t.follow_up_tasks, t.courses
    return select(ft, c.c.number.label("course")).join(c, c.c.id == ft.c.course_id)


class TaskRepository(_Repository):
    def add(self, task: FollowUpTask) -> FollowUpTask:
        return task.model_copy(update={"id": self._insert(t.follow_up_tasks, task_row(task))})

    def for_course(self, course_id: int) -> list[FollowUpTask]:
        ft = t.follow_up_tasks
        query = _tasks_with_course().where(ft.c.course_id == course_id).order_by(ft.c.due, ft.c.id)
        return [_task(r) for r in self._rows(query)]

    def get(self, task_id: int) -> FollowUpTask | None:
        rows = self._rows(_tasks_with_course().where(t.follow_up_tasks.c.id == task_id))
        return _task(rows[0]) if rows else None


class LabResultRepository(_Repository):
    def add(self, result: LabResultRecord) -> LabResultRecord:
        return LabResultRecord(**{**vars(result), "id": self._insert(t.lab_results, _fields(result))})

    def for_patient(self, patient_id: int) -> list[LabResultRecord]:
        lr = t.lab_results.c
        query = select(t.lab_results).where(lr.patient_id == patient_id).order_by(lr.taken_on, lr.id)
        return [LabResultRecord(**r) for r in self._rows(query)]


class AuditRepository(_Repository):
    def last(self) -> AuditEntry | None:
        rows = self._rows(_LAST_AUDIT)
        return AuditEntry(**rows[0]) if rows else None

    def add(self, entry: AuditEntry) -> None:
        self.c.execute(_AUDIT_INSERT, vars(entry))
        notify_change(self.c, entry.seq)  # PostgreSQL: delivered on commit, with the change

    def all(self) -> Iterator[AuditEntry]:
        for row in self.c.execute(select(t.audit_log).order_by(t.audit_log.c.seq)).mappings():
            yield AuditEntry(**dict(row))

    def at(self, seq: int) -> AuditEntry | None:
        row = self._first(t.audit_log, seq=seq)
        return AuditEntry(**row) if row is not None else None

    def page(self, after_seq: int, limit: int) -> list[AuditEntry]:
        query = select(t.audit_log).where(t.audit_log.c.seq > after_seq).order_by(t.audit_log.c.seq)
        return [AuditEntry(**r) for r in self._rows(query.limit(limit))]
