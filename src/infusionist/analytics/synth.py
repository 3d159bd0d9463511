"""A synthetic trial: patients, courses and bedside events with IAR rates from the reference figures.

``draw_trial`` is a pure function of the seed: every patient has its own random stream
(``random.Random(f"{seed}/{index}")``), so patient ``i`` is the same whatever ``N`` and whichever
writer stores it. Two writers: ``write_with_services`` registers patients, plans courses and
appends every event through the project's own use cases (guards, audit trail), and
``write_bulk`` (``synth_bulk.py``) writes the same rows straight through the database layer for
benchmark sizes. Calibration: ``calibration.py``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from infusionist.analytics.calibration import (
    ANAPHYLAXIS_SHARE_OF_SERIOUS,
    GRADE_2_SHARE,
    MISSED_DAY_SHARE,
    ONSET_PLACES,
    Calibration,
    CourseTarget,
    calibrate,
)
from infusionist.analytics.synth_day import DayBuilder, Event, ReactionDraw
from infusionist.domain.planning import CoursePlan
from infusionist.domain.protocol import Protocol

TRIAL_START = date(2024, 1, 1)  # a Monday: course 1 runs Monday to Friday
TIMEZONE = "Europe/Berlin"
SYNTH_USER = "synth"
ANAPHYLAXIS_SYMPTOMS = ("bronchospasm", "urticaria", "hypotension")


@dataclass(frozen=True)
class SynthPatient:
    index: int
    name: str
    birth_date: date
    sex: str
    childbearing_potential: bool
    weight_kg: Decimal
    courses: int
    first_day: date
    infusion_start: time

    @property
    def pseudonym(self) -> str:
        return f"S-{self.index:07d}"


def days_in_courses(protocol: Protocol, up_to: int = 6) -> dict[int, int]:
    return {
        c: rule.infusion_days
        for c in range(1, up_to + 1)
        if (rule := protocol.courses.rule_for(c)) is not None
    }


def trial_calibration(protocol: Protocol) -> Calibration:
    return calibrate(protocol, days_in_courses(protocol))


def patient_rng(seed: int, index: int, course: int = 0) -> random.Random:
    return random.Random(f"{seed}/{index}/{course}")


def draw_patient(seed: int, index: int, calibration: Calibration) -> SynthPatient:
    rng = patient_rng(seed, index)
    sex = "female" if rng.random() < 0.7 else "male"  # MS: about 2-3 women per man
    age = rng.randint(18, 55)
    courses = 1
    for target in calibration.courses[1:]:
        previous = calibration.course(target.course - 1)
        if previous is None or previous.exposure <= 0 or rng.random() >= target.exposure / previous.exposure:
            break
        courses = target.course
    return SynthPatient(
        index=index,
        name=f"Synthetic Patient {index:07d}",
        birth_date=date(TRIAL_START.year - age, rng.randint(1, 12), rng.randint(1, 28)),
        sex=sex,
        childbearing_potential=sex == "female" and age < 50 and rng.random() < 0.9,
        weight_kg=Decimal(rng.randint(52, 105)),
        courses=courses,
        first_day=TRIAL_START + timedelta(weeks=rng.randint(0, 51)),
        infusion_start=time(rng.choice((8, 8, 9)), rng.choice((0, 30))),
    )


def draw_trial(seed: int, patients: int, calibration: Calibration) -> Iterator[SynthPatient]:
    for index in range(1, patients + 1):
        yield draw_patient(seed, index, calibration)


def next_course_start(previous_last_day: date, rng: random.Random) -> date:
    """At least 12 months after the previous course, on a later weekday."""
    start = previous_last_day + timedelta(days=366 + rng.randint(0, 60))
    return start + timedelta(days=(7 - start.weekday()) % 7)  # the next Monday


def _symptoms(calibration: Calibration, rng: random.Random, count: int) -> tuple[str, ...]:
    names = [s for s, _ in calibration.symptom_weights]
    weights = [w for _, w in calibration.symptom_weights]
    chosen: list[str] = []
    while len(chosen) < min(count, len(names)):
        pick = rng.choices(names, weights)[0]
        if pick not in chosen:
            chosen.append(pick)
    return tuple(chosen)


def _reaction(calibration: Calibration, rng: random.Random, serious: bool) -> ReactionDraw:
    anaphylaxis = serious and rng.random() < ANAPHYLAXIS_SHARE_OF_SERIOUS
    if anaphylaxis:
        return ReactionDraw("infusion", 3, True, ANAPHYLAXIS_SYMPTOMS)
    places = [name for name, _ in ONSET_PLACES]
    place = "infusion" if serious else rng.choices(places, [w for _, w in ONSET_PLACES])[0]
    grade = 3 if serious else (2 if rng.random() < GRADE_2_SHARE else 1)
    return ReactionDraw(place, grade, False, _symptoms(calibration, rng, rng.choice((1, 1, 2, 2, 3))))


def draw_reaction_days(
    target: CourseTarget | None, days: list[int], rng: random.Random
) -> tuple[list[int], int | None]:
    """The days with a reaction, and the day of the serious one (if any).

    A patient reacts in the course with probability ``any_iar`` (the day probabilities are solved
    for it); given a reaction, it is serious with probability ``serious / any_iar``, so the serious
    share is ``serious`` in expectation (``tests/analytics/test_calibration.py`` checks both).
    """
    probabilities = target.day_probabilities if target is not None else tuple(0.0 for _ in days)
    reacting = [d for d, q in zip(days, probabilities, strict=False) if rng.random() < q]
    serious_day = None
    if reacting and target is not None and target.any_iar > 0:
        serious_day = reacting[0] if rng.random() < target.serious / target.any_iar else None
    return reacting, serious_day


def course_events(
    protocol: Protocol, plan: CoursePlan, patient: SynthPatient, seed: int, calibration: Calibration
) -> dict[int, list[Event]]:
    """Every recorded event of the course, by infusion day; a missed day has no entry."""
    rng = patient_rng(seed, patient.index, plan.course)
    days = [d.day for d in plan.days]
    reacting, serious_day = draw_reaction_days(calibration.course(plan.course), days, rng)
    quiet = [d for d in days[1:] if d not in reacting]
    missed = rng.choice(quiet) if quiet and rng.random() < MISSED_DAY_SHARE else None
    result: dict[int, list[Event]] = {}
    for day in days:
        if day == missed:
            continue
        draw = _reaction(calibration, rng, day == serious_day) if day in reacting else None
        needs_test = day == 1 and patient.childbearing_potential
        events, withdrawn = DayBuilder(protocol, plan, day, rng).build(draw, pregnancy_test=needs_test)
        result[day] = events
        if withdrawn:
            break
    return result


class SynthClock:
    """The services' clock during generation: the moment of the fact being recorded."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current


