"""The events of an infusion day: what the nurse or physician records, one fact at a time.

An infusion day is an append-only list of these events (contract: ``docs/day-events.md``).
Every event has a ``type``, a timezone-aware ``at`` and an optional author ``by`` and ``id``.
Amounts are exact: rates and volumes are Decimal, doses are :class:`Quantity` (Decimal with a
UCUM unit). Nothing is ever changed in place: a :class:`Correction` names an earlier event (by
its index in the record or its ``id``), gives a reason and, optionally, the replacement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal, cast

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from infusionist.domain.errors import ValidationFailed
from infusionist.domain.units import Amount, Quantity

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Rate = Annotated[Amount, Field(gt=0)]
EventRoute = Literal["iv", "oral", "im", "sc", "inhaled"]
VITAL_FIELDS = (
    "temperature_c", "heart_rate_bpm", "systolic_mmhg", "diastolic_mmhg",
    "respiratory_rate_per_min", "spo2_percent",
)


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    at: AwareDatetime
    by: Text | None = None
    id: Text | None = None
    # Set by the server, never by the client: the username of the physician who signed this
    # entry with the password again (21 CFR 11.50). The guards read it for entries that lift a
    # restriction (a correction that lowers a grade, a decision).
    signed_by: Text | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_floats(cls, data: object) -> object:
        # JSON numbers may arrive as floats; go through their text so 0.1 stays exactly 0.1.
        if isinstance(data, dict):
            return {k: Decimal(repr(v)) if isinstance(v, float) else v for k, v in data.items()}
        return data


class SolutionPrepared(_Event):
    type: Literal["solution_prepared"] = "solution_prepared"
    volume_ml: Rate
    dose_mg: Annotated[Amount, Field(gt=0)]

    @property
    def dose(self) -> Quantity:
        return Quantity(value=self.dose_mg, unit="mg")


class PremedicationGiven(_Event):
    type: Literal["premedication_given"] = "premedication_given"
    name: Text
    dose: Quantity
    route: EventRoute


class ProcedureDone(_Event):
    type: Literal["procedure_done"] = "procedure_done"
    name: Text


class TestResult(_Event):
    __test__ = False  # not a pytest test class
    type: Literal["test_result"] = "test_result"
    name: Text
    result: Text


class InfusionStarted(_Event):
    type: Literal["infusion_started"] = "infusion_started"
    rate_ml_per_h: Rate


class RateChanged(_Event):
    type: Literal["rate_changed"] = "rate_changed"
    rate_ml_per_h: Rate


class Paused(_Event):
    type: Literal["paused"] = "paused"
    reason: Text | None = None


class Resumed(_Event):
    type: Literal["resumed"] = "resumed"
    rate_ml_per_h: Rate


class VitalSigns(_Event):
    type: Literal["vital_signs"] = "vital_signs"
    temperature_c: Amount | None = None
    heart_rate_bpm: Amount | None = None
    systolic_mmhg: Amount | None = None
    diastolic_mmhg: Amount | None = None
    respiratory_rate_per_min: Amount | None = None
    spo2_percent: Amount | None = None

    @model_validator(mode="after")
    def _at_least_one_value(self) -> VitalSigns:
        if all(getattr(self, name) is None for name in VITAL_FIELDS):
            raise ValueError("record at least one vital sign")
        return self

    def values(self) -> dict[str, Decimal]:
        """The measured values by field name; fields not measured are absent."""
        found = {name: getattr(self, name) for name in VITAL_FIELDS}
        return {name: value for name, value in found.items() if value is not None}


class ReactionOnset(_Event):
    type: Literal["reaction_onset"] = "reaction_onset"
    symptoms: tuple[Text, ...] = Field(min_length=1)


class ReactionAssessed(_Event):
    """The structured facts CTCAE grading needs; ``responded_promptly`` None: not yet known."""

    type: Literal["reaction_assessed"] = "reaction_assessed"
    interruption_needed: bool = False
    responded_promptly: bool | None = None
    recurred: bool = False
    hospitalisation_indicated: bool = False
    life_threatening: bool = False
    anaphylaxis: bool = False


class MedicationGiven(_Event):
    type: Literal["medication_given"] = "medication_given"
    name: Text
    dose: Quantity | None = None
    route: EventRoute | None = None
    # Why a drug outside the drug library was given, and why a soft limit was passed (PROT-24).
    indication: Text | None = None
    reason: Text | None = None


class PhysicianInformed(_Event):
    type: Literal["physician_informed"] = "physician_informed"


class EmergencyCalled(_Event):
    type: Literal["emergency_called"] = "emergency_called"


class PhysicianOverride(_Event):
    type: Literal["physician_override"] = "physician_override"
    reason: Text


DecisionKind = Literal[
    "not_anaphylaxis", "start_go_ahead", "clear_positive_test", "accept_solution_expiry",
    "discharge_despite_gate", "reschedule",
]


class PhysicianDecision(_Event):
    """A physician's signed decision that lifts one named restriction of the day.

    ``not_anaphylaxis``: the latest reaction's signs are not anaphylaxis (IAR-27).
    ``start_go_ahead``: start although the baseline raised a critical alert or a premedication
    was given longer before the start than the protocol allows (IAR-24, IAR-21).
    ``clear_positive_test``: a later negative test clears a positive one (PROT-07).
    ``accept_solution_expiry``: run although the projected end passes the solution's expiry (PROT-13).
    ``discharge_despite_gate``: discharge although the discharge gate is not met (IAR-16, IAR-29).
    ``reschedule``: the day is given on ``date`` instead of its planned date (PROT-04, PROT-05).
    """

    type: Literal["physician_decision"] = "physician_decision"
    decision: DecisionKind
    reason: Text
    date: dt.date | None = None

    @model_validator(mode="after")
    def _date_only_for_reschedule(self) -> PhysicianDecision:
        if (self.decision == "reschedule") != (self.date is not None):
            raise ValueError("a reschedule names the new date, and only a reschedule does")
        return self


class InfusionEndedEarly(_Event):
    """The drug infusion ends before the bag is empty; the dose is incomplete (PROT-16)."""

    type: Literal["infusion_ended_early"] = "infusion_ended_early"
    reason: Text


class Transferred(_Event):
    """The patient is transferred to a higher level of care: the day ends here (IAR-29)."""

    type: Literal["transferred"] = "transferred"
    reason: Text


class InfusionStopped(_Event):
    type: Literal["infusion_stopped"] = "infusion_stopped"
    reason: Text


class FlushStarted(_Event):
    type: Literal["flush_started"] = "flush_started"


class FlushCompleted(_Event):
    type: Literal["flush_completed"] = "flush_completed"


class ObservationCompleted(_Event):
    type: Literal["observation_completed"] = "observation_completed"


class Discharged(_Event):
    type: Literal["discharged"] = "discharged"


class DischargeItemDone(_Event):
    """One point of the discharge checklist gone through: an instruction told to the patient or a
    staff task done (``item``: the protocol instruction's id), by whom (``by``) and when."""

    type: Literal["discharge_item_done"] = "discharge_item_done"
    item: Text


ClinicalEvent = Annotated[
    SolutionPrepared | PremedicationGiven | ProcedureDone | TestResult | InfusionStarted
    | RateChanged | Paused | Resumed | VitalSigns | ReactionOnset | ReactionAssessed
    | MedicationGiven | PhysicianInformed | EmergencyCalled | PhysicianOverride
    | PhysicianDecision | InfusionEndedEarly | Transferred
    | InfusionStopped | FlushStarted | FlushCompleted | ObservationCompleted | Discharged
    | DischargeItemDone,
    Field(discriminator="type"),
]


class Correction(_Event):
    """Replaces (or, without ``replacement``, voids) an earlier event; the original stays."""

    type: Literal["correction"] = "correction"
    corrects: Annotated[int, Field(ge=0)] | Text
    reason: Text
    replacement: ClinicalEvent | None = None


DayEvent = Annotated[ClinicalEvent | Correction, Field(discriminator="type")]
EVENT_TYPES: tuple[str, ...] = (
    "solution_prepared", "premedication_given", "procedure_done", "test_result",
    "infusion_started", "rate_changed", "paused", "resumed", "vital_signs", "reaction_onset",
    "reaction_assessed", "medication_given", "physician_informed", "emergency_called",
    "physician_override", "physician_decision", "infusion_ended_early", "transferred",
    "infusion_stopped", "flush_started", "flush_completed", "observation_completed", "discharged",
    "discharge_item_done", "correction",
)
_ADAPTER: TypeAdapter[Any] = TypeAdapter(cast(Any, DayEvent))


def parse_event(data: Mapping[str, Any]) -> DayEvent:
    """Validate one event; refuse it with ``INPUT-EVENT-*`` and a message per field."""
    kind = data.get("type") if isinstance(data, Mapping) else None
    if kind not in EVENT_TYPES:
        raise ValidationFailed(
            "INPUT-EVENT-TYPE",
            f"Unknown event type {kind!r}; known types: {', '.join(EVENT_TYPES)}.",
            details={"type": "unknown event type"},
        )
    try:
        event: DayEvent = _ADAPTER.validate_python(dict(data))
    except ValidationError as exc:
        details = _field_messages(exc)
        naive = any(err["type"] == "timezone_aware" for err in exc.errors())
        code = "INPUT-EVENT-TIME" if naive else "INPUT-EVENT-FIELD"
        summary = "; ".join(f"{field}: {message}" for field, message in details.items())
        raise ValidationFailed(code, f"{kind}: {summary}", details=details) from None
    return event


def parse_events(items: Iterable[Mapping[str, Any]]) -> list[DayEvent]:
    """Validate a record; a refusal names the event by its index and type."""
    events = []
    for index, item in enumerate(items):
        try:
            events.append(parse_event(item))
        except ValidationFailed as error:
            raise ValidationFailed(
                error.code, f"Event {index}: {error.message}", details=error.details
            ) from None
    return events


def _field_messages(exc: ValidationError) -> dict[str, str]:
    messages: dict[str, str] = {}
    for err in exc.errors():
        # Drop the discriminator tag pydantic puts first in the location.
        location = [str(part) for part in err["loc"][1:]] or ["(event)"]
        field = ".".join(location)
        message = err["msg"]
        if err["type"] == "timezone_aware":
            message = "give the time with its UTC offset, e.g. 2026-12-07T09:00:00+01:00"
        messages.setdefault(field, message)
    return messages
