"""Bedside monitors (HL7 senders): which place each belongs to, and when each last sent."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path

from infusionist.domain.device_readings import DeviceRecord
from infusionist.entrypoints.web.dependencies import ContextDep, ServicesDep
from infusionist.entrypoints.web.errors import ERROR_RESPONSES
from infusionist.entrypoints.web.schemas import DeviceIn, DeviceOut
from infusionist.services import device_vitals, monitors

router = APIRouter(tags=["devices"], responses=ERROR_RESPONSES)
DeviceId = Path(min_length=1, max_length=200, description="The sender, MSH-3^MSH-4 (URL-encoded)")


@router.get("/devices", response_model=list[DeviceOut])
def list_devices(ctx: ContextDep, deps: ServicesDep) -> list[dict[str, Any]]:
    """Configured monitors and any other sender, with the time of the last message; a configured
    monitor silent for twice its interval carries the alert ``DEVICE-SILENT``."""
    return device_vitals.list_devices(deps, ctx)


@router.put("/devices/{device_id}", response_model=DeviceOut)
def configure_device(body: DeviceIn, ctx: ContextDep, deps: ServicesDep,
                     device_id: str = DeviceId) -> dict[str, Any]:
    """Say which place a monitor belongs to and how often it sends (admin)."""
    return device_vitals.configure_device(deps, ctx, DeviceRecord(
        device_id=device_id, place=body.place, interval_seconds=body.interval_seconds,
        description=body.description))


@router.delete("/devices/{device_id}", status_code=204)
def retire_device(ctx: ContextDep, deps: ServicesDep, device_id: str = DeviceId) -> None:
    """Retire a monitor: its place and interval are forgotten (kept in the audit trail) (admin)."""
    monitors.retire_device(deps, ctx, device_id)
