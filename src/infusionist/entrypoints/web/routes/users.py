from __future__ import annotations

from fastapi import APIRouter, Path, Response

from infusionist.domain.records import DeviceToken, User
from infusionist.entrypoints.web.dependencies import ContextDep, ServicesDep
from infusionist.entrypoints.web.errors import ERROR_RESPONSES
from infusionist.entrypoints.web.schemas import (
    IssuedTokenOut,
    PasswordIn,
    TokenIn,
    TokenOut,
    UserChangeIn,
    UserIn,
    UserOut,
)
from infusionist.services import auth, users
from infusionist.services.deps import Deps

router = APIRouter(tags=["users"], responses=ERROR_RESPONSES)
TokenId = Path(ge=1, le=2**31 - 1)
UserId = Path(ge=1, le=2**31 - 1)


def _out(user: User) -> UserOut:
    return UserOut(id=user.id, username=user.username, full_name=user.full_name, role=user.role,
                   active=user.active)


def token_out(token: DeviceToken, deps: Deps) -> TokenOut:
    return TokenOut(id=token.id, device=token.device, created_at=token.created_at.isoformat(),
                    created_by=token.created_by, expires_at=token.expires_at.isoformat(),
                    revoked_at=token.revoked_at.isoformat() if token.revoked_at else None,
                    revoked_by=token.revoked_by,
                    status=auth.token_status(token, deps.clock.now()))


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


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(ctx: ContextDep, deps: ServicesDep) -> list[TokenOut]:
    """Every device token ever issued (never the token itself): active, expired or revoked."""
    return [token_out(t, deps) for t in auth.list_device_tokens(deps, ctx)]


@router.post("/tokens", response_model=IssuedTokenOut, status_code=201)
def create_token(body: TokenIn, ctx: ContextDep, deps: ServicesDep) -> IssuedTokenOut:
    """A token for a named device (no user behind it: it may record vital signs only, as
    ``device:<name>``); it expires after ``valid_days``. Shown once, stored as a digest."""
    issued = auth.create_device_token(deps, ctx, body.device, body.valid_days)
    return IssuedTokenOut(token=issued.token, **token_out(issued.record, deps).model_dump())


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(ctx: ContextDep, deps: ServicesDep, token_id: int = TokenId) -> Response:
    """Revoke a device token at once; it stays listed as revoked."""
    auth.revoke_device_token(deps, ctx, token_id)
    return Response(status_code=204)
