"""Laboratory results of safety monitoring: entry checks and alerts that become physician tasks.

A result is a Decimal value with a UCUM unit and the laboratory's reference range. Entry is
refused when the value is missing (tested with ``is None``: 0 is a value), when the unit is not
one the protocol accepts for that analyte, when the value is outside the plausible range, or
when the reference range is inverted or missing where an alert needs it.

Alert rules come from ``monitoring.lab_alerts`` in the protocol: below the lower limit
(platelets: thrombocytopenia work-up), a rise from the patient's baseline and above the upper
limit (creatinine), haematuria and proteinuria (kidney work-up), thyroid values outside the
range. A centre may change the numeric thresholds (``CentreConfig.lab_alert_thresholds``).
Every alert becomes a physician's review task, which is closed with a reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from infusionist.domain.dates import add_period
from infusionist.domain.errors import ConfigError, ValidationFailed
from infusionist.domain.followup import FollowUpTask, TaskKind
from infusionist.domain.protocol_monitoring import Analyte, HerpesStopRule, LabAlertRule, Monitoring
from infusionist.domain.units import format_decimal

HUNDRED = Decimal(100)
_NUMERIC = ("<", ">", "rise_percent_from_baseline")


class LabResult(BaseModel):
    """One laboratory value as entered; ``check_result`` decides whether it can be kept."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    analyte: str
    value: Decimal | None
    unit: str
    reference_low: Decimal | None = None
    reference_high: Decimal | None = None
    taken_at: datetime


class LabAlert(BaseModel):
    """An abnormal result that needs a physician."""

    model_config = ConfigDict(frozen=True)

    code: str
    result_id: str
    analyte: str
    work_up: str
    message: str
    requirements: tuple[str, ...]
    source: str


def check_result(monitoring: Monitoring, result: LabResult) -> Analyte:
    """The result's analyte when the entry is plausible; otherwise ``ValidationFailed``."""
    analyte = monitoring.analyte(result.analyte)
    if analyte is None:
        known = ", ".join(a.id for a in monitoring.analytes)
        raise ValidationFailed("LAB-UNKNOWN-ANALYTE", f"Unknown test {result.analyte!r}; known: {known}.",
                               details={"analyte": "unknown"})
    problems = _entry_problems(monitoring, analyte, result)
    if problems:
        code, _field, message = problems[0]
        raise ValidationFailed(code, message, requirements=analyte.requirements,
                               details={f: m for _, f, m in problems})
    return analyte


def _entry_problems(
    monitoring: Monitoring, analyte: Analyte, result: LabResult
) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    if result.taken_at.tzinfo is None:
        found.append(("LAB-TIME-ZONE", "taken_at", "The sampling time needs a time zone."))
    unit = analyte.unit(result.unit)
    if unit is None:
        accepted = ", ".join(u.unit for u in analyte.units)
        found.append(("LAB-UNIT", "unit",
                      f"{analyte.name.capitalize()} is entered in {accepted}, not {result.unit!r}."))
    if result.value is None:
        found.append(("LAB-VALUE-MISSING", "value",
                      f"Enter the {analyte.name} value (0 is a value; an empty field is not)."))
    elif unit is not None and not unit.min <= result.value <= unit.max:
        found.append(("LAB-IMPLAUSIBLE", "value",
                      f"{analyte.name.capitalize()} {format_decimal(result.value)} {unit.unit} is not "
                      f"plausible (expected {format_decimal(unit.min)} to {format_decimal(unit.max)}); "
                      "check the value and the unit."))
    low, high = result.reference_low, result.reference_high
    if low is not None and high is not None and low > high:
        found.append(("LAB-REFERENCE-RANGE", "reference_low",
                      "The reference range's lower limit is above its upper limit."))
    for needed, bound in _bounds_needed(monitoring, analyte.id):
        if (low if bound == "low" else high) is None:
            found.append(("LAB-REFERENCE-RANGE-MISSING", f"reference_{bound}",
                          f"Enter the laboratory's {'lower' if bound == 'low' else 'upper'} limit: "
                          f"it is needed to judge {analyte.name} ({needed})."))
    return found


def _bounds_needed(monitoring: Monitoring, analyte_id: str) -> list[tuple[str, str]]:
    needs = {"below_lower_limit": ("low",), "above_upper_limit": ("high",),
             "outside_range": ("low", "high")}
    seen: dict[str, str] = {}
    for rule in monitoring.lab_alerts:
        if rule.analyte == analyte_id:
            for bound in needs.get(rule.comparison, ()):
                seen.setdefault(bound, rule.code)
    return [(code, bound) for bound, code in seen.items()]


