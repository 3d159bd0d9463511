"""The infusion day: its state is a pure fold (replay) of the append-only event record.

``replay(plan, day, events, at, protocol)`` applies the events recorded up to ``at`` in order,
each first checked by the guards of :mod:`day_guards`, and computes the state at ``at``: the
phase, the pump arithmetic, the projected ends (pauses and rate changes included; observation
until its duration after the actual end of the flush, C-6), the solution's expiry, the vital
signs due, the alerts, the reactions with their CTCAE grade, the protocol's checklist and the
events allowed next. ``append`` checks one new event against the record: it returns the new
state or raises, and a refused event changes nothing.

Corrections never overwrite: a ``correction`` names an earlier event (index or id) and gives a
reason; the replay uses its replacement (or drops the event when there is none), and the
corrected history must pass the guards like any other. A correction that would lift a
restriction (lower or remove a grade, lift the severe-reaction lock, clear a positive test,
lift a reason the start was refused) needs a physician's signature (issue 12 item 4).

``append`` also takes the server's ``now``: an entry timed later than now (beyond the clock
tolerance) is refused, so a wrong clock can never block the rest of a day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from fractions import Fraction
from functools import cached_property

from infusionist.domain import pump, pump_steps
from infusionist.domain.activities import ActivityKind
from infusionist.domain.day_events import ClinicalEvent, Correction, DayEvent, PhysicianDecision
from infusionist.domain.day_facts import ENDED_PHASES, DayContext, DayFacts, Phase, apply_event
from infusionist.domain.day_guards import (
    allowed_actions,
    check_event,
    check_not_in_future,
    earliest_start,
    start_blockers,
    words,
)
from infusionist.domain.errors import EventRefused, InfusionistError, ValidationFailed
from infusionist.domain.planning import CoursePlan
from infusionist.domain.protocol import Protocol
from infusionist.domain.reactions import ANAPHYLAXIS, Reaction, RecommendedAction, recommended_actions
from infusionist.domain.units import format_decimal
from infusionist.domain.vitals import Alert, evaluate_alerts, latest_values

__all__ = ["DayFold", "DayState", "FoldedDay", "Phase", "Withdrawal", "append", "check_course", "fold_record",
           "replay"]

_VOLUME_PLACES = Decimal("0.01")
_DOSE_PLACES = Decimal("0.001")
_STEPPING = frozenset({Phase.PLANNED, Phase.READY, Phase.RUNNING, Phase.PAUSED})


@dataclass(frozen=True)
class DayState:
    """Everything the bedside needs to know at ``at``."""

    day: int
    at: datetime
    phase: Phase
    rate_ml_per_h: Decimal
    max_rate_ml_per_h: Decimal
    prepared_volume_ml: Decimal | None
    volume_infused_ml: Decimal
    dose_delivered_mg: Decimal
    remaining_ml: Decimal | None
    infusion_started_at: datetime | None
    infusion_ended_at: datetime | None
    projected_infusion_end: datetime | None
    projected_flush_end: datetime | None
    projected_observation_end: datetime | None
    solution_expires_at: datetime | None
    expiry_margin_min: int | None
    next_vital_signs_due: datetime | None
    vital_signs_overdue: bool
    alerts: tuple[Alert, ...]
    reactions: tuple[Reaction, ...]
    recommended_actions: tuple[RecommendedAction, ...]
    suggested_resume_rate_ml_per_h: Decimal | None
    allowed_actions: tuple[str, ...]
    events_applied: int
    zone: tzinfo
    day_date: date  # the planned date, or the date a physician rescheduled the day to
    earliest_start: datetime | None  # when every premedication has had its time (PROT-09, PROT-10)
    dose_complete: bool | None  # None until the infusion ends; False when it ended early
    transferred_at: datetime | None
    # The day's rate table (None without one): the step due now and when the next is due.
    rate_step_due_ml_per_h: Decimal | None = None
    next_rate_step_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class _Entry:
    """An event in force: ``index`` is the original's place in the record; a corrected one
    carries the correction's index and reason, and the event it replaced."""

    index: int
    event: ClinicalEvent
    corrected_by: int | None = None
    reason: str | None = None
    replaced: ClinicalEvent | None = None


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """An entry a correction withdrew (no replacement): it is in the record, not in force."""

    index: int
    event: ClinicalEvent
    withdrawn_by: int
    reason: str


