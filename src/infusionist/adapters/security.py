"""Password hashing with argon2id (RFC 9106 parameters of argon2-cffi) and the system clock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2Hasher:
    """argon2id; at most ``at_once`` hashes or verifications run at the same time in this
    process, so that a burst of log-ins (each one costs memory_kib and a core for a while)
    queues instead of taking every core and the memory from the other requests."""

    def __init__(self, time_cost: int = 3, memory_kib: int = 65536, at_once: int = 2) -> None:
        self._argon2 = _Argon2(time_cost=time_cost, memory_cost=memory_kib)  # argon2id
        self._slots = threading.BoundedSemaphore(at_once)

    def hash(self, password: str) -> str:
        with self._slots:
            return self._argon2.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        with self._slots:
            try:
                return self._argon2.verify(password_hash, password)
            except (VerificationError, InvalidHashError):
                return False


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
