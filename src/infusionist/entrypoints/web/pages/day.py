"""The infusion day at the chair: checklist, pump, vital signs, reactions, discharge, corrections.

Every button posts one event through ``services.events.append_event`` and redirects back; a
refusal comes back as the domain's message above the form that caused it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request

from infusionist.domain.errors import InfusionistError
from infusionist.entrypoints.web.dependencies import ServicesDep
from infusionist.entrypoints.web.pages import day_view
from infusionist.entrypoints.web.pages.chart import vital_signs_svg
from infusionist.entrypoints.web.pages.common import PageContext, back, posted_form, render
from infusionist.services import courses, events, patients, views

router = APIRouter(include_in_schema=False)

VITAL_FIELDS = ("temperature_c", "heart_rate_bpm", "systolic_mmhg", "diastolic_mmhg",
                "respiratory_rate_per_min", "spo2_percent")
ASSESSMENT_FLAGS = ("interruption_needed", "recurred", "hospitalisation_indicated",
                    "life_threatening", "anaphylaxis")
TEXT_FIELDS = ("name", "result", "reason", "route")


@router.get("/days/{course_id}/{day}")
def day_page(request: Request, ctx: PageContext, deps: ServicesDep, course_id: int, day: int) -> Any:
    course = courses.get_course(deps, ctx, course_id)
    state = events.day_state(deps, ctx, course_id, day)
    stored = events.list_events(deps, ctx, course_id, day)
    zone = course["plan"]["timezone"]
    return render(
        request, ctx, "day.html", zone=zone, course=course, day=day, state=state,
        patient=patients.get_patient(deps, ctx, course["patient_id"]),
        planned=course["plan"]["days"][day - 1],
        checklist=day_view.checklist(course["plan"], day, stored),
        log=day_view.event_log(stored),
        symptoms=day_view.symptoms(deps.protocol),
        actions=day_view.action_buttons(deps.protocol, state),
        instructions=day_view.instructions(course["plan"], day),
        contact=views.centre_contact(deps),
        chart=vital_signs_svg(stored, state, zone),
        next_step=day_view.next_step(state),
        now=deps.clock.now(),
    )


def _at(form: dict[str, str], zone: str, now: datetime) -> str:
    given = form.get("at", "").strip()
    if not given:
        return now.isoformat()
    moment = datetime.fromisoformat(given)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.isoformat()


def payload_from_form(form: dict[str, str], zone: str, now: datetime) -> dict[str, Any]:
    """The event a form describes: only the fields the event type knows, blanks left out."""
    kind = form.get("type", "")
    payload: dict[str, Any] = {"type": kind, "at": _at(form, zone, now)}
    for key in TEXT_FIELDS:
        if form.get(key, "").strip():
            payload[key] = form[key].strip()
    for key in ("rate_ml_per_h", "volume_ml", "dose_mg", *VITAL_FIELDS):
        if form.get(key, "").strip():
            payload[key] = form[key].strip()
    if form.get("dose_value", "").strip():
        payload["dose"] = {"value": form["dose_value"].strip(), "unit": form.get("dose_unit", "mg")}
    if kind == "reaction_onset":
        payload["symptoms"] = [s for s in form.get("symptoms", "").split(",") if s]
    if kind == "reaction_assessed":
        for flag in ASSESSMENT_FLAGS:
            payload[flag] = form.get(flag) == "yes"
        prompt = form.get("responded_promptly", "unknown")
        payload["responded_promptly"] = None if prompt == "unknown" else prompt == "yes"
    return payload


async def _form(request: Request) -> dict[str, str]:
    data = await posted_form(request)
    values = {k: str(v) for k, v in data.items()}
    values["symptoms"] = ",".join(str(v) for v in data.getlist("symptoms"))
    return values


@router.post("/days/{course_id}/{day}/record")
async def record(request: Request, ctx: PageContext, deps: ServicesDep, course_id: int, day: int) -> Any:
    form = await _form(request)
    here = f"/days/{course_id}/{day}"
    try:
        zone = courses.get_course(deps, ctx, course_id)["plan"]["timezone"]
        payload = payload_from_form(form, zone, deps.clock.now())
        signature = None
        if form.get("signature_password"):
            signature = events.Signature(form["signature_password"], form.get("signature_meaning", ""))
        await _append(deps, ctx, course_id, day, int(form.get("expected_seq", "0") or 0), payload, signature)
    except InfusionistError as error:
        return back(here, error=day_view.error_text(error), anchor=form.get("anchor", ""))
    except ValueError as error:
        return back(here, error=f"time: {error}", anchor=form.get("anchor", ""))
    return back(here, notice=day_view.done_text(payload), anchor=form.get("anchor", ""))


@router.post("/days/{course_id}/{day}/correct")
async def correct(request: Request, ctx: PageContext, deps: ServicesDep, course_id: int, day: int) -> Any:
    form = await _form(request)
    here = f"/days/{course_id}/{day}"
    try:
        now = deps.clock.now()
        zone = courses.get_course(deps, ctx, course_id)["plan"]["timezone"]
        original = events.list_events(deps, ctx, course_id, day)[int(form["corrects"])]["payload"]
        payload: dict[str, Any] = {"type": "correction", "at": now.isoformat(),
                                   "corrects": int(form["corrects"]), "reason": form.get("reason", "")}
        if form.get("mode") == "replace":
            # the form's "reason" is the correction's; the replacement keeps the original's own
            fields = {k: v for k, v in form.items() if k != "reason"}
            replacement = payload_from_form({**fields, "type": original["type"], "at": ""}, zone, now)
            replacement["at"] = original["at"]
            for key in ("name", "dose", "route", "symptoms", "reason"):
                if key in original and key not in replacement:
                    replacement[key] = original[key]
            payload["replacement"] = replacement
        await _append(deps, ctx, course_id, day, int(form.get("expected_seq", "0") or 0), payload, None)
    except InfusionistError as error:
        return back(here, error=day_view.error_text(error), anchor="log")
    except (ValueError, IndexError, KeyError):
        return back(here, error="correction: choose an entry to correct.", anchor="log")
    return back(here, notice="Correction recorded; the original stays visible, struck through.",
                anchor="log")


async def _append(deps: Any, ctx: Any, course_id: int, day: int, seq: int, payload: dict[str, Any],
                  signature: events.Signature | None) -> None:
    from starlette.concurrency import run_in_threadpool

    await run_in_threadpool(events.append_event, deps, ctx, events.AppendEvent(
        course_id=course_id, day=day, expected_seq=seq, payload=payload, signature=signature))
