"""The infusion day at the chair: checklist, pump, vital signs, reactions, discharge, corrections.

Every button posts one event through ``services.events.append_event`` and redirects back to the
card that is relevant now, with a one-time message kept on the server (``redirect``). A refusal
does not redirect: the day page is shown again with the domain's sentence inside the form that
was used (focused and announced), and with what the nurse typed still in it. A form from an older
page (the back button, a second tab) is refused the same way, saying what was recorded since.
Numbers are read as the centre writes them (``domain/number_text.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from infusionist.domain.errors import InfusionistError
from infusionist.domain.number_text import normalise_number
from infusionist.domain.plan_json import plan_from_json
from infusionist.entrypoints.web.dependencies import ServicesDep
from infusionist.entrypoints.web.pages import day_view
from infusionist.entrypoints.web.pages.chart import vital_signs_svg
from infusionist.entrypoints.web.pages.common import PageContext, posted_form, redirect, render
from infusionist.services import courses, events, patients, views

router = APIRouter(include_in_schema=False)

VITAL_FIELDS = ("temperature_c", "heart_rate_bpm", "systolic_mmhg", "diastolic_mmhg",
                "respiratory_rate_per_min", "spo2_percent")
ASSESSMENT_FLAGS = ("interruption_needed", "recurred", "hospitalisation_indicated",
                    "life_threatening", "anaphylaxis")
TEXT_FIELDS = ("name", "result", "reason", "route", "decision", "date", "indication", "item")
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
         refusal: day_view.Refusal | None = None) -> Any:
    course = courses.get_course(deps, ctx, course_id)
    view = events.day_state(deps, ctx, course_id, day)
    stored = events.list_events(deps, ctx, course_id, day)
    plan = plan_from_json(course.plan)
    zone = plan.timezone
    locale = views.centre_number_locale(deps)
    items = day_view.discharge_items(deps.protocol, plan, day, view.reading, stored)
    return render(
        request, ctx, "day.html", 422 if refusal is not None else 200,
        zone=zone, course=course, day=day, state=view.state, next_seq=view.next_seq,
        identity=view.identity,
        patient=patients.get_patient(deps, ctx, course.patient_id),
        planned=course.plan["days"][day - 1],
        checklist=day_view.checklist(plan, day, view.reading, stored),
        log=day_view.event_log(view.reading, stored),
        symptoms=day_view.symptoms(deps.protocol),
        actions=day_view.action_buttons(deps.protocol, view.state, identity=view.identity),
        contact=views.centre_contact(deps),
        chart=vital_signs_svg(view.reading, zone),
        next_step=day_view.next_step(view.state),
        now=deps.clock.now(),
        decisions=DECISIONS,
        infusion=day_view.infusion(plan, day),
        refusal=refusal, locale=locale, confirm=day_view.CONFIRM,
        discharge=items,
        extra_instructions=day_view.extra_instructions(plan, day, deps.protocol, items),
    )


@router.get("/days/{course_id}/{day}/version")
def day_version(ctx: PageContext, deps: ServicesDep, course_id: int, day: int) -> Any:
    """How many entries the day's record holds: a page from history compares it with its own."""
    return JSONResponse({"entries": len(events.list_events(deps, ctx, course_id, day))},
                        headers={"Cache-Control": "no-store"})


def _refused(request: Request, ctx: Any, deps: Any, course_id: int, day: int, form: dict[str, str],
             message: str) -> Any:
    """The day page again, the refusal inside the form that was used, the typed values kept."""
    kept = {k: v for k, v in form.items() if not k.startswith("signature_") and k != "expected_seq"}
    name = form.get("form") or form.get("anchor") or ""
    return _day(request, ctx, deps, course_id, day,
                refusal=day_view.Refusal(form=name, message=message, values=kept))


def _at(form: dict[str, str], zone: str, now: datetime) -> str:
    given = form.get("at", "").strip()
    if not given:
        return now.isoformat()
    moment = datetime.fromisoformat(given)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.isoformat()


