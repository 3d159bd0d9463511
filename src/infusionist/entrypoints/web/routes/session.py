from __future__ import annotations

from fastapi import APIRouter, Response

from infusionist.entrypoints.web.dependencies import (
    SESSION_COOKIE,
    ActorDep,
    ContextDep,
    CookieDep,
    RequestIdDep,
    ServicesDep,
)
from infusionist.entrypoints.web.errors import ERROR_RESPONSES
from infusionist.entrypoints.web.schemas import LoginIn, WhoAmI
from infusionist.services import auth

router = APIRouter(tags=["session"], responses=ERROR_RESPONSES)


@router.post("/session", response_model=WhoAmI)
def login(body: LoginIn, response: Response, deps: ServicesDep, rid: RequestIdDep) -> WhoAmI:
    """Log in: sets the HttpOnly, SameSite=Strict session cookie."""
    token, actor = auth.login(deps, body.username, body.password, rid)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                        secure=deps.secure_cookies, path="/",
                        max_age=int(deps.session_idle.total_seconds()) * 48)
    return WhoAmI(username=actor.username, full_name=actor.full_name, role=actor.role)


@router.get("/session", response_model=WhoAmI)
def whoami(actor: ActorDep) -> WhoAmI:
    return WhoAmI(username=actor.username, full_name=actor.full_name, role=actor.role)


@router.delete("/session", status_code=204)
def logout(ctx: ContextDep, deps: ServicesDep, cookie: CookieDep) -> Response:
    """Log out: ends the server-side session and clears the cookie."""
    if cookie:
        auth.logout(deps, ctx, cookie)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
