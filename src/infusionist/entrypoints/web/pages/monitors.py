"""The monitors page: every bedside monitor, its place, and when it last sent vital signs; an
admin registers a monitor, moves it to another place or interval, and retires it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request

from infusionist.domain.access import Permission, require
from infusionist.domain.device_readings import DeviceRecord
from infusionist.domain.errors import InfusionistError
from infusionist.entrypoints.web.dependencies import ServicesDep
from infusionist.entrypoints.web.pages.common import PageContext, redirect, render
from infusionist.services import device_vitals, views

router = APIRouter(include_in_schema=False)
HERE = "/monitors"
FIELDS = ("device_id", "place", "interval_seconds", "sources", "description")


@router.get(HERE)
def monitors_page(request: Request, ctx: PageContext, deps: ServicesDep) -> Any:
    return render(request, ctx, "monitors.html", devices=device_vitals.list_devices(deps, ctx),
                  zone=views.centre_zone(deps), now=deps.clock.now(),
                  kept={k: request.query_params.get(k, "") for k in FIELDS},
                  failed=request.query_params.get("failed") == "1",
                  inline_error=request.query_params.get("failed") == "1")


@router.post(HERE)
async def save_monitor(request: Request, ctx: PageContext, deps: ServicesDep) -> Any:
    """Register a monitor or change its place and interval (the same service as PUT /devices)."""
    require(ctx.actor.role, Permission.CONFIGURE_CENTRE)
    form = {k: str(v).strip() for k, v in (await request.form()).items()}
    interval = form.get("interval_seconds", "")
    try:
        device = device_vitals.configure_device(deps, ctx, DeviceRecord(
            device_id=form.get("device_id", ""), place=form.get("place", ""),
            interval_seconds=int(interval) if interval.isdigit() else 0,
            description=form.get("description", "")[:200],
            sources=tuple(s.strip() for s in form.get("sources", "").split(","))))
    except InfusionistError:
        kept = urlencode({**{k: form.get(k, "") for k in FIELDS}, "failed": "1"})
        return redirect(request, f"{HERE}?{kept}", anchor="register", error=(
            "Give the monitor's identifier (as it sends it, e.g. MON-01^UNIT), the chair or bed it "
            "stands at, how often it sends, in whole seconds above 0, and the addresses it sends "
            "from (such as 10.1.2.11 or 10.1.2.0/24). Nothing was saved."))
    return redirect(request, HERE, notice=f"Monitor {device.device_id} is at {device.place}, "
                    f"sending every {device.interval_seconds} s.")


@router.post(HERE + "/retire")
async def retire_monitor(request: Request, ctx: PageContext, deps: ServicesDep) -> Any:
    require(ctx.actor.role, Permission.CONFIGURE_CENTRE)
    form = {k: str(v).strip() for k, v in (await request.form()).items()}
    try:
        device_vitals.retire_device(deps, ctx, form.get("device_id", ""), form.get("reason"))
    except InfusionistError as error:
        return redirect(request, HERE, error=error.message)
    return redirect(request, HERE,
                    notice=f"Monitor {form['device_id']} retired; its later messages are refused.")
