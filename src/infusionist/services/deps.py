"""Everything a use case needs, wired once by ``infusionist.bootstrap``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

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
