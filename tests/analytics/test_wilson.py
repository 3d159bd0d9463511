"""Wilson 95% score intervals against published values (Newcombe 1998, Table I, method 3)."""

from __future__ import annotations

import pytest

from infusionist.analytics.stats import wilson


@pytest.mark.parametrize(
    ("successes", "total", "low", "high"),
    [
        (81, 263, 0.2553, 0.3662),  # Newcombe 1998 example
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (29, 29, 0.8830, 1.0),
        (687, 811, 0.8207, 0.8702),  # pooled CARE-MS course 1
    ],
)
def test_wilson_interval_matches_the_published_table__IAR_19(
    successes: int, total: int, low: float, high: float
) -> None:
    got_low, got_high = wilson(successes, total)
    assert got_low == pytest.approx(low, abs=1e-4)
    assert got_high == pytest.approx(high, abs=1e-4)


def test_wilson_interval_of_nobody_exposed_is_unknown() -> None:
    assert wilson(0, 0) == (None, None)


def test_wilson_refuses_more_events_than_patients() -> None:
    with pytest.raises(ValueError, match="outside"):
        wilson(3, 2)
