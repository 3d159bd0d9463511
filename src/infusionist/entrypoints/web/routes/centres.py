from __future__ import annotations

from fastapi import APIRouter, Path

from infusionist.entrypoints.web.dependencies import ContextDep, ServicesDep
from infusionist.entrypoints.web.errors import ERROR_RESPONSES
from infusionist.entrypoints.web.schemas import CentreIn, CentreOut, CentreVersionOut
from infusionist.services import centres

router = APIRouter(tags=["centres"], responses=ERROR_RESPONSES)
CentreId = Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")


@router.get("/centres/{centre_id}", response_model=CentreOut)
def get_centre(ctx: ContextDep, deps: ServicesDep, centre_id: str = CentreId) -> CentreOut:
    settings = centres.get_centre(deps, ctx, centre_id)
    return CentreOut(**settings.config.model_dump(), version=settings.version)


@router.put("/centres/{centre_id}", response_model=CentreOut)
def configure_centre(body: CentreIn, ctx: ContextDep, deps: ServicesDep,
                     centre_id: str = CentreId) -> CentreOut:
    """Save the configuration as the centre's next version; refused when outside the protocol's
    limits, and (INPUT-SIGNATURE-REQUIRED) when a clinical setting changes without a physician's
    signature."""
    signature = (centres.PhysicianSignature(body.signature.username, body.signature.password)
                 if body.signature is not None else None)
    saved = centres.configure_centre(deps, ctx, centre_id, body.config, body.reason, signature)
    return CentreOut(**saved.config.model_dump(), version=saved.version)


@router.get("/centres/{centre_id}/versions", response_model=list[CentreVersionOut])
def centre_versions(ctx: ContextDep, deps: ServicesDep, centre_id: str = CentreId) -> list[CentreVersionOut]:
    """Every saved version of the centre's settings, newest first: who saved, who signed, why."""
    return [CentreVersionOut(version=v.version, config=v.config, created_at=v.created_at.isoformat(),
                             created_by=v.created_by, signed_by=v.signed_by, reason=v.reason)
            for v in centres.centre_history(deps, ctx, centre_id)]
