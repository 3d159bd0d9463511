"""The 48-month safety-monitoring series: protocol data and scheduling (PROT-34, PROT-36, labels)."""

from __future__ import annotations

from infusionist.domain.protocol import Monitoring, Period, Protocol


def _monitoring(protocol: Protocol) -> Monitoring:
    assert protocol.monitoring is not None
    return protocol.monitoring


def test_monitoring_runs_48_months_after_the_last_infusion__us_label(protocol: Protocol) -> None:
    monitoring = _monitoring(protocol)
    assert monitoring.duration == Period(months=48)
    assert monitoring.source == "us-label"
    assert "PROT-34" in monitoring.requirements


def test_series_intervals_are_the_labels__us_label(protocol: Protocol) -> None:
    every = {s.id: s.every.months for s in _monitoring(protocol).series}
    assert every["full-blood-count"] == every["serum-creatinine"] == every["urinalysis"] == 1
    assert every["thyroid-function"] == 3
    assert every["skin-examination"] == 12


def test_kidney_and_platelet_series_cite_late_side_effects__PROT_36(protocol: Protocol) -> None:
    series = {s.id: s for s in _monitoring(protocol).series}
    for series_id in ("full-blood-count", "serum-creatinine", "urinalysis"):
        assert {"PROT-34", "PROT-36"} <= set(series[series_id].requirements)


def test_liver_tests_carry_the_label_difference_as_advisory__eu_label(protocol: Protocol) -> None:
    liver = next(s for s in _monitoring(protocol).series if s.id == "liver-function")
    assert liver.source == "eu-label"
    assert any(a.source == "us-label" for a in liver.advisories)


def test_herpes_cd4_stop_condition_is_kept__us_label(protocol: Protocol) -> None:
    aciclovir = next(m for m in protocol.evening_before if m.id == "aciclovir")
    assert aciclovir.stop_condition is not None and "CD4" in aciclovir.stop_condition
    stop = _monitoring(protocol).herpes_stop
    assert stop is not None and stop.medication == "aciclovir" and stop.source == "us-label"


def test_lab_thresholds_without_a_published_number_are_centre_defaults(protocol: Protocol) -> None:
    alerts = {a.code: a for a in _monitoring(protocol).lab_alerts}
    assert alerts["CREATININE-RISE"].source == "centre-default"
    assert alerts["CREATININE-RISE"].threshold is not None
    assert _monitoring(protocol).task_window.source == "centre-default"
