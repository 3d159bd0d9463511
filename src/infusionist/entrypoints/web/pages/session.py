"""Log in and out (the same server-side sessions as the API)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request

from infusionist.domain.errors import NotAuthenticated, Throttled
from infusionist.domain.text_input import refuse_nul
from infusionist.entrypoints.web.dependencies import (
    SESSION_COOKIE,
    ServicesDep,
    clear_session_cookie,
    client_address,
    request_id_of,
    set_session_cookie,
)
from infusionist.entrypoints.web.pages.common import PageContext, back, render
from infusionist.services import auth

router = APIRouter(include_in_schema=False)


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login")
def login_page(request: Request, next: str = "/", logged_out: str = "", expired: str = "") -> Any:
    """``logged_out`` and ``expired`` only choose a fixed sentence; no text from the URL reaches
    the page."""
    return render(request, None, "login.html", next=_safe_next(next), logged_out=bool(logged_out),
                  expired=bool(expired))


@router.post("/login")
def login(request: Request, deps: ServicesDep, username: Annotated[str, Form()],
          password: Annotated[str, Form()], next: Annotated[str, Form()] = "/") -> Any:
    """Each field is at most 1000 characters and the form 16 KiB (``guards.BodyLimits``)."""
    refuse_nul([username, password, next])
    try:
        token, _actor = auth.login(deps, username.strip(), password, request_id_of(request),
                                   client_address(request))
    except Throttled as error:
        page = render(request, None, "login.html", status=429, next=_safe_next(next),
                      login_error=error.message, username=username)
        page.headers["Retry-After"] = str(error.retry_after)
        return page
    except NotAuthenticated as error:
        return render(request, None, "login.html", status=401, next=_safe_next(next),
                      login_error=error.message, username=username)
    response = back(_safe_next(next))
    set_session_cookie(response, request, deps, token)
    return response


@router.post("/logout")
def logout(request: Request, ctx: PageContext, deps: ServicesDep) -> Any:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        auth.logout(deps, ctx, token)
    response = back("/login?logged_out=1")
    clear_session_cookie(response, request, deps)
    return response
