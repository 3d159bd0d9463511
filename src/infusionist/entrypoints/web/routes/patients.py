from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from infusionist.entrypoints.web.dependencies import ContextDep, ServicesDep
from infusionist.entrypoints.web.errors import ERROR_RESPONSES
from infusionist.entrypoints.web.routes.courses import course_out
from infusionist.entrypoints.web.schemas import (
    CourseIn,
    CourseOut,
    Input,
    PatientEditIn,
    PatientIn,
    PatientOut,
)
from infusionist.services import courses, lab_results, patients
from infusionist.services.lab_views import LabResultView

router = APIRouter(tags=["patients"], responses=ERROR_RESPONSES)
PatientId = Path(ge=1, le=2**31 - 1)


@router.get("/patients", response_model=list[PatientOut])
def list_patients(ctx: ContextDep, deps: ServicesDep,
                  q: str = Query(default="", max_length=200,
                                 description="Find by name, hospital number or pseudonym")
                  ) -> list[PatientOut]:
    """Investigators see the study pseudonym only: no name, no birth date (and find by pseudonym)."""
    found = patients.find_patients(deps, ctx, q) if q.strip() else patients.list_patients(deps, ctx)
    return [_patient_out(p) for p in found]


def _patient_out(view: patients.PatientView) -> PatientOut:
    return PatientOut.model_validate(view.as_json())


def _command(body: PatientIn) -> patients.RegisterPatient:
    return patients.RegisterPatient(
        name=body.name, birth_date=body.birth_date, sex=body.sex,
        childbearing_potential=body.childbearing_potential, weight_kg=body.weight_kg,
        identifier=body.identifier, contact=body.contact)


@router.post("/patients", response_model=PatientOut, status_code=201)
def register_patient(body: PatientIn, ctx: ContextDep, deps: ServicesDep) -> PatientOut:
    return _patient_out(patients.register_patient(deps, ctx, _command(body)))


@router.put("/patients/{patient_id}", response_model=PatientOut)
def edit_patient(body: PatientEditIn, ctx: ContextDep, deps: ServicesDep,
                 patient_id: int = PatientId) -> PatientOut:
    """Replace the patient's details (the pseudonym stays); old and new go to the audit trail."""
    return _patient_out(patients.edit_patient(deps, ctx, patient_id, _command(body), body.reason))


@router.get("/patients/{patient_id}", response_model=PatientOut)
def get_patient(ctx: ContextDep, deps: ServicesDep, patient_id: int = PatientId) -> PatientOut:
    return _patient_out(patients.get_patient(deps, ctx, patient_id))


@router.get("/patients/{patient_id}/courses", response_model=list[CourseOut])
def list_courses(ctx: ContextDep, deps: ServicesDep, patient_id: int = PatientId) -> list[CourseOut]:
    return [course_out(c) for c in courses.list_courses(deps, ctx, patient_id)]


@router.post("/patients/{patient_id}/courses", response_model=CourseOut, status_code=201)
def create_course(body: CourseIn, ctx: ContextDep, deps: ServicesDep,
                  patient_id: int = PatientId) -> CourseOut:
    """Plan a course with the protocol and the centre configuration, and store the plan."""
    return course_out(courses.create_course(deps, ctx, courses.CreateCourse(
        patient_id=patient_id, course=body.course, first_day=body.first_day,
        infusion_start=body.infusion_start, timezone=body.timezone,
        previous_course_end=body.previous_course_end, chair_ids=tuple(body.chair_ids),
        protocol_id=body.protocol_id)))




# Product default: a laboratory number has at most 12 digits, 6 of them after the point (finite:
# NaN and Infinity are refused), which every analyte's unit fits and the stored text column holds.
LAB_DIGITS, LAB_DECIMALS = 12, 6


class LabResultIn(Input):
    analyte: str = Field(min_length=1, max_length=60, description="Protocol analyte id, e.g. platelets")
    value: Decimal | None = Field(max_digits=LAB_DIGITS, decimal_places=LAB_DECIMALS,
                                  description="Required: 0 is a value, null is refused (LAB-VALUE-MISSING)")
    unit: str = Field(min_length=1, max_length=30, description="UCUM unit, e.g. 10*9/L")
    reference_low: Decimal | None = Field(default=None, max_digits=LAB_DIGITS, decimal_places=LAB_DECIMALS)
    reference_high: Decimal | None = Field(default=None, max_digits=LAB_DIGITS,
                                           decimal_places=LAB_DECIMALS)
    taken_on: dt.date
    course_id: int | None = Field(default=None, ge=1, le=2**31 - 1,
                                  description="Default: the patient's latest course")


# The API answers with the service's read model itself (one definition of a result).
LabResultOut = LabResultView


class LabAlertOut(BaseModel):
    code: str
    work_up: str
    message: str
    requirements: list[str]


class ReviewTaskOut(BaseModel):
    task_id: int
    activity_id: str
    task: str
    kind: str
    due: str


class LabResultRecordedOut(BaseModel):
    result: LabResultOut
    alerts: list[LabAlertOut]
    review_tasks: list[ReviewTaskOut] = Field(description="One physician's review per alert")


@router.get("/patients/{patient_id}/lab-results", response_model=list[LabResultOut])
def list_lab_results(ctx: ContextDep, deps: ServicesDep,
                     patient_id: int = PatientId) -> list[LabResultOut]:
    """The patient's laboratory results, oldest sampling date first."""
    return lab_results.list_lab_results(deps, ctx, patient_id)


@router.post("/patients/{patient_id}/lab-results", response_model=LabResultRecordedOut,
             status_code=201)
def record_lab_result(body: LabResultIn, ctx: ContextDep, deps: ServicesDep,
                      patient_id: int = PatientId) -> LabResultRecordedOut:
    """Record a result after the protocol's checks; each alert becomes a physician's review task."""
    recorded = lab_results.record_lab_result(deps, ctx, lab_results.RecordLabResult(
        patient_id=patient_id, analyte=body.analyte, value=body.value, unit=body.unit,
        taken_on=body.taken_on, reference_low=body.reference_low,
        reference_high=body.reference_high, course_id=body.course_id))
    return LabResultRecordedOut.model_validate(recorded.as_json())
