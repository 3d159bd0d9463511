"""The unit of work: one database transaction with every repository bound to it."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Connection, Engine, NestedTransaction

from infusionist.adapters.db import repositories as r
from infusionist.adapters.db.chairs import BookingRepository, ChairRepository, UnitSettingsRepository
from infusionist.adapters.db.engine import begin
from infusionist.adapters.db.followup_tasks import FollowUpTaskRepository
from infusionist.adapters.db.inbound import DeviceRepository, InboundMessageRepository
from infusionist.adapters.db.unit_admin import CentreVersionRepository, FlashRepository


class SqlUnitOfWork:
    def __init__(self, engine: Engine, *, write: bool) -> None:
        self._engine = engine
        self._write = write
        self._connection: Connection | None = None

    def __enter__(self) -> SqlUnitOfWork:
        connection = begin(self._engine, write=self._write)
        self._connection = connection
        self.users = r.UserRepository(connection)
        self.sessions = r.SessionRepository(connection)
        self.tokens = r.TokenRepository(connection)
        self.login_failures = r.LoginFailureRepository(connection)
        self.centres = r.CentreRepository(connection)
        self.patients = r.PatientRepository(connection)
        self.courses = r.CourseRepository(connection)
        self.events = r.EventRepository(connection)
        self.tasks = FollowUpTaskRepository(connection)
        self.lab_results = r.LabResultRepository(connection)
        self.audit = r.AuditRepository(connection)
        self.inbound = InboundMessageRepository(connection)
        self.devices = DeviceRepository(connection)
        self.chairs = ChairRepository(connection)
        self.unit_settings = UnitSettingsRepository(connection)
        self.bookings = BookingRepository(connection)
        self.centre_versions = CentreVersionRepository(connection)
        self.flashes = FlashRepository(connection)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._connection is not None
        try:
            if self._connection.in_transaction():
                self._connection.rollback()
        finally:
            self._connection.close()
            self._connection = None

    def commit(self) -> None:
        assert self._connection is not None
        self._connection.commit()

    def savepoint(self) -> NestedTransaction:
        """SAVEPOINT: released when the block ends, rolled back to if it raises."""
        assert self._connection is not None
        return self._connection.begin_nested()


class SqlUnitOfWorkFactory:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, *, write: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, write=write)
