"""The monitors page: every bedside monitor, its place, and when it last sent vital signs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from infusionist.entrypoints.web.dependencies import ServicesDep
from infusionist.entrypoints.web.pages.common import PageContext, render
from infusionist.services import device_vitals, views

router = APIRouter(include_in_schema=False)


@router.get("/monitors")
def monitors(request: Request, ctx: PageContext, deps: ServicesDep) -> Any:
    return render(request, ctx, "monitors.html", devices=device_vitals.list_devices(deps, ctx),
                  zone=views.centre_zone(deps), now=deps.clock.now())
