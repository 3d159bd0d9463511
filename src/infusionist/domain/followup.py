"""Follow-up care: dated tasks after a course and the long-term safety-monitoring series.

Pure: dates and the protocol come in; nothing here reads a clock or stores anything.

*Series.* Each monitoring series (``monitoring.series`` in the protocol: blood count, creatinine,
urinalysis monthly, thyroid every 3 months, skin yearly, PROT-34) is counted from the last
infusion day of a course until ``monitoring.duration`` after it. When another course is given,
the earlier course's series runs through the calendar month of the new course's last infusion
and the new course's series takes over from the next occurrence on. So every calendar month of
monitoring has its monthly tests exactly once, however the courses fall.

*Tasks.* Every occurrence becomes a :class:`FollowUpTask` with ONE lifecycle,
:class:`TaskStatus`: ``due`` -> ``overdue`` (the window has closed) -> ``done`` or
``cancelled`` (with a reason). Closed tasks never change again; a physician's review of an
abnormal result is closed with a reason too.

*Calls.* Within ``delayed_reaction_call.within_hours`` of each infusion day the patient is asked
about delayed reactions (IAR-15, IAR-17), in the call's own window (``delayed_reaction_call.window``);
the answer records a :class:`DelayedReaction` against that infusion day.

*Due and overdue* are decided by :mod:`infusionist.domain.due` alone.
"""

from __future__ import annotations

import calendar
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from infusionist.domain.activities import Activity, ActivityKind
from infusionist.domain.dates import add_period
from infusionist.domain.due import Due, DueRule, is_overdue
from infusionist.domain.errors import FollowUpRefused, ValidationFailed
from infusionist.domain.protocol import Protocol
from infusionist.domain.protocol_elements import Element, Period
from infusionist.domain.protocol_monitoring import (
    DelayedReactionCall,
    Monitoring,
    MonitoringSeries,
    TaskWindow,
)

HOURS_PER_DAY = 24


class TaskStatus(StrEnum):
    """The one lifecycle of a follow-up task."""

    DUE = "due"
    OVERDUE = "overdue"
    DONE = "done"
    CANCELLED = "cancelled"


TRANSITIONS: Mapping[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.DUE: frozenset({TaskStatus.OVERDUE, TaskStatus.DONE, TaskStatus.CANCELLED}),
    TaskStatus.OVERDUE: frozenset({TaskStatus.DONE, TaskStatus.CANCELLED}),
    TaskStatus.DONE: frozenset(),
    TaskStatus.CANCELLED: frozenset(),
}


class TaskKind(StrEnum):
    LAB = "lab"
    EXAMINATION = "examination"
    CALL = "call"
    CARE = "care"  # check-up, end of a medication, contraception date, next course
    PHYSICIAN_REVIEW = "physician_review"


class FollowUpTask(BaseModel):
    """One dated thing to do after a course, with its window and its status: the one follow-up
    task type, made here and stored as it is (``follow_up_tasks``: the element, the infusion day
    of a call and the requirement IDs are columns, never parsed out of the activity id).

    ``activity_id`` names it in the plan (``c1-after-check-up``, ``c1-after-delayed-reaction-call-d3``)
    or names the review of a result; ``id`` and ``course_id`` are the stored row's and its
    course's numbers (0 until it is stored)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    activity_id: str = Field(min_length=1)
    element: str
    kind: TaskKind
    name: str
    course: int = Field(ge=1)
    due: date
    opens: date
    overdue_from: date
    requirements: tuple[str, ...]
    source: str | None = None  # the protocol's source key (not stored: the element names it)
    text: str | None = None
    infusion_day: int | None = None  # a delayed-reaction call's infusion day
    status: TaskStatus = TaskStatus.DUE
    closed_on: date | None = None
    reason: str | None = None
    id: int = 0
    course_id: int = 0

    @property
    def is_open(self) -> bool:
        return self.status in (TaskStatus.DUE, TaskStatus.OVERDUE)

    def due_on(self, rule: DueRule, today: date) -> Due:
        """The task's state on ``today`` by the one rule (:mod:`infusionist.domain.due`)."""
        return rule.on(self.status.value, self.due, self.opens, self.overdue_from, today)

    def is_overdue_on(self, today: date) -> bool:
        return self.is_open and is_overdue(self.overdue_from, today)