@dataclass(frozen=True)
class FoldedDay:
    """One fold of a day's record: what the bedside rules and every reader start from
    (``domain/day_reading.py``). ``entries`` are the events in force in the order applied; the
    state at ``at`` is computed from the same facts when first asked for."""

    ctx: DayContext
    entries: tuple[_Entry, ...]
    withdrawals: tuple[Withdrawal, ...]
    facts: DayFacts
    at: datetime

    @cached_property
    def state(self) -> DayState:
        return _state(self.facts, self.ctx, self.at)


def replay(
    plan: CoursePlan, day: int, events: Sequence[DayEvent], at: datetime, protocol: Protocol
) -> DayState:
    """The state of ``day`` at ``at`` from the events recorded up to then."""
    return fold_record(plan, day, events, at, protocol).state


def fold_record(
    plan: CoursePlan, day: int, events: Sequence[DayEvent], at: datetime, protocol: Protocol,
    *, checked: bool = True,
) -> FoldedDay:
    """The one fold of the record up to ``at`` (checked like :func:`replay`) and the state from it.

    ``checked=False`` skips the guards for a record that passed them when each entry was appended
    (the stored record, read for the snapshot): the same fold, the same facts, less time."""
    if at.tzinfo is None:
        raise ValidationFailed("INPUT-AT", "Give the moment with its UTC offset.",
                               details={"at": "timezone required"})
    ctx = _context(plan, day, protocol)
    if checked:
        _check_order(events, ctx)
        _check_corrections(events, at, ctx)
    withdrawals: list[Withdrawal] = []
    entries = _effective(events, at, withdrawals)
    facts = _fold_entries(entries, ctx, checked=checked)
    return FoldedDay(ctx, tuple(entries), tuple(withdrawals), facts, at)


def append(
    plan: CoursePlan, day: int, events: Sequence[DayEvent], new_event: DayEvent, protocol: Protocol,
    now: datetime | None = None,
) -> DayState:
    """Check ``new_event`` against the record (and ``now``); the state after it, or the refusal."""
    if now is not None:
        check_not_in_future(new_event, now, _context(plan, day, protocol))
    return replay(plan, day, [*events, new_event], new_event.at, protocol)


def check_course(
    plan: CoursePlan, day: int, event: DayEvent, other_days: Mapping[int, Sequence[DayEvent]],
    protocol: Protocol,
) -> None:
    """What the course's other days decide about ``event`` on ``day``: a positive test on an
    earlier day, not cleared by a physician on that day, blocks every later start (PROT-07); a
    day is never rescheduled onto the date another day of the course is given on (PROT-04,
    PROT-05; "missed doses are not given on the day of a scheduled dose", EU label)."""
    folded = {d: _fold(events, max(e.at for e in events), _context(plan, d, protocol))
              for d, events in sorted(other_days.items()) if events}
    if event.type == "infusion_started":
        for other, facts in folded.items():
            for test in facts.positive_tests.values() if other < day else ():
                ctx = _context(plan, other, protocol)
                raise EventRefused(
                    "DAY-COURSE-BLOCKED",
                    f"The {test.name} of day {other} was positive ({ctx.clock(test.at, facts.day_date)}): "
                    "the course is blocked until a physician clears it, signed, on that day.",
                    requirements=("PROT-07",),
                )
    if isinstance(event, PhysicianDecision) and event.decision == "reschedule":
        taken = next((d for d, facts in folded.items() if facts.day_date == event.date), None)
        if taken is not None:
            raise EventRefused(
                "DAY-RESCHEDULE-DATE-TAKEN",
                f"Day {taken} of this course is given on {event.date:%d %b %Y}; two infusion days "
                "never share a date (a missed dose is not given on the day of a scheduled dose).",
                requirements=("PROT-04", "PROT-05", "PROT-11"),
            )


