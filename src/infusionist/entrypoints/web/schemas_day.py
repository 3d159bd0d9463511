"""Response shapes of the infusion day (``docs/day-events.md``): its events and its state.

The state's fields mirror ``domain/day_state_json.py`` one for one; the response serialises with
``exclude_unset``, so a text an investigator may not read (a reaction's ``reason``, a fact's
``text``) stays absent, as the JSON contract says, instead of appearing as null.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from infusionist.domain.day_facts import Phase

Number = int | float


class SignatureOut(BaseModel):
    """A physician's electronic signature (21 CFR 11.50); an investigator reads ``meaning`` as
    ``[redacted]``."""

    printed_name: str
    username: str
    signed_at: str
    meaning: str


class EventOut(BaseModel):
    course_id: int
    day: int
    seq: int
    type: str = Field(description="The event type (docs/day-events.md)")
    recorded_at: str
    recorded_by: str
    payload: dict[str, Any] = Field(description="The event as recorded (one of the event types of "
                                                "docs/day-events.md); free text redacted for investigators")
    signature: SignatureOut | None = None


class DayAlertOut(BaseModel):
    code: str
    severity: Literal["info", "warning", "critical"]
    message: str
    requirements: list[str]
    grade: int | None = Field(default=None, description="On the scale the message names, when any")


class ReactionFactOut(BaseModel):
    kind: Literal["interruption", "treatment", "recurrence", "anaphylaxis_sign", "critical_alert",
                  "not_anaphylaxis"]
    at: str | None
    text: str | None = Field(default=None, description="Absent for investigators")


class ReactionOut(BaseModel):
    onset: str | None
    symptoms: list[str]
    term: str | None
    grade: int | None
    ctcae_version: str | None
    severity: Literal["mild_moderate", "severe"] | None
    reason: str | None = Field(default=None, description="Absent for investigators")
    after_infusion: bool
    facts: list[ReactionFactOut]


class RecommendedActionOut(BaseModel):
    code: str
    text: str | None = Field(default=None, description="Absent for investigators")
    done: bool
    done_by: str | None
    done_at: str | None
    requirements: list[str]


class DayStateOut(BaseModel):
    """The replay of the day's events now (``docs/day-events.md``, "The state")."""

    model_config = ConfigDict(use_enum_values=True)

    format: int
    day: int
    day_date: str
    at: str | None
    phase: Phase
    rate_ml_per_h: Number | None
    max_rate_ml_per_h: Number | None
    prepared_volume_ml: Number | None
    volume_infused_ml: Number | None
    dose_delivered_mg: Number | None
    remaining_ml: Number | None
    infusion_started_at: str | None
    infusion_ended_at: str | None
    projected_infusion_end: str | None
    projected_flush_end: str | None
    projected_observation_end: str | None
    solution_expires_at: str | None
    expiry_margin_min: int | None
    next_vital_signs_due: str | None
    vital_signs_overdue: bool
    earliest_start: str | None
    dose_complete: bool | None
    transferred_at: str | None
    alerts: list[DayAlertOut]
    reactions: list[ReactionOut]
    recommended_actions: list[RecommendedActionOut]
    suggested_resume_rate_ml_per_h: Number | None
    rate_step_due_ml_per_h: Number | None = Field(
        default=None, description="The step of the day's rate table due now (null without a table)")
    next_rate_step_at: str | None = Field(
        default=None, description="When the next step up of the rate table is (was) due")
    allowed_actions: list[str]
    events_applied: int
    seq: int = Field(description="Events recorded for the day")
    next_seq: int = Field(description="The expected_seq of the next event")
