"""A planned activity: what the course planner (``planning.py``) produces and the follow-up
tasks (``followup.py``) are made from. Its own module, so that neither of the two imports the other
for it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from infusionist.domain.units import Quantity


class ActivityKind(StrEnum):
    MEDICATION = "medication"
    PREMEDICATION = "premedication"
    INFUSION = "infusion"
    FLUSH = "flush"
    VITAL_SIGNS = "vital_signs"
    PROCEDURE = "procedure"
    TEST = "test"
    OBSERVATION = "observation"
    INSTRUCTION = "instruction"
    FOLLOW_UP = "follow_up"


class RateSpan(BaseModel):
    """One step of an infusion's rate table at its clock times (plan JSON ``rate_steps``)."""

    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime
    rate_ml_per_h: Decimal
    volume_ml: Decimal


class Activity(BaseModel):
    """One planned item; ``day`` 0 is the evening before day 1, None is after the course."""

    model_config = ConfigDict(frozen=True)

    id: str
    element: str
    day: int | None
    kind: ActivityKind
    name: str
    start: datetime
    end: datetime | None = None
    all_day: bool = False
    dose: Quantity | None = None
    dose_display: str | None = None
    route: str | None = None
    volume_ml: Decimal | None = None
    rate_ml_per_h: Decimal | None = None
    # An infusion with a rate table: its steps in order, covering the whole bag.
    rate_steps: tuple[RateSpan, ...] = ()
    requirements: tuple[str, ...]
    advisories: tuple[str, ...] = ()
    text: str | None = None
