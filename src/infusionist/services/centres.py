"""Use cases of the centre: read and change its configuration (checked against the protocol)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from infusionist.domain.access import Permission, require
from infusionist.domain.centre import CentreConfig, configure
from infusionist.domain.dates import check_supported_date
from infusionist.domain.errors import ValidationFailed
from infusionist.domain.records import Context
from infusionist.services import audit
from infusionist.services.course_store import centre_config
from infusionist.services.deps import Deps
from infusionist.services.planning import resolve_zone


def get_centre(deps: Deps, ctx: Context, centre_id: str) -> dict[str, Any]:
    require(ctx.actor.role, Permission.READ_CENTRE)
    with deps.uow() as uow:
        return centre_config(uow, centre_id).model_dump(mode="json")


def configure_centre(deps: Deps, ctx: Context, centre_id: str, data: dict[str, Any],
                     reason: str | None) -> dict[str, Any]:
    require(ctx.actor.role, Permission.CONFIGURE_CENTRE)
    try:
        config = CentreConfig.model_validate({**data, "centre_id": centre_id})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "config"
        raise ValidationFailed("INPUT-INVALID", f"{field}: {first['msg']}",
                               details={field: first["msg"]}) from None
    configure(deps.protocol, config)  # refuses anything outside the protocol's limits
    if config.timezone is not None:
        resolve_zone(config.timezone)  # INPUT-TIMEZONE: every page of the centre reads it
    for day in config.closed_days:
        check_supported_date(day, "a closed day", "closed_days")
    new = config.model_dump(mode="json")
    with deps.uow(write=True) as uow:
        old = uow.centres.get(centre_id)
        uow.centres.put(centre_id, new)
        audit.record_for(uow, deps, ctx, "centre.configure", "centre", centre_id,
                         old=old, new=new, reason=reason)
        uow.commit()
    return new
