"""The unit of work: one database transaction with every repository bound to it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from sqlalchemy import Connection, Engine, NestedTransaction

from infusionist.adapters.db import repositories as r
from infusionist.adapters.db.chairs import BookingRepository, ChairRepository, UnitSettingsRepository
from infusionist.adapters.db.engine import begin
from infusionist.adapters.db.followup_tasks import FollowUpTaskRepository
from infusionist.adapters.db.inbound import DeviceRepository, InboundMessageRepository
from infusionist.adapters.db.ledger import Ledger
from infusionist.adapters.db.protected import LedgerRepository
from infusionist.adapters.db.unit_admin import CentreVersionRepository, FlashRepository


class SqlUnitOfWork:
    def __init__(self, engine: Engine, *, write: bool) -> None:
        self._engine = engine
        self._write = write
        self._connection: Connection | None = None

    def __enter__(self) -> SqlUnitOfWork:
        connection = begin(self._engine, write=self._write)
        self._connection = connection
        # One ledger per transaction, shared by every repository: each protected write appends
        # to it (``adapters/db/ledger.py``).
        ledger = self._ledger = Ledger(connection, deferred=True)
        self.users = r.UserRepository(connection, ledger)
        self.sessions = r.SessionRepository(connection, ledger)
        self.tokens = r.TokenRepository(connection, ledger)
        self.centres = r.CentreRepository(connection, ledger)
        self.patients = r.PatientRepository(connection, ledger)
        self.courses = r.CourseRepository(connection, ledger)
        self.events = r.EventRepository(connection, ledger)
        self.tasks = FollowUpTaskRepository(connection, ledger)
        self.lab_results = r.LabResultRepository(connection, ledger)
        self.audit = r.AuditRepository(connection, ledger)
        self.inbound = InboundMessageRepository(connection, ledger)
        self.devices = DeviceRepository(connection, ledger)
        self.login_failures = r.LoginFailureRepository(connection)
        self.chairs = ChairRepository(connection)
        self.unit_settings = UnitSettingsRepository(connection)
        self.bookings = BookingRepository(connection)
        self.ledger = LedgerRepository(ledger)
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
        self._ledger.flush()  # the transaction's ledger entries, in one statement
        self._connection.commit()

    @contextmanager
    def savepoint(self) -> Iterator[NestedTransaction]:
        """SAVEPOINT: released when the block ends, rolled back to if it raises (and the
        ledger's head with it)."""
        assert self._connection is not None
        mark = self._ledger.mark()
        with self._connection.begin_nested() as nested:
            try:
                yield nested
            except BaseException:
                self._ledger.reset(mark)
                raise


class SqlUnitOfWorkFactory:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, *, write: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, write=write)
