"""Server-rendered pages for the infusion unit: one router per page group, thin routes over services."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from infusionist.domain.errors import InfusionistError
from infusionist.entrypoints.web import errors
from infusionist.entrypoints.web.pages import admin as admin
from infusionist.entrypoints.web.pages import audit as audit
from infusionist.entrypoints.web.pages import board as board
from infusionist.entrypoints.web.pages import day as day
from infusionist.entrypoints.web.pages import monitors as monitors
from infusionist.entrypoints.web.pages import patients as patients
from infusionist.entrypoints.web.pages import session as session
from infusionist.entrypoints.web.pages import tokens as tokens
from infusionist.entrypoints.web.pages import unit as unit
from infusionist.entrypoints.web.pages import worklist as worklist
from infusionist.entrypoints.web.pages.common import HERE, LoginRequired, render


async def _login_required(_request: Request, error: Exception) -> Any:
    assert isinstance(error, LoginRequired)
    target = f"/login?next={quote(error.next_path)}"
    if error.message:  # a session that expired or ended: a fixed sentence, no text in the URL
        target += "&expired=1"
    return RedirectResponse(target, status_code=303)


async def _refused(request: Request, error: Exception) -> Any:
    """The API keeps its JSON errors; a page shows the domain's message on an error page."""
    if request.url.path.startswith("/api/"):
        return await errors._domain_error(request, error)
    assert isinstance(error, InfusionistError)
    return render(request, None, "error.html", status=errors.status_of(error), message=error.message,
                  code=error.code)


PAGE_MODULES = (session, board, day, patients, worklist, monitors, unit, admin, tokens, audit)


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in PAGE_MODULES:
        app.include_router(module.router)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(InfusionistError, _refused)
