"""Use cases of identity: users, log in / out with throttling, sessions with an idle and an
absolute timeout, the rules for new passwords, device tokens."""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Literal

from infusionist.domain.access import (
    DEVICE_NAME_PATTERN,
    FULL_NAME_MAX_LENGTH,
    USER_ROLES,
    USERNAME_PATTERN,
    Permission,
    Role,
    require,
)
from infusionist.domain.device_readings import device_actor_name
from infusionist.domain.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    Throttled,
    ValidationFailed,
)
from infusionist.domain.records import Actor, Context, DeviceToken, LoginFailure, SessionRecord, User
from infusionist.services import audit
from infusionist.services.deps import Deps
from infusionist.services.ports import PasswordHasher

SYSTEM = "system"
ANONYMOUS = "anonymous"  # the actor of a refused log-in: nobody has proved who they are
SIGNATURE_ADDRESS = "signature"  # the "address" of a signature's password check (no throttle by address)
# Touching a session's last-seen time is a write; doing it at most once a minute keeps reads cheap.
TOUCH_EVERY_SECONDS = 60
PASSWORD_MAX_LENGTH = 128  # ASVS 2.1.2: at least 64 allowed, more than 128 refused
SERVICE_WORDS = ("infusionist",)  # context words a password may not be (NIST SP 800-63B 3.1.1.2)
_INVALID = ("username or password: not recognised.", {"password": "not recognised"})


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def actor_of(user: User) -> Actor:
    return Actor(user.id, user.username, user.full_name, user.role)


# --- users and their passwords -------------------------------------------------------------


def create_user(
    deps: Deps, ctx: Context | None, username: str, full_name: str, role: Role, password: str
) -> User:
    """Create a user. ``ctx`` None is the command line (an operator at the server)."""
    if ctx is not None:
        require(ctx.actor.role, Permission.MANAGE_USERS)
    _check_identity(username, full_name, role)
    check_new_password(deps, password, username=username, full_name=full_name)
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


def check_new_password(deps: Deps, password: str, *, username: str = "", full_name: str = "") -> None:
    """The one check of a password someone chooses (page, API, command line; new users and
    changed passwords alike). NIST SP 800-63B 3.1.1.2 / OWASP ASVS 2.1: a minimum length counted
    with runs of spaces as one, at most 128 characters, not on the list of common and breached
    passwords (also not with digits or symbols tacked on), not the user's or the program's name,
    not one character repeated or a plain sequence. No composition rules (no "one digit")."""
    minimum = deps.auth.password_min_length
    collapsed = " ".join(password.split())
    if len(collapsed) < minimum:
        raise ValidationFailed(
            "INPUT-PASSWORD-SHORT",
            f"password: use at least {minimum} characters (spaces in a row count once); "
            "a short sentence is easy to remember.",
            details={"password": f"shorter than {minimum} characters"},
        )
    if len(password) > PASSWORD_MAX_LENGTH:
        raise ValidationFailed(
            "INPUT-PASSWORD-LONG", f"password: use at most {PASSWORD_MAX_LENGTH} characters.",
            details={"password": f"longer than {PASSWORD_MAX_LENGTH} characters"})
    lowered = collapsed.lower()
    core = lowered.rstrip("0123456789!?.,;:-_#*+~ ")
    if lowered in deps.common_passwords or (len(core) >= 4 and core in deps.common_passwords):
        raise ValidationFailed(
            "INPUT-PASSWORD-COMMON",
            "password: this one is on a list of common or leaked passwords; choose another.",
            details={"password": "common or breached"},
        )
    context = {_bare(word) for word in (username, full_name, *SERVICE_WORDS)} - {""}
    if _bare(lowered) in context or _trivial(lowered):
        raise ValidationFailed(
            "INPUT-PASSWORD-COMMON",
            "password: too easy to guess (your name, the program's name, one character repeated "
            "or a plain sequence); choose another.",
            details={"password": "too easy to guess"},
        )


