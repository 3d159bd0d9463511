from __future__ import annotations

from fastapi import APIRouter, Request, Response

from infusionist.entrypoints.web.dependencies import (
    ActorDep,
    ContextDep,
    CookieDep,
    RequestIdDep,
    ServicesDep,
    clear_session_cookie,
    client_address,
    set_session_cookie,
)
from infusionist.entrypoints.web.errors import ERROR_RESPONSES, THROTTLED_RESPONSE
from infusionist.entrypoints.web.schemas import LoginIn, WhoAmI
from infusionist.services import auth

router = APIRouter(tags=["session"], responses=ERROR_RESPONSES)


@router.post("/session", response_model=WhoAmI, responses=THROTTLED_RESPONSE)
def login(body: LoginIn, request: Request, response: Response, deps: ServicesDep,
          rid: RequestIdDep) -> WhoAmI:
    """Log in: sets the HttpOnly, SameSite=Strict, Secure session cookie. Too many failed
    log-ins for the user name or from the address: 429 with ``Retry-After`` (seconds)."""
    token, actor = auth.login(deps, body.username, body.password, rid, client_address(request))
    set_session_cookie(response, request, deps, token)
    return WhoAmI(username=actor.username, full_name=actor.full_name, role=actor.role)


@router.get("/session", response_model=WhoAmI)
def whoami(actor: ActorDep) -> WhoAmI:
    return WhoAmI(username=actor.username, full_name=actor.full_name, role=actor.role)


@router.delete("/session", status_code=204)
def logout(request: Request, ctx: ContextDep, deps: ServicesDep, cookie: CookieDep) -> Response:
    """Log out: ends the server-side session and clears the cookie."""
    if cookie:
        auth.logout(deps, ctx, cookie)
    response = Response(status_code=204)
    clear_session_cookie(response, request, deps)
    return response
