"""A monitor as the unit sees it: registered or not, when it last sent, refused messages, silence."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from infusionist.domain.device_readings import DeviceRecord, is_silent


class DeviceAlert(BaseModel):
    """``DEVICE-SILENT``: a registered monitor has sent nothing for twice its interval."""

    model_config = ConfigDict(frozen=True)

    code: str
    severity: str
    message: str
    requirements: tuple[str, ...] = ()


class DeviceView(BaseModel):
    """One sender: a registered monitor, or any other sender heard or refused (times ISO 8601)."""

    model_config = ConfigDict(frozen=True)

    device_id: str
    configured: bool
    place: str | None
    interval_seconds: int | None
    description: str
    sources: tuple[str, ...]
    retired: bool
    last_message_at: str | None
    silent: bool
    alert: DeviceAlert | None
    refused_count: int
    last_refused_at: str | None


def device_view(device: DeviceRecord | None, last: datetime | None, now: datetime,
                key: str = "", *, refusals: tuple[int, datetime] | None = None) -> DeviceView:
    retired = device is not None and device.retired_at is not None
    silent = device is not None and not retired and is_silent(last, device.interval_seconds, now)
    device_id = device.device_id if device is not None else key
    alert = None
    if device is not None and silent:
        since = f"since {last.isoformat()}" if last is not None else "ever"
        alert = DeviceAlert(
            code="DEVICE-SILENT", severity="warning",
            message=f"Monitor {device_id} at {device.place} has sent nothing {since} "
                    f"(expected every {device.interval_seconds} s); check it is on and connected.")
    return DeviceView(
        device_id=device_id,
        configured=device is not None,
        place=device.place if device is not None else None,
        interval_seconds=device.interval_seconds if device is not None else None,
        description=device.description if device is not None else "",
        sources=tuple(device.sources) if device is not None else (),
        retired=retired,
        last_message_at=last.isoformat() if last is not None else None,
        silent=silent,
        alert=alert,
        refused_count=refusals[0] if refusals is not None else 0,
        last_refused_at=refusals[1].isoformat() if refusals is not None else None,
    )
