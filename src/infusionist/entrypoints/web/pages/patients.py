"""Patients: the list, one patient's courses and laboratory results (with the form to record one),
planning a course (form, preview, confirm), the plan as iCalendar and as a printable page, and
the audit trail per patient."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from infusionist.adapters.calendar import plan_to_ics
from infusionist.adapters.documents.handout import render_handout_html
from infusionist.domain.access import Permission, require
from infusionist.domain.errors import InfusionistError, ValidationFailed
from infusionist.domain.plan_json import plan_from_json
from infusionist.domain.records import Context
from infusionist.entrypoints.web.dependencies import ServicesDep
from infusionist.entrypoints.web.pages.common import PageContext, posted_form, redirect, render, sentence
from infusionist.entrypoints.web.policy import document_policy
from infusionist.services import bookings, courses, lab_results, patients, unit, views
from infusionist.services.deps import Deps
from infusionist.services.patients import PatientView

router = APIRouter(include_in_schema=False)


PATIENT_FIELDS = ("name", "identifier", "birth_date", "sex", "childbearing_potential", "weight_kg",
                  "contact")


@router.get("/patients")
def patient_list(request: Request, ctx: PageContext, deps: ServicesDep, q: str = "") -> Any:
    found = patients.find_patients(deps, ctx, q) if q.strip() else patients.list_patients(deps, ctx)
    return render(request, ctx, "patients.html", patients=found, q=q.strip(),
                  zone=views.centre_zone(deps), today=deps.clock.now().date().isoformat(),
                  kept={k: request.query_params.get(k, "") for k in PATIENT_FIELDS},
                  open_form=request.query_params.get("register") == "1",
                  inline_error=request.query_params.get("register") == "1")


def _patient_command(form: dict[str, str]) -> patients.RegisterPatient:
    """The form as the service's command; a birth date or weight it cannot read is refused."""
    text = form.get("birth_date", "").strip()
    try:
        born = date.fromisoformat(text) if text else None
    except ValueError:
        raise ValidationFailed("INPUT-BIRTH-DATE", "Give the birth date as a date (e.g. 1980-04-23).",
                               details={"birth_date": "not a date"}) from None
    return patients.RegisterPatient(
        name=form.get("name", ""), birth_date=born, sex=form.get("sex", ""),
        childbearing_potential=form.get("childbearing_potential") == "yes",
        weight_kg=_decimal(form, "weight_kg", "Weight"), identifier=form.get("identifier"),
        contact=form.get("contact"))


def _kept(form: dict[str, str]) -> dict[str, str]:
    return {k: form.get(k, "").strip() for k in PATIENT_FIELDS}


@router.post("/patients")
async def register(request: Request, ctx: PageContext, deps: ServicesDep) -> Any:
    """Register a patient; a refusal comes back above the form, which keeps what was typed."""
    require(ctx.actor.role, Permission.REGISTER_PATIENT)
    form = {k: str(v) for k, v in (await posted_form(request)).items()}
    try:
        patient = patients.register_patient(deps, ctx, _patient_command(form))
    except InfusionistError as error:
        query = urlencode({**_kept(form), "register": "1"})
        return redirect(request, f"/patients?{query}", error=f"{sentence(error)} Nothing was saved.",
                        anchor="register")
    return redirect(request, f"/patients/{patient['id']}",
                    notice=f"{patient['name']} registered as {patient['pseudonym']}.")


@router.post("/patients/{patient_id}/edit")
async def edit(request: Request, ctx: PageContext, deps: ServicesDep, patient_id: int) -> Any:
    require(ctx.actor.role, Permission.REGISTER_PATIENT)
    form = {k: str(v) for k, v in (await posted_form(request)).items()}
    here = f"/patients/{patient_id}"
    try:
        patient = patients.edit_patient(deps, ctx, patient_id, _patient_command(form),
                                        form.get("reason", "").strip() or None)
    except InfusionistError as error:
        query = urlencode({**_kept(form), "edit": "1"})
        return redirect(request, f"{here}?{query}", error=f"{sentence(error)} Nothing was saved.",
                        anchor="details")
    return redirect(request, here, notice=f"Details of {patient['name']} saved.", anchor="details")


