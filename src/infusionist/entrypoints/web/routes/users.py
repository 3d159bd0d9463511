from __future__ import annotations

from fastapi import APIRouter, Path

from infusionist.domain.records import User
from infusionist.entrypoints.web.dependencies import ContextDep, ServicesDep
from infusionist.entrypoints.web.errors import ERROR_RESPONSES
from infusionist.entrypoints.web.schemas import PasswordIn, TokenIn, TokenOut, UserChangeIn, UserIn, UserOut
from infusionist.services import auth, users

UserId = Path(ge=1, le=2**31 - 1)

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


@router.put("/users/{user_id}", response_model=UserOut)
def change_user(body: UserChangeIn, ctx: ContextDep, deps: ServicesDep, user_id: int = UserId) -> UserOut:
    """Change the role and/or deactivate or reactivate; refused (USER-LAST-ADMIN) when no active
    admin would be left."""
    return _out(users.update_user(deps, ctx, user_id, role=body.role, active=body.active,
                                  reason=body.reason))


@router.put("/users/{user_id}/password", status_code=204)
def set_password(body: PasswordIn, ctx: ContextDep, deps: ServicesDep, user_id: int = UserId) -> None:
    """A new password for the user (the same rules as for a new user)."""
    users.set_password(deps, ctx, user_id, body.password)


@router.post("/tokens", response_model=TokenOut, status_code=201)
def create_token(body: TokenIn, ctx: ContextDep, deps: ServicesDep) -> TokenOut:
    """An API token for a device, acting as the named user; shown once, stored as a digest."""
    token = auth.create_token(deps, ctx, body.username, body.name)
    return TokenOut(token=token, username=body.username, name=body.name)
