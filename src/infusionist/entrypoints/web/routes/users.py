from __future__ import annotations

from fastapi import APIRouter

from infusionist.domain.records import User
from infusionist.entrypoints.web.dependencies import ContextDep, ServicesDep
from infusionist.entrypoints.web.errors import ERROR_RESPONSES
from infusionist.entrypoints.web.schemas import TokenIn, TokenOut, UserIn, UserOut
from infusionist.services import auth

router = APIRouter(tags=["users"], responses=ERROR_RESPONSES)


def _out(user: User) -> UserOut:
    return UserOut(id=user.id, username=user.username, full_name=user.full_name, role=user.role,
                   active=user.active)


@router.get("/users", response_model=list[UserOut])
def list_users(ctx: ContextDep, deps: ServicesDep) -> list[UserOut]:
    return [_out(u) for u in auth.list_users(deps, ctx)]


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(body: UserIn, ctx: ContextDep, deps: ServicesDep) -> UserOut:
    return _out(auth.create_user(deps, ctx, body.username, body.full_name, body.role, body.password))


@router.post("/tokens", response_model=TokenOut, status_code=201)
def create_token(body: TokenIn, ctx: ContextDep, deps: ServicesDep) -> TokenOut:
    """An API token for a device, acting as the named user; shown once, stored as a digest."""
    token = auth.create_token(deps, ctx, body.username, body.name)
    return TokenOut(token=token, username=body.username, name=body.name)
