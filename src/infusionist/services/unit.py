"""Use cases of the infusion unit: its chairs, opening hours, turnover and staffing (issue 17).

Read by every role that reads the centre; changed by the admin (``configure_centre``); every
change is audited in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from pydantic import ValidationError

from infusionist.domain.access import Permission, require
from infusionist.domain.capacity import Chair, ChairKind, Unit, UnitRules
from infusionist.domain.errors import Conflict, NotFound, ValidationFailed
from infusionist.domain.records import Context
from infusionist.services import audit
from infusionist.services.course_store import centre_config
from infusionist.services.deps import Deps
from infusionist.services.planning import resolve_zone
from infusionist.services.ports import UnitOfWork

FAR_AHEAD = timedelta(days=3660)  # bookings are looked for this far ahead


def load_unit(uow: UnitOfWork, centre_id: str, zone_name: str | None = None) -> Unit:
    """The unit as the booking rules read it; the zone is the plan's, else the centre's (UTC
    when the centre has none)."""
    config = centre_config(uow, centre_id)
    rules = uow.unit_settings.get(centre_id) or UnitRules()
    zone = resolve_zone(zone_name or config.timezone or "UTC")
    return Unit(rules=rules, chairs=tuple(uow.chairs.list(centre_id)),
                closed_days=frozenset(config.closed_days), zone=zone)


def get_unit(deps: Deps, ctx: Context, centre_id: str) -> Unit:
    """The unit: its rules, chairs, closed days and zone."""
    require(ctx.actor.role, Permission.READ_CENTRE)
    with deps.uow() as uow:
        return load_unit(uow, centre_id)


def _invalid(exc: ValidationError) -> ValidationFailed:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "unit"
    message = str(first["msg"]).removeprefix("Value error, ")
    return ValidationFailed("INPUT-INVALID", f"{message[:1].upper()}{message[1:]}.",
                            details={field: message})


def configure_unit(deps: Deps, ctx: Context, centre_id: str, data: dict[str, Any],
                   reason: str | None) -> UnitRules:
    """Replace the unit's hours, turnover and staffing limits."""
    require(ctx.actor.role, Permission.CONFIGURE_CENTRE)
    try:
        rules = UnitRules.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc) from None
    new = rules.model_dump(mode="json")
    with deps.uow(write=True) as uow:
        old = uow.unit_settings.get(centre_id)
        uow.unit_settings.put(centre_id, rules, deps.clock.now())
        audit.record_for(uow, deps, ctx, "unit.configure", "unit", centre_id,
                         old=old.model_dump(mode="json") if old is not None else None, new=new,
                         reason=reason)
        uow.commit()
    return rules


@dataclass(frozen=True)
class ChairChange:
    name: str
    kind: str = ChairKind.RECLINER.value
    active: bool = True


def _chair(chair_id: int, change: ChairChange) -> Chair:
    try:
        return Chair.model_validate({"id": chair_id, "name": change.name.strip(), "kind": change.kind,
                                     "active": change.active})
    except ValidationError as exc:
        raise _invalid(exc) from None


def add_chair(deps: Deps, ctx: Context, centre_id: str, change: ChairChange) -> Chair:
    require(ctx.actor.role, Permission.CONFIGURE_CENTRE)
    chair = _chair(0, change)
    with deps.uow(write=True) as uow:
        added = uow.chairs.add(centre_id, chair, deps.clock.now())
        audit.record_for(uow, deps, ctx, "chair.add", "chair", added.id,
                         new={"centre_id": centre_id, **added.model_dump(mode="json")})
        uow.commit()
    return added


def change_chair(deps: Deps, ctx: Context, centre_id: str, chair_id: int,
                 change: ChairChange) -> Chair:
    """Rename a chair, change its kind, or take it out of use (refused while it holds bookings
    from today on: move or cancel them first)."""
    require(ctx.actor.role, Permission.CONFIGURE_CENTRE)
    chair = _chair(chair_id, change)
    with deps.uow(write=True) as uow:
        old = next((c for c in uow.chairs.list(centre_id) if c.id == chair_id), None)
        if old is None:
            raise NotFound("CHAIR-NOT-FOUND", f"The unit has no chair {chair_id}.",
                           details={"chair_id": "unknown"})
        if old.active and not chair.active:
            zone = load_unit(uow, centre_id).zone
            today = datetime.combine(deps.clock.now().astimezone(zone).date(), time(0), tzinfo=zone)
            held = [b for b in uow.bookings.live_between(today, today + FAR_AHEAD) if b.chair_id == chair_id]
            if held:
                raise Conflict("CHAIR-IN-USE",
                               f"{old.name} is booked for {len(held)} infusion day(s) from "
                               f"{held[0].starts_at.astimezone(zone):%d %B %Y}; move or cancel "
                               "them before taking the chair out of use.",
                               details={"active": "chair still booked"})
        uow.chairs.update(centre_id, chair)
        audit.record_for(uow, deps, ctx, "chair.change", "chair", chair_id,
                         old=old.model_dump(mode="json"), new=chair.model_dump(mode="json"))
        uow.commit()
    return chair
