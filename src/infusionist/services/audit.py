"""Use cases of the audit trail: append a row in the caller's transaction; verify the chain."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from infusionist.domain.access import Permission, Role, require, sees_audit_values
from infusionist.domain.audit_chain import GENESIS_HASH, AuditEntry, ChainBreak, first_break, row_hash
from infusionist.domain.records import Context
from infusionist.services.deps import Deps
from infusionist.services.ports import UnitOfWork


def record(
    uow: UnitOfWork,
    deps: Deps,
    actor: str,
    request_id: str | None,
    action: str,
    entity: str,
    entity_id: object,
    *,
    old: Any = None,
    new: Any = None,
    reason: str | None = None,
) -> AuditEntry:
    """Append one hash-chained audit row in the same transaction as the change it records."""
    last = uow.audit.last()
    draft = AuditEntry(
        seq=(last.seq if last is not None else 0) + 1,
        at=deps.clock.now(),
        actor=actor,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        old_value=old,
        new_value=new,
        reason=reason,
        request_id=request_id,
        prev_hash=last.hash if last is not None else GENESIS_HASH,
        hash="",
    )
    entry = replace(draft, hash=row_hash(draft.prev_hash, draft))
    uow.audit.add(entry)
    return entry


def record_for(uow: UnitOfWork, deps: Deps, ctx: Context, action: str, entity: str,
               entity_id: object, **values: Any) -> AuditEntry:
    return record(uow, deps, ctx.actor.username, ctx.request_id, action, entity, entity_id, **values)


def list_audit(deps: Deps, ctx: Context, after_seq: int, limit: int) -> list[AuditEntry]:
    """The rows as ``ctx``'s role may read them (an admin: no clinical values, ``for_reader``)."""
    require(ctx.actor.role, Permission.READ_AUDIT)
    with deps.uow() as uow:
        return [for_reader(entry, ctx.actor.role) for entry in uow.audit.page(after_seq, limit)]


def for_reader(entry: AuditEntry, role: Role) -> AuditEntry:
    """The row, or, for a role that reads no clinical data, the row without its values and
    reason (who, when, what action on which record stay; the stored row is unchanged)."""
    if sees_audit_values(role, entry.entity):
        return entry
    return replace(entry, old_value=None, new_value=None, reason=None)


def verify(deps: Deps) -> tuple[int, ChainBreak | None]:
    """(rows checked, first break or None). Offline: needs no user."""
    with deps.uow() as uow:
        entries = list(uow.audit.all())
    return len(entries), first_break(entries)


def verify_as(deps: Deps, ctx: Context) -> tuple[int, ChainBreak | None]:
    require(ctx.actor.role, Permission.READ_AUDIT)
    return verify(deps)
