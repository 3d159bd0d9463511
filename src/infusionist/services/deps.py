"""Everything a use case needs, wired once by ``infusionist.bootstrap``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from infusionist.domain.protocol import Protocol
from infusionist.services.ports import Clock, DayRules, PasswordHasher, UnitOfWorkFactory


@dataclass(frozen=True)
class Deps:
    uow: UnitOfWorkFactory
    clock: Clock
    hasher: PasswordHasher
    rules: DayRules
    protocol: Protocol
    session_idle: timedelta = timedelta(minutes=30)
    secure_cookies: bool = False
    database: str = "sqlite"
    # Courses read so far, with their parsed plans, by id. A stored course never changes and is
    # never deleted, so once read from this database it can be reused by every later request.
    known_courses: dict[int, Any] = field(default_factory=dict, compare=False, repr=False)
    # The infusion day (course id, day) a monitor's patient identifier was found on, by UTC date
    # (``services.device_vitals``): saves finding it again for every message of that day.
    device_days: dict[tuple[str, date], tuple[int, int]] = field(default_factory=dict, compare=False,
                                                                 repr=False)
