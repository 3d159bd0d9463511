"""How the synthetic trial is calibrated: every rate comes from the protocol's ``reference_figures``.

Per course ``c`` the generator aims at the pooled CARE-MS I+II figure (source ``pooled-2021``):
the share of patients with at least one IAR in the course, ``p_c``, and with a serious one,
``s_c``. Exposure to course ``c`` follows the same table's ``patients_exposed`` (811, 791, 302,
...) relative to course 1. Within a course of ``D`` days, day ``d`` carries a reaction with
probability ``q_d = min(1, k * w_d)``; ``w`` is higher on day 1 than on later days (IAR-06: the
4-year follow-up reports fewer IARs on days 2-3 than on day 1) and ``k`` is solved by bisection
so that ``1 - prod(1 - q_d) = p_c``: the course incidence is exact in expectation. The symptom
mix weights each symptom by its label percentage (source ``us-label``); a reaction has 1 to 3
symptoms. Nothing here is a clinical rule: these are the simulation's knobs, and they live in
one place so the report can say how its test data were made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from infusionist.domain.protocol import Protocol, ReferenceFigure

CALIBRATION_SOURCE = "pooled-2021"
SYMPTOM_SOURCE = "us-label"
# Relative day weights within a course (IAR-06): day 1 highest, days 2-3 lower, later days lower still.
DAY_WEIGHTS = (1.0, 0.45, 0.4, 0.35, 0.35)
# Course 1 interrupted (a day not given): 45 of 972 patients (Caon et al. 2015, clinical facts §2).
MISSED_DAY_SHARE = 45 / 972
# Of the serious reactions, the share that is anaphylaxis (the course is then withdrawn).
ANAPHYLAXIS_SHARE_OF_SERIOUS = 0.2
# Non-serious reactions: share that needs an interruption (CTCAE grade 2) rather than none (grade 1).
GRADE_2_SHARE = 0.45
# Where a reaction starts: during the infusion, in observation, after discharge (within 24 h).
ONSET_PLACES = (("infusion", 0.8), ("observation", 0.1), ("after_discharge", 0.1))


@dataclass(frozen=True)
class CourseTarget:
    course: int
    any_iar: float
    serious: float
    exposure: float  # share of the trial's patients who reach this course
    day_probabilities: tuple[float, ...] = field(default=())


@dataclass(frozen=True)
class Calibration:
    source: str
    courses: tuple[CourseTarget, ...]
    symptom_weights: tuple[tuple[str, float], ...]
    symptom_source: str

    def course(self, number: int) -> CourseTarget | None:
        return next((c for c in self.courses if c.course == number), None)

    def describe(self) -> str:
        per_course = "; ".join(
            f"course {c.course}: {100 * c.any_iar:.1f}% any IAR, {100 * c.serious:.1f}% serious, "
            f"{100 * c.exposure:.1f}% of patients exposed, per day "
            + "/".join(f"{100 * q:.0f}%" for q in c.day_probabilities)
            for c in self.courses
        )
        return (
            f"Synthetic data calibrated to the {self.source} figures ({per_course}); day 1 weighted "
            f"above later days (IAR-06); symptom mix from {self.symptom_source} percentages."
        )


def _figures(protocol: Protocol, measure: str, source: str) -> list[ReferenceFigure]:
    if protocol.reference_figures is None:
        return []
    return [
        f
        for f in protocol.reference_figures.figures
        if f.measure == measure and f.source == source and f.arm == "12 mg"
    ]


def _percent(value: Decimal | None) -> float:
    return 0.0 if value is None else float(value) / 100


def day_probabilities(target: float, days: int) -> tuple[float, ...]:
    """Per-day probabilities with the day weights whose course total is ``target``."""
    weights = [DAY_WEIGHTS[min(i, len(DAY_WEIGHTS) - 1)] for i in range(days)]

    def course_total(k: float) -> float:
        none = 1.0
        for w in weights:
            none *= 1 - min(1.0, k * w)
        return 1 - none

    low, high = 0.0, 1 / min(weights)
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if course_total(mid) < target else (low, mid)
    return tuple(min(1.0, low * w) for w in weights)


def calibrate(protocol: Protocol, days_in_course: dict[int, int]) -> Calibration:
    """The generator's targets from the protocol data; ``days_in_course`` from the course rules."""
    serious = {f.course: _percent(f.percent) for f in _figures(protocol, "serious_iar", CALIBRATION_SOURCE)}
    any_iar = sorted(_figures(protocol, "any_iar", CALIBRATION_SOURCE), key=lambda f: f.course or 0)
    first = next((f.patients_exposed for f in any_iar if f.course == 1), None) or 1
    targets = tuple(
        CourseTarget(
            course=f.course or 0,
            any_iar=_percent(f.percent),
            serious=serious.get(f.course, 0.0),
            exposure=(f.patients_exposed or 0) / first,
            day_probabilities=day_probabilities(_percent(f.percent), days_in_course.get(f.course or 0, 3)),
        )
        for f in any_iar
        if f.course is not None
    )
    symptoms = tuple(
        (f.symptom, _percent(f.percent))
        for f in _figures(protocol, "symptom", SYMPTOM_SOURCE)
        if f.symptom is not None and f.percent is not None
    )
    return Calibration(CALIBRATION_SOURCE, targets, symptoms, SYMPTOM_SOURCE)