# -- transitions ---------------------------------------------------------------------------------


def refresh(task: FollowUpTask, today: date) -> FollowUpTask:
    """``due`` becomes ``overdue`` once the window has closed; anything else is unchanged."""
    if task.status is TaskStatus.DUE and is_overdue(task.overdue_from, today):
        return _move(task, TaskStatus.OVERDUE)
    return task


def complete(task: FollowUpTask, on: date, note: str | None = None) -> FollowUpTask:
    """Mark the task done; a physician's review needs its reason (what was decided)."""
    if task.kind is TaskKind.PHYSICIAN_REVIEW and _blank(note):
        raise FollowUpRefused(
            "FOLLOWUP-REASON-REQUIRED",
            f"{task.name.capitalize()}: write what was decided before closing the review.",
            requirements=task.requirements,
        )
    return _move(task, TaskStatus.DONE, closed_on=on, reason=note.strip() if note else None)


def cancel(task: FollowUpTask, on: date, reason: str) -> FollowUpTask:
    """Cancel the task; the reason is required and kept."""
    if _blank(reason):
        raise FollowUpRefused(
            "FOLLOWUP-REASON-REQUIRED",
            f"{task.name.capitalize()} due {task.due.isoformat()}: give the reason for cancelling.",
            requirements=task.requirements,
        )
    return _move(task, TaskStatus.CANCELLED, closed_on=on, reason=reason.strip())


def _move(task: FollowUpTask, to: TaskStatus, **fields: object) -> FollowUpTask:
    if to not in TRANSITIONS[task.status]:
        raise FollowUpRefused(
            "FOLLOWUP-TASK-CLOSED" if not task.is_open else "FOLLOWUP-TRANSITION",
            f"{task.name.capitalize()} due {task.due.isoformat()} is {task.status.value}; "
            f"it cannot become {to.value}.",
            requirements=task.requirements,
        )
    return task.model_copy(update={"status": to, **fields})


def _blank(text: str | None) -> bool:
    return text is None or not text.strip()


# -- occurrences: what is due when ---------------------------------------------------------------


@dataclass(frozen=True)
class Occurrence:
    """One dated occurrence of a series or a call, before it becomes a task or an activity."""

    element: Element
    kind: TaskKind
    name: str
    course: int
    due: date
    suffix: str  # m07 (month 7 after the course's last infusion) or d3 (infusion day 3)
    text: str
    source_note: str
    infusion_day: int | None = None

    @property
    def id(self) -> str:
        return f"c{self.course}-after-{self.element.id}-{self.suffix}"


def series_in_use(monitoring: Monitoring, options: Mapping[str, str]) -> list[MonitoringSeries]:
    """The series that apply under the centre's options (e.g. liver tests per label)."""
    return [s for s in monitoring.series
            if s.when is None or options.get(s.when.option) == s.when.value]


def monitoring_occurrences(
    protocol: Protocol, last_infusion_days: Sequence[date], options: Mapping[str, str]
) -> list[Occurrence]:
    """Every series occurrence for a course history (each course's last infusion day, in order)."""
    monitoring = protocol.monitoring
    if monitoring is None:
        return []
    anchors = _checked_history(last_infusion_days)
    found = [
        _series_occurrence(protocol, monitoring, series, course, months, due)
        for series in series_in_use(monitoring, options)
        for course, months, due in _series_dates(series, anchors, monitoring.duration)
    ]
    return sorted(found, key=lambda o: (o.due, o.element.id))


def course_occurrences(
    protocol: Protocol, course: int, infusion_days: Sequence[date], options: Mapping[str, str]
) -> list[Occurrence]:
    """What one course's plan lists: its calls and the series counted from its last infusion."""
    monitoring = protocol.monitoring
    if monitoring is None or not infusion_days:
        return []
    found = delayed_reaction_calls(protocol, course, infusion_days)
    for series in series_in_use(monitoring, options):
        for _, months, due in _series_dates(series, [infusion_days[-1]], monitoring.duration):
            found.append(_series_occurrence(protocol, monitoring, series, course, months, due))
    return sorted(found, key=lambda o: (o.due, o.element.id))