def write_with_services(
    deps: Any, protocol: Protocol, seed: int, patients: int, advance: Callable[[], None] = lambda: None
) -> int:
    """Register, plan and record through the use cases; returns the number of events."""
    from zoneinfo import ZoneInfo

    from infusionist.domain.access import Role
    from infusionist.domain.plan_json import plan_from_json
    from infusionist.domain.records import Actor, Context
    from infusionist.services.courses import CreateCourse, create_course
    from infusionist.services.events import AppendEvent, append_event
    from infusionist.services.patients import RegisterPatient, register_patient

    clock = SynthClock(datetime(2023, 12, 1, 9, 0, tzinfo=ZoneInfo(TIMEZONE)))
    deps = replace(deps, clock=clock)
    ctx = Context(Actor(0, SYNTH_USER, "Synthetic trial generator", Role.PHYSICIAN))
    calibration = trial_calibration(protocol)
    count = 0
    for patient in draw_trial(seed, patients, calibration):
        registered = register_patient(
            deps,
            ctx,
            RegisterPatient(
                name=patient.name,
                birth_date=patient.birth_date,
                sex=patient.sex,
                childbearing_potential=patient.childbearing_potential,
                weight_kg=patient.weight_kg,
            ),
        )
        first_day, previous_end = patient.first_day, None
        for number in range(1, patient.courses + 1):
            clock.current = datetime.combine(first_day - timedelta(days=7), time(9), ZoneInfo(TIMEZONE))
            course = create_course(
                deps,
                ctx,
                CreateCourse(
                    patient_id=registered["id"],
                    course=number,
                    first_day=first_day,
                    infusion_start=patient.infusion_start,
                    timezone=TIMEZONE,
                    previous_course_end=previous_end,
                ),
            )
            plan = plan_from_json(course["plan"])
            for day, events in course_events(protocol, plan, patient, seed, calibration).items():
                for seq, event in enumerate(events, start=1):
                    clock.current = datetime.fromisoformat(event["at"])
                    append_event(deps, ctx, AppendEvent(course["id"], day, seq, dict(event)))
                    count += 1
            previous_end = plan.last_day
            first_day = next_course_start(plan.last_day, patient_rng(seed, patient.index, 100 + number))
        advance()
    return count
