from __future__ import annotations

from fastapi import APIRouter

from infusionist import __version__
from infusionist.entrypoints.web.dependencies import ServicesDep
from infusionist.entrypoints.web.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health(deps: ServicesDep) -> Health:
    """Is the server up? No login needed."""
    return Health(status="ok", version=__version__, database=deps.database)
