"""Dependencies declared once as ``Annotated`` aliases: the wired services and the caller."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from infusionist.domain.errors import NotAuthenticated
from infusionist.domain.records import Actor, Context
from infusionist.services import auth
from infusionist.services.deps import Deps

SESSION_COOKIE = "infusionist_session"

session_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False,
                              description="Session from POST /api/v1/session (HttpOnly, SameSite=Strict)")
bearer_token = HTTPBearer(auto_error=False, description="API token for devices")


def get_deps(request: Request) -> Deps:
    deps: Deps = request.app.state.deps
    return deps


ServicesDep = Annotated[Deps, Depends(get_deps)]
CookieDep = Annotated[str | None, Depends(session_cookie)]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_token)]


def request_id(request: Request) -> str:
    given = request.headers.get("x-request-id", "")
    return given[:64] if given.strip() else uuid.uuid4().hex


RequestIdDep = Annotated[str, Depends(request_id)]


def current_actor(deps: ServicesDep, cookie: CookieDep, bearer: BearerDep) -> Actor:
    if bearer is not None:
        return auth.token_actor(deps, bearer.credentials)
    if cookie:
        return auth.session_actor(deps, cookie)
    raise NotAuthenticated("AUTH-REQUIRED",
                           "session: log in first (POST /api/v1/session) or send an API token.",
                           details={"session": "missing"})


ActorDep = Annotated[Actor, Depends(current_actor)]


def context(actor: ActorDep, rid: RequestIdDep) -> Context:
    return Context(actor=actor, request_id=rid)


ContextDep = Annotated[Context, Depends(context)]
