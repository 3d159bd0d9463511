"""Laboratory results of safety monitoring: entry checks, alerts, physician tasks (PROT-36)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from infusionist.domain.errors import ConfigError, FollowUpRefused, ValidationFailed
from infusionist.domain.followup import TaskKind, TaskStatus, complete
from infusionist.domain.lab_results import (
    LabResult,
    check_result,
    evaluate,
    herpes_prophylaxis_may_stop,
    review_tasks,
)
from infusionist.domain.protocol import Protocol
from infusionist.domain.protocol_monitoring import Monitoring

BERLIN = ZoneInfo("Europe/Berlin")
TAKEN = datetime(2027, 7, 11, 8, 30, tzinfo=BERLIN)


@pytest.fixture
def monitoring(protocol: Protocol) -> Monitoring:
    assert protocol.monitoring is not None
    return protocol.monitoring


def result(analyte: str, value: str | None, unit: str, low: str | None = None, high: str | None = None,
           *, ident: str = "R-1", taken: datetime = TAKEN) -> LabResult:
    return LabResult(
        id=ident, analyte=analyte, value=None if value is None else Decimal(value), unit=unit,
        reference_low=None if low is None else Decimal(low),
        reference_high=None if high is None else Decimal(high), taken_at=taken,
    )


def codes(monitoring: Monitoring, entry: LabResult, **kwargs: object) -> list[str]:
    return [a.code for a in evaluate(monitoring, entry, **kwargs)]  # type: ignore[arg-type]


# -- entry checks ---------------------------------------------------------------------------------


def test_a_missing_value_is_refused_but_zero_is_a_value__PROT_36(monitoring: Monitoring) -> None:
    with pytest.raises(ValidationFailed) as missing:
        check_result(monitoring, result("platelets", None, "10*9/L", "150", "400"))
    assert missing.value.code == "LAB-VALUE-MISSING"
    assert codes(monitoring, result("platelets", "0", "10*9/L", "150", "400")) == ["PLATELETS-LOW"]


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "code"),
    [
        ("platelets", "5000", "10*9/L", "LAB-IMPLAUSIBLE"),
        ("platelets", "-1", "10*9/L", "LAB-IMPLAUSIBLE"),
        ("platelets", "150", "mg/dL", "LAB-UNIT"),
        ("creatinine", "80", "mmol/L", "LAB-UNIT"),
        ("ferritin", "80", "ug/L", "LAB-UNKNOWN-ANALYTE"),
    ],
)
def test_implausible_entries_are_refused_with_a_code(
    monitoring: Monitoring, analyte: str, value: str, unit: str, code: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_result(monitoring, result(analyte, value, unit, "1", "400"))
    assert caught.value.code == code


def test_an_inverted_reference_range_is_refused(monitoring: Monitoring) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_result(monitoring, result("platelets", "200", "10*9/L", "400", "150"))
    assert caught.value.code == "LAB-REFERENCE-RANGE"


def test_the_reference_limit_an_alert_needs_is_required__PROT_36(monitoring: Monitoring) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_result(monitoring, result("platelets", "120", "10*9/L", None, "400"))
    assert caught.value.code == "LAB-REFERENCE-RANGE-MISSING"
    assert "reference_low" in caught.value.details


def test_a_sampling_time_without_zone_is_refused(monitoring: Monitoring) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_result(monitoring, result("tsh", "2", "m[IU]/L", "0.4", "4", taken=datetime(2027, 7, 11, 8)))
    assert caught.value.code == "LAB-TIME-ZONE"


# -- alerts ---------------------------------------------------------------------------------------


def test_platelets_below_the_lower_limit_start_a_thrombocytopenia_work_up__PROT_36(
    monitoring: Monitoring,
) -> None:
    assert codes(monitoring, result("platelets", "149", "10*9/L", "150", "400")) == ["PLATELETS-LOW"]
    assert codes(monitoring, result("platelets", "150", "10*9/L", "150", "400")) == []


def test_a_creatinine_rise_from_baseline_starts_a_kidney_work_up__PROT_36(monitoring: Monitoring) -> None:
    baseline = result("creatinine", "70", "umol/L", "45", "110", ident="B-1", taken=datetime(2026, 11, 1, tzinfo=BERLIN))
    assert codes(monitoring, result("creatinine", "104", "umol/L", "45", "110"), baseline=baseline) == []
    assert codes(monitoring, result("creatinine", "105", "umol/L", "45", "110"), baseline=baseline) == [
        "CREATININE-RISE"
    ]


def test_a_creatinine_rise_compares_across_units__PROT_36(monitoring: Monitoring) -> None:
    baseline = result("creatinine", "0.8", "mg/dL", "0.5", "1.2", ident="B-1")
    rise = result("creatinine", "106.2", "umol/L", "45", "110")  # 0.8 mg/dL = 70.7 umol/L; +50 %
    assert codes(monitoring, rise, baseline=baseline) == ["CREATININE-RISE"]


def test_creatinine_above_the_upper_limit_starts_a_kidney_work_up__PROT_36(monitoring: Monitoring) -> None:
    assert codes(monitoring, result("creatinine", "120", "umol/L", "45", "110")) == ["CREATININE-HIGH"]


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "code"),
    [("urine-erythrocytes", "6", "/[HPF]", "HAEMATURIA"), ("urine-protein", "30", "mg/dL", "PROTEINURIA")],
)
def test_haematuria_and_proteinuria_start_a_kidney_work_up__PROT_36(
    monitoring: Monitoring, analyte: str, value: str, unit: str, code: str
) -> None:
    assert codes(monitoring, result(analyte, value, unit, "0", "2" if code == "HAEMATURIA" else "15")) == [code]


@pytest.mark.parametrize(("value", "fires"), [("0.39", True), ("0.4", False), ("4", False), ("4.01", True)])
def test_thyroid_values_outside_the_range_start_a_thyroid_work_up__PROT_34(
    monitoring: Monitoring, value: str, fires: bool
) -> None:
    assert codes(monitoring, result("tsh", value, "m[IU]/L", "0.4", "4")) == (["THYROID-TSH"] if fires else [])


def test_a_centre_configures_the_creatinine_rise__centre_default(monitoring: Monitoring) -> None:
    baseline = result("creatinine", "70", "umol/L", "45", "110", ident="B-1")
    rise = result("creatinine", "92", "umol/L", "45", "110")  # +31 %
    assert codes(monitoring, rise, baseline=baseline) == []
    assert codes(monitoring, rise, baseline=baseline, overrides={"CREATININE-RISE": Decimal(30)}) == [
        "CREATININE-RISE"
    ]


def test_range_based_alerts_and_unknown_codes_cannot_be_configured(monitoring: Monitoring) -> None:
    entry = result("platelets", "200", "10*9/L", "150", "400")
    with pytest.raises(ConfigError) as ranged:
        evaluate(monitoring, entry, overrides={"PLATELETS-LOW": Decimal(100)})
    assert ranged.value.code == "CONFIG-LAB-ALERT-RANGE"
    with pytest.raises(ConfigError) as unknown:
        evaluate(monitoring, entry, overrides={"NO-SUCH-ALERT": Decimal(1)})
    assert unknown.value.code == "CONFIG-UNKNOWN-LAB-ALERT"


# -- physician tasks ------------------------------------------------------------------------------


def test_an_alert_becomes_a_physician_task_closed_with_a_reason__PROT_36(monitoring: Monitoring) -> None:
    [task] = review_tasks(monitoring, result("platelets", "90", "10*9/L", "150", "400"), course=1)
    assert task.kind is TaskKind.PHYSICIAN_REVIEW
    assert task.name == "thrombocytopenia work-up"
    assert task.opens == date(2027, 7, 11) and task.due == date(2027, 7, 13)
    assert "PROT-36" in task.requirements
    with pytest.raises(FollowUpRefused) as caught:
        complete(task, date(2027, 7, 12))
    assert caught.value.code == "FOLLOWUP-REASON-REQUIRED"
    closed = complete(task, date(2027, 7, 12), "Repeat count 160, no bleeding: no ITP.")
    assert closed.status is TaskStatus.DONE and closed.reason == "Repeat count 160, no bleeding: no ITP."


def test_a_normal_result_creates_no_task(monitoring: Monitoring) -> None:
    assert review_tasks(monitoring, result("tsh", "2.1", "m[IU]/L", "0.4", "4"), course=1) == []


# -- herpes prophylaxis stop condition (US label) -------------------------------------------------


def test_herpes_prophylaxis_stops_at_the_later_of_date_and_cd4_200__us_label(monitoring: Monitoring) -> None:
    rule = monitoring.herpes_stop
    assert rule is not None
    planned_end = date(2027, 2, 11)
    low = result("cd4", "180", "/uL", ident="C-1", taken=datetime(2027, 2, 1, tzinfo=BERLIN))
    high = result("cd4", "200", "/uL", ident="C-2", taken=datetime(2027, 3, 1, tzinfo=BERLIN))
    early = result("cd4", "240", "/uL", ident="C-0", taken=datetime(2027, 1, 20, tzinfo=BERLIN))
    assert herpes_prophylaxis_may_stop(monitoring, rule, planned_end, [low]) is None
    assert herpes_prophylaxis_may_stop(monitoring, rule, planned_end, [low, high]) == date(2027, 3, 1)
    assert herpes_prophylaxis_may_stop(monitoring, rule, planned_end, [early]) == planned_end