@router.get("/patients/{patient_id}")
def patient_page(request: Request, ctx: PageContext, deps: ServicesDep, patient_id: int) -> Any:
    overview = views.patient_overview(deps, ctx, patient_id)
    monitoring = deps.protocol.monitoring
    analytes = [{"id": a.id, "name": a.name, "units": [u.unit for u in a.units]}
                for a in (monitoring.analytes if monitoring is not None else ())]
    editing = request.query_params.get("edit") == "1"
    lab_failed = request.query_params.get("lab") == "refused"
    kept = ({k: request.query_params.get(k, "") for k in PATIENT_FIELDS} if editing
            else _as_form(overview.patient))
    return render(request, ctx, "patient.html", zone=views.centre_zone(deps), analytes=analytes,
                  editing=editing, kept=kept, inline_error=editing or lab_failed,
                  names={a["id"]: a["name"] for a in analytes},
                  results=lab_results.flagged_lab_results(deps, ctx, patient_id),
                  lab_failed=request.query_params.get("lab") == "refused",
                  lab_form={k: request.query_params.get(k, "") for k in LAB_FIELDS},
                  today=deps.clock.now().date().isoformat(), patient=overview.patient,
                  courses=overview.courses)


def _as_form(patient: PatientView) -> dict[str, str]:
    return {"name": patient.name or "", "identifier": patient.identifier or "",
            "birth_date": patient.birth_date or "", "sex": patient.sex,
            "childbearing_potential": "yes" if patient.childbearing_potential else "",
            "weight_kg": patient.weight_kg or "", "contact": patient.contact or ""}


LAB_FIELDS = ("analyte", "value", "unit", "reference_low", "reference_high", "taken_on")


def _decimal(form: dict[str, str], field: str, label: str) -> Decimal | None:
    text = form.get(field, "").strip().replace(",", ".")
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise ValidationFailed("INPUT-INVALID", f"{label}: {form[field]!r} is not a number.",
                               details={field: "not a number"})
    return number


@router.post("/patients/{patient_id}/lab-results")
async def record_lab_result(request: Request, ctx: PageContext, deps: ServicesDep,
                            patient_id: int) -> Any:
    """Record a result; a refusal comes back with the domain's message above the form, which
    keeps what was entered."""
    form = {k: str(v) for k, v in (await posted_form(request)).items()}
    here = f"/patients/{patient_id}"
    try:
        try:
            taken_on = date.fromisoformat(form.get("taken_on", ""))
        except ValueError:
            raise ValidationFailed("INPUT-INVALID", "Date taken: give the date the sample was taken.",
                                   details={"taken_on": "not a date"}) from None
        recorded = lab_results.record_lab_result(deps, ctx, lab_results.RecordLabResult(
            patient_id=patient_id, analyte=form.get("analyte", ""),
            value=_decimal(form, "value", "Value"), unit=form.get("unit", ""), taken_on=taken_on,
            reference_low=_decimal(form, "reference_low", "Reference low"),
            reference_high=_decimal(form, "reference_high", "Reference high")))
    except InfusionistError as error:
        kept = {k: form.get(k, "") for k in LAB_FIELDS}
        return redirect(request, f"{here}?{urlencode({'lab': 'refused', **kept})}", error=error.message,
                        anchor="lab-results")
    result = recorded.result
    notice = f"Result recorded: {result.value} {result.unit} on {result.taken_on}."
    if recorded.review_tasks:
        notice += " Alert: " + "; ".join(a.work_up for a in recorded.alerts) + \
            " - a physician's review is on the worklist."
    return redirect(request, here, notice=notice, anchor="lab-results")


@router.get("/patients/{patient_id}/plan")
def plan_form(request: Request, ctx: PageContext, deps: ServicesDep, patient_id: int) -> Any:
    require(ctx.actor.role, Permission.PLAN_COURSE)
    patient = patients.get_patient(deps, ctx, patient_id)
    taken = [c["course"] for c in courses.list_courses(deps, ctx, patient_id)]
    course = max(taken, default=0) + 1
    try:  # the earliest starts that fit the unit's chairs (issue 17)
        found, unfound = bookings.find_first_starts(deps, ctx, bookings.FindStart(patient_id, course)), None
    except InfusionistError as error:
        found, unfound = None, error.message
    therapies = [(p.id, p.title) for p in (deps.protocol, *deps.protocols.values())]
    return render(request, ctx, "plan_form.html", patient=patient, zone=views.centre_zone(deps),
                  course=course, first_day=deps.clock.now().date().isoformat(), found=found,
                  unfound=unfound, therapies=therapies)


