"""``create_app(settings)``: the FastAPI application (JSON API under /api/v1)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from infusionist import __version__
from infusionist.config import Settings
from infusionist.entrypoints.web import errors, pages
from infusionist.entrypoints.web.guards import BodyLimits, SameOrigin, SecurityHeaders, no_nul_in_query
from infusionist.entrypoints.web.routes import (
    audit,
    centres,
    courses,
    devices,
    followup,
    health,
    patients,
    schedule,
    session,
    users,
)
from infusionist.services.deps import Deps

API_PREFIX = "/api/v1"
ROUTE_MODULES = (health, session, users, centres, devices, patients, courses, audit, followup,
                 schedule)


def create_app(settings: Settings | None = None, *, deps: Deps | None = None) -> FastAPI:
    settings = settings if settings is not None else Settings()
    if deps is None:
        from infusionist.bootstrap import build

        deps = build(settings)
    app = FastAPI(
        title="infusionist",
        version=__version__,
        summary="Infusion planning and bedside records for MS infusion units.",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        dependencies=[Depends(no_nul_in_query)],
    )
    app.state.deps = deps
    errors.install(app)
    api = APIRouter(prefix=API_PREFIX)
    for module in ROUTE_MODULES:
        api.include_router(module.router)
    app.include_router(api)
    pages.install(app)
    # The last added runs first: headers on every answer, then the origin, then the body's size.
    app.add_middleware(BodyLimits, max_bytes=settings.max_body_bytes,
                       login_max_bytes=settings.max_login_body_bytes)
    app.add_middleware(SameOrigin, trusted=settings.trusted_origins)
    app.add_middleware(SecurityHeaders)
    return app
