"""Who may do what: roles, permissions and the pseudonymised view for investigators.

Deny by default: a permission not listed for a role is refused. ``docs/security.md`` shows the
same matrix per route, and a test walks every route with every role against it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from infusionist.domain.errors import AccessDenied


class Role(StrEnum):
    NURSE = "nurse"
    PHYSICIAN = "physician"
    INVESTIGATOR = "investigator"
    ADMIN = "admin"


USERNAME_PATTERN = r"^[a-z0-9_.-]{1,64}$"
FULL_NAME_MAX_LENGTH = 200  # the name printed with a signature


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


def pseudonymise_plan(plan: dict[str, Any], pseudonym: str) -> dict[str, Any]:
    """The plan JSON with the patient's identifier replaced by the study pseudonym."""
    return {**plan, "patient": {**plan.get("patient", {}), "id": pseudonym}}
