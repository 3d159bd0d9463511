"""Read models for the web pages: today's board, a patient's overview, a course preview, audit.

Each is one use case that reads through the unit of work and replays days with the bedside rules;
the pages only render what these return.
"""

from __future__ import annotations

from datetime import UTC, date, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from infusionist.domain.access import Permission, require, sees_identity, strip_free_text
from infusionist.domain.plan_json import day_to_json, plan_to_json
from infusionist.domain.planning import CoursePlan, Patient
from infusionist.domain.records import Context, CourseRecord, FollowUpTask, PatientRecord
from infusionist.services import followup
from infusionist.services.course_store import (
    centre_config,
    known_course,
    load_course,
    parsed_plan,
)
from infusionist.services.courses import CreateCourse, course_view, task_status
from infusionist.services.deps import Deps
from infusionist.services.patients import load_patient, patient_view
from infusionist.services.planning import PlanCourseCommand, plan_course_for


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


def today_board(deps: Deps, ctx: Context) -> list[dict[str, Any]]:
    """Every patient with an infusion day today: who, which day, and the replayed day state."""
    require(ctx.actor.role, Permission.READ_PSEUDONYMISED)
    now = deps.clock.now()
    utc_today = now.astimezone(UTC).date()
    rows: list[tuple[PatientRecord, CourseRecord, CoursePlan, int, list[dict[str, Any]]]] = []
    chairs: dict[tuple[int, int], str] = {}  # (course, day) -> the chair its booking holds
    with deps.uow() as uow:
        # Indexed: courses with a day within a day of today in UTC (every zone's today is there).
        for course_id in uow.courses.ids_with_days_between(utc_today - ONE_DAY, utc_today + ONE_DAY):
            course, plan = known_course(deps, uow, course_id)
            today = now.astimezone(ZoneInfo(plan.timezone)).date()
            for planned in plan.days:
                if planned.date == today:
                    events = [e.as_recorded() for e in uow.events.for_day(course.id, planned.day)]
                    rows.append((load_patient(uow, course.patient_id), course, plan, planned.day, events))
        if rows:
            names = {c.id: c.name for c in uow.chairs.list("default")}
            for course_id in {row[1].id for row in rows}:
                for booking in uow.bookings.for_course(course_id):
                    chairs[(course_id, booking.day)] = names.get(booking.chair_id, "")
    board: list[dict[str, Any]] = []
    for patient, course, plan, day, events in rows:
        state = deps.rules.state(plan, day, events, now)
        if not sees_identity(ctx.actor.role):
            state = strip_free_text(state)
        board.append({"patient": patient_view(patient, ctx.actor.role), "course_id": course.id,
                      "course": course.number, "day": day, "days": len(plan.days),
                      "planned": day_to_json(plan.day(day)), "state": state,
                      "chair": chairs.get((course.id, day))})
    board.sort(key=lambda row: (row["planned"]["chair_start"], row["patient"]["id"]))
    return board


def patient_overview(deps: Deps, ctx: Context, patient_id: int) -> dict[str, Any]:
    """The patient, each course with its plan, every day's reactions so far, and follow-up tasks."""
    require(ctx.actor.role, Permission.READ_PSEUDONYMISED)
    now = deps.clock.now()
    with deps.uow() as uow:
        patient = load_patient(uow, patient_id)
        courses = uow.courses.for_patient(patient_id)
        days = {(c.id, d["day"]): [e.as_recorded() for e in uow.events.for_day(c.id, d["day"])]
                for c in courses for d in c.plan.get("days", [])}
        tasks = {c.id: uow.tasks.for_course(c.id) for c in courses}
    # The worklist's rule and day (the centre's today), so both pages count the same tasks.
    today = followup.centre_today(deps)
    horizon = today + followup.worklist_lead(deps.protocol)
    out = []
    for course in courses:
        plan = parsed_plan(course)
        reactions, phases = [], {}
        for planned in plan.days:
            events = days[(course.id, planned.day)]
            state = deps.rules.state(plan, planned.day, events, now) if events else None
            phases[planned.day] = state["phase"] if state is not None else "planned"
            for reaction in (state or {}).get("reactions", []):
                reactions.append({**reaction, "day": planned.day})
        rows = [_task_row(t, today, horizon) for t in tasks[course.id]]
        out.append({**course_view(course, ctx), "phases": phases, "reactions": reactions,
                    "tasks": rows, "overdue": sum(r["status"] == "overdue" for r in rows),
                    "on_worklist": sum(r["on_worklist"] for r in rows)})
    return {"patient": patient_view(patient, ctx.actor.role), "courses": out}


def _task_row(task: FollowUpTask, today: date, horizon: date) -> dict[str, Any]:
    """A course's task as the patient page lists it: ``overdue`` by the domain's rule (as the
    worklist), ``due`` when it is on today's worklist, ``upcoming`` before its window opens."""
    status = task_status(task, today)
    on_worklist = status in ("due", "overdue") and task.opens <= today and task.due <= horizon
    if status == "due" and not on_worklist:
        status = "upcoming"
    return {"name": task.name, "due": task.due.isoformat(), "status": status,
            "overdue": status == "overdue", "on_worklist": on_worklist}


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


def course_for_print(deps: Deps, ctx: Context, course_id: int) -> tuple[dict[str, Any], Any]:
    """The course's stored plan (pseudonymised for investigators) and its centre's configuration."""
    require(ctx.actor.role, Permission.READ_PSEUDONYMISED)
    with deps.uow() as uow:
        course = load_course(uow, course_id)
        patient = load_patient(uow, course.patient_id)
        config = centre_config(uow, patient.centre_id)
    return course_view(course, ctx)["plan"], config


def centre_contact(deps: Deps, centre_id: str = "default") -> dict[str, str | None]:
    """The unit's name and telephone for the patient's discharge instructions."""
    with deps.uow() as uow:
        config = centre_config(uow, centre_id)
    return {"name": config.name, "phone": config.contact_phone}