def _fold(events: Sequence[DayEvent], at: datetime, ctx: DayContext) -> DayFacts:
    return _fold_entries(_effective(events, at), ctx)


def _fold_entries(entries: Sequence[_Entry], ctx: DayContext, *, checked: bool = True) -> DayFacts:
    facts = DayFacts.of(ctx)
    for entry in entries:
        _apply(facts, entry, ctx, checked=checked)
    return facts


def _check_corrections(events: Sequence[DayEvent], at: datetime, ctx: DayContext) -> None:
    """A correction that lifts a restriction needs a physician's signature (issue 12 item 4)."""
    for index, event in enumerate(events):
        if event.at > at:
            break
        if not isinstance(event, Correction) or event.signed_by is not None:
            continue
        lifted = lifted_restrictions(_fold(events[:index], event.at, ctx),
                                     _fold(events[: index + 1], event.at, ctx), ctx)
        if lifted:
            raise EventRefused(
                "DAY-CORRECTION-NEEDS-SIGNATURE",
                f"This correction {lifted[0]}; only a physician may do that, signed with the "
                "password and a reason. The original entry stays as it is.",
                requirements=("IAR-27", "IAR-29", "PROT-07"),
                details={"event_index": str(index), "event_type": "correction",
                         "event": f"Event {index} (correction at {ctx.clock(event.at)})"},
            )


def lifted_restrictions(before: DayFacts, after: DayFacts, ctx: DayContext) -> list[str]:
    """What ``after`` (the record with one more correction) no longer restricts, in words."""
    lifted: list[str] = []
    if len(after.reactions) < len(before.reactions):
        lifted.append("removes a recorded reaction")
    for old, new in zip(before.reactions, after.reactions, strict=False):
        when = ctx.clock(old.onset)
        if old.grading is not None and new.grading is None:
            lifted.append(f"removes the grading of the reaction of {when}")
        elif old.grading is not None and new.grading is not None and (
            new.grading.grade < old.grading.grade
            or (old.grading.term == ANAPHYLAXIS and new.grading.term != ANAPHYLAXIS)
        ):
            lifted.append(f"lowers the reaction of {when} from {old.grading.term} grade "
                          f"{old.grading.grade} to {new.grading.term} grade {new.grading.grade}")
    if before.severe_lock() is not None and after.severe_lock() is None:
        lifted.append("lifts the lock a severe reaction put on the infusion")
    if set(before.positive_tests) - set(after.positive_tests):
        lifted.append("clears a positive test")
    if before.started_at is None:
        still = {b.code for b in start_blockers(after, ctx)}
        if {b.code for b in start_blockers(before, ctx)} - still:
            lifted.append("lifts a reason the infusion could not start")
    return lifted


class DayFold:
    """The fold of a day's record kept between appends, so that checking one more event does not
    replay the whole day.

    It gives exactly the result of :func:`append`: an event it cannot take in order (a correction,
    or one earlier than an applied event) is refused with ``None`` from :meth:`extend`, and the
    caller falls back to the full replay, which raises the same errors as always. Build it with
    :meth:`of`; it is mutable and belongs to one caller.
    """

    def __init__(self, ctx: DayContext) -> None:
        self._ctx = ctx
        self._facts = DayFacts.of(ctx)
        self.count = 0
        self._frontier: datetime | None = None

    @classmethod
    def of(cls, plan: CoursePlan, day: int, events: Sequence[DayEvent], protocol: Protocol) -> DayFold:
        """The fold after ``events`` (refused like :func:`replay` when they do not pass)."""
        fold = cls(_context(plan, day, protocol))
        _check_order(events, fold._ctx)
        if events:
            _check_corrections(events, events[-1].at, fold._ctx)
            for entry in _effective(events, events[-1].at):
                _apply(fold._facts, entry, fold._ctx)
            # The record only grows forward, so the last event is the latest; a replacement
            # (correction) may carry a later time than any event.
            fold._frontier = max([events[-1].at, *(e.replacement.at for e in events
                                                   if isinstance(e, Correction) and e.replacement)])
        fold.count = len(events)
        return fold

    def extend(self, event: DayEvent, now: datetime | None = None) -> bool:
        """Check and apply one more event; False when only a full replay can take it."""
        if now is not None:
            check_not_in_future(event, now, self._ctx)
        if isinstance(event, Correction) or (self._frontier is not None and event.at < self._frontier):
            return False
        _apply(self._facts, _Entry(self.count, event), self._ctx)
        self.count += 1
        self._frontier = event.at
        return True


