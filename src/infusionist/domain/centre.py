"""A centre's configuration: the safe variants it chooses, checked against the protocol's limits.

Anything outside the protocol's hard limits is refused with a ``CONFIG-*`` error that names
the rule and its requirement IDs; nothing is silently clamped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from infusionist.domain.errors import ConfigError
from infusionist.domain.number_text import NumberLocale
from infusionist.domain.protocol import AlertRule, Protocol, VitalSignRules
from infusionist.domain.units import Amount


class CentreConfig(BaseModel):
    """What a centre may choose. Unset fields take the protocol's defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    centre_id: str = "default"
    name: str = Field(default="MS infusion unit", min_length=1, max_length=200)  # the stored column
    timezone: str | None = None
    vital_signs_interval_minutes: int | None = Field(default=None, gt=0)
    options: dict[str, str] = Field(default_factory=dict)
    allow_weekend_infusions: bool = False
    closed_days: tuple[date, ...] = ()
    evening_medication_time: time = time(20, 0)
    reduced_rate_factor: Amount | None = None
    max_courses: int | None = Field(default=None, ge=1)
    infusion_dose_mg: Amount | None = None
    # At most 100 years (product default): a guard against date overflow, not a clinical limit.
    min_months_between_courses: int | None = Field(default=None, le=1200)
    premedication_days: dict[str, tuple[int, ...]] = Field(default_factory=dict)
    alert_thresholds: dict[str, Amount] = Field(default_factory=dict)
    lab_alert_thresholds: dict[str, Amount] = Field(default_factory=dict)  # monitoring.lab_alerts
    contact_phone: str | None = None
    # How the unit writes numbers (the decimal separator the pages read and show): product default
    # "en" (a decimal point); "de", "fr", "nl", ... write "37,5" (domain/number_text.py).
    number_locale: NumberLocale = "en"


@dataclass(frozen=True)
class ConfiguredProtocol:
    """A protocol with a centre's choices applied and checked."""

    protocol: Protocol
    config: CentreConfig
    options: dict[str, str]

    def option(self, option_id: str) -> str:
        return self.options[option_id]


def configure(protocol: Protocol, config: CentreConfig) -> ConfiguredProtocol:
    """Apply ``config`` to ``protocol``; refuse anything outside the protocol's hard limits."""
    _check_fixed_dose(protocol, config)
    options = _resolve_options(protocol, config)
    updated = protocol
    updated = _with_vital_sign_interval(updated, config)
    updated = _with_course_rules(updated, config)
    updated = _with_premedication_days(updated, config)
    updated = _with_rate_factor(updated, config)
    updated = _with_alert_thresholds(updated, config)
    return ConfiguredProtocol(protocol=updated, config=config, options=options)


def _check_fixed_dose(protocol: Protocol, config: CentreConfig) -> None:
    dose = protocol.infusion.dose
    if config.infusion_dose_mg is not None and config.infusion_dose_mg != dose.in_mg():
        raise ConfigError(
            "CONFIG-DOSE-FIXED",
            f"The {protocol.infusion.name} dose is fixed at {dose.display()} per infusion day; "
            f"{config.infusion_dose_mg} mg cannot be configured.",
            requirements=(*protocol.infusion.requirements, "C-7"),
        )


def _resolve_options(protocol: Protocol, config: CentreConfig) -> dict[str, str]:
    unknown = sorted(set(config.options) - {o.id for o in protocol.options})
    if unknown:
        raise ConfigError(
            "CONFIG-UNKNOWN-OPTION",
            f"Unknown option {unknown[0]!r}; the protocol offers: "
            + ", ".join(o.id for o in protocol.options) + ".",
        )
    chosen: dict[str, str] = {}
    for option in protocol.options:
        value = config.options.get(option.id, option.default)
        choice = option.choice(value)
        if choice is None:
            raise ConfigError(
                "CONFIG-UNKNOWN-CHOICE",
                f"{option.label}: {value!r} is not one of "
                + ", ".join(c.value for c in option.choices) + ".",
                requirements=option.requirements,
            )
        if choice.refused is not None:
            raise ConfigError(
                "CONFIG-CHOICE-REFUSED", f"{option.label}: {choice.refused}",
                requirements=choice.requirements or option.requirements,
            )
        chosen[option.id] = value
    return chosen


def _with_vital_sign_interval(protocol: Protocol, config: CentreConfig) -> Protocol:
    interval = config.vital_signs_interval_minutes
    schedule = protocol.vital_signs
    if interval is None:
        return protocol
    if interval > schedule.max_interval_minutes:
        raise ConfigError(
            "CONFIG-VITALS-INTERVAL",
            f"Vital signs every {interval} min is too seldom: the protocol requires at least "
            f"every {schedule.max_interval_minutes} min.",
            requirements=schedule.requirements,
        )
    return protocol.model_copy(
        update={"vital_signs": schedule.model_copy(update={"interval_minutes": interval})}
    )


def _with_course_rules(protocol: Protocol, config: CentreConfig) -> Protocol:
    courses = protocol.courses
    if config.min_months_between_courses is not None:
        for rule in courses.rules:
            minimum = rule.min_interval_after_previous
            if minimum is not None and config.min_months_between_courses < minimum.months:
                raise ConfigError(
                    "CONFIG-COURSE-INTERVAL",
                    f"Course {rule.first_course} may not start within {minimum.describe()} "
                    f"after the previous course; {config.min_months_between_courses} months "
                    "cannot be configured.",
                    requirements=rule.requirements,
                )
    if config.max_courses is not None:
        courses = courses.model_copy(update={"max_courses": config.max_courses})
    return protocol.model_copy(update={"courses": courses})


