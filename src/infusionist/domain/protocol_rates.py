"""Rate tables, what depends on the dose number (the infusion, observation) and rate-at-onset
reaction rules of the protocol format.

A rate table is a list of steps (rate, minutes, the volume the step delivers); the steps' volumes
sum to the bag, and the table's duration is what the infusion's ``target_duration`` states
(rounded to the nearest whole minute). Everything here is data checked when the protocol loads; the
planner turns a table into timed spans (:func:`step_spans`) that the bedside can follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import Field, model_validator

from infusionist.domain.protocol_elements import Condition, Element, Frozen, WhenOption
from infusionist.domain.units import Quantity, format_decimal


class RateStep(Frozen):
    """One step of a rate table; a step without ``minutes`` runs until the bag is empty.

    ``volume`` is the volume the step delivers (rate x minutes, or the rest of the bag for the
    last step); when given it is checked, so that a typing mistake in a rate or a time shows.
    """

    rate: Quantity
    minutes: int | None = Field(default=None, gt=0)
    volume: Quantity | None = None


@dataclass(frozen=True, slots=True)
class StepSpan:
    """A step of a table placed in time: minutes from the start of the infusion (exact)."""

    start_minute: Decimal
    end_minute: Decimal
    rate_ml_per_h: Decimal
    volume_ml: Decimal


def step_spans(steps: tuple[RateStep, ...], bag_ml: Decimal) -> list[StepSpan]:
    """The table's steps placed in time until ``bag_ml`` is delivered (a valid table assumed)."""
    spans: list[StepSpan] = []
    minute, left = Decimal(0), bag_ml
    for step in steps:
        if left <= 0:
            break
        rate = step.rate.value
        volume = left if step.minutes is None else min(left, rate * step.minutes / 60)
        length = volume * 60 / rate
        spans.append(StepSpan(minute, minute + length, rate, volume))
        minute, left = minute + length, left - volume
    return spans


def table_minutes(steps: tuple[RateStep, ...], bag_ml: Decimal) -> Decimal:
    spans = step_spans(steps, bag_ml)
    return spans[-1].end_minute if spans else Decimal(0)


def table_problems(steps: tuple[RateStep, ...], bag_ml: Decimal,
                   target_minutes: Decimal | None) -> list[str]:
    """What is wrong with a rate table, each with its place (``rate_steps[3].volume: ...``)."""
    problems: list[str] = []
    delivered = Decimal(0)
    for index, step in enumerate(steps):
        place = f"rate_steps[{index}]"
        last = index == len(steps) - 1
        if step.rate.unit != "mL/h" or step.rate.value <= 0:
            problems.append(f"{place}.rate: a rate is a positive number of mL/h")
            continue
        if step.minutes is None and not last:
            problems.append(f"{place}.minutes: only the last step may run without minutes")
            continue
        timed = step.minutes is not None
        expected = step.rate.value * (step.minutes or 0) / 60 if timed else bag_ml - delivered
        if step.volume is not None:
            if step.volume.unit != "mL":
                problems.append(f"{place}.volume: a step's volume is in mL")
            elif step.volume.value != expected:
                how = (f"{_n(step.rate.value)} mL/h for {step.minutes} min gives {_n(expected)} mL"
                       if step.minutes is not None
                       else f"the rest of the {_n(bag_ml)} mL bag is {_n(expected)} mL")
                problems.append(f"{place}.volume: {_n(step.volume.value)} mL stated, but {how}")
        delivered += expected
        if delivered > bag_ml and not last:
            problems.append(f"{place}: the steps up to here deliver {_n(delivered)} mL, "
                            f"more than the {_n(bag_ml)} mL bag")
            return problems
    if problems or not steps:
        return problems
    if delivered != bag_ml:
        problems.append(f"rate_steps: the steps deliver {_n(delivered)} mL, but the bag holds "
                        f"{_n(bag_ml)} mL")
    elif target_minutes is not None:
        minutes = table_minutes(steps, bag_ml)
        if minutes.quantize(Decimal(1), rounding=ROUND_HALF_UP) != target_minutes:
            problems.append(f"target_duration: the table runs {_n(minutes)} min "
                            f"(stated {_n(target_minutes)} min; give the table's time rounded "
                            "to the nearest whole minute)")
    return problems


def _n(value: Decimal) -> str:
    return format_decimal(value.quantize(Decimal("0.01")).normalize())


