"""Use cases of identity: users, log in / out, sessions with an idle timeout, device tokens."""

from __future__ import annotations

import hashlib
import re
import secrets

from infusionist.domain.access import FULL_NAME_MAX_LENGTH, USERNAME_PATTERN, Permission, Role, require
from infusionist.domain.errors import Conflict, NotAuthenticated, NotFound, ValidationFailed
from infusionist.domain.records import Actor, ApiToken, Context, SessionRecord, User
from infusionist.services import audit
from infusionist.services.deps import Deps

SYSTEM = "system"
# Touching a session's last-seen time is a write; doing it at most once a minute keeps reads cheap.
TOUCH_EVERY_SECONDS = 60
MIN_PASSWORD_LENGTH = 8


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def actor_of(user: User) -> Actor:
    return Actor(user.id, user.username, user.full_name, user.role)


def create_user(
    deps: Deps, ctx: Context | None, username: str, full_name: str, role: Role, password: str
) -> User:
    """Create a user. ``ctx`` None is the command line (an operator at the server)."""
    if ctx is not None:
        require(ctx.actor.role, Permission.MANAGE_USERS)
    _check_identity(username, full_name)
    _check_password(password)
    with deps.uow(write=True) as uow:
        if uow.users.by_username(username) is not None:
            raise Conflict("USER-EXISTS", f"username: a user named {username!r} already exists.",
                           details={"username": "already taken"})
        user = uow.users.add(User(username=username, full_name=full_name, role=role,
                                  password_hash=deps.hasher.hash(password),
                                  created_at=deps.clock.now()))
        audit.record(uow, deps, ctx.actor.username if ctx else SYSTEM,
                     ctx.request_id if ctx else None, "user.create", "user", user.id,
                     new={"username": username, "full_name": full_name, "role": role.value})
        uow.commit()
    return user


def list_users(deps: Deps, ctx: Context) -> list[User]:
    require(ctx.actor.role, Permission.MANAGE_USERS)
    with deps.uow() as uow:
        return uow.users.list()


def count_users(deps: Deps) -> int:
    with deps.uow() as uow:
        return uow.users.count()


def check_password(deps: Deps, username: str, password: str) -> User:
    with deps.uow() as uow:
        user = uow.users.by_username(username)
    if user is None or not user.active or not deps.hasher.verify(user.password_hash, password):
        raise NotAuthenticated("AUTH-INVALID", "username or password: not recognised.",
                               details={"password": "not recognised"})
    return user


def login(deps: Deps, username: str, password: str, request_id: str | None) -> tuple[str, Actor]:
    """Check the password and open a session; returns the session token for the cookie."""
    user = check_password(deps, username, password)
    token = secrets.token_urlsafe(32)
    now = deps.clock.now()
    with deps.uow(write=True) as uow:
        uow.sessions.add(SessionRecord(token_hash=token_digest(token), user_id=user.id,
                                       created_at=now, last_seen_at=now))
        audit.record(uow, deps, user.username, request_id, "session.login", "user", user.id)
        uow.commit()
    return token, actor_of(user)


def logout(deps: Deps, ctx: Context, token: str) -> None:
    with deps.uow(write=True) as uow:
        uow.sessions.delete(token_digest(token))
        audit.record_for(uow, deps, ctx, "session.logout", "user", ctx.actor.user_id)
        uow.commit()


def session_actor(deps: Deps, token: str) -> Actor:
    """The actor behind a session cookie; refuses expired sessions (idle timeout)."""
    digest = token_digest(token)
    now = deps.clock.now()
    with deps.uow() as uow:
        session = uow.sessions.get(digest)
        user = uow.users.get(session.user_id) if session is not None else None
    if session is None or user is None or not user.active:
        raise NotAuthenticated("AUTH-REQUIRED", "session: log in first.",
                               details={"session": "missing or unknown"})
    idle = now - session.last_seen_at
    if idle > deps.session_idle:
        with deps.uow(write=True) as uow:
            uow.sessions.delete(digest)
            uow.commit()
        raise NotAuthenticated("AUTH-SESSION-EXPIRED", "session: expired after inactivity; log in again.",
                               details={"session": "expired"})
    if idle.total_seconds() > TOUCH_EVERY_SECONDS:
        with deps.uow(write=True) as uow:
            uow.sessions.touch(digest, now)
            uow.commit()
    return actor_of(user)


def local_actor(deps: Deps, username: str) -> Actor:
    """The actor for a command run on the server itself as a named, active user (no password:
    whoever runs it already has the database; the audit trail records the name)."""
    with deps.uow() as uow:
        user = uow.users.by_username(username)
    if user is None or not user.active:
        raise NotAuthenticated("AUTH-UNKNOWN-USER", f"--user: no active user named {username!r}.",
                               details={"user": "unknown or inactive"})
    return actor_of(user)


def token_actor(deps: Deps, token: str) -> Actor:
    with deps.uow() as uow:
        record = uow.tokens.by_hash(token_digest(token))
        user = uow.users.get(record.user_id) if record is not None else None
    if record is None or record.revoked_at is not None or user is None or not user.active:
        raise NotAuthenticated("AUTH-TOKEN-INVALID", "authorization: the API token is not valid.",
                               details={"authorization": "unknown or revoked token"})
    return actor_of(user)


def create_token(deps: Deps, ctx: Context | None, username: str, name: str) -> str:
    """Issue a device token that acts as ``username``; only its digest is stored."""
    if ctx is not None:
        require(ctx.actor.role, Permission.MANAGE_USERS)
    token = secrets.token_urlsafe(32)
    with deps.uow(write=True) as uow:
        user = uow.users.by_username(username)
        if user is None:
            raise NotFound("USER-NOT-FOUND", f"username: no user named {username!r}.",
                           details={"username": "unknown"})
        stored = uow.tokens.add(ApiToken(user_id=user.id, name=name, token_hash=token_digest(token),
                                         created_at=deps.clock.now()))
        audit.record(uow, deps, ctx.actor.username if ctx else SYSTEM,
                     ctx.request_id if ctx else None, "token.create", "api_token", stored.id,
                     new={"user": username, "name": name})
        uow.commit()
    return token


def _check_identity(username: str, full_name: str) -> None:
    """The same rules for every way a user is created (API, page, command line)."""
    if not re.fullmatch(USERNAME_PATTERN, username):
        raise ValidationFailed(
            "INPUT-USERNAME",
            "username: 1 to 64 lower-case letters, digits, '.', '_' or '-'.",
            details={"username": "not a valid username"},
        )
    if not full_name.strip() or len(full_name) > FULL_NAME_MAX_LENGTH:
        raise ValidationFailed("INPUT-FULL-NAME", "full_name: give the name printed with signatures "
                               f"(1 to {FULL_NAME_MAX_LENGTH} characters).",
                               details={"full_name": "missing or too long"})


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            "INPUT-PASSWORD-SHORT",
            f"password: use at least {MIN_PASSWORD_LENGTH} characters.",
            details={"password": f"shorter than {MIN_PASSWORD_LENGTH} characters"},
        )
