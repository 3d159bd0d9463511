from __future__ import annotations

from fastapi import APIRouter, Query

from infusionist.domain.access import Role, sees_audit_values
from infusionist.domain.audit_chain import AuditEntry
from infusionist.entrypoints.web.dependencies import ContextDep, ServicesDep
from infusionist.entrypoints.web.errors import ERROR_RESPONSES
from infusionist.entrypoints.web.schemas import AuditOut, RowProblemOut, VerifyOut
from infusionist.services import audit

router = APIRouter(tags=["audit"], responses=ERROR_RESPONSES)
ROW_PROBLEMS_SHOWN = 1000


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
    """Check the audit trail's hash chain (its first row changed, inserted or removed, if any),
    the row ledger's chain, and every protected row against the ledger."""
    checked = audit.verify_as(deps, ctx)
    return VerifyOut(
        ok=checked.intact, rows=checked.audit_rows,
        first_break=checked.audit_break.describe() if checked.audit_break is not None else None,
        ledger_entries=checked.ledger_entries,
        ledger_first_break=checked.ledger_break.describe() if checked.ledger_break is not None else None,
        protected_rows=checked.rows,
        row_problems=[RowProblemOut(table=f.table, row=f.key, what=f.what)
                      for f in checked.findings[:ROW_PROBLEMS_SHOWN]],
        row_problems_total=len(checked.findings),
    )
