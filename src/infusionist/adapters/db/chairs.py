"""The unit's chairs, its working rules and the chair bookings (migration 0009)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from infusionist.adapters.db import tables as t
from infusionist.domain.capacity import Chair, ChairKind, UnitRules
from infusionist.domain.errors import ChairConflict, Conflict, ValidationFailed
from infusionist.domain.records import BookingRecord, CalendarRow, SlotRow

_B = t.chair_bookings.c
_LIVE = _B.cancelled_at.is_(None)
_LIVE_SLOTS = (select(_B.id, _B.chair_id, _B.course_id, _B.day, _B.starts_at, _B.infusion_at, _B.ends_at,
                      _B.held_until)
               .where(_LIVE, _B.starts_at >= bindparam("first"), _B.starts_at < bindparam("last"))
               .order_by(_B.starts_at, _B.chair_id))


class ChairRepository:
    def __init__(self, connection: Connection) -> None:
        self.c = connection

    def list(self, centre_id: str) -> list[Chair]:
        query = select(t.chairs).where(t.chairs.c.centre_id == centre_id).order_by(t.chairs.c.id)
        return [_chair(row) for row in self.c.execute(query).mappings()]

    def add(self, centre_id: str, chair: Chair, created_at: datetime) -> Chair:
        try:
            with self.c.begin_nested():
                new_id = self.c.execute(insert(t.chairs).returning(t.chairs.c.id), {
                    "centre_id": centre_id, "name": chair.name, "kind": chair.kind.value,
                    "active": chair.active, "created_at": created_at}).scalar_one()
        except IntegrityError:
            raise Conflict("CHAIR-NAME-EXISTS", f"The unit already has a chair called {chair.name}.",
                           details={"name": "already used"}) from None
        return chair.model_copy(update={"id": int(new_id)})

    def update(self, centre_id: str, chair: Chair) -> bool:
        try:
            with self.c.begin_nested():
                changed = self.c.execute(
                    update(t.chairs).where(t.chairs.c.id == chair.id, t.chairs.c.centre_id == centre_id)
                    .values(name=chair.name, kind=chair.kind.value, active=chair.active))
        except IntegrityError:
            raise Conflict("CHAIR-NAME-EXISTS", f"The unit already has a chair called {chair.name}.",
                           details={"name": "already used"}) from None
        return bool(changed.rowcount)


def _chair(row: Any) -> Chair:
    return Chair(id=row["id"], name=row["name"], kind=ChairKind(row["kind"]), active=row["active"])


class UnitSettingsRepository:
    def __init__(self, connection: Connection) -> None:
        self.c = connection

    def get(self, centre_id: str) -> UnitRules | None:
        row = self.c.execute(select(t.unit_settings.c.settings)
                             .where(t.unit_settings.c.centre_id == centre_id)).first()
        if row is None:
            return None
        try:
            return UnitRules.model_validate(row[0] or {})
        except ValidationError as exc:  # validated on write; a safety net
            raise ValidationFailed("UNIT-INVALID", f"The unit's stored settings are invalid: "
                                   f"{exc.errors()[0]['msg']}") from None

    def put(self, centre_id: str, rules: UnitRules, at: datetime) -> None:
        settings = rules.model_dump(mode="json")
        changed = self.c.execute(update(t.unit_settings).where(t.unit_settings.c.centre_id == centre_id)
                                 .values(settings=settings, updated_at=at))
        if changed.rowcount == 0:
            self.c.execute(insert(t.unit_settings).values(centre_id=centre_id, settings=settings,
                                                          updated_at=at))


class BookingRepository:
    def __init__(self, connection: Connection) -> None:
        self.c = connection

    def add(self, booking: BookingRecord) -> BookingRecord:
        """Insert a live booking; the database's safeguards (a day booked twice; on PostgreSQL
        an overlap on the chair) answer ``ChairConflict``. Only this insert is undone then."""
        values = {k: v for k, v in vars(booking).items() if k != "id"}
        try:
            with self.c.begin_nested():
                new_id = self.c.execute(insert(t.chair_bookings).returning(_B.id), values).scalar_one()
        except IntegrityError:
            raise ChairConflict("CHAIR-TAKEN", "That chair or that day was booked by someone else "
                                "a moment ago; nothing was saved.") from None
        return BookingRecord(**{**vars(booking), "id": int(new_id)})

    def get(self, booking_id: int) -> BookingRecord | None:
        row = self.c.execute(select(t.chair_bookings).where(_B.id == booking_id)).mappings().first()
        return BookingRecord(**row) if row is not None else None

    def live_between(self, first: datetime, last: datetime) -> list[BookingRecord]:
        query = (select(t.chair_bookings).where(_LIVE, _B.starts_at >= first, _B.starts_at < last)
                 .order_by(_B.starts_at, _B.chair_id))
        return [BookingRecord(**row) for row in self.c.execute(query).mappings()]

    def live_slots_between(self, first: datetime, last: datetime) -> list[SlotRow]:
        """The same bookings as plain tuples of the columns the rules read (the search reads
        thousands: a record per row costs more than the query)."""
        return [SlotRow(*row) for row in self.c.execute(_LIVE_SLOTS, {"first": first, "last": last})]

    def for_course(self, course_id: int) -> list[BookingRecord]:
        query = select(t.chair_bookings).where(_LIVE, _B.course_id == course_id).order_by(_B.day)
        return [BookingRecord(**row) for row in self.c.execute(query).mappings()]

    def calendar(self, first: datetime, last: datetime) -> list[CalendarRow]:
        query = (select(t.chair_bookings, t.patients.c.id.label("patient_id"),
                        t.patients.c.name.label("patient_name"), t.patients.c.pseudonym,
                        t.courses.c.number.label("course_number"))
                 .join(t.courses, t.courses.c.id == _B.course_id)
                 .join(t.patients, t.patients.c.id == t.courses.c.patient_id)
                 .where(_LIVE, _B.starts_at >= first, _B.starts_at < last)
                 .order_by(_B.starts_at, _B.chair_id))
        names = [c.name for c in t.chair_bookings.c]
        return [CalendarRow(booking=BookingRecord(**{n: row[n] for n in names}),
                            patient_id=row["patient_id"], patient_name=row["patient_name"],
                            pseudonym=row["pseudonym"], course=row["course_number"])
                for row in self.c.execute(query).mappings()]

    def cancel(self, booking_id: int, at: datetime, by: str, reason: str) -> bool:
        changed = self.c.execute(update(t.chair_bookings).where(_B.id == booking_id, _LIVE)
                                 .values(cancelled_at=at, cancelled_by=by, cancel_reason=reason))
        return bool(changed.rowcount)
