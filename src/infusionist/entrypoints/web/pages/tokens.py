"""The admin's device tokens page: list every token, issue one (shown once), revoke one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from infusionist.domain.access import Permission, require
from infusionist.domain.errors import Conflict, NotFound, ValidationFailed
from infusionist.entrypoints.web.dependencies import ServicesDep
from infusionist.entrypoints.web.pages.common import PageContext, redirect, render
from infusionist.services import auth, views
from infusionist.services.deps import Deps

router = APIRouter(include_in_schema=False)
HERE = "/admin/tokens"


def _page(request: Request, ctx: PageContext, deps: Deps, status: int = 200, **values: Any) -> Any:
    now = deps.clock.now()
    tokens = [(token, auth.token_status(token, now)) for token in auth.list_device_tokens(deps, ctx)]
    return render(request, ctx, "admin_tokens.html", status=status, tokens=tokens,
                  default_days=deps.auth.token_days_default, max_days=deps.auth.token_days_max,
                  zone=views.centre_zone(deps), **values)


@router.get(HERE)
def tokens(request: Request, ctx: PageContext, deps: ServicesDep) -> Any:
    return _page(request, ctx, deps)


@router.post(HERE)
async def issue(request: Request, ctx: PageContext, deps: ServicesDep) -> Any:
    require(ctx.actor.role, Permission.MANAGE_USERS)  # before anything is said about the input
    form = {k: str(v) for k, v in (await request.form()).items()}
    device = form.get("device", "").strip()
    days_text = form.get("valid_days", "").strip()
    if days_text and not days_text.isdigit():
        return redirect(request, HERE, error="Valid for: give a whole number of days. Nothing was issued.")
    try:
        issued = await run_in_threadpool(auth.create_device_token, deps, ctx, device,
                                         int(days_text) if days_text else None)
    except ValidationFailed as error:
        return redirect(request, HERE, error=f"{error.message} Nothing was issued.")
    # The token is shown in this answer only (never in a URL, never stored in clear).
    return await run_in_threadpool(_page, request, ctx, deps, 201, issued=issued)


@router.post(HERE + "/{token_id}/revoke")
def revoke(request: Request, ctx: PageContext, deps: ServicesDep, token_id: int) -> Any:
    require(ctx.actor.role, Permission.MANAGE_USERS)
    try:
        revoked = auth.revoke_device_token(deps, ctx, token_id)
    except (NotFound, Conflict) as error:
        return redirect(request, HERE, error=error.message)
    return redirect(request, HERE,
                    notice=f"The token of {revoked.device} is revoked; the device can no longer send.")