def _previous_course_end(deps: Deps, ctx: Context, patient_id: int, course: int) -> date | None:
    """The last infusion day of the patient's stored course ``course - 1``, for course 2 and later."""
    for stored in courses.list_courses(deps, ctx, patient_id):
        if stored["course"] == course - 1 and stored["plan"]["days"]:
            return date.fromisoformat(stored["plan"]["days"][-1]["date"])
    return None


def _command(deps: Deps, ctx: Context, patient_id: int, course: int, first_day: str,
             start: str, chair_ids: str = "", protocol_id: str = "") -> courses.CreateCourse:
    try:
        return courses.CreateCourse(patient_id=patient_id, course=course,
                                    first_day=date.fromisoformat(first_day),
                                    infusion_start=time.fromisoformat(start),
                                    previous_course_end=_previous_course_end(deps, ctx, patient_id,
                                                                             course),
                                    chair_ids=tuple(int(c) for c in chair_ids.split(",") if c),
                                    protocol_id=protocol_id or None)
    except ValueError as error:
        raise ValidationFailed("INPUT-INVALID", f"first day or start time: {error}") from None


@router.post("/patients/{patient_id}/plan/preview")
def plan_preview(request: Request, ctx: PageContext, deps: ServicesDep, patient_id: int,
                 course: Annotated[int, Form()], first_day: Annotated[str, Form()],
                 start: Annotated[str, Form()] = "09:00", chair_ids: Annotated[str, Form()] = "",
                 protocol_id: Annotated[str, Form(max_length=64)] = "") -> Any:
    try:
        plan = views.preview_course(deps, ctx, _command(deps, ctx, patient_id, course, first_day, start,
                                                        chair_ids, protocol_id))
    except InfusionistError as error:
        return redirect(request, f"/patients/{patient_id}/plan", error=error.message)
    chairs = {c.id: c.name for c in unit.get_unit(deps, ctx, "default").chairs}
    return render(request, ctx, "plan_preview.html", plan=plan, zone=plan["timezone"],
                  patient=patients.get_patient(deps, ctx, patient_id),
                  chairs=[chairs.get(int(c), "") for c in chair_ids.split(",") if c.isdigit()],
                  form={"course": course, "first_day": first_day, "start": start, "chair_ids": chair_ids,
                        "protocol_id": protocol_id})


@router.post("/patients/{patient_id}/plan/confirm")
def plan_confirm(request: Request, ctx: PageContext, deps: ServicesDep, patient_id: int,
                 course: Annotated[int, Form()], first_day: Annotated[str, Form()],
                 start: Annotated[str, Form()] = "09:00", chair_ids: Annotated[str, Form()] = "",
                 protocol_id: Annotated[str, Form(max_length=64)] = "") -> Any:
    try:
        courses.create_course(deps, ctx, _command(deps, ctx, patient_id, course, first_day, start,
                                                  chair_ids, protocol_id))
    except InfusionistError as error:
        return redirect(request, f"/patients/{patient_id}/plan", error=error.message)
    return redirect(request, f"/patients/{patient_id}", notice=f"Course {course} planned.")


@router.get("/courses/{course_id}/plan.ics")
def plan_ics(ctx: PageContext, deps: ServicesDep, course_id: int) -> Response:
    plan = plan_from_json(courses.get_course(deps, ctx, course_id)["plan"])
    body = plan_to_ics(plan, stamp=deps.clock.now())
    return Response(body, media_type="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="course-{plan.course}-{plan.patient.id}.ics"'})


@router.get("/courses/{course_id}/print", response_class=HTMLResponse)
def plan_print(ctx: PageContext, deps: ServicesDep, course_id: int) -> HTMLResponse:
    plan, config = views.course_for_print(deps, ctx, course_id)
    html = render_handout_html(plan_from_json(plan), deps.protocol_for(plan["protocol"]["id"]), config)
    # The printed document keeps its own <style> (also used for the PDF): allowed by its hash.
    return HTMLResponse(html, headers={"Content-Security-Policy": document_policy(html)})