def delayed_reaction_calls(
    protocol: Protocol, course: int, infusion_days: Sequence[date]
) -> list[Occurrence]:
    """A call within the configured hours after each infusion day (IAR-15, IAR-17)."""
    call = protocol.monitoring.delayed_reaction_call if protocol.monitoring else None
    if call is None:
        return []
    return [
        Occurrence(
            element=call, kind=TaskKind.CALL, name=call.name, course=course,
            due=day + timedelta(days=_days_for(call)), suffix=f"d{number}",
            text=f"Infusion day {number} ({day.isoformat()}): {call.text}",
            source_note=_source_note(protocol, call), infusion_day=number,
        )
        for number, day in enumerate(infusion_days, start=1)
    ]


def _days_for(call: DelayedReactionCall) -> int:
    return -(-call.within_hours // HOURS_PER_DAY)  # whole days, rounded up


def _checked_history(last_infusion_days: Sequence[date]) -> list[date]:
    anchors = list(last_infusion_days)
    if any(later <= earlier for earlier, later in itertools.pairwise(anchors)):
        raise FollowUpRefused(
            "FOLLOWUP-HISTORY-ORDER",
            "The courses' last infusion days must be given in order, one per course: "
            + ", ".join(d.isoformat() for d in anchors) + ".",
        )
    return anchors


def _series_dates(
    series: MonitoringSeries, anchors: Sequence[date], duration: Period
) -> Iterable[tuple[int, int, date]]:
    """(course, months after its last infusion, due date) for each occurrence of ``series``."""
    step = series.every.months
    for index, anchor in enumerate(anchors):
        until = add_period(anchor, duration)
        handover = _month_index(anchors[index + 1]) if index + 1 < len(anchors) else None
        months = step
        while True:
            due = add_period(anchor, Period(months=months))
            if due > until or (handover is not None and _month_index(due) > handover):
                break
            yield index + 1, months, due
            months += step


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _series_occurrence(
    protocol: Protocol, monitoring: Monitoring, series: MonitoringSeries, course: int, months: int,
    due: date,
) -> Occurrence:
    total = monitoring.duration.describe()
    return Occurrence(
        element=series, kind=TaskKind.LAB if series.kind == "lab" else TaskKind.EXAMINATION,
        name=series.name, course=course, due=due, suffix=f"m{months:02d}",
        text=f"{series.text} Month {months} after the last infusion of course {course} "
             f"(monitoring continues until {total} after the last infusion).",
        source_note=_source_note(protocol, series),
    )


def _source_note(protocol: Protocol, element: Element) -> str:
    source = protocol.sources.get(element.source)
    title = source.title if source is not None else element.source
    return f"Source: {title} ({element.source})"


# -- tasks ---------------------------------------------------------------------------------------


def task_from_occurrence(occurrence: Occurrence, monitoring: Monitoring) -> FollowUpTask:
    element = occurrence.element
    opens, overdue_from = _window(occurrence.due, window_of(occurrence.kind, monitoring))
    return FollowUpTask(
        activity_id=occurrence.id, element=element.id, kind=occurrence.kind, name=occurrence.name,
        course=occurrence.course, due=occurrence.due, opens=opens, overdue_from=overdue_from,
        requirements=element.requirements, source=element.source, text=occurrence.text,
        infusion_day=occurrence.infusion_day,
    )


def monitoring_tasks(
    protocol: Protocol, last_infusion_days: Sequence[date], options: Mapping[str, str]
) -> list[FollowUpTask]:
    """The safety-monitoring tasks of a patient's whole course history."""
    if protocol.monitoring is None:
        return []
    monitoring = protocol.monitoring
    return [task_from_occurrence(o, monitoring)
            for o in monitoring_occurrences(protocol, last_infusion_days, options)]


def tasks_from_plan(activities: Iterable[Activity], course: int, protocol: Protocol) -> list[FollowUpTask]:
    """Tasks for a planned course's dated follow-up items (check-up, medication ends, series...).
    A delayed-reaction call keeps the infusion day it follows (from the plan's infusion days)."""
    monitoring = protocol.monitoring
    if monitoring is None:
        return []
    planned = list(activities)
    kinds = {e.id: _kind_of(e) for e in protocol.all_elements()}
    sources = {e.id: e.source for e in protocol.all_elements()}
    infusion_dates = sorted({a.start.date() for a in planned if a.kind is ActivityKind.INFUSION})
    call_days = {o.id: o.infusion_day for o in delayed_reaction_calls(protocol, course, infusion_dates)}
    tasks = []
    for activity in planned:
        if activity.day is not None or activity.kind.value not in ("follow_up", "medication"):
            continue
        due = activity.start.date()
        kind = kinds.get(activity.element, TaskKind.CARE)
        opens, overdue_from = _window(due, window_of(kind, monitoring))
        tasks.append(FollowUpTask(
            activity_id=activity.id, element=activity.element, kind=kind, name=activity.name,
            course=course, due=due, opens=opens, overdue_from=overdue_from,
            requirements=activity.requirements, source=sources.get(activity.element, protocol.id),
            text=activity.text, infusion_day=call_days.get(activity.id) if kind is TaskKind.CALL else None,
        ))
    return tasks


def _kind_of(element: Element) -> TaskKind:
    if isinstance(element, DelayedReactionCall):
        return TaskKind.CALL
    if isinstance(element, MonitoringSeries):
        return TaskKind.LAB if element.kind == "lab" else TaskKind.EXAMINATION
    return TaskKind.CARE


def window_of(kind: TaskKind, monitoring: Monitoring) -> TaskWindow:
    """The protocol's window for a task: the delayed-reaction call's own, else the task window."""
    call = monitoring.delayed_reaction_call
    if kind is TaskKind.CALL and call is not None:
        return call.window
    return monitoring.task_window


def _window(due: date, window: TaskWindow) -> tuple[date, date]:
    opens = _subtract(due, window.opens_before)
    return opens, add_period(due, window.overdue_after) + timedelta(days=1)


def _subtract(day: date, period: Period) -> date:
    """``day`` minus a period: calendar months first (clamped to the month's end), then days."""
    year, month0 = divmod(_month_index(day) - period.months, 12)
    moved = date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))
    return moved - timedelta(weeks=period.weeks, days=period.days)


