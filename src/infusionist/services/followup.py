"""Use cases of follow-up care: the worklist of due and overdue tasks, and closing a task.

The lifecycle is the domain's (:mod:`infusionist.domain.followup`): a stored task is ``due``,
``done`` or ``cancelled``; ``upcoming``, ``due`` and ``overdue`` are derived from its window when
it is read, by the one rule of :mod:`infusionist.domain.due`, never stored by a clock job.
Closing goes through the domain's transitions and writes the audit row (old and new status, the
reason) in the same transaction; a refused close writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from infusionist.domain.access import Permission, require, sees_identity
from infusionist.domain.dates import check_supported_date
from infusionist.domain.due import OPEN_STORED, DueRule, due_rule
from infusionist.domain.errors import Conflict, FollowUpRefused, NotFound, ValidationFailed
from infusionist.domain.followup import FollowUpTask, TaskKind, TaskStatus, cancel, complete, refresh
from infusionist.domain.followup import answer_call as answer_call_domain
from infusionist.domain.lab_results import herpes_prophylaxis_may_stop
from infusionist.domain.protocol import Protocol
from infusionist.domain.records import Context, CourseRecord, WorklistRow
from infusionist.services import audit
from infusionist.services.course_store import centre_config, course_zone, load_course
from infusionist.services.deps import Deps
from infusionist.services.events import append_in_transaction, event_view
from infusionist.services.lab_results import domain_lab_result
from infusionist.services.ports import UnitOfWork

CLOSED = (TaskStatus.DONE, TaskStatus.CANCELLED)


def worklist_lead(protocol: Protocol) -> timedelta:
    """How long before its due date a task can appear at most: the one rule's lead
    (:func:`infusionist.domain.due.due_rule`: the protocol's widest task window)."""
    return due_rule(protocol).lead


def centre_today(deps: Deps, centre_id: str = "default") -> date:
    """Today in the centre's time zone (UTC when none is configured)."""
    with deps.uow() as uow:
        zone = centre_config(uow, centre_id).timezone or "UTC"
    return deps.clock.now().astimezone(ZoneInfo(zone)).date()


PAGE_SIZE = 100  # the worklist's default page: one screenful, most urgent first
MAX_PAGE_SIZE = 1000


def worklist_page(deps: Deps, ctx: Context, today: date, limit: int = PAGE_SIZE,
                  offset: int = 0) -> dict[str, Any]:
    """One page of the worklist (``limit`` tasks after the first ``offset``, most urgent first)
    with the whole worklist's ``total`` and ``overdue`` counts, read in one transaction."""
    require(ctx.actor.role, Permission.READ_PSEUDONYMISED)
    check_supported_date(today, "the worklist's date", "date")
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationFailed("INPUT-LIMIT", f"limit: {limit} is not between 1 and {MAX_PAGE_SIZE}.",
                               details={"limit": f"1 to {MAX_PAGE_SIZE}"})
    if offset < 0:
        raise ValidationFailed("INPUT-OFFSET", f"offset: {offset} is below 0.",
                               details={"offset": "0 or more"})
    horizon = _horizon(deps, today)
    with deps.uow() as uow:
        counts = uow.tasks.worklist_counts(today, horizon)
        rows = uow.tasks.open_worklist(today, horizon, limit, offset)
    return {"date": today.isoformat(), "total": counts.total, "overdue": counts.overdue,
            "limit": limit, "offset": offset, "tasks": _entries(rows, today, ctx, due_rule(deps.protocol))}


def due_worklist(deps: Deps, ctx: Context, today: date, limit: int | None = None,
                 offset: int = 0) -> list[dict[str, Any]]:
    """Every patient's open tasks whose window has opened by ``today``, most urgent first:
    overdue first (oldest due date first), then by due date (all of them unless ``limit``).
    Names only for roles that see identity; investigators see the study pseudonym."""
    require(ctx.actor.role, Permission.READ_PSEUDONYMISED)
    check_supported_date(today, "the worklist's date", "date")
    with deps.uow() as uow:
        rows = uow.tasks.open_worklist(today, _horizon(deps, today), limit, offset)
    return _entries(rows, today, ctx, due_rule(deps.protocol))


def _horizon(deps: Deps, today: date) -> date:
    return due_rule(deps.protocol).horizon(today)


def _entries(rows: list[WorklistRow], today: date, ctx: Context,
             rule: DueRule) -> list[dict[str, Any]]:
    """The rows as JSON-ready dicts, each one's state by the one rule (:mod:`domain.due`)."""
    identity = sees_identity(ctx.actor.role)
    iso = date.isoformat
    out = []
    state_on = rule.on
    for (task_id, patient_id, name, pseudonym, course_id, course, activity_id, task, kind, due,
         opens, overdue_from) in rows:
        state = state_on(OPEN_STORED, due, opens, overdue_from, today)
        out.append({
            "task_id": task_id,
            "patient": ({"id": patient_id, "pseudonym": pseudonym, "name": name} if identity
                        else {"id": patient_id, "pseudonym": pseudonym}),
            "course_id": course_id,
            "course": course,
            "activity_id": activity_id,
            "task": task,
            "kind": kind,
            "due": iso(due),
            "opens": iso(opens),
            "overdue_from": iso(overdue_from),
            "status": state.status,
            "days_overdue": state.days_overdue,
        })
    return out


def close_task(
    deps: Deps, ctx: Context, task_id: int, status: str, reason: str | None = None
) -> dict[str, Any]:
    """Close a task as ``done`` or ``cancelled`` (a cancellation needs its reason). Nurses and
    physicians close; a physician's review of a result is closed by a physician."""
    require(ctx.actor.role, Permission.RECORD_EVENT)
    target = _closing_status(status)
    with deps.uow(write=True) as uow:
        stored = uow.tasks.get(task_id)
        if stored is None:
            raise NotFound("TASK-NOT-FOUND", f"task_id: no task {task_id}.",
                           details={"task_id": "unknown"})
        if stored.kind is TaskKind.PHYSICIAN_REVIEW:
            require(ctx.actor.role, Permission.SIGN)
        course = load_course(uow, stored.course_id)
        on = deps.clock.now().astimezone(course_zone(course)).date()
        before = refresh(stored, on)
        if target is TaskStatus.DONE:
            _check_herpes_stop(deps, uow, course, stored, on)
        try:
            after = (complete(before, on, reason) if target is TaskStatus.DONE
                     else cancel(before, on, reason or ""))
        except FollowUpRefused as refused:
            raise _as_http(refused) from None
        if not uow.tasks.close(task_id, after.status.value, on, after.reason):
            raise Conflict("FOLLOWUP-TASK-CLOSED", f"task_id: task {task_id} was closed meanwhile.",
                           details={"task_id": "already closed"})
        audit.record_for(uow, deps, ctx, "task.close", "follow_up_task", task_id,
                         old={"status": before.status.value},
                         new={"status": after.status.value, "closed_on": on.isoformat()},
                         reason=after.reason)
        uow.commit()
    return {"task_id": task_id, "course_id": stored.course_id, "activity_id": stored.activity_id,
            "task": stored.name, "due": stored.due.isoformat(), "status": after.status.value,
            "closed_on": on.isoformat(), "reason": after.reason}


def _check_herpes_stop(deps: Deps, uow: UnitOfWork, course: CourseRecord, task: FollowUpTask,
                       on: date) -> None:
    """Under the US label's rule (C-5) the end of herpes prophylaxis is the later of its date and
    the first CD4+ count at or above the limit: it cannot be ticked off without that count."""
    monitoring = deps.protocol.monitoring
    rule = monitoring.herpes_stop if monitoring is not None else None
    if (monitoring is None or rule is None
            or task.element != rule.medication  # the medication's end: its only task
            or course.plan.get("options", {}).get(rule.option) != rule.value):
        return
    zone = course_zone(course)
    counts = [domain_lab_result(r, zone) for r in uow.lab_results.for_patient(course.patient_id)]
    may_stop = herpes_prophylaxis_may_stop(monitoring, rule, task.due, counts)
    if may_stop is None or may_stop > on:
        when = ("no count has been recorded at or above it yet" if may_stop is None
                else f"prophylaxis continues until {may_stop.isoformat()}")
        raise Conflict(
            "FOLLOWUP-CD4-PENDING",
            f"task_id: {rule.medication} continues: the centre follows the US label, which stops it only "
            f"once the CD4+ count is at least {rule.at_least} {rule.unit}; {when}.",
            requirements=rule.requirements, details={"task_id": "CD4+ count pending"},
        )


def _closing_status(status: str) -> TaskStatus:
    try:
        target = TaskStatus(status)
    except ValueError:
        target = None
    if target not in CLOSED:
        raise ValidationFailed("INPUT-TASK-STATUS",
                               f"status: {status!r} is not one of done, cancelled.",
                               details={"status": "done or cancelled"})
    assert target is not None
    return target


def _as_http(refused: FollowUpRefused) -> ValidationFailed | Conflict:
    if refused.code == "FOLLOWUP-REASON-REQUIRED":
        return ValidationFailed(refused.code, "reason: " + refused.message,
                                requirements=refused.requirements, details={"reason": "required"})
    return Conflict(refused.code, "status: " + refused.message, requirements=refused.requirements,
                    details={"status": "already closed"})


# -- the answer to a delayed-reaction call (IAR-15, IAR-17) ---------------------------------------

@dataclass(frozen=True)
class CallAnswerCommand:
    symptoms: tuple[str, ...] = ()
    onset: datetime | None = None  # when the reported reaction began (needed with symptoms)
    note: str | None = None


def answer_call(deps: Deps, ctx: Context, task_id: int, answer: CallAnswerCommand) -> dict[str, Any]:
    """Close a delayed-reaction call as done; symptoms the patient reports are appended to that
    infusion day as a ``reaction_onset`` at the reported onset, through the bedside guards, in the
    same transaction. Any refusal writes nothing."""
    require(ctx.actor.role, Permission.RECORD_EVENT)
    _check_onset(answer)
    with deps.uow(write=True) as uow:
        stored = uow.tasks.get(task_id)
        if stored is None:
            raise NotFound("TASK-NOT-FOUND", f"task_id: no task {task_id}.",
                           details={"task_id": "unknown"})
        course = load_course(uow, stored.course_id)
        now = deps.clock.now()
        on = now.astimezone(course_zone(course)).date()
        before = refresh(stored, on)  # the call keeps its infusion day (a column, 0011)
        try:
            result = answer_call_domain(deps.protocol, before, now.astimezone(ZoneInfo("UTC")),
                                        list(answer.symptoms), answer.note)
        except FollowUpRefused as refused:
            raise Conflict(refused.code, "task_id: " + refused.message,
                           requirements=refused.requirements,
                           details={"task_id": "not an open call"}) from None
        event = None
        if result.reaction is not None:
            assert answer.onset is not None  # _check_onset
            event = append_in_transaction(uow, deps, ctx, course, result.reaction.infusion_day, {
                "type": "reaction_onset", "at": answer.onset.isoformat(),
                "symptoms": list(result.reaction.symptoms)})
        after = result.task
        if not uow.tasks.close(task_id, after.status.value, on, after.reason):
            raise Conflict("FOLLOWUP-TASK-CLOSED", f"task_id: task {task_id} was closed meanwhile.",
                           details={"task_id": "already closed"})
        audit.record_for(uow, deps, ctx, "task.answer_call", "follow_up_task", task_id,
                         old={"status": before.status.value},
                         new={"status": after.status.value, "closed_on": on.isoformat(),
                              "symptoms": list(answer.symptoms),
                              "event": (f"{event.course_id}/{event.day}/{event.seq}"
                                        if event is not None else None)},
                         reason=after.reason)
        uow.commit()
    return {"task_id": task_id, "course_id": stored.course_id, "activity_id": stored.activity_id,
            "task": stored.name, "infusion_day": before.infusion_day, "status": after.status.value,
            "closed_on": on.isoformat(), "reason": after.reason,
            "reaction": event_view(event, ctx) if event is not None else None}


def _check_onset(answer: CallAnswerCommand) -> None:
    if answer.symptoms and answer.onset is None:
        raise ValidationFailed("INPUT-ONSET-REQUIRED",
                               "onset: give the time the reported reaction began.",
                               requirements=("IAR-17",), details={"onset": "required with symptoms"})
    if not answer.symptoms and answer.onset is not None:
        raise ValidationFailed("INPUT-ONSET-WITHOUT-SYMPTOMS",
                               "onset: an onset time needs the symptoms the patient reported.",
                               details={"onset": "only with symptoms"})
    if answer.onset is not None and answer.onset.tzinfo is None:
        raise ValidationFailed("INPUT-TIME-ZONE", "onset: the time needs a UTC offset.",
                               details={"onset": "no time zone"})
