"""Use cases of laboratory results: record one (checked by the domain) and list a patient's.

The checks and the alert rules are the domain's (:mod:`infusionist.domain.lab_results`): a
refused entry raises ``ValidationFailed`` with the domain's code (``LAB-IMPLAUSIBLE``,
``LAB-UNIT``...) before anything is written. A kept result is stored with its audit row and,
for every alert it raises, a physician's review task (kind ``physician_review``, due within
``monitoring.physician_review_within`` of the sampling date), all in one transaction. The
physician closes the review with a reason through :func:`infusionist.services.followup.close_task`.

The baseline of a rise rule (creatinine) is the patient's earliest stored result of the same
analyte sampled before this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

from infusionist.domain.access import Permission, require
from infusionist.domain.dates import check_supported_date
from infusionist.domain.errors import NotFound, ValidationFailed
from infusionist.domain.lab_results import LabResult, check_result, evaluate, review_task
from infusionist.domain.records import Context, CourseRecord, LabResultRecord
from infusionist.services import audit
from infusionist.services.course_store import centre_config
from infusionist.services.deps import Deps
from infusionist.services.lab_views import (
    FlaggedLabResultView,
    LabAlertView,
    LabResultRecorded,
    LabResultView,
    ReviewTaskView,
    result_view,
)
from infusionist.services.patients import load_patient
from infusionist.services.ports import UnitOfWork


@dataclass(frozen=True)
class RecordLabResult:
    patient_id: int
    analyte: str
    value: Decimal | None
    unit: str
    taken_on: date
    reference_low: Decimal | None = None
    reference_high: Decimal | None = None
    course_id: int | None = None  # default: the patient's latest course


def record_lab_result(deps: Deps, ctx: Context, command: RecordLabResult) -> LabResultRecorded:
    """Check, store and evaluate one result; each alert becomes a physician's review task."""
    require(ctx.actor.role, Permission.RECORD_EVENT)
    monitoring = deps.protocol.monitoring
    if monitoring is None:
        raise ValidationFailed("LAB-NO-MONITORING", "The protocol has no safety monitoring section.")
    check_supported_date(command.taken_on, "the sampling date", "taken_on")
    with deps.uow(write=True) as uow:
        patient = load_patient(uow, command.patient_id)
        course = _course_of(uow, patient.id, command.course_id)
        config = centre_config(uow, patient.centre_id)
        taken_at = datetime.combine(command.taken_on, time(0),
                                    ZoneInfo(str(course.plan.get("timezone") or config.timezone or "UTC")))
        entered = _domain_result("new", command, taken_at)
        check_result(monitoring, entered)  # refusals: the domain's codes, nothing written
        earlier = [r for r in uow.lab_results.for_patient(patient.id)
                   if r.analyte == command.analyte and r.taken_on < command.taken_on]
        baseline = domain_lab_result(earlier[0], taken_at.tzinfo) if earlier else None
        stored = uow.lab_results.add(LabResultRecord(
            patient_id=patient.id, course_id=course.id, analyte=command.analyte,
            value=_text(command.value) or "", unit=command.unit,
            reference_low=_text(command.reference_low), reference_high=_text(command.reference_high),
            taken_on=command.taken_on, recorded_by=ctx.actor.username, recorded_at=deps.clock.now(),
        ))
        result = entered.model_copy(update={"id": str(stored.id)})
        alerts = evaluate(monitoring, result, baseline=baseline, overrides=config.lab_alert_thresholds)
        tasks = []
        for alert in alerts:
            task = review_task(monitoring, result, alert, course.number)
            tasks.append(uow.tasks.add(task.model_copy(update={"course_id": course.id})))
        audit.record_for(uow, deps, ctx, "lab_result.record", "lab_result", stored.id,
                         new={**result_view(stored).as_json(),
                              "alerts": [a.code for a in alerts],
                              "review_tasks": [t.id for t in tasks]})
        uow.commit()
    return LabResultRecorded(
        result=result_view(stored),
        alerts=[LabAlertView(code=a.code, work_up=a.work_up, message=a.message,
                             requirements=list(a.requirements)) for a in alerts],
        review_tasks=[ReviewTaskView(task_id=t.id, activity_id=t.activity_id, task=t.name,
                                     kind=t.kind, due=t.due.isoformat()) for t in tasks],
    )


def list_lab_results(deps: Deps, ctx: Context, patient_id: int) -> list[LabResultView]:
    """The patient's results, oldest first. Results carry no identity: investigators see the
    same rows under the patient's id (the pseudonym is on the patient)."""
    require(ctx.actor.role, Permission.READ_PSEUDONYMISED)
    with deps.uow() as uow:
        patient = load_patient(uow, patient_id)
        return [result_view(r) for r in uow.lab_results.for_patient(patient.id)]


def _course_of(uow: UnitOfWork, patient_id: int, course_id: int | None) -> CourseRecord:
    courses = uow.courses.for_patient(patient_id)
    if course_id is None:
        if not courses:
            raise ValidationFailed("LAB-NO-COURSE",
                                   "course_id: the patient has no course; plan one before recording "
                                   "monitoring results.", details={"course_id": "no course"})
        return max(courses, key=lambda c: c.number)
    found = next((c for c in courses if c.id == course_id), None)
    if found is None:
        raise NotFound("COURSE-NOT-FOUND", f"course_id: the patient has no course {course_id}.",
                       details={"course_id": "unknown for this patient"})
    return found


def _domain_result(result_id: str, command: RecordLabResult, taken_at: datetime) -> LabResult:
    return LabResult(id=result_id, analyte=command.analyte, value=command.value, unit=command.unit,
                     reference_low=command.reference_low, reference_high=command.reference_high,
                     taken_at=taken_at)


def domain_lab_result(stored: LabResultRecord, zone: tzinfo | None) -> LabResult:
    """A stored result as the domain's ``LabResult``, taken at midnight of its day in ``zone``."""
    return LabResult(
        id=str(stored.id), analyte=stored.analyte, value=Decimal(stored.value), unit=stored.unit,
        reference_low=Decimal(stored.reference_low) if stored.reference_low is not None else None,
        reference_high=Decimal(stored.reference_high) if stored.reference_high is not None else None,
        taken_at=datetime.combine(stored.taken_on, time(0), zone),
    )


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def flagged_lab_results(deps: Deps, ctx: Context, patient_id: int) -> list[FlaggedLabResultView]:
    """The patient's results, oldest first, each with the alert codes it raised (``alerts``,
    read back from its physician's review tasks, ``review-{result id}-{code}``) for the pages."""
    require(ctx.actor.role, Permission.READ_PSEUDONYMISED)
    with deps.uow() as uow:
        patient = load_patient(uow, patient_id)
        results = uow.lab_results.for_patient(patient.id)
        reviews = [t.activity_id for c in uow.courses.for_patient(patient.id)
                   for t in uow.tasks.for_course(c.id) if t.kind == "physician_review"]
    out = []
    for result in results:
        prefix = f"review-{result.id}-"
        out.append(FlaggedLabResultView(
            **result_view(result).model_dump(),
            alerts=[a[len(prefix):].upper() for a in reviews if a.startswith(prefix)]))
    return out