def payload_from_form(form: dict[str, str], zone: str, now: datetime, locale: str = "en") -> dict[str, Any]:
    """The event a form describes: only the fields the event type knows, blanks left out; numbers
    as the centre writes them ("37,5" where the unit writes a decimal comma)."""
    kind = form.get("type", "")
    payload: dict[str, Any] = {"type": kind, "at": _at(form, zone, now)}
    for key in TEXT_FIELDS:
        if form.get(key, "").strip():
            payload[key] = form[key].strip()
    for key in ("rate_ml_per_h", "volume_ml", "dose_mg", *VITAL_FIELDS):
        if form.get(key, "").strip():
            payload[key] = normalise_number(form[key], locale)
    if form.get("dose_value", "").strip():
        payload["dose"] = {"value": normalise_number(form["dose_value"], locale),
                           "unit": form.get("dose_unit", "mg")}
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
    try:
        zone = courses.get_course(deps, ctx, course_id).plan["timezone"]
        payload = payload_from_form(form, zone, deps.clock.now(), views.centre_number_locale(deps))
        refusal = day_view.unconfirmed(payload["type"], form)
        if refusal is not None:
            return _refused(request, ctx, deps, course_id, day, form, refusal)
        signature = None
        if form.get("signature_password"):
            signature = events.Signature(form["signature_password"], form.get("signature_meaning", ""))
        await _append(deps, ctx, course_id, day, _seq(form), payload, signature)
    except InfusionistError as error:
        message = _message(deps, ctx, course_id, day, form, error)
        return _refused(request, ctx, deps, course_id, day, form, message)
    except ValueError:
        return _refused(request, ctx, deps, course_id, day, form,
                        "The time of the entry could not be read; pick the date and time again.")
    return _recorded(request, deps, ctx, course_id, day, day_view.done_text(payload))


@router.post("/days/{course_id}/{day}/correct")
async def correct(request: Request, ctx: PageContext, deps: ServicesDep, course_id: int, day: int) -> Any:
    form = await _form(request)
    try:
        now = deps.clock.now()
        zone = courses.get_course(deps, ctx, course_id).plan["timezone"]
        original = events.list_events(deps, ctx, course_id, day)[int(form["corrects"])].payload
        payload: dict[str, Any] = {"type": "correction", "at": now.isoformat(),
                                   "corrects": int(form["corrects"]), "reason": form.get("reason", "")}
        if form.get("mode") == "replace":
            # the form's "reason" is the correction's; the replacement keeps the original's own
            fields = {k: v for k, v in form.items() if k != "reason"}
            replacement = payload_from_form({**fields, "type": original["type"], "at": ""}, zone, now,
                                            views.centre_number_locale(deps))
            replacement["at"] = original["at"]
            for key in ("name", "dose", "route", "symptoms", "reason"):
                if key in original and key not in replacement:
                    replacement[key] = original[key]
            payload["replacement"] = replacement
        refusal = day_view.unconfirmed("correction", form)
        if refusal is not None:
            return _refused(request, ctx, deps, course_id, day,
                            {**form, "form": f"correct-{form.get('corrects')}"}, refusal)
        signature = None
        if form.get("signature_password"):
            signature = events.Signature(form["signature_password"], form.get("signature_meaning", ""))
        await _append(deps, ctx, course_id, day, _seq(form), payload, signature)
    except InfusionistError as error:
        named = {**form, "form": f"correct-{form.get('corrects')}"}
        return _refused(request, ctx, deps, course_id, day, named,
                        _message(deps, ctx, course_id, day, form, error))
    except (ValueError, IndexError, KeyError):
        return _refused(request, ctx, deps, course_id, day, {**form, "form": "log"},
                        "Choose the entry to correct in the day's record.")
    return _recorded(request, deps, ctx, course_id, day,
                     "Correction recorded; the original stays visible, struck through.")


def _seq(form: dict[str, str]) -> int:
    text = form.get("expected_seq", "0").strip() or "0"
    return int(text) if text.isdigit() else 0


def _message(deps: Any, ctx: Any, course_id: int, day: int, form: dict[str, str],
             error: InfusionistError) -> str:
    """The refusal in the nurse's words; an older page's entry says what was recorded since."""
    if error.code == "EVENT-SEQ-STALE":
        zone = courses.get_course(deps, ctx, course_id).plan["timezone"]
        return day_view.stale_text(events.list_events(deps, ctx, course_id, day), _seq(form) - 1, zone)
    return day_view.error_text(error)


def _recorded(request: Request, deps: Any, ctx: Any, course_id: int, day: int, notice: str) -> Any:
    """Back to the day, at the card that is relevant now, the notice kept for one showing."""
    state = events.day_state(deps, ctx, course_id, day).state
    return redirect(request, f"/days/{course_id}/{day}", notice=notice, anchor=day_view.landing(state))


async def _append(deps: Any, ctx: Any, course_id: int, day: int, seq: int, payload: dict[str, Any],
                  signature: events.Signature | None) -> None:
    from starlette.concurrency import run_in_threadpool

    await run_in_threadpool(events.append_event, deps, ctx, events.AppendEvent(
        course_id=course_id, day=day, expected_seq=seq, payload=payload, signature=signature))
