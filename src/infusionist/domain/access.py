"""Who may do what: roles, permissions and the pseudonymised view for investigators.

Deny by default: a permission not listed for a role is refused. ``docs/security.md`` shows the
same matrix per route, and a test walks every route with every role against it.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from infusionist.domain.errors import AccessDenied


class Role(StrEnum):
    NURSE = "nurse"
    PHYSICIAN = "physician"
    INVESTIGATOR = "investigator"
    ADMIN = "admin"
    # A monitor or pump with a device token: not a person, never a user's role (USER_ROLES).
    DEVICE = "device"


# The roles a user (a person who logs in) may hold.
USER_ROLES: tuple[Role, ...] = (Role.NURSE, Role.PHYSICIAN, Role.INVESTIGATOR, Role.ADMIN)

USERNAME_PATTERN = r"^[a-z0-9_.-]{1,64}$"
FULL_NAME_MAX_LENGTH = 200  # the name printed with a signature
# A device's name (letters, digits, space, '.', '_', '-'); recorded as "device:<name>" (64 at most).
DEVICE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,56}$"
# What a device may record: measurements, never a clinical decision or a person's entry.
DEVICE_EVENT_TYPES = frozenset({"vital_signs"})


class Permission(StrEnum):
    MANAGE_USERS = "manage_users"
    CONFIGURE_CENTRE = "configure_centre"
    READ_CENTRE = "read_centre"
    REGISTER_PATIENT = "register_patient"
    READ_CLINICAL = "read_clinical"
    READ_PSEUDONYMISED = "read_pseudonymised"
    PLAN_COURSE = "plan_course"
    RECORD_EVENT = "record_event"
    SIGN = "sign"
    READ_AUDIT = "read_audit"
    RECORD_DEVICE_READING = "record_device_reading"


_CLINICAL_READ = {Permission.READ_CLINICAL, Permission.READ_PSEUDONYMISED, Permission.READ_CENTRE}

GRANTS: dict[Role, frozenset[Permission]] = {
    Role.NURSE: frozenset(
        {*_CLINICAL_READ, Permission.REGISTER_PATIENT, Permission.RECORD_EVENT}
    ),
    Role.PHYSICIAN: frozenset(
        {
            *_CLINICAL_READ,
            Permission.REGISTER_PATIENT,
            Permission.RECORD_EVENT,
            Permission.PLAN_COURSE,
            Permission.SIGN,
            Permission.READ_AUDIT,
        }
    ),
    Role.INVESTIGATOR: frozenset({Permission.READ_PSEUDONYMISED, Permission.READ_CENTRE}),
    Role.ADMIN: frozenset(
        {Permission.MANAGE_USERS, Permission.CONFIGURE_CENTRE, Permission.READ_CENTRE,
         Permission.READ_AUDIT}
    ),
    Role.DEVICE: frozenset({Permission.RECORD_DEVICE_READING}),
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in GRANTS.get(role, frozenset())


def require(role: Role, permission: Permission) -> None:
    if not allows(role, permission):
        raise AccessDenied(
            "ACCESS-DENIED",
            f"The {role.value} role may not {permission.value.replace('_', ' ')}.",
            details={"role": role.value, "permission": permission.value},
        )


def require_recording(role: Role, event_type: str) -> None:
    """A person with ``record_event`` records any event; a device only what devices measure."""
    if allows(role, Permission.RECORD_EVENT):
        return
    if allows(role, Permission.RECORD_DEVICE_READING) and event_type in DEVICE_EVENT_TYPES:
        return
    if allows(role, Permission.RECORD_DEVICE_READING):
        raise AccessDenied(
            "ACCESS-DENIED-DEVICE",
            f"A device may record only {', '.join(sorted(DEVICE_EVENT_TYPES))}, not {event_type!r}.",
            details={"role": role.value, "event": event_type or "missing type"},
        )
    require(role, Permission.RECORD_EVENT)


# Audit rows whose values an admin reads: administration itself. Every other row (patients,
# courses, events, results, tasks, and any entity added later) shows an admin who did what to
# which record and when, never the values (deny by default; docs/security.md).
ADMINISTRATIVE_ENTITIES = frozenset({"user", "device_token", "centre", "device", "unit", "chair"})


def sees_audit_values(role: Role, entity: str) -> bool:
    """Whether ``role`` reads the old and new values and the reason of an audit row about ``entity``."""
    return allows(role, Permission.READ_CLINICAL) or entity in ADMINISTRATIVE_ENTITIES


def sees_identity(role: Role) -> bool:
    """Only roles that may read clinical data see names, birth dates and free text."""
    return allows(role, Permission.READ_CLINICAL)


# Keys of event payloads that may hold free text written by people (and so identify someone).
FREE_TEXT_KEYS = frozenset(
    {"note", "notes", "comment", "comments", "text", "free_text", "reason", "description",
     "details", "name", "patient_name"}
)


def strip_free_text(value: Any) -> Any:
    """The payload without any free-text field, at any depth (for investigators)."""
    if isinstance(value, dict):
        return {k: strip_free_text(v) for k, v in value.items() if k not in FREE_TEXT_KEYS}
    if isinstance(value, list):
        return [strip_free_text(v) for v in value]
    return value


REDACTED = "[redacted]"
_DECIMAL_TEXT = re.compile(r"-?[0-9]{1,18}(\.[0-9]{1,9})?")
# Keys whose text is coded, so it names no one: an event's type and time, a route and a unit from
# closed lists, symptom ids the bedside guards check against the protocol.
# Coded values, and the author the server sets (a staff username, never typed about the patient).
CODED_KEYS = frozenset({"type", "at", "route", "unit", "symptoms", "by", "decision"})
# What a signature shows an investigator: who signed (staff, not the patient) and when.
SIGNATURE_KEYS = frozenset({"printed_name", "username", "signed_at"})


def redact_free_text(value: Any, key: str | None = None) -> Any:
    """For investigators: every text a person typed replaced by ``[redacted]``, at any depth.

    An allow-list: only the values of ``CODED_KEYS`` stay text; numbers (also when stored as
    decimal text, as the pages send vital signs), booleans and nulls stay as they are. A nurse may
    type a patient's name into any other text (an event id, a test result, a reason, a
    correction's target), so none of it leaves for a pseudonymised reader.
    """
    if isinstance(value, dict):
        return {k: redact_free_text(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_free_text(v, key) for v in value]
    if isinstance(value, str) and key not in CODED_KEYS and not _DECIMAL_TEXT.fullmatch(value):
        return REDACTED
    return value


def redact_signature(signature: dict[str, str]) -> dict[str, str]:
    """The signature without its typed meaning (for investigators)."""
    return {k: v if k in SIGNATURE_KEYS else REDACTED for k, v in signature.items()}


def pseudonymise_plan(plan: dict[str, Any], pseudonym: str) -> dict[str, Any]:
    """The plan JSON with the patient's identifier replaced by the study pseudonym."""
    return {**plan, "patient": {**plan.get("patient", {}), "id": pseudonym}}
