"""Pump arithmetic: volume, remaining, projected end, dose delivered, solution expiry (Decimal)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from infusionist.domain import pump
from infusionist.domain.pump import RateSegment

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def minutes(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def seg(start_min: int, rate: str) -> RateSegment:
    return RateSegment(minutes(start_min), Decimal(rate))


@pytest.mark.parametrize(
    ("volume", "duration", "rate"),
    [("112", "240", "28"), ("101.2", "240", "25.3"), ("100", "30", "200"), ("112", "480", "14")],
)
def test_rate_is_prepared_volume_over_target_time__PROT_12_PROT_14(volume, duration, rate):
    assert pump.rate_for(Decimal(volume), Decimal(duration)) == Decimal(rate)


def test_volume_over_a_history_with_a_pause_and_a_slower_restart__PROT_15_IAR_28():
    history = [seg(0, "28"), seg(60, "0"), seg(80, "14")]
    assert pump.volume_infused(history, minutes(60), Decimal(112)) == 28
    assert pump.volume_infused(history, minutes(80), Decimal(112)) == 28
    assert pump.volume_infused(history, minutes(140), Decimal(112)) == 28 + 14
    assert pump.volume_infused(history, minutes(80 + 360), Decimal(112)) == 112


def test_volume_never_exceeds_the_prepared_volume__PROT_12():
    assert pump.volume_infused([seg(0, "28")], minutes(600), Decimal(112)) == 112


def test_volume_is_exact_for_a_third_of_an_hour():
    assert pump.volume_infused([seg(0, "28")], minutes(20), Decimal(112)) == Fraction(28, 3)


def test_projected_end_follows_the_history__PROT_14():
    history = [seg(0, "28"), seg(60, "0"), seg(80, "14")]
    assert pump.projected_end(history, Decimal(112), minutes(100), Decimal(14)) == minutes(80 + 360)
    assert pump.emptied_at(history, Decimal(112)) == minutes(440)


def test_projected_end_while_paused_runs_the_rest_at_the_resume_rate__IAR_28():
    history = [seg(0, "28"), seg(60, "0")]
    assert pump.projected_end(history, Decimal(112), minutes(70), Decimal(14)) == minutes(70 + 360)


def test_projected_end_without_a_start_uses_the_given_rate():
    assert pump.projected_end([], Decimal(112), T0, Decimal(28)) == minutes(240)


def test_projected_end_rounds_up_to_the_microsecond():
    end = pump.projected_end([seg(0, "30")], Decimal(1), T0, Decimal(30))
    assert end == T0 + timedelta(minutes=2)
    end = pump.projected_end([seg(0, "7")], Decimal(1), T0, Decimal(7))
    assert end > T0 + timedelta(hours=1) / 7


def test_dose_delivered_is_proportional_to_volume__PROT_11():
    assert pump.dose_delivered(Decimal(12), Fraction(28), Decimal(112)) == 3
    assert pump.dose_delivered(Decimal(12), Fraction(112), Decimal(112)) == 12


def test_solution_expires_storage_limit_after_preparation__PROT_13():
    prepared = datetime(2026, 12, 7, 7, 30, tzinfo=UTC)
    assert pump.solution_expiry(prepared, Decimal(8)) == datetime(2026, 12, 7, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(("end_min", "margin"), [(440, 10), (450, 0), (451, -1), (439, 11)])
def test_margin_is_whole_minutes_rounded_down__PROT_13(end_min, margin):
    expires = minutes(450)
    assert pump.margin_minutes(expires, minutes(end_min)) == margin


def test_margin_rounds_a_late_half_minute_to_a_full_minute_late():
    assert pump.margin_minutes(minutes(450), minutes(450) + timedelta(seconds=30)) == -1


def test_current_rate_reads_the_segment_in_force():
    history = [seg(0, "28"), seg(60, "0"), seg(80, "14")]
    assert pump.current_rate(history, minutes(-1)) == 0
    assert pump.current_rate(history, minutes(30)) == 28
    assert pump.current_rate(history, minutes(70)) == 0
    assert pump.current_rate(history, minutes(80)) == 14


def test_to_decimal_rounds_down():
    assert pump.to_decimal(Fraction(2, 3), Decimal("0.01")) == Decimal("0.66")
