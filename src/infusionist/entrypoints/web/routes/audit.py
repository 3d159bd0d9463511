from __future__ import annotations

from fastapi import APIRouter, Query

from infusionist.domain.access import Role, sees_audit_values
from infusionist.domain.audit_chain import AuditEntry
from infusionist.entrypoints.web.dependencies import ContextDep, ServicesDep
from infusionist.entrypoints.web.errors import ERROR_RESPONSES
from infusionist.entrypoints.web.schemas import AuditOut, VerifyOut
from infusionist.services import audit

router = APIRouter(tags=["audit"], responses=ERROR_RESPONSES)


def _out(entry: AuditEntry, role: Role) -> AuditOut:
    return AuditOut(**{**vars(entry), "at": entry.at.isoformat()},
                    withheld=not sees_audit_values(role, entry.entity))


@router.get("/audit", response_model=list[AuditOut])
def list_audit(ctx: ContextDep, deps: ServicesDep,
               after: int = Query(default=0, ge=0, le=2**31 - 1),
               limit: int = Query(default=100, ge=1, le=1000)) -> list[AuditOut]:
    """The audit trail in order, ``limit`` rows after row ``after``. An admin reads no clinical
    values: rows about patients, courses, events, results and tasks come without their values
    and reason (``withheld``)."""
    return [_out(e, ctx.actor.role) for e in audit.list_audit(deps, ctx, after, limit)]


@router.get("/audit/verify", response_model=VerifyOut)
def verify(ctx: ContextDep, deps: ServicesDep) -> VerifyOut:
    """Check the hash chain: the first row changed, inserted or removed, if any."""
    rows, broken = audit.verify_as(deps, ctx)
    return VerifyOut(ok=broken is None, rows=rows,
                     first_break=broken.describe() if broken is not None else None)