class DoseRange(Frozen):
    """The doses of a therapy an element applies to, counted from the patient's first dose
    (every infusion counts: a first dose split over two infusions is doses 1 and 2)."""

    first_dose: int = Field(default=1, ge=1)
    last_dose: int | None = Field(default=None, ge=1)

    def covers(self, dose: int) -> bool:
        return dose >= self.first_dose and (self.last_dose is None or dose <= self.last_dose)

    @model_validator(mode="after")
    def _ordered(self) -> DoseRange:
        if self.last_dose is not None and self.last_dose < self.first_dose:
            raise ValueError("last_dose: comes before first_dose")
        return self


class RateTable(Element):
    """An alternative rate table, allowed only for patients who meet ``condition``."""

    label: str
    condition: Condition
    target_duration: Quantity
    rate_steps: tuple[RateStep, ...] = Field(min_length=1)


class RateReactionRule(Frozen):
    """What a reaction of one severity does to the infusion rate, from the rate at its onset.

    ``reduce_rate``: continue at ``onset_rate_factor`` x the rate in effect at onset, held for at
    least ``hold_minutes`` before stepping up again. ``stop_then_restart``: stop, treat, and
    restart at ``onset_rate_factor`` x the onset rate. ``discontinue``: stop and never restart.
    """

    severity: Literal["mild_moderate", "severe", "life_threatening"]
    action: Literal["reduce_rate", "stop_then_restart", "discontinue"]
    onset_rate_factor: Decimal | None = Field(default=None, gt=0, le=1)
    hold_minutes: int | None = Field(default=None, ge=0)
    text: str
    source: str

    @model_validator(mode="after")
    def _factor_matches_action(self) -> RateReactionRule:
        if self.action == "discontinue" and self.onset_rate_factor is not None:
            raise ValueError("onset_rate_factor: a discontinued therapy has no further rate")
        if self.action != "discontinue" and self.onset_rate_factor is None:
            raise ValueError(f"onset_rate_factor: {self.action} needs the factor of the onset rate")
        return self


class RateReactionRules(Element):
    """The therapy's reaction rules that use the rate in effect at the reaction's onset."""

    rules: tuple[RateReactionRule, ...] = Field(min_length=1)

    def rule(self, severity: str) -> RateReactionRule | None:
        return next((r for r in self.rules if r.severity == severity), None)

    def rate_after(self, severity: str, onset_rate: Decimal) -> Decimal | None:
        """The rate after a reaction of ``severity`` that began at ``onset_rate``; None: stopped
        for good (or no rule for the severity)."""
        rule = self.rule(severity)
        if rule is None or rule.onset_rate_factor is None:
            return None
        return onset_rate * rule.onset_rate_factor

    @model_validator(mode="after")
    def _one_rule_per_severity(self) -> RateReactionRules:
        seen = [r.severity for r in self.rules]
        doubled = sorted({s for s in seen if seen.count(s) > 1})
        if doubled:
            raise ValueError(f"rules: more than one rule for {', '.join(doubled)}")
        return self


class ObservationByDose(Frozen):
    """An observation time for the doses in ``doses`` (and only when the centre chose the
    option value in ``when``, e.g. a label's rule)."""

    doses: DoseRange
    duration: Quantity
    when: WhenOption | None = None
    note: str | None = None


class InfusionByDose(Element):
    """The infusion of the doses in ``doses`` when it differs from the first one (e.g. a larger
    dose in a larger bag from dose 3): dose, bag, time, rate table and its alternatives."""

    doses: DoseRange
    dose: Quantity
    prepared_volume: Quantity
    target_duration: Quantity
    rate_steps: tuple[RateStep, ...] = ()
    alternative_tables: tuple[RateTable, ...] = ()

    @model_validator(mode="after")
    def _table_fills_the_bag(self) -> InfusionByDose:
        problems = bag_problems(self.prepared_volume, self.target_duration, self.rate_steps,
                                 self.alternative_tables)
        if problems:
            raise ValueError("; ".join(problems))
        return self


def bag_problems(volume: Quantity, duration: Quantity, steps: tuple[RateStep, ...],
                  alternatives: tuple[RateTable, ...]) -> list[str]:
    if volume.unit != "mL":
        return ["prepared_volume: must be in mL"]
    if duration.unit != "min":
        return ["target_duration: must be in min"]
    problems = table_problems(steps, volume.value, duration.value) if steps else []
    for index, table in enumerate(alternatives):
        if table.target_duration.unit != "min":
            problems.append(f"alternative_tables[{index}].target_duration: must be in min")
            continue
        problems += [
            f"alternative_tables[{index}].{problem}"
            for problem in table_problems(table.rate_steps, volume.value,
                                          table.target_duration.value)
        ]
    return problems
