"""The audit trail page: every row as a sentence ("Vital signs recorded: 36.8 °C, 76/min,
124/78 mmHg, by Nora Nurse at 09:32, entered 09:35"), corrections as old -> new with the reason,
filtered by patient, user, action and date, with a CSV export (``GET /api/v1/audit/export``,
the same filters) for an inspector."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from infusionist.entrypoints.web.dependencies import ServicesDep
from infusionist.entrypoints.web.pages.common import PageContext, render
from infusionist.services import audit, audit_text, views

router = APIRouter(include_in_schema=False)


def audit_filter(params: dict[str, str]) -> tuple[audit.AuditFilter, str | None]:
    """The filter the query asks for, and a sentence about a part it could not read (ignored)."""
    problem = None

    def day(key: str) -> date | None:
        nonlocal problem
        text = params.get(key, "").strip()
        try:
            return date.fromisoformat(text) if text else None
        except ValueError:
            problem = "A date could not be read (write it as 2026-03-02); it was left out."
            return None

    patient = params.get("patient", "").strip()
    if patient and not patient.isdigit():
        problem = "The patient number is a whole number; it was left out."
    return audit.AuditFilter(
        patient_id=int(patient) if patient.isdigit() else None,
        actor=params.get("user", "").strip() or None, action=params.get("action", "").strip() or None,
        since=day("since"), until=day("until")), problem


@router.get("/audit")
def audit_page(request: Request, ctx: PageContext, deps: ServicesDep) -> Any:
    params = dict(request.query_params)
    wanted, problem = audit_filter(params)
    zone = views.centre_zone(deps)
    lines = audit.readable_audit(deps, ctx, wanted, zone)
    shown = list(reversed(lines[-audit.READABLE_LIMIT:]))
    query = urlencode({k: v for k, v in params.items() if v and k in ("patient", "user", "action",
                                                                          "since", "until")})
    return render(request, ctx, "audit.html", rows=shown, total=len(lines), wanted=wanted,
                  problem=problem, zone=zone, query=query, usernames=audit.audit_users(deps, ctx),
                  actions=list(audit_text.ACTION_WORDS.items()))


@router.get("/patients/{patient_id}/audit")
def patient_audit(patient_id: int) -> Any:
    """The patient page's link: the audit trail filtered to the patient."""
    return RedirectResponse(f"/audit?patient={patient_id}", status_code=303)
