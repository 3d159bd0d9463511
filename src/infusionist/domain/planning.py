"""The course planner: protocol + patient + dates -> every activity at its date and clock time.

Pure: the caller passes the time zone object and the centre configuration; nothing here reads
a clock, a file or the environment.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from infusionist.domain.activities import Activity, ActivityKind, RateSpan
from infusionist.domain.centre import CentreConfig, ConfiguredProtocol, configure
from infusionist.domain.course_days import infusion_dates
from infusionist.domain.dates import add_period, at_wall_clock, plus_minutes
from infusionist.domain.errors import PlanningError
from infusionist.domain.followup import course_occurrences
from infusionist.domain.protocol import Infusion, Medication, Protocol
from infusionist.domain.protocol_elements import Anchor, Condition, DateRule, Element
from infusionist.domain.protocol_identity import protocol_digest
from infusionist.domain.protocol_rates import step_spans, table_minutes


class Patient(BaseModel):
    """What the planner needs to know about the patient."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    sex: Literal["female", "male"]
    childbearing_potential: bool = False
    weight_kg: Decimal | None = Field(default=None, gt=0)
    # None: not stated. A table allowed only without a prior serious reaction needs False.
    prior_serious_reaction: bool | None = None

    def meets(self, condition: Condition) -> bool:
        if condition is Condition.CHILDBEARING_POTENTIAL:
            return self.sex == "female" and self.childbearing_potential
        if condition is Condition.NO_PRIOR_SERIOUS_REACTION:
            return self.prior_serious_reaction is False
        return True


