from __future__ import annotations

import csv
import io
from datetime import date
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import Response

from infusionist.domain.access import Role, sees_audit_values
from infusionist.domain.audit_chain import AuditEntry
from infusionist.entrypoints.web.dependencies import ContextDep, ServicesDep
from infusionist.entrypoints.web.errors import ERROR_RESPONSES
from infusionist.entrypoints.web.schemas import AuditOut, RowProblemOut, VerifyOut
from infusionist.services import audit, views

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


CSV_COLUMNS = ("seq", "entered_at", "happened_at", "user", "user_name", "action", "what", "change",
               "reason", "patient_id", "entity", "entity_id")


@router.get("/audit/export", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "The rows as CSV"}})
def export_audit(ctx: ContextDep, deps: ServicesDep,
                 patient: int | None = Query(default=None, ge=1, le=2**31 - 1),
                 user: str | None = Query(default=None, max_length=64),
                 action: str | None = Query(default=None, max_length=60),
                 since: date | None = None, until: date | None = None) -> Response:
    """The audit trail as CSV for an inspector: every matching row in order, told as on the audit
    page (times in the centre's zone, ISO 8601 with offset), without clinical values for admins."""
    zone = views.centre_zone(deps)
    lines = audit.readable_audit(deps, ctx, audit.AuditFilter(
        patient_id=patient, actor=user or None, action=action or None, since=since, until=until), zone)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    local = ZoneInfo(zone)
    for line in lines:
        writer.writerow((
            line.seq, line.entered_at.astimezone(local).isoformat(timespec="seconds"),
            line.happened_at.astimezone(local).isoformat(timespec="seconds") if line.happened_at else "",
            line.actor, line.actor_name, line.action, line.summary, line.change, line.reason or "",
            line.patient_id or "", line.entity, line.entity_id))
    stamp = deps.clock.now().astimezone(local).strftime("%Y%m%d-%H%M")
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'})