def _context(plan: CoursePlan, day: int, protocol: Protocol) -> DayContext:
    planned = next((d for d in plan.days if d.day == day), None)
    if planned is None:
        raise ValidationFailed(
            "INPUT-DAY", f"The course plan has no infusion day {day} (days 1-{len(plan.days)}).",
            details={"day": "not in the plan"},
        )
    if plan.protocol_id != protocol.id:
        raise ValidationFailed(
            "INPUT-PROTOCOL", f"The plan follows protocol {plan.protocol_id}, not {protocol.id}.",
            details={"protocol": "does not match the plan"},
        )
    other_dates = frozenset(d.date for d in plan.days if d.day != day)
    return DayContext.build(planned, plan.patient, protocol, plan.timezone, other_dates,
                            _planned_steps(plan, day), protocol.dose_number(plan.course, day))


def _planned_steps(plan: CoursePlan, day: int) -> tuple[pump_steps.TimedStep, ...]:
    """The day's rate table as the plan gives it (the dose number's table, or the alternative
    table chosen); the last step runs until the bag is empty. Empty: one constant rate."""
    infusion = next((a for a in plan.activities_on(day) if a.kind is ActivityKind.INFUSION), None)
    spans = () if infusion is None else infusion.rate_steps
    return tuple(pump_steps.TimedStep(s.rate_ml_per_h, None if i == len(spans) - 1 else s.end - s.start)
                 for i, s in enumerate(spans))


def _check_order(events: Sequence[DayEvent], ctx: DayContext) -> None:
    for index in range(1, len(events)):
        before, event = events[index - 1], events[index]
        if event.at < before.at:
            raise EventRefused(
                "DAY-EVENT-OUT-OF-ORDER",
                f"The time given for {words(event.type)} ({ctx.clock(event.at)}) is earlier than the "
                f"entry before it ({words(before.type)} at {ctx.clock(before.at)}); the record only "
                "grows forward. To fix an earlier entry, correct it; for an entry made later, give "
                "the time it happened in order.",
                details={"event_index": str(index), "event_type": event.type,
                         "event": f"Event {index} ({event.type} at {ctx.clock(event.at)})"},
            )


def _effective(
    events: Sequence[DayEvent], at: datetime, withdrawals: list[Withdrawal] | None = None
) -> list[_Entry]:
    """The clinical events in force at ``at``: corrections applied, ordered by time. The entries
    withdrawn by a correction are added to ``withdrawals`` when it is given."""
    current: dict[int, _Entry | None] = {}
    ids: dict[str, int] = {}
    withdrawn: dict[int, Withdrawal] = {}
    for index, event in enumerate(events):
        if event.at > at:
            break
        if isinstance(event, Correction):
            target = _correction_target(event, index, ids, events)
            replacement = event.replacement
            original = events[target]
            assert not isinstance(original, Correction)  # _correction_target refuses it
            withdrawn.pop(target, None)
            if replacement is None:
                current[target] = None
                withdrawn[target] = Withdrawal(target, original, index, event.reason)
            else:
                current[target] = _Entry(target, replacement, index, event.reason, original)
            continue
        current[index] = _Entry(index, event)
        if event.id is not None:
            ids[event.id] = index
    entries = [e for e in current.values() if e is not None and e.event.at <= at]
    entries.sort(key=lambda e: (e.event.at, e.index))
    if withdrawals is not None:
        withdrawals.extend(withdrawn[i] for i in sorted(withdrawn))
    return entries


