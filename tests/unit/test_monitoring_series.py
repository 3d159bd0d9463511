"""The 48-month safety-monitoring series: protocol data and scheduling (PROT-34, PROT-36, labels)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infusionist.domain.errors import FollowUpRefused
from infusionist.domain.followup import monitoring_occurrences
from infusionist.domain.protocol import Protocol
from infusionist.domain.protocol_elements import Period
from infusionist.domain.protocol_monitoring import Monitoring


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


# -- scheduling from a course history -------------------------------------------------------------

MONTHLY = ("full-blood-count", "serum-creatinine", "urinalysis", "liver-function")
DEFAULT_OPTIONS = {"liver-monitoring": "eu-label"}


def _month(day: date) -> int:
    return day.year * 12 + day.month - 1


def test_monthly_tests_run_from_month_1_to_48_after_the_last_infusion__us_label(protocol: Protocol) -> None:
    found = monitoring_occurrences(protocol, [date(2026, 12, 11)], DEFAULT_OPTIONS)
    blood = [o for o in found if o.element.id == "full-blood-count"]
    assert [o.suffix for o in blood] == [f"m{k:02d}" for k in range(1, 49)]
    assert blood[0].due == date(2027, 1, 11)
    assert blood[-1].due == date(2030, 12, 11)


def test_thyroid_every_3_months_and_skin_yearly__us_label(protocol: Protocol) -> None:
    found = monitoring_occurrences(protocol, [date(2026, 12, 11)], DEFAULT_OPTIONS)
    thyroid = [o.due for o in found if o.element.id == "thyroid-function"]
    skin = [o.due for o in found if o.element.id == "skin-examination"]
    assert len(thyroid) == 16 and thyroid[0] == date(2027, 3, 11) and thyroid[-1] == date(2030, 12, 11)
    assert skin == [date(2027, 12, 11), date(2028, 12, 11), date(2029, 12, 11), date(2030, 12, 11)]


def test_month_ends_are_clamped_not_skipped__us_label(protocol: Protocol) -> None:
    found = monitoring_occurrences(protocol, [date(2027, 1, 31)], DEFAULT_OPTIONS)
    blood = [o.due for o in found if o.element.id == "full-blood-count"]
    assert blood[:3] == [date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)]


def test_another_course_extends_the_series_to_48_months_after_it__us_label(protocol: Protocol) -> None:
    history = [date(2026, 12, 11), date(2027, 12, 15)]
    blood = [o for o in monitoring_occurrences(protocol, history, DEFAULT_OPTIONS)
             if o.element.id == "full-blood-count"]
    assert [o.id for o in blood][11:13] == ["c1-after-full-blood-count-m12", "c2-after-full-blood-count-m01"]
    assert blood[-1].due == date(2031, 12, 15) and blood[-1].id == "c2-after-full-blood-count-m48"
    assert len(blood) == 12 + 48


def test_liver_tests_follow_the_centres_label_choice__eu_label(protocol: Protocol) -> None:
    eu = monitoring_occurrences(protocol, [date(2026, 12, 11)], {"liver-monitoring": "eu-label"})
    us = monitoring_occurrences(protocol, [date(2026, 12, 11)], {"liver-monitoring": "us-label"})
    assert sum(o.element.id == "liver-function" for o in eu) == 48
    assert not any(o.element.id == "liver-function" for o in us)


def test_a_history_out_of_order_is_refused(protocol: Protocol) -> None:
    with pytest.raises(FollowUpRefused) as caught:
        monitoring_occurrences(protocol, [date(2027, 12, 15), date(2026, 12, 11)], DEFAULT_OPTIONS)
    assert caught.value.code == "FOLLOWUP-HISTORY-ORDER"


histories = st.lists(st.integers(min_value=1, max_value=2200), min_size=0, max_size=4).flatmap(
    lambda gaps: st.dates(min_value=date(2015, 1, 1), max_value=date(2035, 12, 31)).map(
        lambda first: [first + timedelta(days=sum(gaps[:i])) for i in range(len(gaps) + 1)]
    )
)


@settings(max_examples=150, deadline=None)
@given(history=histories)
def test_every_month_to_48_months_after_the_last_infusion_has_its_blood_tests_exactly_once__us_label(
    protocol: Protocol, history: list[date]
) -> None:
    found = monitoring_occurrences(protocol, history, DEFAULT_OPTIONS)
    months = _month(history[-1]) + 48
    for series_id in MONTHLY:
        counts = Counter(_month(o.due) for o in found if o.element.id == series_id)
        for month in range(_month(history[0]) + 1, months + 1):
            governing = max(d for d in history if _month(d) < month)
            expected = 1 if month <= _month(governing) + 48 else 0  # a gap of more than 48 months
            assert counts[month] == expected, (series_id, month, history)
        assert max(counts) == months
    ids = [o.id for o in found]
    assert len(ids) == len(set(ids))
    assert all(o.due > history[0] for o in found)
