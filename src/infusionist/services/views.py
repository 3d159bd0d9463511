"""Read models for the web pages: today's board, a patient's overview, a course preview, audit.

Each is one use case that reads through the unit of work and replays days with the bedside rules;
the pages only render what these return.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ConfigDict

from infusionist.domain.access import Permission, require
from infusionist.domain.centre import CentreConfig
from infusionist.domain.due import Due, DueState, due_rule
from infusionist.domain.followup import FollowUpTask
from infusionist.domain.infusion_day import DayState
from infusionist.domain.plan_json import plan_to_json
from infusionist.domain.planning import CoursePlan, Patient, PlannedDay
from infusionist.domain.records import Context, CourseRecord, PatientRecord, StoredEvent
from infusionist.services import followup
from infusionist.services.course_store import (
    centre_config,
    known_course,
    load_course,
    parsed_plan,
)
from infusionist.services.courses import CourseView, CreateCourse, course_view, task_due
from infusionist.services.deps import Deps
from infusionist.services.patients import PatientView, load_patient, patient_view
from infusionist.services.planning import PlanCourseCommand, plan_course_for
from infusionist.services.read_model import ReadModel


def centre_zone(deps: Deps, centre_id: str = "default") -> str:
    with deps.uow() as uow:
        zone = centre_config(uow, centre_id).timezone
    return zone or "UTC"


def change_marker(deps: Deps) -> int:
    """A number that grows with every recorded change (the audit trail's last row), any worker."""
    with deps.uow() as uow:
        last = uow.audit.last()
    return last.seq if last is not None else 0


ONE_DAY = timedelta(days=1)


class BoardRow(ReadModel):
    """A patient with an infusion day today: the planned day, the day's state now (the domain's
    ``DayState``), and the chair its booking holds."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    patient: PatientView
    course_id: int
    course: int
    day: int
    days: int
    planned: PlannedDay
    state: DayState
    chair: str | None


class TaskRow(ReadModel):
    """A course's task as the patient page lists it."""

    name: str
    due: str
    status: str
    overdue: bool
    days_overdue: int
    on_worklist: bool


class ReactionRow(ReadModel):
    """A reaction of a course day as the patient page lists it (graded as the bedside grades it)."""

    day: int
    onset: datetime
    symptoms: tuple[str, ...]
    term: str | None
    grade: int | None


class CourseOverview(CourseView):
    phases: dict[int, str]  # each day's phase now ("planned" before its first event)
    reactions: list[ReactionRow]  # each day's reactions so far, as the day state holds them
    tasks: list[TaskRow]
    overdue: int
    on_worklist: int


class PatientOverview(ReadModel):
    patient: PatientView
    courses: list[CourseOverview]


def today_board(deps: Deps, ctx: Context) -> list[BoardRow]:
    """Every patient with an infusion day today: who, which day, and the replayed day state."""
    require(ctx.actor.role, Permission.READ_PSEUDONYMISED)
    now = deps.clock.now()
    utc_today = now.astimezone(UTC).date()
    rows: list[tuple[PatientRecord, CourseRecord, CoursePlan, int, list[StoredEvent]]] = []
    chairs: dict[tuple[int, int], str] = {}  # (course, day) -> the chair its booking holds
    with deps.uow() as uow:
        # Indexed: courses with a day within a day of today in UTC (every zone's today is there).
        for course_id in uow.courses.ids_with_days_between(utc_today - ONE_DAY, utc_today + ONE_DAY):
            course, plan = known_course(deps, uow, course_id)
            today = now.astimezone(ZoneInfo(plan.timezone)).date()
            for planned in plan.days:
                if planned.date == today:
                    events = uow.events.for_day(course.id, planned.day)
                    rows.append((load_patient(uow, course.patient_id), course, plan, planned.day, events))
        if rows:
            names = {c.id: c.name for c in uow.chairs.list("default")}
            for course_id in {row[1].id for row in rows}:
                for booking in uow.bookings.for_course(course_id):
                    chairs[(course_id, booking.day)] = names.get(booking.chair_id, "")
    board: list[BoardRow] = []
    for patient, course, plan, day, events in rows:
        board.append(BoardRow(patient=patient_view(patient, ctx.actor.role), course_id=course.id,
                              course=course.number, day=day, days=len(plan.days),
                              planned=plan.day(day), state=deps.rules.state(plan, day, events, now),
                              chair=chairs.get((course.id, day))))
    board.sort(key=lambda row: (row.planned.chair_start, row.patient.id))
    return board


def patient_overview(deps: Deps, ctx: Context, patient_id: int) -> PatientOverview:
    """The patient, each course with its plan, every day's reactions so far, and follow-up tasks."""
    require(ctx.actor.role, Permission.READ_PSEUDONYMISED)
    now = deps.clock.now()
    with deps.uow() as uow:
        patient = load_patient(uow, patient_id)
        courses = uow.courses.for_patient(patient_id)
        days = {(c.id, d["day"]): uow.events.for_day(c.id, d["day"])
                for c in courses for d in c.plan.get("days", [])}
        tasks = {c.id: uow.tasks.for_course(c.id) for c in courses}
    # The worklist's rule and day (the centre's today), so both pages count the same tasks.
    today = followup.centre_today(deps)
    rule = due_rule(deps.protocol)
    out = []
    for course in courses:
        plan = parsed_plan(course)
        reactions: list[ReactionRow] = []
        phases: dict[int, str] = {}
        for planned in plan.days:
            events = days[(course.id, planned.day)]
            if not events:
                phases[planned.day] = "planned"
                continue
            state = deps.rules.state(plan, planned.day, events, now)
            phases[planned.day] = state.phase.value
            reactions += [ReactionRow(day=planned.day, onset=r.onset, symptoms=tuple(r.symptoms),
                                      term=None if r.grading is None else r.grading.term,
                                      grade=None if r.grading is None else r.grading.grade)
                          for r in state.reactions]
        rows = [_task_row(t, task_due(rule, t, today)) for t in tasks[course.id]]
        out.append(CourseOverview(**course_view(course, ctx).model_dump(), phases=phases,
                                  reactions=reactions, tasks=rows,
                                  overdue=sum(r.status == "overdue" for r in rows),
                                  on_worklist=sum(r.on_worklist for r in rows)))
    return PatientOverview(patient=patient_view(patient, ctx.actor.role), courses=out)


def _task_row(task: FollowUpTask, due: Due) -> TaskRow:
    """A course's task as the patient page lists it, in the one rule's words (as the worklist):
    ``upcoming``, ``due``, ``overdue`` (with the days past its due date), ``done``, ``cancelled``."""
    return TaskRow(name=task.name, due=task.due.isoformat(), status=due.status,
                   overdue=due.state is DueState.OVERDUE, days_overdue=due.days_overdue,
                   on_worklist=due.on_worklist)


def preview_course(deps: Deps, ctx: Context, command: CreateCourse) -> dict[str, Any]:
    """The plan a ``create_course`` with the same command would store, without storing it."""
    require(ctx.actor.role, Permission.PLAN_COURSE)
    with deps.uow() as uow:
        patient = load_patient(uow, command.patient_id)
        config = centre_config(uow, patient.centre_id)
    plan = plan_course_for(deps.protocol_for(command.protocol_id), config, PlanCourseCommand(
        patient=Patient(id=patient.pseudonym, sex="female" if patient.sex == "female" else "male",
                        childbearing_potential=patient.childbearing_potential,
                        weight_kg=Decimal(patient.weight_kg) if patient.weight_kg is not None else None),
        course=command.course, first_day=command.first_day, infusion_start=command.infusion_start,
        timezone=command.timezone, previous_course_end=command.previous_course_end))
    return plan_to_json(plan)


def course_for_print(deps: Deps, ctx: Context, course_id: int) -> tuple[dict[str, Any], CentreConfig]:
    """The course's stored plan (pseudonymised for investigators) and its centre's configuration."""
    require(ctx.actor.role, Permission.READ_PSEUDONYMISED)
    with deps.uow() as uow:
        course = load_course(uow, course_id)
        patient = load_patient(uow, course.patient_id)
        config = centre_config(uow, patient.centre_id)
    return course_view(course, ctx).plan, config


def centre_contact(deps: Deps, centre_id: str = "default") -> dict[str, str | None]:
    """The unit's name and telephone for the patient's discharge instructions."""
    with deps.uow() as uow:
        config = centre_config(uow, centre_id)
    return {"name": config.name, "phone": config.contact_phone}


def centre_number_locale(deps: Deps, centre_id: str = "default") -> str:
    """How the unit writes numbers ("en": 37.5; "de", "fr", ...: 37,5), for reading and showing them."""
    with deps.uow() as uow:
        return centre_config(uow, centre_id).number_locale
