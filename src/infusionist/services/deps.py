"""Everything a use case needs, wired once by ``infusionist.bootstrap``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from infusionist.domain.errors import ValidationFailed
from infusionist.domain.protocol import Protocol
from infusionist.services.ports import Clock, DayRules, PasswordHasher, PasswordList, UnitOfWorkFactory


@dataclass(frozen=True)
class AuthPolicy:
    """The product defaults of identity (each one an ``INFUSIONIST_*`` setting, ``config.py``)."""

    session_idle: timedelta = timedelta(minutes=30)  # slides with every request
    session_absolute: timedelta = timedelta(hours=12)  # from the log-in, never extended
    account_failures: int = 5  # failed log-ins of one user name within the window ...
    address_failures: int = 20  # ... or from one source address, then 429 until the window passes
    failure_window: timedelta = timedelta(minutes=15)
    password_min_length: int = 12
    token_days_default: int = 90  # a device token's life when none is asked for
    token_days_max: int = 365


@dataclass(frozen=True)
class Deps:
    uow: UnitOfWorkFactory
    clock: Clock
    hasher: PasswordHasher
    rules: DayRules
    protocol: Protocol
    common_passwords: PasswordList
    auth: AuthPolicy = AuthPolicy()
    # None: Secure unless the request came over plain HTTP on loopback (the demo); True/False: always/never.
    secure_cookies: bool | None = None
    database: str = "sqlite"
    # Courses read so far, with their parsed plans, by id. A stored course never changes and is
    # never deleted, so once read from this database it can be reused by every later request.
    known_courses: dict[int, Any] = field(default_factory=dict, compare=False, repr=False)
    # The infusion day (course id, day) a monitor's patient identifier was found on, by UTC date
    # (``services.device_vitals``): saves finding it again for every message of that day.
    device_days: dict[tuple[str, date], tuple[int, int]] = field(default_factory=dict, compare=False,
                                                                 repr=False)
    # The other therapies a course may be planned with, by protocol id (the bundled protocols).
    protocols: dict[str, Protocol] = field(default_factory=dict, compare=False, repr=False)

    def protocol_for(self, protocol_id: str | None) -> Protocol:
        """The protocol of a therapy by id; None: the unit's default protocol."""
        if protocol_id is None or protocol_id == self.protocol.id:
            return self.protocol
        found = self.protocols.get(protocol_id)
        if found is None:
            choices = ", ".join(sorted({self.protocol.id, *self.protocols}))
            raise ValidationFailed("COURSE-THERAPY-UNKNOWN",
                                   f"This unit has no therapy {protocol_id!r}; choose one of {choices}.",
                                   details={"protocol_id": "unknown therapy"})
        return found