def _correction_target(
    correction: Correction, index: int, ids: dict[str, int], events: Sequence[DayEvent]
) -> int:
    ref = correction.corrects
    target = ids.get(ref) if isinstance(ref, str) else ref
    if target is None or target >= index or isinstance(events[target], Correction):
        raise EventRefused(
            "DAY-CORRECTION-TARGET",
            "The entry to correct is not an earlier entry of this day; choose it in the day's record.",
            details={"event_index": str(index), "event_type": "correction", "corrects": str(ref),
                     "event": f"Event {index} (correction of {ref!r})"},
        )
    return target


def _apply(facts: DayFacts, entry: _Entry, ctx: DayContext, *, checked: bool = True) -> None:
    event = entry.event
    try:
        if checked:
            check_event(facts, event, ctx)
    except InfusionistError as error:
        name = f"Event {entry.index} ({event.type} at {ctx.clock(event.at)}"
        name += f", as corrected by event {entry.corrected_by})" if entry.corrected_by is not None else ")"
        details = {**error.details, "event_index": str(entry.index), "event_type": event.type,
                   "event": name}
        raise type(error)(error.code, error.message, requirements=error.requirements,
                          details=details) from None
    apply_event(facts, event, ctx)
    if facts.phase in (Phase.PLANNED, Phase.READY):
        facts.phase = Phase.PLANNED if start_blockers(facts, ctx) else Phase.READY


# -- the state at a moment -----------------------------------------------------------------------


def _state(facts: DayFacts, ctx: DayContext, at: datetime) -> DayState:
    prepared = None if facts.solution is None else facts.solution.volume_ml
    infused = Fraction(0) if prepared is None else pump.volume_infused(facts.segments, at, prepared)
    dose = ctx.infusion.dose.in_mg() if facts.solution is None else facts.solution.dose_mg
    infusion_end = _projected_infusion_end(facts, ctx, at)
    flush_end = _projected_flush_end(facts, ctx, infusion_end)
    observation_end = _projected_observation_end(facts, ctx, flush_end)
    expires = facts.solution_expires_at(ctx)
    margin = None if expires is None or infusion_end is None else pump.margin_minutes(expires, infusion_end)
    due = _next_vitals_due(facts, ctx, observation_end)
    # Before the start the baseline is due before the start, never "overdue": the patient may not
    # have arrived, and the start gate asks for it (issue 15 item 4).
    overdue = due is not None and facts.started_at is not None and at > due
    step = _rate_step(facts, ctx, at)
    alerts = _alerts(facts, ctx, at, infusion_end, expires, due if overdue else None)
    alerts += _step_alerts(facts, ctx, at, step)
    return DayState(
        day=ctx.day, at=at, phase=facts.phase,
        rate_ml_per_h=pump.current_rate(facts.segments, at) if _pump_may_run(facts) else Decimal(0),
        max_rate_ml_per_h=facts.max_rate(ctx),
        prepared_volume_ml=prepared,
        volume_infused_ml=pump.to_decimal(infused, _VOLUME_PLACES),
        dose_delivered_mg=pump.to_decimal(
            Fraction(0) if prepared is None else pump.dose_delivered(dose, infused, prepared),
            _DOSE_PLACES),
        remaining_ml=None if prepared is None else prepared - pump.to_decimal(infused, _VOLUME_PLACES),
        infusion_started_at=facts.started_at, infusion_ended_at=facts.infusion_end(),
        projected_infusion_end=infusion_end, projected_flush_end=flush_end,
        projected_observation_end=observation_end,
        solution_expires_at=expires, expiry_margin_min=margin,
        next_vital_signs_due=due, vital_signs_overdue=overdue, alerts=tuple(alerts),
        reactions=tuple(facts.reactions),
        recommended_actions=tuple(_checklist(facts, ctx, alerts)),
        suggested_resume_rate_ml_per_h=(
            facts.suggested_resume_rate(ctx) if facts.phase is Phase.PAUSED else None),
        allowed_actions=allowed_actions(facts, ctx, at),
        events_applied=len(facts.events),
        zone=ctx.zone, day_date=facts.day_date,
        earliest_start=earliest_start(facts, ctx) if facts.started_at is None else None,
        dose_complete=(None if facts.ended_at is None
                       else facts.ended_early is None and _bag_empty(facts, ctx)),
        transferred_at=facts.transferred_at,
        rate_step_due_ml_per_h=None if step is None else step.rate_ml_per_h,
        next_rate_step_at=None if step is None else step.next_at,
    )