def most_urgent_first(tasks: Iterable[FollowUpTask], today: date, rule: DueRule) -> list[FollowUpTask]:
    """The worklist: the tasks due or overdue by the one rule, overdue first (oldest first),
    then by due date."""
    visible = [refresh(t, today) for t in tasks if t.due_on(rule, today).on_worklist]
    return sorted(visible, key=lambda t: (t.status is not TaskStatus.OVERDUE, t.due, t.id, t.activity_id))


# -- the answer to a delayed-reaction call -------------------------------------------------------


class DelayedReaction(BaseModel):
    """A reaction the patient reported on the call, recorded against its infusion day."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    course: int
    infusion_day: int
    symptoms: tuple[str, ...] = Field(min_length=1)
    reported_at: datetime
    note: str | None = None

    @field_validator("reported_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("reported_at needs a time zone")
        return value


@dataclass(frozen=True)
class CallAnswer:
    task: FollowUpTask
    reaction: DelayedReaction | None


def answer_call(
    protocol: Protocol, task: FollowUpTask, answered_at: datetime, symptoms: Sequence[str],
    note: str | None = None,
) -> CallAnswer:
    """Close the call; symptoms the patient reports become a delayed reaction of that day."""
    if task.kind is not TaskKind.CALL or task.infusion_day is None:
        raise FollowUpRefused("FOLLOWUP-NOT-A-CALL", f"{task.name.capitalize()} is not a call.")
    if answered_at.tzinfo is None:
        raise ValidationFailed("INPUT-TIME-ZONE", "The time of the call needs a time zone.",
                               details={"answered_at": "no time zone"})
    known = {s.id for s in protocol.reactions.symptoms} if protocol.reactions else set(symptoms)
    unknown = [s for s in symptoms if s not in known]
    if unknown:
        raise ValidationFailed(
            "INPUT-SYMPTOM", f"Unknown symptom {unknown[0]!r}; choose from the symptom list.",
            details={"symptoms": ", ".join(unknown)},
        )
    reaction = None
    if symptoms:
        reaction = DelayedReaction(course=task.course, infusion_day=task.infusion_day,
                                   symptoms=tuple(symptoms), reported_at=answered_at, note=note)
    summary = "delayed reaction: " + ", ".join(symptoms) if symptoms else "no delayed reaction"
    done = complete(task, answered_at.date(), note=summary + (f"; {note}" if note else ""))
    return CallAnswer(task=done, reaction=reaction)
