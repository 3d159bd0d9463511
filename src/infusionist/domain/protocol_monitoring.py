"""The protocol's monitoring after a course: repeated tests and examinations for 48 months,
the delayed-reaction call, laboratory analytes with their units and alert rules, the rule that
ends herpes prophylaxis, warning signs, and the windows in which follow-up tasks are open.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from infusionist.domain.protocol_elements import Element, Frozen, Period, Slug, WhenOption
from infusionist.domain.units import LabUnit


class MonitoringSeries(Element):
    """A test or examination repeated every ``every`` months after the last infusion (PROT-34)."""

    name: str
    kind: Literal["lab", "examination"]
    every: Period
    text: str
    when: WhenOption | None = None

    @model_validator(mode="after")
    def _whole_months(self) -> MonitoringSeries:
        if self.every.months < 1 or self.every.weeks or self.every.days:
            raise ValueError(f"series {self.id}: 'every' must be a whole number of months")
        return self


class TaskWindow(Frozen):
    """When a follow-up task appears before its due date and when it becomes overdue."""

    source: str
    opens_before: Period
    overdue_after: Period


class DelayedReactionCall(Element):
    """The call to the patient after each infusion day, asking about delayed reactions.

    It is due ``within_hours`` after the infusion day (in whole days, rounded up); ``window``
    says when it appears on the worklist and when it becomes overdue, as for any task."""

    name: str
    within_hours: int = Field(gt=0)
    text: str
    window: TaskWindow


class AnalyteUnit(Frozen):
    """A unit a result may be entered in, its factor to the first unit, and plausible values."""

    unit: LabUnit
    factor: Decimal = Field(gt=0)
    min: Decimal
    max: Decimal


class Analyte(Element):
    """A measured laboratory value of a monitoring series; units[0] is the canonical unit."""

    name: str
    series: Slug
    units: tuple[AnalyteUnit, ...] = Field(min_length=1)

    def unit(self, code: str) -> AnalyteUnit | None:
        return next((u for u in self.units if u.unit == code), None)


LabComparison = Literal[
    "below_lower_limit", "above_upper_limit", "outside_range", "<", ">", "rise_percent_from_baseline",
]


class LabAlertRule(Element):
    """A result that needs a physician: against the lab's reference range or a threshold."""

    code: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9-]+$")]
    analyte: Slug
    comparison: LabComparison
    threshold: Decimal | None = None
    work_up: str
    message: str

    @model_validator(mode="after")
    def _threshold_matches_comparison(self) -> LabAlertRule:
        numeric = self.comparison in ("<", ">", "rise_percent_from_baseline")
        if numeric != (self.threshold is not None):
            raise ValueError(f"lab alert {self.code}: {self.comparison!r} "
                             + ("needs a threshold" if numeric else "uses the reference range"))
        return self


class HerpesStopRule(Element):
    """The US label's stop condition: prophylaxis continues until a CD4 count reaches a value."""

    medication: Slug
    option: Slug
    value: Slug
    analyte: Slug
    at_least: Decimal
    unit: LabUnit


class WarningSign(Element):
    """A warning sign the patient is taught, with how urgently to call."""

    urgency: Literal["emergency", "same_day", "soon"]
    title: str
    text: str


class Monitoring(Element):
    """Long-term safety monitoring after the last infusion, with lab alerts (PROT-34, PROT-36)."""

    duration: Period
    task_window: TaskWindow
    physician_review_within: Period
    series: tuple[MonitoringSeries, ...] = Field(min_length=1)
    delayed_reaction_call: DelayedReactionCall | None = None
    analytes: tuple[Analyte, ...] = ()
    lab_alerts: tuple[LabAlertRule, ...] = ()
    herpes_stop: HerpesStopRule | None = None
    warning_signs: tuple[WarningSign, ...] = ()

    def elements(self) -> list[Element]:
        singles = [e for e in (self.delayed_reaction_call, self.herpes_stop) if e is not None]
        return [self, *self.series, *singles, *self.analytes, *self.lab_alerts, *self.warning_signs]

    def analyte(self, analyte_id: str) -> Analyte | None:
        return next((a for a in self.analytes if a.id == analyte_id), None)

    def problems(self, option_ids: set[str], sources: set[str]) -> list[str]:
        series_ids = {s.id for s in self.series}
        analyte_ids = {a.id for a in self.analytes}
        found = [f"{s.id}: unknown option {s.when.option!r}" for s in self.series
                 if s.when is not None and s.when.option not in option_ids]
        found += [f"{a.id}: unknown series {a.series!r}" for a in self.analytes if a.series not in series_ids]
        found += [f"{r.code}: unknown analyte {r.analyte!r}" for r in self.lab_alerts
                  if r.analyte not in analyte_ids]
        if self.herpes_stop is not None and self.herpes_stop.analyte not in analyte_ids:
            found.append(f"{self.herpes_stop.id}: unknown analyte {self.herpes_stop.analyte!r}")
        if self.task_window.source not in sources:
            found.append(f"monitoring task window: unknown source {self.task_window.source!r}")
        call = self.delayed_reaction_call
        if call is not None and call.window.source not in sources:
            found.append(f"{call.id} window: unknown source {call.window.source!r}")
        return found

    def windows(self) -> tuple[TaskWindow, ...]:
        """Every task window the protocol sets (the series' and the call's)."""
        call = self.delayed_reaction_call
        return (self.task_window,) if call is None else (self.task_window, call.window)
