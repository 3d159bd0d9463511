"""What every page shares: the templates, the logged-in actor, time formatting and redirects.

Pages use the API's session cookie (HttpOnly, SameSite=Strict, which also keeps other sites from
posting the forms). A page without a session redirects to the login page; a refusal is shown
with the domain's message.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from infusionist.domain.access import Permission, allows, sees_identity
from infusionist.domain.errors import InfusionistError, NotAuthenticated
from infusionist.domain.number_text import format_number
from infusionist.domain.records import Context
from infusionist.domain.text_input import refuse_nul
from infusionist.domain.units import json_number
from infusionist.entrypoints.web.dependencies import SESSION_COOKIE, ServicesDep, request_id_of
from infusionist.entrypoints.web.pages.day_view import describe
from infusionist.services import auth, notices
from infusionist.services.patients import PatientView

HERE = Path(__file__).resolve().parent.parent
templates = Jinja2Templates(directory=HERE / "templates")


class LoginRequired(Exception):
    """Raised by page dependencies; answered with a redirect to the login page."""

    def __init__(self, next_path: str, message: str | None = None) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.message = message


async def posted_form(request: Request) -> FormData:
    """The posted form; a text with a NUL character in it is refused (INPUT-TEXT-NUL)."""
    form = await request.form()
    refuse_nul([str(v) for v in form.values()])
    return form


def page_context(request: Request, deps: ServicesDep) -> Context:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired(request.url.path)
    try:
        actor = auth.session_actor(deps, token)
    except NotAuthenticated as error:
        raise LoginRequired(request.url.path, error.message) from None
    return Context(actor=actor, request_id=request_id_of(request))


PageContext = Annotated[Context, Depends(page_context)]


def local(value: str | datetime | None, zone: str, fmt: str = "%H:%M") -> str:
    if value is None:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(ZoneInfo(zone)).strftime(fmt)


def instant(value: datetime | None, zone: str | tzinfo) -> str:
    """An instant as ISO text with the offset the zone has then (what a countdown script reads)."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(zone) if isinstance(zone, str) else zone).isoformat()


def clock_on(value: str | datetime | None, zone: str, day: str) -> str:
    """Local clock time; with the date in front when it is not on ``day`` (ISO date), e.g. a
    correction entered the next morning: "23 Mar 08:05"."""
    if value is None:
        return ""
    moment = (datetime.fromisoformat(value) if isinstance(value, str) else value).astimezone(ZoneInfo(zone))
    return moment.strftime("%H:%M" if moment.date().isoformat() == day else "%d %b %H:%M")


def flash(request: Request, message: str, *, kind: str = "notice") -> None:
    """Keep a one-time message for this browser session's next page, on the server.

    Call it in a form handler before redirecting (or use ``redirect``); ``render`` shows it once
    in the page's message area (``notice`` green with role=status, ``error`` red with role=alert)
    and deletes it, so a reload or the back button does not repeat it and nothing in the URL can
    put text on a page. Without a session (the login page) nothing is kept.
    """
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        notices.put(request.app.state.deps, token, kind, message)


def redirect(request: Request, path: str, *, notice: str | None = None, error: str | None = None,
             anchor: str = "") -> RedirectResponse:
    """Post/redirect/get: to ``path`` (with ``#anchor``), the message kept by ``flash``."""
    if error:
        flash(request, error, kind="error")
    elif notice:
        flash(request, notice)
    return RedirectResponse(path + (f"#{anchor}" if anchor else ""), status_code=303)


def _flashed(request: Request, name: str) -> dict[str, str | None]:
    """The session's waiting message, taken (and so deleted) only by a whole page: a partial
    (``_board_rows.html``, fetched by the board every few seconds) never takes it."""
    token = request.cookies.get(SESSION_COOKIE)
    waiting = notices.take(request.app.state.deps, token) if token and not name.startswith("_") else None
    shown: dict[str, str | None] = {"error": None, "notice": None}
    if waiting is not None:
        shown[waiting.kind] = waiting.message
    return shown


def render(request: Request, ctx: Context | None, name: str, status: int = 200, **values: Any) -> Any:
    role = ctx.actor.role if ctx is not None else None
    base = {
        "actor": ctx.actor if ctx is not None else None,
        "can": (lambda p: role is not None and allows(role, Permission(p))),
        "sees_identity": role is not None and sees_identity(role),
        **_flashed(request, name),
        "zone": values.pop("zone", "UTC"),
    }
    return templates.TemplateResponse(request, name, {**base, **values}, status_code=status)


def back(path: str) -> Any:
    """A plain see-other redirect, without a message (messages go through ``redirect``: no page
    shows text from its URL)."""
    return RedirectResponse(path, status_code=303)


def sentence(error: InfusionistError) -> str:
    """The domain's message as a page shows it: the API's leading field name in words
    ("birth_date: lies in the future." -> "Birth date: lies in the future.")."""
    for field in error.details:
        if error.message.startswith(f"{field}: "):
            words = field.replace("_", " ")
            return words[:1].upper() + words[1:] + error.message[len(field):]
    return error.message


def patient_label(patient: PatientView) -> str:
    """The name and pseudonym; the pseudonym alone for readers who do not see names."""
    return f"{patient.name} ({patient.pseudonym})" if patient.name else patient.pseudonym


templates.env.filters["local"] = local
# Pump and label precision (issue 15 item 3): mL/h and mL to 1 decimal at most, mg to 1 decimal,
# no trailing ".0"; the decimal separator the centre writes.
templates.env.filters["ml"] = lambda value, locale="en": format_number(value, locale, 1)
templates.env.filters["mg"] = lambda value, locale="en": format_number(value, locale, 1)
templates.env.filters["clock_on"] = clock_on
templates.env.filters["instant"] = instant
templates.env.filters["json_number"] = json_number  # a Decimal as its JSON number reads: 28, 16.8
templates.env.filters["weekday"] = lambda day: datetime.fromisoformat(day).strftime("%A %d %B %Y")
templates.env.globals["patient_label"] = patient_label
templates.env.globals["describe"] = describe
