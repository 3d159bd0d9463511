"""Vital signs: refuse impossible entries, raise alerts on alarming ones.

Both the plausibility limits and the alert rules come from the protocol's
``vital_sign_rules`` (centre-configurable, each with its source); nothing here holds a
threshold. See ``../shared/reference/clinical-facts.md`` section 5 for the cited defaults.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from infusionist.domain.errors import ValidationFailed
from infusionist.domain.protocol import AlertRule, VitalSignRules
from infusionist.domain.units import format_decimal

# Physical conversion of a Fahrenheit reading, not a clinical threshold.
_FAHRENHEIT_OFFSET = Decimal(32)
_FAHRENHEIT_SCALE = Decimal("1.8")


@dataclass(frozen=True, slots=True)
class Alert:
    """Something the nurse must see now; ``code`` is stable."""

    code: str
    severity: Literal["info", "warning", "critical"]
    message: str
    requirements: tuple[str, ...] = ()
    grade: int | None = None  # on the scale the message names (CTCAE, NEWS2), when the rule has one


def implausible_fields(values: Mapping[str, Decimal], rules: VitalSignRules) -> dict[str, str]:
    """A message per impossible field; empty when the entry is plausible."""
    problems: dict[str, str] = {}
    for field, value in values.items():
        message = _field_problem(field, value, rules)
        if message is not None:
            problems[field] = message
    systolic, diastolic = values.get("systolic_mmhg"), values.get("diastolic_mmhg")
    if systolic is not None and diastolic is not None and systolic <= diastolic:
        problems.setdefault(
            "systolic_mmhg",
            f"Systolic pressure ({format_decimal(systolic)} mmHg) must be above diastolic "
            f"({format_decimal(diastolic)} mmHg); were the two swapped?",
        )
    return problems


def check_plausible(values: Mapping[str, Decimal], rules: VitalSignRules, what: str) -> None:
    """Refuse an impossible entry with ``VITALS-IMPLAUSIBLE`` and a message per field."""
    problems = implausible_fields(values, rules)
    if problems:
        raise ValidationFailed(
            "VITALS-IMPLAUSIBLE",
            f"{what}: " + " ".join(problems.values()) + " Nothing was recorded; check and re-enter.",
            requirements=rules.requirements,
            details=problems,
        )


def _field_problem(field: str, value: Decimal, rules: VitalSignRules) -> str | None:
    if field == "temperature_c" and value > rules.fahrenheit_in_celsius_field_above:
        celsius = ((value - _FAHRENHEIT_OFFSET) / _FAHRENHEIT_SCALE).quantize(Decimal("0.1"))
        return (f"Temperature {format_decimal(value)} looks like Fahrenheit "
                f"({format_decimal(value)} °F is {celsius:f} °C); enter °C.")
    limit = rules.plausibility.get(field)
    if limit is None or limit.min <= value <= limit.max:
        return None
    return f"{limit.message} Entered: {format_decimal(value)}."


def evaluate_alerts(
    latest: Mapping[str, Decimal], baseline: Mapping[str, Decimal], rules: VitalSignRules
) -> list[Alert]:
    """The alerts raised by the latest value of each vital sign (and its pre-infusion baseline)."""
    alerts = []
    for rule in rules.alerts:
        value = latest.get(rule.parameter)
        if value is not None and _fires(rule, value, baseline.get(rule.parameter)):
            alerts.append(_graded(rule, value))
    return alerts


# A grade of 3 or more (CTCAE "severe", NEWS2 "3 in one parameter") is critical (issue 12 item 9).
CRITICAL_FROM_GRADE = 3


def _graded(rule: AlertRule, value: Decimal) -> Alert:
    band = rule.grade_of(value)
    if band is None:
        return Alert(rule.code, rule.severity, _message(rule, value), rule.requirements)
    severity: Literal["warning", "critical"] = (
        "critical" if band.grade >= CRITICAL_FROM_GRADE or rule.severity == "critical" else "warning")
    message = f"{_message(rule, value)[:-1]} ({band.scale} {band.grade})."
    return Alert(rule.code, severity, message, rule.requirements, band.grade)


def _fires(rule: AlertRule, value: Decimal, baseline: Decimal | None) -> bool:
    threshold = rule.threshold
    if rule.comparison == "drop_percent_from_baseline":
        if baseline is None or baseline <= 0:
            return False
        return (baseline - value) * 100 >= threshold * baseline
    comparisons = {
        "<": value < threshold, "<=": value <= threshold,
        ">": value > threshold, ">=": value >= threshold,
    }
    return comparisons[rule.comparison]


def _message(rule: AlertRule, value: Decimal) -> str:
    return f"{rule.text()} Measured: {format_decimal(value)}."


def latest_values(readings: Iterable[Mapping[str, Decimal]]) -> dict[str, Decimal]:
    """The most recent value of each field over readings given oldest first."""
    latest: dict[str, Decimal] = {}
    for reading in readings:
        latest.update(reading)
    return latest