def configured_alerts(monitoring: Monitoring, overrides: Mapping[str, Decimal]) -> tuple[LabAlertRule, ...]:
    """The protocol's lab alerts with a centre's numeric thresholds applied."""
    rules = {r.code: r for r in monitoring.lab_alerts}
    for code in overrides:
        rule = rules.get(code)
        if rule is None:
            raise ConfigError("CONFIG-UNKNOWN-LAB-ALERT",
                              f"Unknown laboratory alert {code!r}; known: {', '.join(sorted(rules))}.")
        if rule.comparison not in _NUMERIC:
            raise ConfigError(
                "CONFIG-LAB-ALERT-RANGE",
                f"{code} uses the laboratory's reference range and has no threshold to configure.",
                requirements=rule.requirements,
            )
    return tuple(
        r.model_copy(update={"threshold": overrides[r.code]}) if r.code in overrides else r
        for r in monitoring.lab_alerts
    )


def evaluate(
    monitoring: Monitoring, result: LabResult, *, baseline: LabResult | None = None,
    overrides: Mapping[str, Decimal] | None = None,
) -> list[LabAlert]:
    """The alerts a checked result raises (``baseline``: the patient's value before treatment)."""
    analyte = check_result(monitoring, result)
    value = _canonical(analyte, result)
    base = _canonical(analyte, baseline) if baseline is not None else None
    if baseline is not None:
        check_result(monitoring, baseline)
    return [
        LabAlert(code=rule.code, result_id=result.id, analyte=analyte.id, work_up=rule.work_up,
                 message=rule.message, requirements=rule.requirements, source=rule.source)
        for rule in configured_alerts(monitoring, overrides or {})
        if rule.analyte == analyte.id and _fires(rule, result, value, base)
    ]


def _canonical(analyte: Analyte, result: LabResult) -> Decimal:
    unit = analyte.unit(result.unit)
    assert unit is not None
    assert result.value is not None
    return result.value * unit.factor


def _fires(rule: LabAlertRule, result: LabResult, value: Decimal, base: Decimal | None) -> bool:
    raw = result.value
    assert raw is not None
    low, high = result.reference_low, result.reference_high
    if rule.comparison == "below_lower_limit":
        return low is not None and raw < low
    if rule.comparison == "above_upper_limit":
        return high is not None and raw > high
    if rule.comparison == "outside_range":
        return (low is not None and raw < low) or (high is not None and raw > high)
    threshold = rule.threshold
    assert threshold is not None  # the model requires it for numeric comparisons
    if rule.comparison == "<":
        return value < threshold
    if rule.comparison == ">":
        return value > threshold
    if base is None or base == 0:
        return False  # a percentage rise needs a baseline that is not zero
    return (value - base) * HUNDRED / base >= threshold


def review_task(monitoring: Monitoring, result: LabResult, alert: LabAlert, course: int) -> FollowUpTask:
    """The physician's review of an abnormal result: due within the configured time."""
    taken = result.taken_at.date()
    due = add_period(taken, monitoring.physician_review_within)
    value = "" if result.value is None else f" {format_decimal(result.value)} {result.unit}"
    return FollowUpTask(
        activity_id=f"review-{result.id}-{alert.code.lower()}", element=alert.analyte,
        kind=TaskKind.PHYSICIAN_REVIEW, name=alert.work_up, course=course, due=due, opens=taken,
        overdue_from=due + timedelta(days=1), requirements=alert.requirements, source=alert.source,
        text=f"{alert.message} Result {result.id} of {taken.isoformat()}:{value}.",
    )


def review_tasks(
    monitoring: Monitoring, result: LabResult, course: int, *, baseline: LabResult | None = None,
    overrides: Mapping[str, Decimal] | None = None,
) -> list[FollowUpTask]:
    """Check and evaluate a result; one physician task per alert it raises."""
    alerts = evaluate(monitoring, result, baseline=baseline, overrides=overrides)
    return [review_task(monitoring, result, alert, course) for alert in alerts]


def herpes_prophylaxis_may_stop(
    monitoring: Monitoring, rule: HerpesStopRule, planned_end: date, results: Sequence[LabResult]
) -> date | None:
    """US label: the later of the planned end and the first CD4 count at or above the limit.

    None while no qualifying count exists: prophylaxis continues.
    """
    qualifying = []
    for result in results:
        if result.analyte != rule.analyte:
            continue
        analyte = check_result(monitoring, result)
        unit = analyte.unit(rule.unit)
        assert unit is not None, "the stop rule's unit is one of the analyte's units"
        if _canonical(analyte, result) >= rule.at_least * unit.factor:
            qualifying.append(result.taken_at.date())
    if not qualifying:
        return None
    return max(planned_end, min(qualifying))
