"""Use cases of the audit trail: append a row in the caller's transaction; verify both chains
(the audit trail and the row ledger over every protected row), against an anchor if given; take
the anchor (the chains' heads); seal the rows a migration changed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from infusionist.domain.access import Permission, Role, require, sees_audit_values
from infusionist.domain.audit_chain import GENESIS_HASH, AuditEntry, ChainBreak, first_break, row_hash
from infusionist.domain.records import Context
from infusionist.domain.row_ledger import LEDGER_CHAIN, Anchor, ChainHead, RowFinding, anchor_break
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


SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class Verification:
    """What ``audit verify`` found: both chains, every protected row, the anchor if given."""

    audit_rows: int
    audit_break: ChainBreak | None
    ledger_entries: int
    ledger_break: ChainBreak | None
    sealed: int  # ledger entries that took rows under the ledger as they stood (seals)
    rows: dict[str, int]  # protected rows read, by table
    findings: list[RowFinding]
    anchor_problems: list[str]

    @property
    def intact(self) -> bool:
        return not self.problems()

    def problems(self) -> list[str]:
        """Every problem as a sentence: chain breaks, then anchor, then rows."""
        breaks = [b.describe() for b in (self.audit_break, self.ledger_break) if b is not None]
        return breaks + self.anchor_problems + [f.describe() for f in self.findings]


def verify(deps: Deps, anchor: Anchor | None = None) -> Verification:
    """Check the audit trail's chain, the row ledger's chain, and every protected row against
    the ledger's latest entry for it; with ``anchor``, that both chains still extend its heads.
    One consistent snapshot. Offline: needs no user."""
    with deps.uow() as uow:
        uow.ledger.snapshot()
        entries = list(uow.audit.all())
        audit_break = first_break(entries)
        state = uow.ledger.state()
        rows, findings = uow.ledger.compare(state)
        problems: list[str] = []
        if anchor is not None:
            audit_at = uow.audit.at(anchor.audit.rows)
            for problem in (
                anchor_break("audit row", anchor.audit, audit_at.hash if audit_at else None, len(entries)),
                anchor_break(LEDGER_CHAIN, anchor.ledger, uow.ledger.hash_at(anchor.ledger.rows),
                             state.entries),
            ):
                if problem is not None:
                    problems.append(problem)
    return Verification(len(entries), audit_break, state.entries, state.broken, state.sealed, rows,
                        findings, problems)


def verify_as(deps: Deps, ctx: Context) -> Verification:
    require(ctx.actor.role, Permission.READ_AUDIT)
    return verify(deps)


def head(deps: Deps) -> Anchor:
    """The heads of both chains now (``infusionist audit anchor`` writes them to a file)."""
    with deps.uow() as uow:
        uow.ledger.snapshot()
        last = uow.audit.last()
        entries, ledger_hash = uow.ledger.head()
    return Anchor(
        audit=ChainHead(last.seq if last is not None else 0, last.hash if last is not None else None),
        ledger=ChainHead(entries, ledger_hash if entries else None),
        at=deps.clock.now(),
    )


def seal(deps: Deps, reason: str) -> dict[str, int]:
    """Take every protected row the ledger does not hold as it stands (a database made before
    the ledger, or rows whose columns a migration changed) under the ledger, and record the seal
    in the audit trail; returns how many rows were sealed, by table (nothing written if none)."""
    with deps.uow(write=True) as uow:
        sealed = uow.ledger.seal()
        if sealed:
            record(uow, deps, SYSTEM_ACTOR, None, "ledger.seal", "row_ledger", uow.ledger.head()[0],
                   new={"sealed": sealed}, reason=reason)
            uow.commit()
    return sealed
