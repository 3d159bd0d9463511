from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path

from infusionist.entrypoints.web.dependencies import ContextDep, ServicesDep
from infusionist.entrypoints.web.errors import ERROR_RESPONSES
from infusionist.entrypoints.web.schemas import CentreIn
from infusionist.services import centres

router = APIRouter(tags=["centres"], responses=ERROR_RESPONSES)
CentreId = Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")


@router.get("/centres/{centre_id}", response_model=dict[str, Any])
def get_centre(ctx: ContextDep, deps: ServicesDep, centre_id: str = CentreId) -> dict[str, Any]:
    return centres.get_centre(deps, ctx, centre_id)


@router.put("/centres/{centre_id}", response_model=dict[str, Any])
def configure_centre(body: CentreIn, ctx: ContextDep, deps: ServicesDep,
                     centre_id: str = CentreId) -> dict[str, Any]:
    """Replace the centre configuration; refused when outside the protocol's limits."""
    return centres.configure_centre(deps, ctx, centre_id, body.config, body.reason)