def _step_alerts(facts: DayFacts, ctx: DayContext, at: datetime,
                 step: pump_steps.StepDue | None) -> list[Alert]:
    """The pump runs below the step of the rate table that has been due for longer than the
    clock tolerance (not while a reaction is open: then the rate may only go down)."""
    if step is None or step.next_at is None or facts.phase is not Phase.RUNNING or facts.reaction_open:
        return []
    rate = pump.current_rate(facts.segments, at)
    late = at - step.next_at > timedelta(minutes=ctx.record.clock_tolerance_minutes)
    if rate >= step.rate_ml_per_h or not late:
        return []
    return [Alert(
        "RATE-STEP-OVERDUE", "warning",
        f"The rate table steps up to {format_decimal(step.rate_ml_per_h)} mL/h at "
        f"{ctx.clock(step.next_at)}; the pump still runs at {format_decimal(rate)} mL/h.",
        ctx.infusion.requirements,
    )]


def _bag_empty(facts: DayFacts, ctx: DayContext) -> bool:
    if facts.solution is None or facts.ended_at is None:
        return False
    left = Fraction(facts.solution.volume_ml) - pump.volume_infused(
        facts.segments, facts.ended_at, facts.solution.volume_ml)
    return left <= Fraction(ctx.record.empty_bag_tolerance_ml)


def _pump_may_run(facts: DayFacts) -> bool:
    return facts.phase in (Phase.RUNNING, Phase.PAUSED)


def _projected_infusion_end(facts: DayFacts, ctx: DayContext, at: datetime) -> datetime | None:
    if facts.started_at is None:
        if facts.phase is not Phase.READY and facts.phase is not Phase.PLANNED:
            return None
        volume = ctx.infusion.prepared_volume.value if facts.solution is None else (
            facts.solution.volume_ml)
        start = max(at, facts.planned_start(ctx))
        if ctx.rate_steps:
            first = ctx.rate_steps[0].rate_ml_per_h
            return pump_steps.projected_end([], volume, start, first, start, ctx.rate_steps)
        return pump.projected_end([], volume, start, facts.max_rate(ctx))
    if facts.ended_at is not None:
        return facts.infusion_end()
    assert facts.solution is not None
    suggested = facts.suggested_resume_rate(ctx)
    resume = facts.max_rate(ctx) if suggested is None else suggested
    if ctx.rate_steps:
        rate, anchor = _running(facts, at)
        if rate == 0:
            rate, anchor = resume, at
        return pump_steps.projected_end(facts.segments, facts.solution.volume_ml, at, rate, anchor,
                                        ctx.rate_steps)
    return pump.projected_end(facts.segments, facts.solution.volume_ml, at, resume)


def _running(facts: DayFacts, at: datetime) -> tuple[Decimal, datetime]:
    """The pump's rate at ``at`` and since when it runs at it (0 while paused or stopped)."""
    current = next((s for s in reversed(facts.segments) if s.start <= at), None)
    if current is None:
        return Decimal(0), at
    return current.rate_ml_per_h, current.start


