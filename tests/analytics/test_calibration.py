"""The generator's reaction draws hit the calibration figures, serious reactions included (IAR-19)."""

from __future__ import annotations

from infusionist.analytics.stats import wilson
from infusionist.analytics.synth import draw_reaction_days, patient_rng, trial_calibration
from infusionist.domain.protocol import Protocol

DRAWS = 20_000  # the reaction draws alone, without planning or events: well under a second


def _shares(protocol: Protocol, course: int, seed: int = 2026) -> tuple[int, int]:
    target = trial_calibration(protocol).course(course)
    assert target is not None
    days = list(range(1, len(target.day_probabilities) + 1))
    any_, serious = 0, 0
    for index in range(1, DRAWS + 1):
        reacting, serious_day = draw_reaction_days(target, days, patient_rng(seed, index, course))
        any_ += bool(reacting)
        serious += serious_day is not None
    return any_, serious


def test_serious_share_per_course_lies_within_its_interval_of_the_pooled_reference__IAR_19(
    protocol: Protocol,
) -> None:
    # The 2,000-patient trial of seed 2026 has 24 serious course-1 IARs where 40 are expected:
    # a 1-in-240 draw (binomial P(X <= 24) = 0.004), not a rate error; over 20,000 draws the
    # same seed gives 383 (1.9%). Checked here on the draws, where the interval is narrow.
    for course, reference in ((1, 0.020), (2, 0.010), (3, 0.007)):
        any_, serious = _shares(protocol, course)
        low, high = wilson(serious, DRAWS)
        assert low is not None and high is not None
        assert low <= reference <= high, (course, serious, low, high)
        low, high = wilson(any_, DRAWS)
        assert low is not None and high is not None
        assert low <= trial_calibration(protocol).course(course).any_iar <= high  # type: ignore[union-attr]
