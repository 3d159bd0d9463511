"""Use cases of an admin on the unit's users: deactivate and reactivate, change the role, set a
new password. Each change is checked here (the API and the users page call the same functions),
written to the audit trail with who did it, and refused, with nothing written, when it would
leave the unit without an active admin.

A deactivated user's sessions and device tokens stop working at once: ``auth.session_actor``
and ``auth.token_actor`` refuse inactive users.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from infusionist.domain.access import USER_ROLES, Permission, Role, require
from infusionist.domain.errors import Conflict, NotFound, ValidationFailed
from infusionist.domain.records import Context, User
from infusionist.services import audit
from infusionist.services.auth import check_new_password
from infusionist.services.deps import Deps
from infusionist.services.ports import UnitOfWork

USER_ACTIONS = ("user.create", "user.deactivate", "user.reactivate", "user.role", "user.password")


@dataclass(frozen=True)
class LastChange:
    """The latest change an admin made to a user, for the users page."""

    action: str
    actor: str
    at: datetime


def deactivate_user(deps: Deps, ctx: Context, user_id: int, reason: str | None = None) -> User:
    return update_user(deps, ctx, user_id, active=False, reason=reason)


def reactivate_user(deps: Deps, ctx: Context, user_id: int, reason: str | None = None) -> User:
    return update_user(deps, ctx, user_id, active=True, reason=reason)


def change_role(deps: Deps, ctx: Context, user_id: int, role: Role, reason: str | None = None) -> User:
    return update_user(deps, ctx, user_id, role=role, reason=reason)


def set_password(deps: Deps, ctx: Context, user_id: int, password: str) -> User:
    """A new password chosen by an admin (the password rules of a new user: ``auth.check_new_password``)."""
    require(ctx.actor.role, Permission.MANAGE_USERS)
    with deps.uow() as uow:
        known = _load(uow, user_id)
    check_new_password(deps, password, username=known.username, full_name=known.full_name)
    digest = deps.hasher.hash(password)
    with deps.uow(write=True) as uow:
        user = _load(uow, user_id)
        changed = replace(user, password_hash=digest)
        uow.users.update(changed)
        audit.record_for(uow, deps, ctx, "user.password", "user", user.id,
                         new={"username": user.username, "password": "changed"})
        uow.commit()
    return changed


def last_changes(deps: Deps, ctx: Context) -> dict[str, LastChange]:
    """Per user id (as text): the latest create, (re)activation, role or password change."""
    require(ctx.actor.role, Permission.MANAGE_USERS)
    latest: dict[str, LastChange] = {}
    with deps.uow() as uow:
        for entry in uow.audit.all():
            if entry.entity == "user" and entry.action in USER_ACTIONS:
                latest[entry.entity_id] = LastChange(entry.action, entry.actor, entry.at)
    return latest


def update_user(deps: Deps, ctx: Context, user_id: int, *, role: Role | None = None,
                active: bool | None = None, reason: str | None = None) -> User:
    """Change the role and/or whether the user can log in, in one transaction: one audit row per
    change (``user.role``, ``user.deactivate``, ``user.reactivate``); all or nothing."""
    require(ctx.actor.role, Permission.MANAGE_USERS)
    if role is not None and role not in USER_ROLES:
        raise ValidationFailed("INPUT-ROLE", "role: choose nurse, physician, investigator or admin "
                               "(devices get a device token, not a user).",
                               details={"role": "not a role for a person"})
    with deps.uow(write=True) as uow:
        user = _load(uow, user_id)
        changed = replace(user, active=user.active if active is None else active,
                          role=user.role if role is None else role)
        if changed == user:
            return user  # nothing to change, nothing written
        _keep_an_admin(uow, user, changed, ctx)
        uow.users.update(changed)
        why = (reason or "").strip() or None
        if changed.role is not user.role:
            audit.record_for(uow, deps, ctx, "user.role", "user", user.id,
                             old={"username": user.username, "role": user.role.value},
                             new={"username": user.username, "role": changed.role.value}, reason=why)
        if changed.active != user.active:
            audit.record_for(uow, deps, ctx, "user.reactivate" if changed.active else "user.deactivate",
                             "user", user.id, old={"username": user.username, "active": user.active},
                             new={"username": user.username, "active": changed.active}, reason=why)
        uow.commit()
    return changed


def _keep_an_admin(uow: UnitOfWork, before: User, after: User, ctx: Context) -> None:
    """Refuse a change that leaves no active admin: nobody could manage users any more."""
    was_admin = before.active and before.role is Role.ADMIN
    stays_admin = after.active and after.role is Role.ADMIN
    if not was_admin or stays_admin:
        return
    others = [u for u in uow.users.list()
              if u.id != before.id and u.active and u.role is Role.ADMIN]
    if others:
        return
    who = "you are" if before.id == ctx.actor.user_id else f"{before.full_name} is"
    raise Conflict("USER-LAST-ADMIN",
                   f"Not changed: {who} the only active admin, and without one nobody could manage "
                   "users or the centre's settings. Make another user an admin first.",
                   details={"user": "the last active admin"})


def _load(uow: UnitOfWork, user_id: int) -> User:
    user = uow.users.get(user_id)
    if user is None:
        raise NotFound("USER-NOT-FOUND", "This user does not exist.", details={"user": "unknown"})
    return user


def get_user(deps: Deps, ctx: Context, user_id: int) -> User:
    require(ctx.actor.role, Permission.MANAGE_USERS)
    with deps.uow() as uow:
        return _load(uow, user_id)