def _with_premedication_days(protocol: Protocol, config: CentreConfig) -> Protocol:
    known = {p.id: p for p in protocol.premedications}
    updated = []
    for premed in protocol.premedications:
        days = config.premedication_days.get(premed.id)
        if days is None:
            updated.append(premed)
            continue
        limit = premed.hard_limit_days
        if limit is not None and set(days) != set(limit):
            raise ConfigError(
                "CONFIG-PREMED-DAYS",
                f"{premed.name.capitalize()} is given on infusion days "
                f"{', '.join(map(str, limit))} of every course and on no other day; "
                f"days {', '.join(map(str, days)) or 'none'} cannot be configured.",
                requirements=premed.requirements,
            )
        updated.append(premed.model_copy(update={"days": tuple(sorted(days))}))
    unknown = sorted(set(config.premedication_days) - set(known))
    if unknown:
        raise ConfigError("CONFIG-UNKNOWN-PREMEDICATION", f"Unknown premedication {unknown[0]!r}.")
    return protocol.model_copy(update={"premedications": tuple(updated)})


def _with_rate_factor(protocol: Protocol, config: CentreConfig) -> Protocol:
    factor = config.reduced_rate_factor
    if factor is None:
        return protocol
    if not Decimal(0) < factor < Decimal(1):
        raise ConfigError(
            "CONFIG-RATE-FACTOR",
            f"The restart rate factor must be above 0 and below 1 (a reduced rate); got {factor}.",
            requirements=("PROT-26", "IAR-28", "C-10"),
        )
    update: dict[str, object] = {
        "infusion": protocol.infusion.model_copy(update={"reduced_rate_factor": factor})
    }
    if protocol.reactions is not None:
        update["reactions"] = protocol.reactions.model_copy(update={"restart_rate_factor": factor})
    return protocol.model_copy(update=update)


CENTRE_DEFAULT = "centre-default"  # the source of a number the product chose for centres to review


def _check_alert_threshold(rules: VitalSignRules, alert: AlertRule, value: Decimal) -> None:
    """A threshold lies within the plausible range of its vital sign (a percentage between 0 and
    100); an alert defined by a published scale (any source but the product's default) without
    ``must_alert`` bounds may only be made stricter, so that it warns earlier, never later (one
    with bounds may move up to them and no further: ``CONFIG-ALERT-SILENCES``)."""
    if alert.comparison == "drop_percent_from_baseline":
        low, high, unit = Decimal(0), Decimal(100), "%"
    else:
        limit = rules.plausibility.get(alert.parameter)
        low, high, unit = ((limit.min, limit.max, limit.unit) if limit is not None
                           else (value, value, ""))
    if not value.is_finite() or not low < value < high:
        raise ConfigError("CONFIG-ALERT-RANGE",
                          f"{alert.message} The threshold must lie between {low} and {high} {unit}; "
                          f"{value} cannot be configured.", requirements=alert.requirements)
    if alert.source == CENTRE_DEFAULT or alert.must_alert:
        return  # an alert with ``must_alert`` bounds may move up to them (CONFIG-ALERT-SILENCES)
    stricter = (value <= alert.threshold if alert.comparison in (">", ">=", "drop_percent_from_baseline")
                else value >= alert.threshold)
    if not stricter:
        raise ConfigError("CONFIG-ALERT-LOOSER",
                          f"{alert.message} This alert follows a published definition ({alert.source}); "
                          f"a centre may make it stricter but not looser than {alert.threshold}.",
                          requirements=alert.requirements)


def _with_alert_thresholds(protocol: Protocol, config: CentreConfig) -> Protocol:
    rules = protocol.vital_sign_rules
    if not config.alert_thresholds:
        return protocol
    if rules is None:
        raise ConfigError("CONFIG-UNKNOWN-ALERT", "This protocol defines no vital-sign alerts.")
    codes = {a.code for a in rules.alerts}
    unknown = sorted(set(config.alert_thresholds) - codes)
    if unknown:
        raise ConfigError(
            "CONFIG-UNKNOWN-ALERT",
            f"Unknown alert {unknown[0]!r}; the protocol's alerts are: {', '.join(sorted(codes))}.",
        )
    for alert in rules.alerts:
        threshold = config.alert_thresholds.get(alert.code)
        silenced = alert.silenced_by(threshold) if threshold is not None else None
        if silenced is not None:
            raise ConfigError(
                "CONFIG-ALERT-SILENCES",
                f"The {alert.code} alert threshold cannot be set to {threshold}: it would stay "
                f"silent at values {silenced.words()} ({silenced.reason}), which must always alert. "
                f"The protocol's threshold is {alert.threshold}.",
                requirements=alert.requirements,
            )
        if alert.code in config.alert_thresholds:
            _check_alert_threshold(rules, alert, config.alert_thresholds[alert.code])
    alerts = tuple(
        a.model_copy(update={"threshold": config.alert_thresholds[a.code]})
        if a.code in config.alert_thresholds else a
        for a in rules.alerts
    )
    return protocol.model_copy(
        update={"vital_sign_rules": rules.model_copy(update={"alerts": alerts})}
    )