def _rate_step(facts: DayFacts, ctx: DayContext, at: datetime) -> pump_steps.StepDue | None:
    """The step of the day's rate table due at ``at`` and when the next one is due (None: no
    table, or the infusion has ended). Before the start: the first step from the planned start;
    while paused: the step of the rate it would resume at, its next step not yet timed."""
    steps = ctx.rate_steps
    if not steps or facts.ended_at is not None or facts.phase not in _STEPPING:
        return None
    if facts.started_at is None:
        start = max(at, facts.planned_start(ctx))
        return pump_steps.step_due(steps, steps[0].rate_ml_per_h, start, start)
    rate, anchor = _running(facts, at)
    if rate == 0:
        suggested = facts.suggested_resume_rate(ctx)
        resume = facts.max_rate(ctx) if suggested is None else suggested
        return pump_steps.StepDue(steps[pump_steps.step_index(steps, resume)].rate_ml_per_h, None)
    return pump_steps.step_due(steps, rate, anchor, at)


def _projected_flush_end(facts: DayFacts, ctx: DayContext, infusion_end: datetime | None) -> datetime | None:
    flush = ctx.flush()
    if facts.flush_completed_at is not None:
        return facts.flush_completed_at
    if facts.flush_started_at is not None and flush is not None:
        return facts.flush_started_at + flush
    if infusion_end is None or facts.ended_at is not None:
        return None
    return infusion_end if flush is None else infusion_end + flush


def _projected_observation_end(
    facts: DayFacts, ctx: DayContext, flush_end: datetime | None
) -> datetime | None:
    actual = facts.observation_end(ctx)
    if actual is not None:
        return actual
    return None if flush_end is None else flush_end + ctx.observation()


def _next_vitals_due(facts: DayFacts, ctx: DayContext, observation_end: datetime | None) -> datetime | None:
    schedule = ctx.protocol.vital_signs
    if facts.phase in ENDED_PHASES:
        return None
    if facts.started_at is None:
        if facts.readings or facts.ended_at is not None:
            return None
        return pump.plus_hours(facts.planned_start(ctx), Fraction(schedule.baseline_offset_minutes, 60))
    last = facts.readings[-1].at if facts.readings else None
    if last is None or last < facts.started_at:
        due = facts.started_at
    else:
        due = pump.plus_hours(last, Fraction(schedule.interval_minutes, 60))
    if observation_end is not None and due > observation_end:
        return None if last is not None and last >= observation_end else observation_end
    return due


def _alerts(
    facts: DayFacts, ctx: DayContext, at: datetime, infusion_end: datetime | None,
    expires: datetime | None, overdue_since: datetime | None,
) -> list[Alert]:
    latest = latest_values(r.values() for r in facts.readings)
    alerts = evaluate_alerts(latest, facts.baseline, ctx.vital_rules)
    for blocker in start_blockers(facts, ctx) if facts.started_at is None else []:
        if blocker.code.endswith("-POSITIVE"):
            alerts.append(Alert(blocker.code.removeprefix("DAY-"), "critical", blocker.message,
                                blocker.requirements))
    if expires is not None and infusion_end is not None and facts.ended_at is None and infusion_end > expires:
        alerts.append(_expiry_alert(at, infusion_end, expires, ctx))
    alerts += _record_alerts(facts, ctx, at, expires)
    if overdue_since is not None:
        alerts.append(Alert(
            "VITALS-OVERDUE", "warning",
            f"Vital signs were due at {ctx.clock(overdue_since)} (every "
            f"{ctx.protocol.vital_signs.interval_minutes} min).",
            ctx.protocol.vital_signs.requirements,
        ))
    if facts.resumed_above_suggestion is not None and facts.phase is Phase.RUNNING:
        rate, suggested = facts.resumed_above_suggestion
        alerts.append(Alert(
            "RESUMED-ABOVE-SUGGESTED-RATE", "warning",
            f"Restarted at {rate} mL/h after a reaction; the protocol suggests {suggested} mL/h.",
            ("PROT-26", "IAR-28", "C-10"),
        ))
    return alerts


