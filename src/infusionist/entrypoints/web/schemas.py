"""Request and response shapes at the web edge (the services take and return plain values)."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from infusionist.domain.access import FULL_NAME_MAX_LENGTH, USERNAME_PATTERN, Role

Name = Field(min_length=1, max_length=200)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(_In):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class WhoAmI(BaseModel):
    username: str
    full_name: str
    role: Role


class UserIn(_In):
    username: str = Field(pattern=USERNAME_PATTERN)
    full_name: str = Field(min_length=1, max_length=FULL_NAME_MAX_LENGTH)
    role: Role
    password: str = Field(min_length=8, max_length=200)


class UserOut(BaseModel):
    id: int
    username: str
    full_name: str
    role: Role
    active: bool


class TokenIn(_In):
    username: str = Field(min_length=1, max_length=64)
    name: str = Name


class TokenOut(BaseModel):
    token: str
    username: str
    name: str


class PhysicianSignatureIn(_In):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class CentreIn(_In):
    config: dict[str, Any]
    reason: str | None = Field(default=None, max_length=1000)
    signature: PhysicianSignatureIn | None = Field(
        default=None, description="A physician's username and password: required when a clinical "
        "setting changes (vital-sign interval, options, courses, alert thresholds, ...)")


class UserChangeIn(_In):
    """Change a user's role and/or whether they can log in (admin); the reason goes to the audit trail."""

    role: Role | None = None
    active: bool | None = None
    reason: str | None = Field(default=None, max_length=1000)


class PasswordIn(_In):
    password: str = Field(min_length=1, max_length=200)


class CentreVersionOut(BaseModel):
    version: int
    config: dict[str, Any]
    created_at: str
    created_by: str
    signed_by: str | None
    reason: str | None


class DeviceIn(_In):
    place: str = Field(min_length=1, max_length=100, description="The chair or bed (PV1-3)")
    interval_seconds: int = Field(ge=1, le=86_400, description="How often the monitor sends")
    description: str = Field(default="", max_length=200)


class DeviceOut(BaseModel):
    device_id: str
    configured: bool
    place: str | None
    interval_seconds: int | None
    description: str
    last_message_at: str | None
    silent: bool
    alert: dict[str, Any] | None


class PatientIn(_In):
    name: str = Name
    birth_date: date | None = None
    sex: Literal["female", "male"]
    childbearing_potential: bool = False
    weight_kg: Decimal | None = Field(default=None, gt=0, le=500, max_digits=6, decimal_places=2)
    identifier: str | None = Field(default=None, max_length=64, description="The hospital's patient number")
    contact: str | None = Field(default=None, max_length=200, description="Phone or address of the patient")


class PatientEditIn(PatientIn):
    reason: str | None = Field(default=None, max_length=1000)


class PatientOut(BaseModel):
    id: int
    pseudonym: str
    centre_id: str
    sex: str
    childbearing_potential: bool
    weight_kg: str | None
    name: str | None = None
    birth_date: str | None = None
    identifier: str | None = None
    contact: str | None = None


class CourseIn(_In):
    course: int = Field(ge=1, le=20)
    first_day: date
    infusion_start: time = time(9, 0)
    timezone: str | None = Field(default=None, max_length=64)
    previous_course_end: date | None = None


class CourseOut(BaseModel):
    id: int
    patient_id: int
    course: int
    protocol: dict[str, str]
    created_at: str
    created_by: str
    centre_version: int | None = None
    plan: dict[str, Any]


class TaskOut(BaseModel):
    id: int
    activity_id: str
    name: str
    due: str
    status: str


class SignatureIn(_In):
    password: str = Field(min_length=1, max_length=200)
    meaning: str = Field(min_length=1, max_length=200)


class EventIn(_In):
    expected_seq: int = Field(ge=1, le=1_000_000, description="The sequence number this event takes: "
                              "the number of events the client has seen for the day, plus one.")
    event: dict[str, Any]
    signature: SignatureIn | None = None


class EventOut(BaseModel):
    course_id: int
    day: int
    seq: int
    type: str
    recorded_at: str
    recorded_by: str
    payload: dict[str, Any]
    signature: dict[str, str] | None = None


class AuditOut(BaseModel):
    seq: int
    at: str
    actor: str
    action: str
    entity: str
    entity_id: str
    old_value: Any = None
    new_value: Any = None
    reason: str | None = None
    request_id: str | None = None
    prev_hash: str
    hash: str


class VerifyOut(BaseModel):
    ok: bool
    rows: int
    first_break: str | None = None


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    database: str