def _bare(word: str) -> str:
    """Lower-case letters and digits only, without trailing digits ("Sister.Ward7" -> "sisterward")."""
    return re.sub(r"[^0-9a-z]", "", word.lower()).rstrip("0123456789")


def _trivial(password: str) -> bool:
    """Fewer than 4 different characters, or mostly steps of one ("123456789012", "abcdefgh...")."""
    if len(set(password)) < 4:
        return True
    steps = [ord(b) - ord(a) for a, b in pairwise(password)]
    return sum(1 for step in steps if abs(step) == 1) >= 0.75 * len(steps)


def list_users(deps: Deps, ctx: Context) -> list[User]:
    require(ctx.actor.role, Permission.MANAGE_USERS)
    with deps.uow() as uow:
        return uow.users.list()


def count_users(deps: Deps) -> int:
    with deps.uow() as uow:
        return uow.users.count()


def reauthenticate(deps: Deps, ctx: Context, password: str) -> User:
    """The logged-in user's password again (an electronic signature, 21 CFR 11.200): the same
    throttle as logging in (the account's failures; 429 while throttled) and a wrong password
    is an audit row ``signature.password_failed`` and counts as a failed log-in of the account."""
    return verify_signer(deps, ctx, ctx.actor.username, password)


def verify_signer(deps: Deps, ctx: Context, name: str, password: str) -> User:
    """The user ``name`` signs with their password, at the logged-in user's screen (a physician
    signing the centre's clinical settings an admin saves): throttled and audited as
    ``reauthenticate``; an unknown or inactive user is refused as a wrong password."""
    now = deps.clock.now()
    _check_throttle(deps, name, SIGNATURE_ADDRESS, now, ctx.request_id, actor=ctx.actor.username)
    with deps.uow() as uow:
        user = uow.users.by_username(name)
    if not _verified(deps.hasher, user, password) or user is None or not user.active:
        with deps.uow(write=True) as uow:
            uow.login_failures.add(LoginFailure(username=name, address=SIGNATURE_ADDRESS, at=now))
            audit.record_for(uow, deps, ctx, "signature.password_failed", "user", name[:64])
            uow.commit()
        raise NotAuthenticated("AUTH-INVALID", "signature password: not recognised.",
                               details={"password": "not recognised"})
    return user


