"""Use cases of courses: plan and store one with its follow-up tasks; read the plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from typing import Any

from infusionist.domain.access import Permission, pseudonymise_plan, require, sees_identity
from infusionist.domain.due import Due, DueRule, due_rule
from infusionist.domain.errors import Conflict
from infusionist.domain.followup import FollowUpTask, tasks_from_plan
from infusionist.domain.plan_json import plan_to_json
from infusionist.domain.planning import Patient
from infusionist.domain.records import Context, CourseRecord
from infusionist.services import audit
from infusionist.services.course_store import (
    centre_config,
    course_zone,
    load_course,
)
from infusionist.services.deps import Deps
from infusionist.services.patients import load_patient
from infusionist.services.planning import PlanCourseCommand, plan_course_for
from infusionist.services.read_model import ReadModel


@dataclass(frozen=True)
class CreateCourse:
    patient_id: int
    course: int
    first_day: date
    infusion_start: time = time(9, 0)
    timezone: str | None = None
    previous_course_end: date | None = None
    chair_ids: tuple[int, ...] = ()  # one chair per day (a choice of "find the first start")
    protocol_id: str | None = None  # the therapy; None: the unit's default protocol


class CourseView(ReadModel):
    """A stored course: its protocol, who planned it with which centre settings, and the plan's
    JSON (``domain/plan_json.py``; the patient named by pseudonym for pseudonymised readers)."""

    id: int
    patient_id: int
    course: int
    protocol: dict[str, str | None]  # id, version, digest
    created_at: str
    created_by: str
    centre_version: int | None  # the centre's settings the plan was made with
    plan: dict[str, Any]


class TaskView(ReadModel):
    """A course's follow-up task with its status today (``overdue`` derived from its window)."""

    id: int
    activity_id: str
    name: str
    due: str
    status: str


def create_course(deps: Deps, ctx: Context, command: CreateCourse) -> CourseView:
    require(ctx.actor.role, Permission.PLAN_COURSE)
    with deps.uow(write=True) as uow:
        patient = load_patient(uow, command.patient_id)
        if any(c.number == command.course for c in uow.courses.for_patient(patient.id)):
            raise Conflict("COURSE-EXISTS", f"course: course {command.course} is already planned.",
                           details={"course": "already planned"})
        settings = uow.centre_versions.latest(patient.centre_id)
        protocol = deps.protocol_for(command.protocol_id)
        plan = plan_course_for(protocol, centre_config(uow, patient.centre_id), PlanCourseCommand(
            patient=Patient(
                id=patient.pseudonym, sex="female" if patient.sex == "female" else "male",
                childbearing_potential=patient.childbearing_potential,
                weight_kg=Decimal(patient.weight_kg) if patient.weight_kg is not None else None,
            ),
            course=command.course, first_day=command.first_day,
            infusion_start=command.infusion_start, timezone=command.timezone,
            previous_course_end=command.previous_course_end,
        ))
        course = uow.courses.add(CourseRecord(
            patient_id=patient.id, number=command.course, protocol_id=plan.protocol_id,
            protocol_version=plan.protocol_version, plan=plan_to_json(plan),
            created_at=deps.clock.now(), created_by=ctx.actor.username,
            first_day=plan.first_day, last_day=plan.last_day,
            centre_version=settings.version if settings is not None else None,
        ))
        for task in tasks_from_plan(plan.activities, command.course, protocol):
            uow.tasks.add(task.model_copy(update={"course_id": course.id}))
        audit.record_for(uow, deps, ctx, "course.create", "course", course.id,
                         new={"patient_id": patient.id, "course": command.course,
                              "protocol": f"{plan.protocol_id} {plan.protocol_version}",
                              "protocol_digest": plan.protocol_digest,
                              "first_day": command.first_day.isoformat(),
                              "centre_version": settings.version if settings is not None else None})
        # Every day holds a chair in the same transaction (refused: nothing is stored).
        from infusionist.services.bookings import book_course  # lazy: bookings is heavy

        book_course(deps, uow, ctx, patient.centre_id, course.id, plan, chair_ids=command.chair_ids,
                    previous_course_end=command.previous_course_end)
        uow.commit()
    return course_view(course, ctx)


def get_course(deps: Deps, ctx: Context, course_id: int) -> CourseView:
    require(ctx.actor.role, Permission.READ_PSEUDONYMISED)
    with deps.uow() as uow:
        return course_view(load_course(uow, course_id), ctx)


def list_tasks(deps: Deps, ctx: Context, course_id: int) -> list[TaskView]:
    require(ctx.actor.role, Permission.READ_PSEUDONYMISED)
    with deps.uow() as uow:
        course = load_course(uow, course_id)
        tasks = uow.tasks.for_course(course_id)
    today = deps.clock.now().astimezone(course_zone(course)).date()
    rule = due_rule(deps.protocol)
    return [TaskView(id=t.id, activity_id=t.activity_id, name=t.name, due=t.due.isoformat(),
                     status=task_due(rule, t, today).status) for t in tasks]


def task_due(rule: DueRule, task: FollowUpTask, today: date) -> Due:
    """A stored task's state on ``today`` by the one rule (upcoming, due, overdue, done...)."""
    return rule.on(task.status.value, task.due, task.opens, task.overdue_from, today)


def course_view(course: CourseRecord, ctx: Context) -> CourseView:
    plan = course.plan
    if not sees_identity(ctx.actor.role):
        plan = pseudonymise_plan(plan, str(plan.get("patient", {}).get("id", "")))
    return CourseView(
        id=course.id, patient_id=course.patient_id, course=course.number,
        protocol={"id": course.protocol_id, "version": course.protocol_version,
                  "digest": course.plan.get("protocol", {}).get("digest")},
        created_at=course.created_at.isoformat(), created_by=course.created_by,
        centre_version=course.centre_version, plan=plan)


def list_courses(deps: Deps, ctx: Context, patient_id: int) -> list[CourseView]:
    require(ctx.actor.role, Permission.READ_PSEUDONYMISED)
    with deps.uow() as uow:
        load_patient(uow, patient_id)
        return [course_view(c, ctx) for c in uow.courses.for_patient(patient_id)]
