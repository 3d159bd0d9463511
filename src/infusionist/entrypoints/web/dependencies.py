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


# Dependencies that only read the request are ``async def``: FastAPI runs them on the event loop
# instead of handing each to the thread pool (a round trip per dependency per request).
# ``current_actor`` reads the database, so it stays a plain function run in the thread pool.


async def get_deps(request: Request) -> Deps:
    deps: Deps = request.app.state.deps
    return deps


ServicesDep = Annotated[Deps, Depends(get_deps)]
CookieDep = Annotated[str | None, Depends(session_cookie)]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_token)]


def request_id_of(request: Request) -> str:
    """The caller's ``X-Request-ID`` (first 64 characters), or a new one."""
    given = request.headers.get("x-request-id", "")
    return given[:64] if given.strip() else uuid.uuid4().hex


async def request_id(request: Request) -> str:
    return request_id_of(request)


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


async def context(actor: ActorDep, rid: RequestIdDep) -> Context:
    return Context(actor=actor, request_id=rid)


ContextDep = Annotated[Context, Depends(context)]