def _record_alerts(facts: DayFacts, ctx: DayContext, at: datetime, expires: datetime | None) -> list[Alert]:
    """Alerts the record itself raises: running through a reaction, a used expired bag, a bag that
    should be empty, an incomplete dose (PROT-13, PROT-16, PROT-23, IAR-13, IAR-29)."""
    alerts: list[Alert] = []
    running = facts.phase is Phase.RUNNING
    latest = facts.latest_reaction()
    severe_at = facts.severe_lock()
    if running and severe_at is not None:
        alerts.append(Alert(
            "SEVERE-REACTION-PUMP-RUNNING", "critical",
            f"A severe reaction was graded at {ctx.clock(severe_at)} and the infusion is still "
            "running: stop it now.", ("IAR-13", "IAR-29")))
    elif running and latest is not None and facts.reaction_open:
        alerts.append(Alert(
            "REACTION-PUMP-RUNNING", "critical",
            f"A reaction started at {ctx.clock(latest.onset)} and the infusion is still running: "
            "pause or stop it now and inform the physician.", ("PROT-23", "IAR-11", "IAR-12")))
    end = facts.infusion_end()
    if expires is not None and end is not None and facts.started_at is not None and end > expires:
        alerts.append(Alert(
            "SOLUTION-EXPIRED-IN-USE", "critical",
            f"The solution expired at {ctx.clock(expires)} while it was running (the infusion ended at "
            f"{ctx.clock(end)}): part of the dose came from an expired bag. Inform the physician.",
            ("PROT-13",)))
    if running and facts.solution is not None:
        empty = pump.emptied_at(facts.segments, facts.solution.volume_ml)
        if empty is not None and empty <= at:
            alerts.append(Alert(
                "INFUSION-END-PASSED", "warning",
                f"The bag should have run empty at {ctx.clock(empty)} and no end has been recorded: "
                "check the pump and start the flush.", ("PROT-14", "PROT-16")))
    if running and facts.raised_during_hold is not None:
        moment, rate = facts.raised_during_hold
        alerts.append(Alert(
            "RATE-RAISED-DURING-HOLD", "warning",
            f"The rate was raised to {format_decimal(rate)} mL/h at {ctx.clock(moment)}, less than "
            f"{ctx.reactions.restart_hold_minutes} min after the restart at the reduced rate; hold it "
            "and watch for the symptoms coming back.", ("IAR-28", "PROT-26")))
    for moment, text in facts.flagged_doses:
        alerts.append(Alert("DOSE-FLAGGED", "warning",
                            f"{ctx.clock(moment)}: {text} The physician reviews it.",
                            ("PROT-24", "PROT-25", "PROT-29")))
    if facts.ended_early is not None:
        alerts.append(Alert(
            "DOSE-INCOMPLETE", "warning",
            f"The infusion ended early at {ctx.clock(facts.ended_early.at)} ({facts.ended_early.reason}): "
            "the day's dose is incomplete.", ("PROT-11", "PROT-16")))
    return alerts


def _expiry_alert(at: datetime, end: datetime, expires: datetime, ctx: DayContext) -> Alert:
    limit = ctx.infusion.storage_limit.display()
    if at > expires:
        text = f"The prepared solution expired at {ctx.clock(expires)} ({limit} after preparation)."
    else:
        text = (f"The prepared solution expires at {ctx.clock(expires)} ({limit} after preparation), "
                f"before the projected end of the infusion at {ctx.clock(end)}.")
    return Alert("SOLUTION-EXPIRY", "critical", text + " Inform the physician.", ("PROT-13",))


def _checklist(facts: DayFacts, ctx: DayContext, alerts: list[Alert]) -> list[RecommendedAction]:
    reaction = facts.latest_reaction()
    if reaction is None:
        return []
    since = [e for e in facts.events if e.at >= reaction.onset]
    return recommended_actions(reaction, ctx.reactions, since, (a.code for a in alerts))
