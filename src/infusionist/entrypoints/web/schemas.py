"""Request and response shapes at the web edge (the services return typed values; these say the JSON)."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from infusionist.domain.access import DEVICE_NAME_PATTERN, FULL_NAME_MAX_LENGTH, USERNAME_PATTERN, Role
from infusionist.domain.centre import CentreConfig
from infusionist.domain.limits import TEXT_MAX_LENGTH, json_too_large
from infusionist.domain.text_input import has_nul

Name = Field(min_length=1, max_length=200)


NUL_ERROR = "text_nul"

# A local clock time in an answer ("20:00:00"): JSON Schema's "time" format is RFC 3339's, which
# needs an offset, so the schema says the pattern instead.
ClockTime = Annotated[time, PlainSerializer(lambda t: t.isoformat(), return_type=str),
                      WithJsonSchema({"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$",
                                      "description": "A local clock time, HH:MM:SS"}, mode="serialization")]


def _bounded(value: dict[str, Any]) -> dict[str, Any]:
    problem = json_too_large(value)
    if problem is not None:
        raise ValueError(f"too large ({problem})")
    return value


# A JSON object sent as data: texts of at most TEXT_MAX_LENGTH characters, bounded size and depth.
BoundedJson = Annotated[dict[str, Any], AfterValidator(_bounded)]


class Input(BaseModel):
    """Every request body: no unknown field, and no NUL character in any text at any depth
    (PostgreSQL cannot store it, and no person types it): refused as ``INPUT-TEXT-NUL``."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: object) -> object:
        if has_nul(data):
            raise PydanticCustomError(NUL_ERROR, "contains an invisible NUL character")
        return data


class LoginIn(Input):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class WhoAmI(BaseModel):
    username: str
    full_name: str
    role: Role


class UserIn(Input):
    username: str = Field(pattern=USERNAME_PATTERN)
    full_name: str = Field(min_length=1, max_length=FULL_NAME_MAX_LENGTH)
    role: Role = Field(description="nurse, physician, investigator or admin (not device)")
    password: str = Field(min_length=1, max_length=200, description="Checked by the password rules "
                          "(docs/security.md): length, common and breached passwords")


class UserOut(BaseModel):
    id: int
    username: str
    full_name: str
    role: Role
    active: bool


class TokenIn(Input):
    device: str = Field(min_length=1, max_length=57, pattern=DEVICE_NAME_PATTERN,
                        description="The device's name; its records say device:<name>")
    valid_days: int | None = Field(default=None, ge=1, le=3650,
                                   description="Days until it expires (default 90, at most 365)")


class TokenOut(BaseModel):
    id: int
    device: str
    created_at: str
    created_by: str
    expires_at: str
    revoked_at: str | None
    revoked_by: str | None
    status: Literal["active", "expired", "revoked"]


class IssuedTokenOut(TokenOut):
    token: str = Field(description="Shown once; only its digest is stored")


class PhysicianSignatureIn(Input):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class CentreIn(Input):
    config: BoundedJson
    reason: str | None = Field(default=None, max_length=TEXT_MAX_LENGTH)
    signature: PhysicianSignatureIn | None = Field(
        default=None, description="A physician's username and password: required when a clinical "
        "setting changes (vital-sign interval, options, courses, alert thresholds, ...)")


class UserChangeIn(Input):
    """Change a user's role and/or whether they can log in (admin); the reason goes to the audit trail."""

    role: Role | None = Field(default=None,
                              description="nurse, physician, investigator or admin (not device)")
    active: bool | None = None
    reason: str | None = Field(default=None, max_length=TEXT_MAX_LENGTH)


class PasswordIn(Input):
    password: str = Field(min_length=1, max_length=200, description="Checked by the password rules "
                          "(docs/security.md): length, common and breached passwords")


class CentreOut(CentreConfig):
    """The centre's settings in force (unset ones take the protocol's defaults) and their version."""

    evening_medication_time: ClockTime = time(20, 0)
    version: int | None = Field(description="The saved version in force; null before the first save")


class CentreConfigOut(CentreConfig):
    evening_medication_time: ClockTime = time(20, 0)


class CentreVersionOut(BaseModel):
    version: int
    config: CentreConfigOut
    created_at: str
    created_by: str
    signed_by: str | None
    reason: str | None


