"""Engines: SQLite in WAL mode with synchronous=FULL and foreign keys; PostgreSQL via psycopg 3.

Write transactions hold one writer's lock for their whole length (SQLite ``BEGIN IMMEDIATE``,
a PostgreSQL transaction-level advisory lock), so sequence numbers and the audit hash chain
are always computed from the latest committed row.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections import deque
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text

WRITE_OPTION = "infusionist_write"
WRITE_LOCK_KEY = 7_361_204  # any constant; names the application's writer lock on PostgreSQL
SQLITE_BUSY_SECONDS = 30


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    if url.startswith("postgresql") and "+psycopg" not in url.split("://", 1)[0]:
        url = url.replace("postgresql", "postgresql+psycopg", 1)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS},
        pool_size=10,
        max_overflow=20,
        pool_timeout=SQLITE_BUSY_SECONDS,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the sqlite3 module so BEGIN IMMEDIATE is possible.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # NORMAL may lose acknowledged commits on power loss
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
        cursor.close()

    # Writers queue before BEGIN IMMEDIATE: SQLite's own busy handler polls with growing sleeps,
    # which makes the tail latency of contended writes very long. Threads of one process queue
    # on a lock; processes (``serve --workers N``) on a file lock beside the database, which the
    # kernel hands to the next waiter as soon as it is released.
    writers = _WriterQueue(engine.url.database)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        if write:
            writers.acquire()
            connection.info[WRITE_OPTION] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
        except BaseException:
            _release(connection)
            raise

    def _release(connection: Connection) -> None:
        if connection.info.pop(WRITE_OPTION, False):
            writers.release()

    event.listen(engine, "commit", _release)
    event.listen(engine, "rollback", _release)
    return engine


class _FifoLock:
    """A lock handed to waiting threads in the order they asked for it. ``threading.Lock`` lets
    any waiter (or the releasing thread itself, asking again) take it, so under load some writers
    wait many turns: the tail latency grows although the throughput does not change."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiters: deque[threading.Lock] = deque()

    def acquire(self) -> None:
        with self._mutex:
            if not self._held:
                self._held = True
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        try:
            turn.acquire()  # released by the previous holder: the lock is now ours
        except BaseException:  # interrupted while waiting: leave the queue, or pass the lock on
            with self._mutex:
                handed_over = turn not in self._waiters
                if not handed_over:
                    self._waiters.remove(turn)
            if handed_over:
                self.release()
            raise

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()  # still held, now by the next in line
            else:
                self._held = False


class _WriterQueue:
    """One writer at a time across the threads of this process (in turn) and, for a database
    file, across processes: an exclusive ``flock`` on ``<database>.writers``, taken on a file
    opened for each write and closed after it (closing releases it, also when a process dies)."""

    def __init__(self, database: str | None) -> None:
        self._threads = _FifoLock()
        in_memory = not database or database == ":memory:" or database.startswith("file::memory:")
        self._path = None if in_memory else f"{database}.writers"
        self._fd: int | None = None

    def acquire(self) -> None:
        self._threads.acquire()
        try:
            if self._path is not None:
                fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                except BaseException:
                    os.close(fd)
                    raise
                self._fd = fd
        except BaseException:
            self._threads.release()
            raise

    def release(self) -> None:
        try:
            if self._fd is not None:
                fd, self._fd = self._fd, None
                os.close(fd)
        finally:
            self._threads.release()


def begin(engine: Engine, *, write: bool) -> Connection:
    """A connection inside a transaction; a write transaction holds the writer's lock."""
    connection = engine.connect()
    if write:
        connection.execution_options(**{WRITE_OPTION: True})
    connection.begin()
    if write and engine.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})
    return connection
