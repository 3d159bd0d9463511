"""The admin's pages: the users (add, change role, deactivate and reactivate, set a new password,
with who made the last change) and the centre's settings (edited by an admin, clinical ones
signed by a physician, each save a new version)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from infusionist.domain.access import USER_ROLES, Permission, Role, require
from infusionist.domain.errors import Conflict, InfusionistError, NotAuthenticated, ValidationFailed
from infusionist.domain.records import Context
from infusionist.entrypoints.web.dependencies import ServicesDep
from infusionist.entrypoints.web.pages.common import PageContext, posted_form, redirect, render, sentence
from infusionist.services import auth, centres, users, views
from infusionist.services.deps import Deps

router = APIRouter(include_in_schema=False)
HERE = "/admin/users"
CENTRE = "/admin/centre"
ACTION_WORDS = {"user.create": "added", "user.deactivate": "deactivated",
                "user.reactivate": "reactivated", "user.role": "role changed",
                "user.password": "new password set"}


@router.get(HERE)
def users_page(request: Request, ctx: PageContext, deps: ServicesDep) -> Any:
    changes = users.last_changes(deps, ctx)
    failed = request.query_params.get("user", "")
    failed_user = int(failed) if failed.isdigit() else 0  # the row a refusal was about
    adding = "username" in request.query_params
    return render(request, ctx, "admin_users.html", users=auth.list_users(deps, ctx), roles=list(USER_ROLES),
                  changes={k: {"what": ACTION_WORDS.get(c.action, c.action), "who": c.actor,
                               "at": c.at} for k, c in changes.items()},
                  zone=views.centre_zone(deps), failed_user=failed_user,
                  kept={k: request.query_params.get(k, "") for k in ("username", "full_name", "role")},
                  adding=adding, inline_error=adding or failed_user > 0)


async def _form(request: Request) -> dict[str, str]:
    """The posted form as text (a NUL character is refused, ``posted_form``)."""
    return {k: str(v) for k, v in (await posted_form(request)).items()}


@router.post(HERE)
async def add_user(request: Request, ctx: PageContext, deps: ServicesDep) -> Any:
    require(ctx.actor.role, Permission.MANAGE_USERS)  # before anything is said about the input
    form = await _form(request)
    kept = {k: form.get(k, "").strip() for k in ("username", "full_name", "role")}
    if form.get("password", "") != form.get("password_again", ""):
        return redirect(request, _with(kept), error="Password: the two entries differ; nothing was saved.",
                        anchor="add")
    if kept["role"] not in {role.value for role in USER_ROLES}:
        return redirect(request, _with(kept), error="Choose nurse, physician, investigator or admin.",
                        anchor="add")
    try:
        # Hashing the password (argon2id) takes a while: off the event loop.
        user = await run_in_threadpool(auth.create_user, deps, ctx, kept["username"], kept["full_name"],
                                       Role(kept["role"]), form.get("password", ""))
    except (ValidationFailed, Conflict) as error:  # a refusal of the input; AccessDenied is a 403 page
        return redirect(request, _with(kept), error=f"{error.message} Nothing was saved.", anchor="add")
    return redirect(request, HERE,
                    notice=f"{user.full_name} can now log in as {user.username} ({user.role.value}).")


@router.post(HERE + "/{user_id}/active")
async def set_active(request: Request, ctx: PageContext, deps: ServicesDep, user_id: int) -> Any:
    require(ctx.actor.role, Permission.MANAGE_USERS)
    form = await _form(request)
    active = form.get("active") == "1"
    try:
        user = users.update_user(deps, ctx, user_id, active=active, reason=form.get("reason"))
    except (ValidationFailed, Conflict) as error:
        return redirect(request, f"{HERE}?user={user_id}", error=error.message, anchor=f"user-{user_id}")
    word = "can log in again" if user.active else "can no longer log in; their sessions have ended"
    return redirect(request, HERE, notice=f"{user.full_name} {word}.", anchor=f"user-{user_id}")


@router.post(HERE + "/{user_id}/role")
async def set_role(request: Request, ctx: PageContext, deps: ServicesDep, user_id: int) -> Any:
    require(ctx.actor.role, Permission.MANAGE_USERS)
    form = await _form(request)
    if form.get("role", "") not in {role.value for role in USER_ROLES}:
        return redirect(request, f"{HERE}?user={user_id}", error="Choose nurse, physician, "
                        "investigator or admin.", anchor=f"user-{user_id}")
    try:
        user = users.update_user(deps, ctx, user_id, role=Role(form["role"]), reason=form.get("reason"))
    except (ValidationFailed, Conflict) as error:
        return redirect(request, f"{HERE}?user={user_id}", error=error.message, anchor=f"user-{user_id}")
    return redirect(request, HERE, notice=f"{user.full_name} is now {user.role.value}.",
                    anchor=f"user-{user_id}")


@router.post(HERE + "/{user_id}/password")
async def set_password(request: Request, ctx: PageContext, deps: ServicesDep, user_id: int) -> Any:
    require(ctx.actor.role, Permission.MANAGE_USERS)
    form = await _form(request)
    if form.get("password", "") != form.get("password_again", ""):
        return redirect(request, f"{HERE}?user={user_id}", error="Password: the two entries differ; "
                        "nothing was saved.", anchor=f"user-{user_id}")
    try:
        user = await run_in_threadpool(users.set_password, deps, ctx, user_id, form.get("password", ""))
    except (ValidationFailed, Conflict) as error:
        return redirect(request, f"{HERE}?user={user_id}", error=f"{sentence(error)} Nothing was "
                        "saved.", anchor=f"user-{user_id}")
    return redirect(request, HERE, notice=f"New password set for {user.full_name}.",
                    anchor=f"user-{user_id}")


def _with(kept: dict[str, str]) -> str:
    """The page again with what was typed (never the password)."""
    return HERE + "?" + urlencode(kept)


# --- the centre's settings ---------------------------------------------------------------

CLINICAL_FIELDS = ("vital_signs_interval_minutes", "h2", "herpes", "max_courses")


@router.get(CENTRE)
def centre_page(request: Request, ctx: PageContext, deps: ServicesDep) -> Any:
    require(ctx.actor.role, Permission.READ_CENTRE)
    return _centre_view(request, ctx, deps, centres.get_centre(deps, ctx, "default").as_json())


def _centre_view(request: Request, ctx: Context, deps: Deps, current: dict[str, Any],
                 refusal: str | None = None, form: dict[str, str] | None = None) -> Any:
    """The settings page; after a refusal, with what was typed and the message beside the form."""
    protocol = deps.protocol
    options = {o.id: o for o in protocol.options}
    alerts = protocol.vital_sign_rules.alerts if protocol.vital_sign_rules is not None else ()
    return render(request, ctx, "admin_centre.html", current=current, zone=views.centre_zone(deps),
                  history=centres.centre_history(deps, ctx, "default"),
                  h2=options.get("h2-antagonist"), herpes=options.get("herpes-prophylaxis-rule"),
                  alerts=alerts, protocol_interval=protocol.vital_signs.interval_minutes,
                  max_interval=protocol.vital_signs.max_interval_minutes,
                  protocol_max_courses=protocol.courses.max_courses,
                  can_edit=ctx.actor.role is Role.ADMIN, refusal=refusal,
                  typed={k: (form or {}).get(k, "") for k in ("reason", "signer")},
                  status=422 if refusal else 200)


@router.post(CENTRE)
async def save_centre(request: Request, ctx: PageContext, deps: ServicesDep) -> Any:
    require(ctx.actor.role, Permission.CONFIGURE_CENTRE)
    form = await _form(request)
    stored = centres.get_centre(deps, ctx, "default").as_json()
    data: dict[str, Any] = {}
    try:
        defaults = {o.id: o.default for o in deps.protocol.options}
        data = _centre_data(form, stored, defaults)
        signer = form.get("signer", "").strip()
        signature = (centres.PhysicianSignature(signer, form.get("signer_password", ""))
                     if signer else None)
        saved = await run_in_threadpool(centres.configure_centre, deps, ctx, "default", data,
                                        form.get("reason", "").strip() or None, signature)
    except NotAuthenticated:
        return _centre_view(request, ctx, deps, _typed(form, stored, data), "The physician's user "
                            "name or password was not recognised. Nothing was saved.", form)
    except InfusionistError as error:
        return _centre_view(request, ctx, deps, _typed(form, stored, data),
                            f"{sentence(error)} Nothing was saved.", form)
    return redirect(request, CENTRE, notice=f"Settings saved as version {saved.version}; plans "
                    "made from now on use them.", anchor="settings")


def _typed(form: dict[str, str], stored: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """What the form showed, for showing it again after a refusal (as typed, even if unreadable)."""
    typed = {**stored, **data, "version": stored.get("version")}
    typed["contact_phone"] = form.get("contact_phone", "")
    typed["number_locale"] = form.get("number_locale", stored.get("number_locale", "en"))
    typed["vital_signs_interval_minutes"] = form.get("vital_signs_interval_minutes", "")
    typed["max_courses"] = form.get("max_courses", "")
    typed["closed_days"] = form.get("closed_days", "").split()
    typed["alert_thresholds"] = {k.removeprefix("alert:"): v for k, v in form.items()
                                 if k.startswith("alert:")}
    options = dict(stored.get("options") or {})
    for field, option in (("h2", "h2-antagonist"), ("herpes", "herpes-prophylaxis-rule")):
        if form.get(field):
            options[option] = form[field]
    typed["options"] = options
    return typed


def _centre_data(form: dict[str, str], current: dict[str, Any],
                 defaults: dict[str, str]) -> dict[str, Any]:
    """The configuration the form asks for: the current one with the form's fields replaced (an
    option left at the value in force is not written, so it stays the protocol's default)."""
    data = {k: v for k, v in current.items() if k not in ("version", "centre_id")}
    data["contact_phone"] = form.get("contact_phone", "").strip() or None
    data["number_locale"] = form.get("number_locale") or current.get("number_locale") or "en"
    data["vital_signs_interval_minutes"] = _whole(form.get("vital_signs_interval_minutes", ""),
                                                  "The vital-sign interval")
    data["max_courses"] = _whole(form.get("max_courses", ""), "The maximum number of courses")
    options = dict(data.get("options") or {})
    for field, option in (("h2", "h2-antagonist"), ("herpes", "herpes-prophylaxis-rule")):
        if form.get(field) and form[field] != options.get(option, defaults.get(option)):
            options[option] = form[field]
    data["options"] = options
    closed = []
    for word in form.get("closed_days", "").replace(",", " ").split():
        try:
            closed.append(date.fromisoformat(word).isoformat())
        except ValueError:
            raise ValidationFailed("INPUT-CLOSED-DAY", f"Closed days: {word!r} is not a date "
                                   "(write them as 2026-12-24, one per line).",
                                   details={"closed_days": "not a date"}) from None
    data["closed_days"] = sorted(set(closed))
    thresholds = {}
    for key, value in form.items():
        if key.startswith("alert:") and value.strip():
            thresholds[key.removeprefix("alert:")] = value.strip().replace(",", ".")
    data["alert_thresholds"] = thresholds
    return data


def _whole(text: str, label: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        raise ValidationFailed("INPUT-NOT-A-NUMBER", f"{label}: give a whole number.",
                               details={"number": "not a whole number"})
    return int(text)
