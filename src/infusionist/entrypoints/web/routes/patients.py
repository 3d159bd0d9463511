from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path

from infusionist.entrypoints.web.dependencies import ContextDep, ServicesDep
from infusionist.entrypoints.web.errors import ERROR_RESPONSES
from infusionist.entrypoints.web.schemas import CourseIn, CourseOut, PatientIn, PatientOut
from infusionist.services import courses, patients

router = APIRouter(tags=["patients"], responses=ERROR_RESPONSES)
PatientId = Path(ge=1, le=2**31 - 1)


@router.get("/patients", response_model=list[PatientOut])
def list_patients(ctx: ContextDep, deps: ServicesDep) -> list[dict[str, Any]]:
    """Investigators see the study pseudonym only: no name, no birth date."""
    return patients.list_patients(deps, ctx)


@router.post("/patients", response_model=PatientOut, status_code=201)
def register_patient(body: PatientIn, ctx: ContextDep, deps: ServicesDep) -> dict[str, Any]:
    return patients.register_patient(deps, ctx, patients.RegisterPatient(
        name=body.name, birth_date=body.birth_date, sex=body.sex,
        childbearing_potential=body.childbearing_potential, weight_kg=body.weight_kg))


@router.get("/patients/{patient_id}", response_model=PatientOut)
def get_patient(ctx: ContextDep, deps: ServicesDep, patient_id: int = PatientId) -> dict[str, Any]:
    return patients.get_patient(deps, ctx, patient_id)


@router.get("/patients/{patient_id}/courses", response_model=list[CourseOut])
def list_courses(ctx: ContextDep, deps: ServicesDep, patient_id: int = PatientId) -> list[dict[str, Any]]:
    return courses.list_courses(deps, ctx, patient_id)


@router.post("/patients/{patient_id}/courses", response_model=CourseOut, status_code=201)
def create_course(body: CourseIn, ctx: ContextDep, deps: ServicesDep,
                  patient_id: int = PatientId) -> dict[str, Any]:
    """Plan a course with the protocol and the centre configuration, and store the plan."""
    return courses.create_course(deps, ctx, courses.CreateCourse(
        patient_id=patient_id, course=body.course, first_day=body.first_day,
        infusion_start=body.infusion_start, timezone=body.timezone,
        previous_course_end=body.previous_course_end))