_DUMMY_HASHES: dict[int, str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash made once per hasher with its own parameters, verified when the user is unknown."""
    key = id(hasher)
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = hasher.hash(secrets.token_urlsafe(16))
    return _DUMMY_HASHES[key]


def _verified(hasher: PasswordHasher, user: User | None, password: str) -> bool:
    return hasher.verify(user.password_hash if user is not None else _dummy_hash(hasher), password)


# --- log in, sessions ----------------------------------------------------------------------


def login(deps: Deps, username: str, password: str, request_id: str | None,
          address: str = "unknown") -> tuple[str, Actor]:
    """Check the password and open a session; returns the session token for the cookie.

    Refused with 429 (``Throttled``, nothing checked) while the user name or the address has
    too many recent failures; every refusal is written to the audit trail (never the password)."""
    name, address = username[:64], address[:64]
    now = deps.clock.now()
    _check_throttle(deps, name, address, now, request_id)
    with deps.uow() as uow:
        user = uow.users.by_username(name)
    if not _verified(deps.hasher, user, password) or user is None or not user.active:
        reason = "unknown user" if user is None else ("inactive" if not user.active else "wrong password")
        with deps.uow(write=True) as uow:
            uow.login_failures.add(LoginFailure(username=name, address=address, at=now))
            audit.record(uow, deps, ANONYMOUS, request_id, "session.login_failed", "user", name,
                         new={"address": address, "reason": reason})
            uow.commit()
        raise NotAuthenticated("AUTH-INVALID", _INVALID[0], details=_INVALID[1])
    token = secrets.token_urlsafe(32)
    with deps.uow(write=True) as uow:
        uow.sessions.add(SessionRecord(token_hash=token_digest(token), user_id=user.id,
                                       created_at=now, last_seen_at=now))
        uow.login_failures.forget(name)
        audit.record(uow, deps, user.username, request_id, "session.login", "user", user.id,
                     new={"address": address})
        uow.commit()
    return token, actor_of(user)


def _check_throttle(deps: Deps, name: str, address: str, now: datetime, request_id: str | None,
                    actor: str = ANONYMOUS) -> None:
    """Raise ``Throttled`` (and audit it) while the name, or the address, has too many recent
    failures; a signature's check (``SIGNATURE_ADDRESS``) is throttled by its account only."""
    policy = deps.auth
    since = now - policy.failure_window
    with deps.uow() as uow:
        by_account = uow.login_failures.recent(since=since, limit=policy.account_failures, username=name)
        by_address = ([] if address == SIGNATURE_ADDRESS else
                      uow.login_failures.recent(since=since, limit=policy.address_failures, address=address))
    # Throttled until the oldest of the last `limit` failures leaves the window.
    waits = {which: failures[limit - 1] + policy.failure_window - now
             for which, failures, limit in (("account", by_account, policy.account_failures),
                                            ("address", by_address, policy.address_failures))
             if len(failures) >= limit}
    if not waits:
        return
    which = max(waits, key=lambda key: waits[key])
    retry_after = max(1, math.ceil(waits[which].total_seconds()))
    with deps.uow(write=True) as uow:
        audit.record(uow, deps, actor, request_id, "session.login_throttled", "user", name,
                     new={"address": address, "reason": f"too many failures for this {which}",
                          "retry_after_seconds": retry_after})
        uow.commit()
    minutes = (retry_after + 59) // 60
    raise Throttled(
        "AUTH-THROTTLED",
        f"Too many failed log-ins: try again in {minutes} minute{'s' if minutes != 1 else ''}.",
        retry_after=retry_after, details={"username": f"too many failed log-ins ({which})"},
    )


def logout(deps: Deps, ctx: Context, token: str) -> None:
    with deps.uow(write=True) as uow:
        uow.sessions.delete(token_digest(token))
        audit.record_for(uow, deps, ctx, "session.logout", "user", ctx.actor.user_id)
        uow.commit()


def session_actor(deps: Deps, token: str) -> Actor:
    """The actor behind a session cookie; refuses a session idle for too long (the idle timeout
    slides with each request) or older than the absolute timeout (which never slides)."""
    digest = token_digest(token)
    now = deps.clock.now()
    with deps.uow() as uow:
        session = uow.sessions.get(digest)
        user = uow.users.get(session.user_id) if session is not None else None
    if session is None or user is None or not user.active:
        raise NotAuthenticated("AUTH-REQUIRED", "session: log in first.",
                               details={"session": "missing or unknown"})
    idle = now - session.last_seen_at
    if idle > deps.auth.session_idle or now - session.created_at > deps.auth.session_absolute:
        with deps.uow(write=True) as uow:
            uow.sessions.delete(digest)
            uow.commit()
        why = ("after inactivity" if idle > deps.auth.session_idle
               else f"{_hours(deps.auth.session_absolute)} after logging in")
        raise NotAuthenticated("AUTH-SESSION-EXPIRED", f"session: expired {why}; log in again.",
                               details={"session": "expired"})
    if idle.total_seconds() > TOUCH_EVERY_SECONDS:
        with deps.uow(write=True) as uow:
            uow.sessions.touch(digest, now)
            uow.commit()
    return actor_of(user)


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:g} hour{'s' if hours != 1 else ''}"


def local_actor(deps: Deps, username: str) -> Actor:
    """The actor for a command run on the server itself as a named, active user (no password:
    whoever runs it already has the database; the audit trail records the name)."""
    with deps.uow() as uow:
        user = uow.users.by_username(username)
    if user is None or not user.active:
        raise NotAuthenticated("AUTH-UNKNOWN-USER", f"--user: no active user named {username!r}.",
                               details={"user": "unknown or inactive"})
    return actor_of(user)


# --- device tokens -------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once; only its digest is stored
    record: DeviceToken


