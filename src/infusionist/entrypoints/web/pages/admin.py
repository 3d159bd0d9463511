"""The admin's users page: who can log in, with which role; add a user."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from infusionist.domain.access import USER_ROLES, Permission, Role, require
from infusionist.domain.errors import Conflict, ValidationFailed
from infusionist.entrypoints.web.dependencies import ServicesDep
from infusionist.entrypoints.web.pages.common import PageContext, back, posted_form, render
from infusionist.services import auth

router = APIRouter(include_in_schema=False)
HERE = "/admin/users"


@router.get(HERE)
def users(request: Request, ctx: PageContext, deps: ServicesDep) -> Any:
    return render(request, ctx, "admin_users.html", users=auth.list_users(deps, ctx), roles=list(USER_ROLES),
                  kept={k: request.query_params.get(k, "") for k in ("username", "full_name", "role")})


@router.post(HERE)
async def add_user(request: Request, ctx: PageContext, deps: ServicesDep) -> Any:
    require(ctx.actor.role, Permission.MANAGE_USERS)  # before anything is said about the input
    form = {k: str(v) for k, v in (await posted_form(request)).items()}
    kept = {k: form.get(k, "").strip() for k in ("username", "full_name", "role")}
    if form.get("password", "") != form.get("password_again", ""):
        return back(_with(kept), error="Password: the two entries differ; nothing was saved.", anchor="add")
    if kept["role"] not in {role.value for role in USER_ROLES}:
        return back(_with(kept), error="Role: choose nurse, physician, investigator or admin.", anchor="add")
    try:
        # Hashing the password (argon2id) takes a while: off the event loop.
        user = await run_in_threadpool(auth.create_user, deps, ctx, kept["username"], kept["full_name"],
                                       Role(kept["role"]), form.get("password", ""))
    except (ValidationFailed, Conflict) as error:  # a refusal of the input; AccessDenied is a 403 page
        return back(_with(kept), error=f"{error.message} Nothing was saved.", anchor="add")
    return back(HERE, notice=f"{user.full_name} can now log in as {user.username} ({user.role.value}).")


def _with(kept: dict[str, str]) -> str:
    """The page again with what was typed (never the password)."""
    return HERE + "?" + urlencode(kept)
