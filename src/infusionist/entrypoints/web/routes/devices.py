"""Bedside monitors (HL7 senders): registered with their place and addresses, retired, listed with
when each last sent and how many of its messages were refused."""

from __future__ import annotations

from fastapi import APIRouter, Path

from infusionist.domain.device_readings import DeviceRecord
from infusionist.entrypoints.web.dependencies import ContextDep, ServicesDep
from infusionist.entrypoints.web.errors import ERROR_RESPONSES
from infusionist.entrypoints.web.schemas import DeviceIn, DeviceOut
from infusionist.services import device_vitals
from infusionist.services.device_view import DeviceView

router = APIRouter(tags=["devices"], responses=ERROR_RESPONSES)
DeviceId = Path(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$",
                description="The sender, MSH-3^MSH-4 (URL-encoded)")


def _out(view: DeviceView) -> DeviceOut:
    return DeviceOut.model_validate(view.model_dump())


@router.get("/devices", response_model=list[DeviceOut])
def list_devices(ctx: ContextDep, deps: ServicesDep) -> list[DeviceOut]:
    """Registered monitors and any other sender (heard or refused), with the time of the last
    message and the number of refused messages; a registered monitor silent for twice its
    interval carries the alert ``DEVICE-SILENT``."""
    return [_out(v) for v in device_vitals.list_devices(deps, ctx)]


@router.put("/devices/{device_id}", response_model=DeviceOut)
def configure_device(body: DeviceIn, ctx: ContextDep, deps: ServicesDep,
                     device_id: str = DeviceId) -> DeviceOut:
    """Register a monitor (admin): its place, how often it sends, and the addresses it sends from.
    Only registered monitors are heard; registering a retired one hears it again."""
    return _out(device_vitals.configure_device(deps, ctx, DeviceRecord(
        device_id=device_id, place=body.place, interval_seconds=body.interval_seconds,
        description=body.description, sources=tuple(body.sources))))


@router.post("/devices/{device_id}/retire", response_model=DeviceOut)
def retire_device(ctx: ContextDep, deps: ServicesDep, device_id: str = DeviceId) -> DeviceOut:
    """Stop hearing a monitor (admin): its later messages are refused ``HL7-SENDER-RETIRED``."""
    return _out(device_vitals.retire_device(deps, ctx, device_id))
