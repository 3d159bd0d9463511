"""Use cases of an admin on the bedside monitors' records: register or move one (place and
interval, through ``device_vitals.configure_device``, as the API) and retire one.

A retired monitor's record is removed (its old place and interval stay in the audit trail); a
message it still sends then shows as from an unknown sender on the monitors page.
"""

from __future__ import annotations

from infusionist.domain.access import Permission, require
from infusionist.domain.errors import NotFound
from infusionist.domain.records import Context
from infusionist.services import audit
from infusionist.services.deps import Deps


def retire_device(deps: Deps, ctx: Context, device_id: str, reason: str | None = None) -> None:
    require(ctx.actor.role, Permission.CONFIGURE_CENTRE)
    with deps.uow(write=True) as uow:
        old = uow.devices.get(device_id)
        if old is None or not uow.devices.remove(device_id):
            raise NotFound("DEVICE-NOT-FOUND", f"No monitor {device_id} is registered.",
                           details={"device": "unknown"})
        audit.record_for(uow, deps, ctx, "device.retire", "device", device_id, old=vars(old),
                         reason=(reason or "").strip() or None)
        uow.commit()
