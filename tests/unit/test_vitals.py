"""Vital signs: impossible entries are refused per field; alerts follow the protocol's rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from day_builders import PROTOCOL, configured

from infusionist.domain.errors import ValidationFailed
from infusionist.domain.vitals import check_plausible, evaluate_alerts, implausible_fields

RULES = PROTOCOL.vital_sign_rules
assert RULES is not None


def values(**fields: str) -> dict[str, Decimal]:
    return {name: Decimal(value) for name, value in fields.items()}


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("temperature_c", "24.9", "between 25 and 45"),
        ("temperature_c", "45.1", "between 25 and 45"),
        ("temperature_c", "98.6", "looks like Fahrenheit (98.6 °F is 37.0 °C)"),
        ("heart_rate_bpm", "19", "between 20 and 250"),
        ("heart_rate_bpm", "251", "between 20 and 250"),
        ("spo2_percent", "101", "between 50 and 100"),
        ("respiratory_rate_per_min", "0", "between 4 and 60"),
    ],
)
def test_impossible_values_are_refused_with_a_message_for_the_field__IAR_24(field, value, fragment):
    problems = implausible_fields(values(**{field: value}), RULES)
    assert list(problems) == [field]
    assert fragment in problems[field]


@pytest.mark.parametrize(
    "entry",
    [
        {"temperature_c": "25"}, {"temperature_c": "45"}, {"heart_rate_bpm": "20"},
        {"spo2_percent": "100"}, {"systolic_mmhg": "120", "diastolic_mmhg": "80"},
    ],
)
def test_values_at_the_limits_are_plausible__IAR_24(entry):
    assert implausible_fields(values(**entry), RULES) == {}


def test_systolic_must_be_above_diastolic__IAR_24():
    problems = implausible_fields(values(systolic_mmhg="80", diastolic_mmhg="120"), RULES)
    assert "must be above diastolic" in problems["systolic_mmhg"]


def test_every_bad_field_of_one_entry_is_reported_at_once__IAR_24():
    with pytest.raises(ValidationFailed) as refused:
        check_plausible(values(temperature_c="98.6", spo2_percent="101"), RULES, "Vital signs")
    assert refused.value.code == "VITALS-IMPLAUSIBLE"
    assert set(refused.value.details) == {"temperature_c", "spo2_percent"}


@pytest.mark.parametrize(
    ("entry", "codes"),
    [
        ({"temperature_c": "37.9"}, []),
        ({"temperature_c": "38.0"}, ["FEVER"]),
        ({"systolic_mmhg": "91", "diastolic_mmhg": "60"}, []),
        ({"systolic_mmhg": "90", "diastolic_mmhg": "60"}, ["HYPOTENSION"]),
        ({"heart_rate_bpm": "120"}, []),
        ({"heart_rate_bpm": "121"}, ["TACHYCARDIA"]),
        ({"heart_rate_bpm": "50"}, []),
        ({"heart_rate_bpm": "49"}, ["BRADYCARDIA"]),
        ({"spo2_percent": "92"}, []),
        ({"spo2_percent": "91"}, ["LOW-SPO2"]),
        ({"systolic_mmhg": "139", "diastolic_mmhg": "89"}, []),
        ({"systolic_mmhg": "140", "diastolic_mmhg": "89"}, ["HYPERTENSION"]),
        ({"systolic_mmhg": "135", "diastolic_mmhg": "90"}, ["HYPERTENSION-DIASTOLIC"]),
        ({"respiratory_rate_per_min": "24"}, []),
        ({"respiratory_rate_per_min": "25"}, ["RESPIRATORY-RATE"]),
    ],
)
def test_alert_thresholds_from_the_protocol_catch_news2_3_and_ctcae_2__IAR_11_IAR_05(entry, codes):
    assert [a.code for a in evaluate_alerts(values(**entry), {}, RULES)] == codes


@pytest.mark.parametrize(("systolic", "fires"), [("104", True), ("105", False), ("106", False)])
def test_a_drop_of_20_percent_from_the_pre_infusion_baseline_alerts__IAR_11_IAR_26(systolic, fires):
    alerts = evaluate_alerts(values(systolic_mmhg=systolic), values(systolic_mmhg="130"), RULES)
    assert ("BP-DROP" in [a.code for a in alerts]) is fires


def test_no_drop_alert_without_a_baseline__IAR_11():
    assert evaluate_alerts(values(systolic_mmhg="100"), {}, RULES) == []


def test_a_centre_may_make_an_alert_threshold_stricter__IAR_11():
    # FEVER follows CTCAE v5.0 (>= 38.0 °C): a centre may alert earlier, never later (issue 15)
    rules = configured(alert_thresholds={"FEVER": "37.8"}).vital_sign_rules
    assert rules is not None
    assert evaluate_alerts(values(temperature_c="37.7"), {}, rules) == []
    assert [a.code for a in evaluate_alerts(values(temperature_c="37.8"), {}, rules)] == ["FEVER"]


def test_alert_messages_name_the_measured_value__IAR_11():
    (alert,) = evaluate_alerts(values(temperature_c="38.4"), {}, RULES)
    assert alert.severity == "warning"
    assert alert.message.endswith("Measured: 38.4 (CTCAE v5.0 fever grade 1).")


@pytest.mark.parametrize(
    ("code", "threshold", "silenced"),
    [
        ("FEVER", "39.0", None),
        ("FEVER", "39.1", "above 39.0"),  # CTCAE fever grade 2 is above 39.0 °C
        ("HYPOTENSION", "90", None),
        ("HYPOTENSION", "89", "at or below 90"),  # NEWS2 scores SBP <= 90 as 3
        ("TACHYCARDIA", "130", None),
        ("TACHYCARDIA", "131", "at or above 131"),  # NEWS2 scores HR >= 131 as 3
        ("BRADYCARDIA", "41", None),
        ("BRADYCARDIA", "40", "at or below 40"),  # NEWS2 scores HR <= 40 as 3
        ("LOW-SPO2", "92", None),
        ("LOW-SPO2", "91", "at or below 91"),  # NEWS2 scores SpO2 <= 91 as 3
        ("HYPERTENSION", "140", None),
        ("HYPERTENSION", "160", "at or above 140"),  # CTCAE hypertension grade 2 from 140
        ("HYPERTENSION-DIASTOLIC", "95", "at or above 90"),  # CTCAE grade 2 from 90
        ("RESPIRATORY-RATE", "26", "at or above 25"),  # NEWS2 scores RR >= 25 as 3
        ("RESPIRATORY-RATE", "21", None),
    ],
)
def test_a_centre_threshold_may_not_silence_news2_3_or_ctcae_grade_2__IAR_11_IAR_24(
    code, threshold, silenced
):
    from infusionist.domain.errors import ConfigError

    if silenced is None:
        rules = configured(alert_thresholds={code: threshold}).vital_sign_rules
        assert rules is not None
        (rule,) = [a for a in rules.alerts if a.code == code]
        assert rule.threshold == Decimal(threshold)
        return
    with pytest.raises(ConfigError) as refused:
        configured(alert_thresholds={code: threshold})
    assert refused.value.code == "CONFIG-ALERT-SILENCES"
    assert f"cannot be set to {threshold}" in refused.value.message
    assert silenced in refused.value.message


def test_a_protocol_whose_own_threshold_silences_a_bound_is_refused__IAR_11():
    from pydantic import ValidationError

    from infusionist.domain.protocol import AlertRule

    (fever,) = [a for a in RULES.alerts if a.code == "FEVER"]
    data = fever.model_dump()
    with pytest.raises(ValidationError, match=r"silences values above 39\.0"):
        AlertRule.model_validate({**data, "threshold": Decimal("39.5")})
    with pytest.raises(ValidationError, match="threshold in force"):
        AlertRule.model_validate({**data, "message": "Fever: 38.0 °C or more."})


def test_alert_texts_state_the_threshold_in_force__IAR_11():
    rules = configured(alert_thresholds={"FEVER": "38.5", "TACHYCARDIA": "110"}).vital_sign_rules
    assert rules is not None
    by_code = {a.code: a for a in evaluate_alerts(
        values(temperature_c="38.6", heart_rate_bpm="115"), {}, rules)}
    assert by_code["FEVER"].message.startswith("Fever: temperature 38.5 °C or more")
    assert by_code["TACHYCARDIA"].message.startswith("Fast heart rate: more than 110 beats")
    default = {a.code: a for a in evaluate_alerts(values(temperature_c="38.6"), {}, RULES)}
    assert default["FEVER"].message.startswith("Fever: temperature 38.0 °C or more")
    assert all("{threshold}" not in a.message for a in by_code.values())
