"""One exception tree for every refusal the system makes.

Every error carries a stable ``code`` (shown by the API and the CLI, never changed once
published) and a ``message`` written for the nurse or physician who reads it. Where the refusal
enforces a rule of the protocol, ``requirements`` names the requirement IDs
(``PROT-nn`` / ``IAR-nn`` / ``C-n``) so that the person can look the rule up.

    InfusionistError
    ├── ProtocolError        the protocol file is malformed or inconsistent   PROTOCOL-*
    │                        (PROTOCOL-DRUG-LIMIT, PROTOCOL-DRUG-NOT-IN-LIBRARY: a drug the
    │                        protocol schedules breaks its drug library; PROTOCOL-CHANGED-
    │                        WITHOUT-VERSION: a released version's content was changed)
    ├── ConfigError          a centre configuration breaks a protocol limit   CONFIG-*
    │                        (CONFIG-ALERT-SILENCES: a threshold would silence NEWS2 3 / CTCAE 2)
    ├── PlanningError        a course cannot be planned as asked             PLAN-*
    ├── EventRefused         a bedside event is refused by a guard            DAY-*
    │                        or by the drug library (domain/drug_library.py)  DRUG-*:
    │                        DRUG-HARD-LIMIT-SINGLE, DRUG-HARD-LIMIT-24H, DRUG-MIN-INTERVAL,
    │                        DRUG-ROUTE-NOT-ALLOWED, DRUG-DOSE-UNIT (always refused);
    │                        DRUG-SOFT-LIMIT (accepted with a reason), DRUG-NOT-IN-LIBRARY
    │                        (accepted with an indication), both then flagged for the physician
    ├── FollowUpRefused      a follow-up task cannot change as asked          FOLLOWUP-*
    ├── BookingRefused       a day cannot take a chair then (hours, closed)   CHAIR-*
    ├── ValidationFailed     an entry is impossible (per-field messages)     VITALS-*, INPUT-*, HL7-*
    ├── NotAuthenticated     no valid session or token                        AUTH-*
    ├── Throttled            too many failed log-ins; retry after a while     AUTH-THROTTLED
    ├── AccessDenied         the role may not do this                         ACCESS-*
    ├── NotFound             the record does not exist                        *-NOT-FOUND
    ├── Conflict             stale sequence number or duplicate               *-STALE, *-EXISTS
    │                        synthetic trial into a database of real patients SYNTH-REAL-PATIENTS
    │   └── ChairConflict    the chair or the unit's staff is already taken   CHAIR-TAKEN, CHAIR-*-FULL
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


class BookingRefused(InfusionistError):
    """A day cannot hold a chair at that time (outside opening hours, a closed day, no such
    chair); ``details`` may carry the next time that fits (``next_start``, ``next_chair``)."""


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
    """Someone else wrote first (stale sequence number), the record already exists, or the records
    there forbid the write (a synthetic trial into real patients' records)."""


class ChairConflict(Conflict):
    """The chair is taken, or the unit cannot start or look after one more patient then;
    ``details`` carries the next time that fits when there is one."""


class Unavailable(InfusionistError):
    """The capability is not available in this build."""