class PlannedDay(BaseModel):
    model_config = ConfigDict(frozen=True)

    day: int
    date: date
    chair_start: datetime
    infusion_start: datetime
    infusion_end: datetime
    flush_end: datetime
    observation_end: datetime

    @property
    def chair_minutes(self) -> int:
        return int((self.observation_end - self.chair_start).total_seconds() // 60)


class CoursePlan(BaseModel):
    """The whole plan of one course for one patient."""

    model_config = ConfigDict(frozen=True)

    protocol_id: str
    protocol_version: str
    protocol_digest: str | None = None  # None only in plans stored before digests were recorded
    centre_id: str
    course: int
    timezone: str
    patient: Patient
    options: dict[str, str]
    days: tuple[PlannedDay, ...]
    activities: tuple[Activity, ...]
    warnings: tuple[str, ...]

    @property
    def first_day(self) -> date:
        return self.days[0].date

    @property
    def last_day(self) -> date:
        return self.days[-1].date

    def day(self, number: int) -> PlannedDay:
        return next(d for d in self.days if d.day == number)

    def activities_on(self, day: int | None) -> list[Activity]:
        return [a for a in self.activities if a.day == day]


@dataclass(frozen=True)
class PlanRequest:
    """Everything the planner is asked: the patient, which course, when and where."""

    patient: Patient
    course: int
    first_day: date
    infusion_start: time
    zone: tzinfo
    zone_name: str
    previous_course_end: date | None = None
    rate_table: str | None = None  # an alternative rate table of the protocol, by id


def plan_course(protocol: Protocol, request: PlanRequest, config: CentreConfig) -> CoursePlan:
    """Plan ``request.course`` for ``request.patient`` under ``protocol`` and ``config``."""
    configured = configure(protocol, config)
    dates = infusion_dates(configured, request.course, request.first_day,
                           request.previous_course_end)
    builder = _Builder(configured, request, dates)
    # The digest identifies the protocol as released, before the centre's choices are applied;
    # the choices are recorded beside it (centre, options).
    return builder.build().model_copy(update={"protocol_digest": protocol_digest(protocol)})


class _Builder:
    """Collects the activities of one course plan."""

    def __init__(self, configured: ConfiguredProtocol, request: PlanRequest,
                 dates: list[date]) -> None:
        self.configured = configured
        self.protocol = configured.protocol
        self.request = request
        self.dates = dates
        self.prefix = f"c{request.course}"
        self.infusions = {n: self._infusion_for(n) for n in range(1, len(dates) + 1)}

    def build(self) -> CoursePlan:
        days = tuple(self._planned_day(n, d) for n, d in enumerate(self.dates, start=1))
        activities = [
            *self._evening_before(),
            *(a for day in days for a in self._infusion_day(day)),
            *self._after_course(days[-1]),
        ]
        activities.sort(key=_sort_key)
        return CoursePlan(
            protocol_id=self.protocol.id,
            protocol_version=self.protocol.version,
            centre_id=self.configured.config.centre_id,
            course=self.request.course,
            timezone=self.request.zone_name,
            patient=self.request.patient,
            options=dict(self.configured.options),
            days=days,
            activities=tuple(activities),
            warnings=tuple(self._warnings()),
        )

    # -- the shape of each day -------------------------------------------------------------

    def _infusion_for(self, day: int) -> Infusion:
        """The infusion of infusion day ``day``: by its dose number, through the requested
        alternative table when the patient meets its condition."""
        infusion = self.protocol.infusion.for_dose(self.protocol.dose_number(self.request.course, day))
        wanted = self.request.rate_table
        if wanted is None:
            return infusion
        table = infusion.table(wanted)
        if table is None:
            raise PlanningError(
                "PLAN-RATE-TABLE-UNKNOWN",
                f"Infusion {day} of course {self.request.course} has no rate table "
                f"{wanted!r}; leave the table out to use the standard one.",
                requirements=infusion.requirements,
            )
        if not self.request.patient.meets(table.condition):
            raise PlanningError(
                "PLAN-RATE-TABLE-NOT-ALLOWED",
                f"The {table.label} is allowed only when it is recorded that the patient "
                "never had a serious infusion reaction; the standard table applies.",
                requirements=table.requirements,
            )
        return infusion.with_table(table)

    def _planned_day(self, number: int, day: date) -> PlannedDay:
        start = at_wall_clock(day, self.request.infusion_start, self.request.zone)
        infusion = self.infusions[number]
        minutes = (table_minutes(infusion.rate_steps, infusion.prepared_volume.value)
                   if infusion.rate_steps else infusion.duration_minutes())
        infusion_end = _after(start, Decimal(minutes))
        flush = self.protocol.flush
        flush_end = plus_minutes(infusion_end, flush.duration_minutes()) if flush else infusion_end
        dose = self.protocol.dose_number(self.request.course, number)
        observation_end = plus_minutes(
            flush_end, self.protocol.observation.minutes_for(dose, self.configured.options))
        earliest = min(
            [self.protocol.vital_signs.baseline_offset_minutes]
            + [p.offset_minutes for p in self.protocol.premedications if p.applies_on(number)]
            + [a.offset_minutes for a in self.protocol.day_activities if a.applies_on(number)]
        )
        return PlannedDay(
            day=number, date=day, chair_start=plus_minutes(start, earliest),
            infusion_start=start, infusion_end=infusion_end, flush_end=flush_end,
            observation_end=observation_end,
        )

    def _evening_before(self) -> Iterator[Activity]:
        evening = self._evening(self.dates[0] - timedelta(days=1))
        for med in self._medications():
            end_rule = self._end_rule(med)
            yield self._activity(
                med, 0, ActivityKind.MEDICATION, med.name, evening,
                end=self._evening(self._resolve(end_rule)) if end_rule else None,
                dose=med.unit_dose, dose_display=med.display_dose(), route=med.route,
                extra_advisories=(med.stop_condition,) if self._shows_stop_condition(med) else (),
            )
        for instruction in self.protocol.instructions:
            if instruction.when == "evening_before":
                yield self._activity(instruction, 0, ActivityKind.INSTRUCTION, instruction.name,
                                     evening, text=instruction.text)

    def _infusion_day(self, day: PlannedDay) -> Iterator[Activity]:
        protocol, n, start = self.protocol, day.day, day.infusion_start
        for item in protocol.day_activities:
            if item.applies_on(n) and self.request.patient.meets(item.condition):
                kind = ActivityKind.TEST if item.kind == "test" else ActivityKind.PROCEDURE
                yield self._activity(item, n, kind, item.name,
                                     plus_minutes(start, item.offset_minutes))
        for premed in protocol.premedications:
            if premed.applies_on(n):
                yield self._activity(
                    premed, n, ActivityKind.PREMEDICATION, premed.name,
                    plus_minutes(start, premed.offset_minutes), dose=premed.dose,
                    route=premed.route, text=f"{premed.dose.display()} {premed.route} "
                    f"{premed.form}, {-premed.offset_minutes} min before the infusion",
                )
        yield from self._infusion_and_flush(day)
        yield from self._vital_signs(day)
        yield self._activity(protocol.observation, n, ActivityKind.OBSERVATION, "observation",
                             day.flush_end, end=day.observation_end)
        for instruction in protocol.instructions:
            if instruction.when == "infusion_days":
                yield self._activity(instruction, n, ActivityKind.INSTRUCTION, instruction.name,
                                     day.chair_start, end=day.observation_end,
                                     text=instruction.text)

    def _infusion_and_flush(self, day: PlannedDay) -> Iterator[Activity]:
        infusion, flush = self.infusions[day.day], self.protocol.flush
        spans = tuple(
            RateSpan(start=_after(day.infusion_start, s.start_minute),
                     end=_after(day.infusion_start, s.end_minute),
                     rate_ml_per_h=s.rate_ml_per_h, volume_ml=s.volume_ml)
            for s in step_spans(infusion.rate_steps, infusion.prepared_volume.value)
        )
        yield self._activity(
            infusion, day.day, ActivityKind.INFUSION, infusion.name, day.infusion_start,
            end=day.infusion_end, dose=infusion.dose, route=infusion.route,
            volume_ml=infusion.prepared_volume.value,
            rate_ml_per_h=spans[0].rate_ml_per_h if spans else infusion.rate_ml_per_h(),
            rate_steps=spans,
            text=f"Use within {infusion.storage_limit.display()} of preparation",
        )
        if flush is not None:
            yield self._activity(
                flush, day.day, ActivityKind.FLUSH, flush.name, day.infusion_end,
                end=day.flush_end, route=flush.route, volume_ml=flush.volume.value,
                rate_ml_per_h=flush.rate_ml_per_h(),
            )

    def _vital_signs(self, day: PlannedDay) -> Iterator[Activity]:
        schedule = self.protocol.vital_signs
        baseline = plus_minutes(day.infusion_start, schedule.baseline_offset_minutes)
        yield self._activity(schedule, day.day, ActivityKind.VITAL_SIGNS, "vital signs",
                             baseline, suffix="baseline", text="Baseline before the infusion")
        moment, index = day.infusion_start, 0
        while moment <= day.observation_end:
            yield self._activity(schedule, day.day, ActivityKind.VITAL_SIGNS, "vital signs",
                                 moment, suffix=f"{index:02d}")
            moment, index = plus_minutes(moment, schedule.interval_minutes), index + 1
        if plus_minutes(moment, -schedule.interval_minutes) < day.observation_end:
            yield self._activity(schedule, day.day, ActivityKind.VITAL_SIGNS, "vital signs",
                                 day.observation_end, suffix="discharge")

    def _after_course(self, last: PlannedDay) -> Iterator[Activity]:
        for item in self.protocol.follow_up:
            if not self.request.patient.meets(item.condition):
                continue
            if item.id == "next-course" and not self._another_course_allowed():
                continue
            kind = ActivityKind(item.kind)
            yield self._activity(
                item, None, kind, item.name, self._midnight(self._resolve(item.due)),
                end=self._midnight(self._resolve(item.end)) if item.end else None,
                all_day=True, dose=item.dose, route=item.route, text=item.text,
            )
        for med in self._medications():
            end_rule = self._end_rule(med)
            if end_rule is not None:
                yield self._activity(
                    med, None, ActivityKind.FOLLOW_UP, f"end of {med.name}",
                    self._midnight(self._resolve(end_rule)), all_day=True, suffix="end",
                    text=f"Last dose of {med.name} ({med.display_dose()}) on this day",
                    extra_advisories=(med.stop_condition,)
                    if self._shows_stop_condition(med) else (),
                )
        for instruction in self.protocol.instructions:
            if instruction.when == "after_course":
                yield self._activity(instruction, None, ActivityKind.INSTRUCTION,
                                     instruction.name, last.observation_end,
                                     text=instruction.text)
        yield from self._next_dose()
        for due in course_occurrences(self.protocol, self.request.course, self.dates,
                                      self.configured.options):  # calls and 48-month monitoring
            yield self._activity(due.element, None, ActivityKind.FOLLOW_UP, due.name,
                                 self._midnight(due.due), all_day=True, suffix=due.suffix,
                                 text=due.text, extra_advisories=(due.source_note,))

    def _next_dose(self) -> Iterator[Activity]:
        """A repeating schedule: when the next course is due, and its shortest interval."""
        rule = self.protocol.courses.rule_for(self.request.course + 1)
        if rule is None or rule.repeat is None or not self._another_course_allowed():
            return
        due = add_period(self.dates[0], rule.repeat.every)
        interval = rule.min_interval_after_previous
        earliest = add_period(self.dates[-1], interval) if interval is not None else due
        yield self._activity(
            rule, None, ActivityKind.FOLLOW_UP, f"course {self.request.course + 1} due",
            self._midnight(max(due, earliest)), all_day=True, suffix="due",
            text=(f"Course {self.request.course + 1} is due {rule.repeat.every.describe()} after "
                  f"{self.dates[0].isoformat()}, not before {earliest.isoformat()}. "
                  f"{rule.repeat.missed_dose_text}"),
        )

    # -- helpers -------------------------------------------------------------------------------

    def _medications(self) -> list[Medication]:
        return [
            med for med in self.protocol.evening_before
            if med.when is None or self.configured.option(med.when.option) == med.when.value
        ]

    def _end_rule(self, med: Medication) -> DateRule | None:
        if med.end_option is not None:
            return med.end_by_option[self.configured.option(med.end_option)]
        return med.end

    def _shows_stop_condition(self, med: Medication) -> bool:
        return med.stop_condition is not None and med.end_option is not None and (
            self.configured.option(med.end_option) == "us-label"
        )

    def _resolve(self, rule: DateRule) -> date:
        anchors = {
            Anchor.EVENING_BEFORE: self.dates[0] - timedelta(days=1),
            Anchor.FIRST_INFUSION_DAY: self.dates[0],
            Anchor.LAST_INFUSION_DAY: self.dates[-1],
        }
        return add_period(anchors[rule.anchor], rule.offset)

    def _another_course_allowed(self) -> bool:
        limit = self.protocol.courses.max_courses
        return limit is None or self.request.course < limit

    def _evening(self, day: date) -> datetime:
        return at_wall_clock(day, self.configured.config.evening_medication_time,
                             self.request.zone)

    def _midnight(self, day: date) -> datetime:
        return at_wall_clock(day, time(0, 0), self.request.zone)

    def _activity(
        self, element: Element, day: int | None, kind: ActivityKind, name: str,
        start: datetime, *, suffix: str | None = None, extra_advisories: tuple[str | None, ...] = (),
        **fields: object,
    ) -> Activity:
        place = "after" if day is None else f"d{day}"
        ident = f"{self.prefix}-{place}-{element.id}" + (f"-{suffix}" if suffix else "")
        advisories = tuple(_advisory_text(a.conflict, a.text) for a in element.advisories)
        advisories += tuple(text for text in extra_advisories if text)
        return Activity.model_validate({
            "id": ident, "element": element.id, "day": day, "kind": kind, "name": name,
            "start": start, "requirements": element.requirements, "advisories": advisories,
            **fields,
        })

    def _warnings(self) -> Iterator[str]:
        for element in self.protocol.course_warnings:
            for advisory in element.advisories:
                yield _advisory_text(advisory.conflict, advisory.text)
        weight = self.request.patient.weight_kg
        for premed in self.protocol.premedications:
            minimum = premed.full_dose_min_weight_kg
            if weight is not None and minimum is not None and weight < minimum:
                yield (f"Weight {weight} kg is under {minimum} kg: {premed.name} "
                       f"{premed.dose.display()} is the dose for {minimum} kg or more; the "
                       f"physician sets the dose ({', '.join(premed.requirements)}).")
        for item in self.protocol.day_activities:
            if item.blocks_start_unless and self.request.patient.meets(item.condition):
                yield (f"Day {', '.join(map(str, item.days)) if item.days != 'all' else 'each'}: "
                       f"{item.name} must be {item.blocks_start_unless} before the infusion "
                       f"starts ({', '.join(item.requirements)}).")


def _after(start: datetime, minutes: Decimal) -> datetime:
    """``minutes`` (exact, from a rate table) after ``start``, to the whole second."""
    return plus_minutes(start, int((minutes * 60).to_integral_value()) / 60)


def _advisory_text(conflict: str | None, text: str) -> str:
    return f"{conflict}: {text}" if conflict else text


_KIND_ORDER = {kind: i for i, kind in enumerate([
    ActivityKind.TEST, ActivityKind.PROCEDURE, ActivityKind.VITAL_SIGNS,
    ActivityKind.PREMEDICATION, ActivityKind.MEDICATION, ActivityKind.INFUSION,
    ActivityKind.FLUSH, ActivityKind.OBSERVATION, ActivityKind.INSTRUCTION,
    ActivityKind.FOLLOW_UP,
])}


def _sort_key(activity: Activity) -> tuple[int, datetime, int, str]:
    day = 10_000 if activity.day is None else activity.day
    return (day, activity.start, _KIND_ORDER[activity.kind], activity.id)
