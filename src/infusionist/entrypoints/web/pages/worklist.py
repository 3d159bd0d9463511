"""The follow-up worklist page: every patient's due and overdue tasks, most urgent first, a page
at a time, with "Done" and "Cancel" (with its reason) per task, and "Answer call" (the symptoms
the patient reports, their onset, a note) for a delayed-reaction call.

Each button posts through ``services.followup.close_task`` (or ``answer_call``) and redirects back
to the same date and page; a refusal comes back as the domain's message, next to the task it was
about.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from infusionist.domain.errors import InfusionistError
from infusionist.domain.records import Context
from infusionist.entrypoints.web.dependencies import ServicesDep
from infusionist.entrypoints.web.pages.common import PageContext, posted_form, redirect, render
from infusionist.entrypoints.web.pages.day_view import symptoms
from infusionist.services import courses, followup
from infusionist.services.deps import Deps

router = APIRouter(include_in_schema=False)
KIND_WORDS = {"lab": "Laboratory", "examination": "Examination", "call": "Call", "care": "Care",
              "physician_review": "Physician's review"}


@router.get("/worklist")
def worklist(request: Request, ctx: PageContext, deps: ServicesDep) -> Any:
    params = request.query_params
    today = followup.centre_today(deps)
    shown, problem = _date(params.get("date"), today)
    limit = _number(params.get("limit"), followup.PAGE_SIZE, 1, followup.MAX_PAGE_SIZE)
    offset = _number(params.get("offset"), 0, 0, 2**31 - 1)
    page = followup.worklist_page(deps, ctx, shown, limit, offset)
    for row in page["tasks"]:
        row["due_label"] = f"{date.fromisoformat(row['due']):%a %d %b %Y}"
        row["kind_label"] = KIND_WORDS.get(row["kind"], row["kind"])
    failed = _number(params.get("task"), 0, 0, 2**31 - 1)  # shown only with a flashed error
    return render(
        request, ctx, "worklist.html", page=page, today=today, shown=shown,
        is_today=shown == today, failed=failed, date_problem=problem,
        first=offset + 1 if page["tasks"] else 0, last=offset + len(page["tasks"]),
        previous=_link(shown, today, limit, max(offset - limit, 0)) if offset > 0 else None,
        next=_link(shown, today, limit, offset + limit) if offset + limit < page["total"] else None,
        keep={"date": shown.isoformat(), "limit": limit, "offset": offset},
        symptoms=symptoms(deps.protocol),
    )


@router.post("/worklist/tasks/{task_id}/close")
async def close(request: Request, ctx: PageContext, deps: ServicesDep, task_id: int) -> Any:
    form = {k: str(v) for k, v in (await posted_form(request)).items()}
    here = _page_posted_from(form, followup.centre_today(deps))
    try:
        closed = followup.close_task(deps, ctx, task_id, form.get("status", ""),
                                     form.get("reason") or None)
    except InfusionistError as error:
        return _back(request, here, f"task-{task_id}", error=_message(error), task=task_id)
    word = "done" if closed["status"] == "done" else "cancelled"
    notice = f"{closed['task'].capitalize()} (due {closed['due']}): {word}" + (
        f" - {closed['reason']}." if closed["reason"] else ".")
    return _back(request, here, "worklist", notice=notice)


@router.post("/worklist/tasks/{task_id}/answer")
async def answer(request: Request, ctx: PageContext, deps: ServicesDep, task_id: int) -> Any:
    """The answer to a delayed-reaction call: symptoms (with their onset, in the course's time
    zone) are recorded against that infusion day; none closes the call as done."""
    data = await posted_form(request)
    form = {k: str(v) for k, v in data.items()}
    ticked = tuple(str(v) for v in data.getlist("symptoms"))
    here = _page_posted_from(form, followup.centre_today(deps))
    try:
        onset = _onset(deps, ctx, form.get("onset", "").strip(),
                       _number(form.get("course_id"), 0, 0, 2**31 - 1))
        answered = followup.answer_call(deps, ctx, task_id, followup.CallAnswerCommand(
            symptoms=ticked, onset=onset, note=form.get("note", "").strip() or None))
    except InfusionistError as error:
        return _back(request, here, f"task-{task_id}", error=_message(error), task=task_id)
    except ValueError:
        return _back(request, here, f"task-{task_id}",
                     error="Give the date and time the reaction began.", task=task_id)
    reaction = answered["reaction"]
    notice = f"{answered['task'].capitalize()}: answered" + (
        f"; reaction recorded on infusion day {answered['infusion_day']}."
        if reaction is not None else ", no delayed reaction.")
    return _back(request, here, "worklist", notice=notice)


def _onset(deps: Deps, ctx: Context, text: str, course_id: int) -> datetime | None:
    """The form's local date and time (``datetime-local``) in the course's time zone."""
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        zone = courses.get_course(deps, ctx, course_id)["plan"]["timezone"] if course_id else "UTC"
        moment = moment.replace(tzinfo=ZoneInfo(str(zone or "UTC")))
    return moment


def _message(error: InfusionistError) -> str:
    """The domain's message, without the API's leading field name ("reason: ...")."""
    for field in error.details:
        if error.message.startswith(f"{field}: "):
            return error.message[len(field) + 2:]
    return error.message


def _date(text: str | None, today: date) -> tuple[date, str | None]:
    if not text:
        return today, None
    try:
        return date.fromisoformat(text), None
    except ValueError:
        return today, f"date: {text!r} is not a date (YYYY-MM-DD); showing today."


def _number(text: str | None, default: int, low: int, high: int) -> int:
    try:
        value = int(text) if text else default
    except ValueError:
        return default
    return min(max(value, low), high)


def _page_posted_from(form: dict[str, str], today: date) -> str:
    """The worklist page (date, page size, offset) a form was posted from, to go back to."""
    shown, _ = _date(form.get("date"), today)
    limit = _number(form.get("limit"), followup.PAGE_SIZE, 1, followup.MAX_PAGE_SIZE)
    return _link(shown, today, limit, _number(form.get("offset"), 0, 0, 2**31 - 1))


def _link(shown: date, today: date, limit: int, offset: int) -> str:
    query: dict[str, Any] = {}
    if shown != today:
        query["date"] = shown.isoformat()
    if limit != followup.PAGE_SIZE:
        query["limit"] = limit
    if offset:
        query["offset"] = offset
    return "/worklist" + (f"?{urlencode(query)}" if query else "")


def _back(request: Request, here: str, anchor: str, *, notice: str | None = None,
          error: str | None = None, task: int | None = None) -> RedirectResponse:
    """Post/redirect/get: back to the same date and page; the message is flashed (server-side),
    the task a refusal was about stays in the URL so the message shows beside it."""
    if task is not None:
        here += ("&" if "?" in here else "?") + urlencode({"task": task})
    return redirect(request, here, notice=notice, error=error, anchor=anchor)
