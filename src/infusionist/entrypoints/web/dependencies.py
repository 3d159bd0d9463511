"""Dependencies declared once as ``Annotated`` aliases: the wired services and the caller."""

from __future__ import annotations

import ipaddress
import uuid
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from infusionist.domain.errors import NotAuthenticated
from infusionist.domain.records import Actor, Context
from infusionist.services import auth
from infusionist.services.deps import Deps

SESSION_COOKIE = "infusionist_session"
LOOPBACK_NAMES = frozenset({"localhost"})

session_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False,
                              description="Session from POST /api/v1/session (HttpOnly, SameSite=Strict)")
bearer_token = HTTPBearer(auto_error=False, description="Device token (POST /api/v1/tokens): "
                          "records vital signs as the device")


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


def client_address(request: Request) -> str:
    """The source address of the request (behind a proxy: what uvicorn's ``--forwarded-allow-ips``
    lets it take from ``X-Forwarded-For``)."""
    return request.client.host if request.client is not None else "unknown"


def _loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host.lower() in LOOPBACK_NAMES


def secure_cookie(request: Request, deps: Deps) -> bool:
    """``INFUSIONIST_SECURE_COOKIES`` if set; else Secure unless the request came over plain
    HTTP from a loopback address to a loopback address (the demo on http://127.0.0.1)."""
    if deps.secure_cookies is not None:
        return deps.secure_cookies
    local = request.url.scheme == "http" and _loopback(request.url.hostname)
    return not (local and _loopback(request.client.host if request.client else None))


def set_session_cookie(response: Response, request: Request, deps: Deps, token: str) -> None:
    """The session cookie: HttpOnly, SameSite=Strict, Secure (``secure_cookie``); the browser
    drops it when the session's absolute timeout ends."""
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                        secure=secure_cookie(request, deps), path="/",
                        max_age=int(deps.auth.session_absolute.total_seconds()))


def clear_session_cookie(response: Response, request: Request, deps: Deps) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict",
                           secure=secure_cookie(request, deps))


def current_actor(deps: ServicesDep, cookie: CookieDep, bearer: BearerDep) -> Actor:
    if bearer is not None:
        return auth.token_actor(deps, bearer.credentials)  # a device, never a person
    if cookie:
        return auth.session_actor(deps, cookie)
    raise NotAuthenticated("AUTH-REQUIRED",
                           "session: log in first (POST /api/v1/session) or send an API token.",
                           details={"session": "missing"})


ActorDep = Annotated[Actor, Depends(current_actor)]


async def context(actor: ActorDep, rid: RequestIdDep) -> Context:
    return Context(actor=actor, request_id=rid)


ContextDep = Annotated[Context, Depends(context)]
