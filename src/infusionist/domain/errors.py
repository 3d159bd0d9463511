"""One exception tree for every refusal the system makes.

Every error carries a stable ``code`` (shown by the API and the CLI, never changed once
published) and a ``message`` written for the nurse or physician who reads it. Where the refusal
enforces a rule of the protocol, ``requirements`` names the requirement IDs
(``PROT-nn`` / ``IAR-nn`` / ``C-n``) so that the person can look the rule up.

    InfusionistError
    ├── ProtocolError        the protocol file is malformed or inconsistent   PROTOCOL-*
    ├── ConfigError          a centre configuration breaks a protocol limit   CONFIG-*
    ├── PlanningError        a course cannot be planned as asked             PLAN-*
    ├── EventRefused         a bedside event is refused by a guard            DAY-*
    ├── FollowUpRefused      a follow-up task cannot change as asked          FOLLOWUP-*
    ├── ValidationFailed     an entry is impossible (per-field messages)     VITALS-*, INPUT-*
    ├── NotAuthenticated     no valid session or token                        AUTH-*
    ├── Throttled            too many failed log-ins; retry after a while     AUTH-THROTTLED
    ├── AccessDenied         the role may not do this                         ACCESS-*
    ├── NotFound             the record does not exist                        *-NOT-FOUND
    ├── Conflict             stale sequence number or duplicate               *-STALE, *-EXISTS
    └── Unavailable          a capability is not installed yet                *-UNAVAILABLE
"""

from __future__ import annotations


class InfusionistError(Exception):
    """Base of every refusal; ``code`` is stable, ``message`` is for people."""

    code: str = "INFUSIONIST-ERROR"

    def __init__(
        self,
        code: str,
        message: str,
        *,
        requirements: tuple[str, ...] = (),
        details: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.requirements = requirements
        self.details = dict(details or {})

    def one_line(self) -> str:
        refs = f" [{', '.join(self.requirements)}]" if self.requirements else ""
        return f"{self.code}: {self.message}{refs}"


class ProtocolError(InfusionistError):
    """The protocol data is malformed or internally inconsistent."""


class ConfigError(InfusionistError):
    """A centre configuration asks for something outside the protocol's limits."""


class PlanningError(InfusionistError):
    """A course cannot be planned as requested."""


class EventRefused(InfusionistError):
    """A guard refused a bedside event; nothing was recorded."""


class FollowUpRefused(InfusionistError):
    """A follow-up task cannot change as asked (already closed, or no reason given)."""


class ValidationFailed(InfusionistError):
    """An entry is impossible; ``details`` maps each field to its message."""


class NotAuthenticated(InfusionistError):
    """No valid session or API token: log in first."""


class Throttled(InfusionistError):
    """Too many failed log-ins for the account or from the address: ``retry_after`` seconds."""

    def __init__(self, code: str, message: str, *, retry_after: int,
                 details: dict[str, str] | None = None) -> None:
        super().__init__(code, message, details=details)
        self.retry_after = retry_after


class AccessDenied(InfusionistError):
    """The user's role does not allow this; nothing was done."""


class NotFound(InfusionistError):
    """The record asked for does not exist (or is not visible to this user)."""


class Conflict(InfusionistError):
    """Someone else wrote first (stale sequence number) or the record already exists."""


class Unavailable(InfusionistError):
    """The capability is not available in this build."""
