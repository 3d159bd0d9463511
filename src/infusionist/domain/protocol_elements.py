"""The shared vocabulary of protocol models: frozen models, sources, advisories, elements that
cite requirement IDs, periods, date rules, centre options and daily timing.

Every model of ``domain.protocol`` and ``domain.protocol_monitoring`` is built from these.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

# PROT-nn / IAR-nn: the seeds of the first protocol; OCR-nn, NAT-nn, ...: a therapy's own numbered
# statements (docs/requirements-<therapy>.md). A family is 2 to 5 capital letters.
RequirementId = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,5}-\d{2}$")]
ConflictId = Annotated[str, StringConstraints(pattern=r"^C-\d{1,2}$")]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$")]
Route = Literal["iv", "oral"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Source(Frozen):
    """A document the protocol cites."""

    title: str
    citation: str
    url: str | None = None


class Advisory(Frozen):
    """A conflict or dated statement shown beside the element it touches."""

    conflict: ConflictId | None = None
    text: str
    source: str


class Element(Frozen):
    """Anything in the protocol: it has an id, requirement IDs and a source."""

    id: Slug
    requirements: tuple[RequirementId, ...] = Field(min_length=1)
    source: str
    advisories: tuple[Advisory, ...] = ()


class Period(Frozen):
    """A calendar period: months are calendar months, clamped to the month's end."""

    months: int = Field(default=0, ge=0)
    weeks: int = Field(default=0, ge=0)
    days: int = Field(default=0, ge=0)

    def total_days_hint(self) -> int:
        return self.months * 30 + self.weeks * 7 + self.days

    def describe(self) -> str:
        parts = [
            f"{n} {word}{'s' if n != 1 else ''}"
            for n, word in ((self.months, "month"), (self.weeks, "week"), (self.days, "day"))
            if n
        ]
        return " ".join(parts) or "0 days"


class Anchor(StrEnum):
    """A day of the course that other dates are counted from."""

    EVENING_BEFORE = "evening_before_day_1"
    FIRST_INFUSION_DAY = "first_infusion_day"
    LAST_INFUSION_DAY = "last_infusion_day"


class DateRule(Frozen):
    """A date counted from an anchor: ``last_infusion_day + 4 months``."""

    anchor: Anchor
    offset: Period = Period()


class Condition(StrEnum):
    """Who an element applies to."""

    ALWAYS = "always"
    CHILDBEARING_POTENTIAL = "female_with_childbearing_potential"
    # Stated explicitly for the patient (never assumed): no serious infusion reaction so far.
    NO_PRIOR_SERIOUS_REACTION = "no_prior_serious_reaction"


class OptionChoice(Frozen):
    """One selectable variant of a centre option."""

    value: Slug
    label: str
    refused: str | None = None  # why a centre may not choose it (e.g. a withdrawn drug)
    requirements: tuple[str, ...] = ()


class Option(Frozen):
    """A choice the protocol leaves to the centre, with its safe variants."""

    id: Slug
    label: str
    default: str
    choices: tuple[OptionChoice, ...] = Field(min_length=1)
    requirements: tuple[str, ...] = ()
    source: str

    @model_validator(mode="after")
    def _default_is_a_choice(self) -> Option:
        if self.default not in {c.value for c in self.choices}:
            raise ValueError(f"option {self.id}: default {self.default!r} is not a choice")
        return self

    def choice(self, value: str) -> OptionChoice | None:
        return next((c for c in self.choices if c.value == value), None)


class WhenOption(Frozen):
    """An element present only when the centre chose this option value."""

    option: Slug
    value: Slug


class DailyTiming(Frozen):
    """How many units are taken morning, noon and evening: "1-0-1" is only this display."""

    morning: int = Field(ge=0)
    noon: int = Field(ge=0)
    evening: int = Field(ge=0)

    def display(self) -> str:
        return f"{self.morning}-{self.noon}-{self.evening}"

    def intakes_per_day(self) -> int:
        return self.morning + self.noon + self.evening
