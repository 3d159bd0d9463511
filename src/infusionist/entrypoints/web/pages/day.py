"""The infusion day at the chair: checklist, pump, vital signs, reactions, discharge, corrections.

Every button posts one event through ``services.events.append_event`` and redirects back. A
refusal does not redirect: the day page is shown again with the domain's sentence inside the
form that was used (focused and announced), and with what the nurse typed still in it.
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
TEXT_FIELDS = ("name", "result", "reason", "route", "decision", "date", "indication")
# The physician's signed decisions a page offers, in the unit's words (docs/day-events.md).
DECISIONS = (
    ("not_anaphylaxis", "The latest reaction is not anaphylaxis"),
    ("start_go_ahead", "Go ahead with the start (baseline or premedication time)"),
    ("clear_positive_test", "Clear the positive test (a later negative result is recorded)"),
    ("accept_solution_expiry", "Run the solution past its expiry"),
    ("discharge_despite_gate", "Discharge although the discharge checklist is not complete"),
    ("reschedule", "Give this day on another date"),
)


@router.get("/days/{course_id}/{day}")
def day_page(request: Request, ctx: PageContext, deps: ServicesDep, course_id: int, day: int) -> Any:
    return _day(request, ctx, deps, course_id, day)


def _day(request: Request, ctx: Any, deps: Any, course_id: int, day: int,
         refusal: dict[str, Any] | None = None) -> Any:
    course = courses.get_course(deps, ctx, course_id)
    state = events.day_state(deps, ctx, course_id, day).as_json()
    stored = [e.as_json() for e in events.list_events(deps, ctx, course_id, day)]
    zone = course["plan"]["timezone"]
    return render(
        request, ctx, "day.html", 422 if refusal is not None else 200,
        zone=zone, course=course, day=day, state=state,
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
        decisions=DECISIONS,
        infusion=day_view.infusion(course["plan"], day),
        refusal=refusal,
    )


def _refused(request: Request, ctx: Any, deps: Any, course_id: int, day: int, form: dict[str, str],
             message: str) -> Any:
    """The day page again, the refusal inside the form that was used, the typed values kept."""
    kept = {k: v for k, v in form.items() if not k.startswith("signature_") and k != "expected_seq"}
    name = form.get("form") or form.get("anchor") or ""
    return _day(request, ctx, deps, course_id, day,
                refusal={"form": name, "message": message, "values": kept})


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
        # Only the questions answered: an unanswered one is left to what the record holds.
        for flag in ASSESSMENT_FLAGS:
            if form.get(flag) in ("yes", "no"):
                payload[flag] = form[flag] == "yes"
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
        return _refused(request, ctx, deps, course_id, day, form, day_view.error_text(error))
    except ValueError:
        return _refused(request, ctx, deps, course_id, day, form,
                        "The time of the entry could not be read; pick the date and time again.")
    return back(here, notice=day_view.done_text(payload), anchor=form.get("anchor", ""))


@router.post("/days/{course_id}/{day}/correct")
async def correct(request: Request, ctx: PageContext, deps: ServicesDep, course_id: int, day: int) -> Any:
    form = await _form(request)
    here = f"/days/{course_id}/{day}"
    try:
        now = deps.clock.now()
        zone = courses.get_course(deps, ctx, course_id)["plan"]["timezone"]
        original = events.list_events(deps, ctx, course_id, day)[int(form["corrects"])].payload
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
        signature = None
        if form.get("signature_password"):
            signature = events.Signature(form["signature_password"], form.get("signature_meaning", ""))
        await _append(deps, ctx, course_id, day, int(form.get("expected_seq", "0") or 0), payload, signature)
    except InfusionistError as error:
        named = {**form, "form": f"correct-{form.get('corrects')}"}
        return _refused(request, ctx, deps, course_id, day, named, day_view.error_text(error))
    except (ValueError, IndexError, KeyError):
        return _refused(request, ctx, deps, course_id, day, {**form, "form": "log"},
                        "Choose the entry to correct in the day's record.")
    return back(here, notice="Correction recorded; the original stays visible, struck through.",
                anchor="log")


async def _append(deps: Any, ctx: Any, course_id: int, day: int, seq: int, payload: dict[str, Any],
                  signature: events.Signature | None) -> None:
    from starlette.concurrency import run_in_threadpool

    await run_in_threadpool(events.append_event, deps, ctx, events.AppendEvent(
        course_id=course_id, day=day, expected_seq=seq, payload=payload, signature=signature))