class DeviceIn(Input):
    place: str = Field(min_length=1, max_length=100, description="The chair or bed (PV1-3)")
    interval_seconds: int = Field(ge=1, le=86_400, description="How often the monitor sends")
    description: str = Field(default="", max_length=200)
    sources: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=16,
        description="The IP addresses or networks (CIDR, e.g. 10.1.2.0/24) the monitor sends from; "
                    "messages from anywhere else are refused")


class DeviceAlertOut(BaseModel):
    code: str
    severity: Literal["info", "warning", "critical"]
    message: str
    requirements: list[str]


class DeviceOut(BaseModel):
    device_id: str
    configured: bool
    place: str | None
    interval_seconds: int | None
    description: str
    sources: list[str]
    retired: bool
    last_message_at: str | None
    silent: bool
    alert: DeviceAlertOut | None = Field(description="DEVICE-SILENT when silent for twice its interval")
    refused_count: int = Field(description="Messages of this sender refused (unknown, retired, "
                                           "wrong address, or not accepted)")
    last_refused_at: str | None


class PatientIn(Input):
    name: str = Name
    birth_date: date | None = None
    sex: Literal["female", "male"]
    childbearing_potential: bool = False
    weight_kg: Decimal | None = Field(default=None, gt=0, le=500, max_digits=6, decimal_places=2)
    identifier: str | None = Field(default=None, max_length=64, description="The hospital's patient number")
    contact: str | None = Field(default=None, max_length=200, description="Phone or address of the patient")


class PatientEditIn(PatientIn):
    reason: str | None = Field(default=None, max_length=TEXT_MAX_LENGTH)


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


ChairId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class CourseIn(Input):
    course: int = Field(ge=1, le=20)
    first_day: date
    infusion_start: time = time(9, 0)
    timezone: str | None = Field(default=None, max_length=64)
    previous_course_end: date | None = None
    chair_ids: list[ChairId] = Field(default=[], max_length=31, description=(
        "One chair per infusion day (a choice of GET /schedule/first-starts); default: the first "
        "chair free on each day. A unit with chairs books every day or refuses the course."))
    protocol_id: str | None = Field(default=None, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$",
                                    description="The therapy's protocol id (`infusionist protocol "
                                    "list`); default: the unit's default protocol.")


class CourseOut(BaseModel):
    id: int
    patient_id: int
    course: int
    protocol: dict[str, str] = Field(description="The protocol's id, version and digest")
    created_at: str
    created_by: str
    centre_version: int | None = None
    plan: dict[str, Any] = Field(description="The course plan (docs/protocol-schema.json's planner "
                                 "output, domain/plan_json.py); the patient named by pseudonym for "
                                 "investigators")


class TaskOut(BaseModel):
    id: int
    activity_id: str
    name: str
    due: str
    status: str


class SignatureIn(Input):
    password: str = Field(min_length=1, max_length=200)
    meaning: str = Field(min_length=1, max_length=200)


class EventIn(Input):
    expected_seq: int = Field(ge=1, le=1_000_000, description="The sequence number this event takes: "
                              "the number of events the client has seen for the day, plus one.")
    event: BoundedJson = Field(description=f"The event; every text in it at most {TEXT_MAX_LENGTH} "
                               "characters")
    signature: SignatureIn | None = None


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
    withheld: bool = Field(default=False, description="Values and reason withheld: clinical data, "
                           "and the reader's role reads none (admin)")


class RowProblemOut(BaseModel):
    """A protected row that differs from the row ledger (named by table and primary key only)."""

    table: str
    row: str
    what: Literal["changed", "missing", "unexpected"]


class VerifyOut(BaseModel):
    ok: bool = Field(description="Both chains hold and every protected row matches the ledger.")
    rows: int = Field(description="Audit rows checked.")
    first_break: str | None = Field(default=None, description="The audit trail's first break.")
    ledger_entries: int = 0
    ledger_first_break: str | None = None
    protected_rows: dict[str, int] = Field(default_factory=dict,
                                           description="Protected rows compared, by table.")
    row_problems: list[RowProblemOut] = Field(
        default_factory=list, description="Rows changed, missing or unexpected (the first 1000).")
    row_problems_total: int = 0


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    database: str