def token_actor(deps: Deps, token: str) -> Actor:
    """The device behind a bearer token: role ``device``, recorded as ``device:<name>``."""
    with deps.uow() as uow:
        record = uow.tokens.by_hash(token_digest(token))
    if record is None or record.revoked_at is not None:
        raise NotAuthenticated("AUTH-TOKEN-INVALID", "authorization: the device token is not valid.",
                               details={"authorization": "unknown or revoked token"})
    if record.expires_at <= deps.clock.now():
        raise NotAuthenticated("AUTH-TOKEN-EXPIRED",
                               "authorization: the device token has expired; ask for a new one.",
                               details={"authorization": "expired token"})
    return Actor(0, device_actor_name(record.device), f"Device {record.device}", Role.DEVICE)


def create_device_token(deps: Deps, ctx: Context | None, device: str,
                        valid_days: int | None = None) -> IssuedToken:
    """Issue a token for a named device (no user behind it); it expires after ``valid_days``."""
    if ctx is not None:
        require(ctx.actor.role, Permission.MANAGE_USERS)
    device = device.strip()
    if not re.fullmatch(DEVICE_NAME_PATTERN, device):
        raise ValidationFailed("INPUT-DEVICE-NAME",
                               "device: 1 to 57 letters, digits, spaces, '.', '_' or '-'.",
                               details={"device": "not a valid device name"})
    days = deps.auth.token_days_default if valid_days is None else valid_days
    if not 1 <= days <= deps.auth.token_days_max:
        raise ValidationFailed("INPUT-TOKEN-DAYS",
                               f"valid_days: a device token lasts 1 to {deps.auth.token_days_max} days.",
                               details={"valid_days": f"outside 1..{deps.auth.token_days_max}"})
    token = secrets.token_urlsafe(32)
    now = deps.clock.now()
    by = ctx.actor.username if ctx else SYSTEM
    with deps.uow(write=True) as uow:
        stored = uow.tokens.add(DeviceToken(device=device, token_hash=token_digest(token), created_at=now,
                                            created_by=by, expires_at=now + timedelta(days=days)))
        audit.record(uow, deps, by, ctx.request_id if ctx else None, "token.create", "device_token",
                     stored.id, new={"device": device, "expires_at": stored.expires_at.isoformat()})
        uow.commit()
    return IssuedToken(token, stored)


def list_device_tokens(deps: Deps, ctx: Context | None) -> list[DeviceToken]:
    if ctx is not None:
        require(ctx.actor.role, Permission.MANAGE_USERS)
    with deps.uow() as uow:
        return uow.tokens.list()


def revoke_device_token(deps: Deps, ctx: Context | None, token_id: int) -> DeviceToken:
    """Revoke a device token at once (the row stays, with who revoked it and when)."""
    if ctx is not None:
        require(ctx.actor.role, Permission.MANAGE_USERS)
    by = ctx.actor.username if ctx else SYSTEM
    now = deps.clock.now()
    with deps.uow(write=True) as uow:
        if uow.tokens.get(token_id) is None:
            raise NotFound("TOKEN-NOT-FOUND", f"token: there is no device token {token_id}.",
                           details={"token_id": "unknown"})
        if not uow.tokens.revoke(token_id, now, by):
            raise Conflict("TOKEN-REVOKED", f"token: device token {token_id} is already revoked.",
                           details={"token_id": "already revoked"})
        audit.record(uow, deps, by, ctx.request_id if ctx else None, "token.revoke", "device_token",
                     token_id)
        revoked = uow.tokens.get(token_id)
        uow.commit()
    assert revoked is not None
    return revoked


def token_status(token: DeviceToken, now: datetime) -> Literal["active", "expired", "revoked"]:
    if token.revoked_at is not None:
        return "revoked"
    return "expired" if token.expires_at <= now else "active"


def _check_identity(username: str, full_name: str, role: Role) -> None:
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
    if role not in USER_ROLES:
        raise ValidationFailed("INPUT-ROLE", "role: choose nurse, physician, investigator or admin "
                               "(devices get a device token, not a user).",
                               details={"role": "not a role for a person"})
