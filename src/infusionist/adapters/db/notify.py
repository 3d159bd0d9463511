"""Change notifications on PostgreSQL: NOTIFY with every audit row, LISTEN in each worker.

Every recorded change writes an audit row in its own transaction, and the audit repository
calls :func:`notify_change` in that same transaction: PostgreSQL delivers the notification on
commit and drops it on rollback, so a listener never hears of a change that did not happen.
Each web worker process holds one :class:`ChangeListener` (one dedicated connection in a daemon
thread) that wakes the board's server-sent-event streams of that worker at once. On SQLite
there is nothing to listen to: the streams poll the audit trail's last row instead.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import URL, make_url

CHANNEL = "infusionist_changes"


def notify_change(connection: Connection, seq: int) -> None:
    """``NOTIFY`` the audit row ``seq`` in the caller's transaction (PostgreSQL only)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_notify(:channel, :payload)"),
                           {"channel": CHANNEL, "payload": str(seq)})


class ChangeListener:
    """``LISTEN`` on a dedicated connection; :meth:`wait` returns when a change was committed.

    ``generation`` counts the notifications received (and reconnections, after which a change
    may have been missed); a waiter passes the generation it has seen, so a notification that
    arrives between reading the data and starting to wait is never lost.
    """

    def __init__(self, url: str | URL, *, reconnect_seconds: float = 1.0) -> None:
        self._dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._reconnect = reconnect_seconds
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()
        self.generation = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="infusionist-listen", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop listening; waiting streams wake (and re-read the marker, or see they are gone)."""
        self._stop.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    async def wait(self, seen: int, timeout: float) -> bool:
        """Wait until ``generation`` passes ``seen`` (True) or ``timeout`` seconds pass (False)."""
        event = asyncio.Event()
        waiter = (asyncio.get_running_loop(), event)
        with self._lock:
            if self.generation != seen:
                return True
            self._waiters.add(waiter)
        try:
            await asyncio.wait_for(event.wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            with self._lock:
                self._waiters.discard(waiter)

    def _wake(self) -> None:
        with self._lock:
            self.generation += 1
            waiters = list(self._waiters)
        for loop, event in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    self._wake()  # a change may have been missed while (re)connecting
                    while not self._stop.is_set():
                        for _note in connection.notifies(timeout=0.5):
                            self._wake()
            except psycopg.Error:
                self.listening.clear()
                self._stop.wait(self._reconnect)
        self.listening.clear()

    def __enter__(self) -> ChangeListener:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
