"""Use cases of the centre: read its settings and save a new version (checked against the protocol).

Every save is a new numbered version (``centre_versions``, append-only); the centre's row holds
the current one, which plans made from then on use (``courses.centre_version`` records which).
An admin saves; a change to a clinical setting also needs a physician's signature (the
physician's username and password, as for a signed bedside entry).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from infusionist.domain.access import Permission, allows, require
from infusionist.domain.centre import CentreConfig, configure
from infusionist.domain.dates import check_supported_date
from infusionist.domain.errors import AccessDenied, ValidationFailed
from infusionist.domain.records import CentreVersion, Context
from infusionist.services import audit
from infusionist.services.auth import verify_signer
from infusionist.services.course_store import centre_config
from infusionist.services.deps import Deps
from infusionist.services.planning import resolve_zone

# What the unit decides on its own: the name, zone, phone, calendar and how it writes numbers (the
# pages read both separators unambiguously: domain/number_text.py). Everything else changes
# the clinical plan or the bedside checks and needs a physician's signature.
ORGANISATIONAL = frozenset({"centre_id", "name", "timezone", "contact_phone", "closed_days",
                            "allow_weekend_infusions", "number_locale"})


@dataclass(frozen=True)
class PhysicianSignature:
    username: str
    password: str


@dataclass(frozen=True)
class CentreSettings:
    """The centre's settings in force and the saved version they are (None before the first save)."""

    config: CentreConfig
    version: int | None

    def as_json(self) -> dict[str, Any]:
        """The settings as JSON with their ``version`` (the pages' form reads it)."""
        return {**self.config.model_dump(mode="json"), "version": self.version}


def get_centre(deps: Deps, ctx: Context, centre_id: str) -> CentreSettings:
    require(ctx.actor.role, Permission.READ_CENTRE)
    with deps.uow() as uow:
        config = centre_config(uow, centre_id)
        latest = uow.centre_versions.latest(centre_id)
    return CentreSettings(config, latest.version if latest is not None else None)


def clinical_changes(old: CentreConfig, new: CentreConfig) -> list[str]:
    """The clinical settings that differ between two configurations (by field name)."""
    before, after = old.model_dump(mode="json"), new.model_dump(mode="json")
    return sorted(k for k in after if k not in ORGANISATIONAL and before.get(k) != after.get(k))


def configure_centre(deps: Deps, ctx: Context, centre_id: str, data: dict[str, Any],
                     reason: str | None, signature: PhysicianSignature | None = None) -> CentreSettings:
    """Save ``data`` as the centre's next settings version; nothing is written when refused."""
    require(ctx.actor.role, Permission.CONFIGURE_CENTRE)
    try:
        config = CentreConfig.model_validate({**data, "centre_id": centre_id})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "config"
        raise ValidationFailed("INPUT-INVALID", f"{field}: {first['msg']}",
                               details={field: first["msg"]}) from None
    configure(deps.protocol, config)  # refuses anything outside the protocol's limits
    if config.timezone is not None:
        resolve_zone(config.timezone)  # INPUT-TIMEZONE: every page of the centre reads it
    for day in config.closed_days:
        check_supported_date(day, "a closed day", "closed_days")
    with deps.uow() as uow:
        current = centre_config(uow, centre_id)
    clinical = clinical_changes(current, config)
    signer = _signed_by(deps, ctx, signature) if clinical else None
    new = config.model_dump(mode="json")
    with deps.uow(write=True) as uow:
        stored = uow.centres.get(centre_id)
        old = stored.model_dump(mode="json") if stored is not None else None
        latest = uow.centre_versions.latest(centre_id)
        version = (latest.version if latest is not None else 0) + 1
        uow.centres.put(centre_id, config)
        uow.centre_versions.add(CentreVersion(
            centre_id=centre_id, version=version, config=new, created_at=deps.clock.now(),
            created_by=ctx.actor.username, signed_by=signer, reason=(reason or "").strip() or None))
        audit.record_for(uow, deps, ctx, "centre.configure", "centre", centre_id,
                         old=old, new={**new, "version": version, "signed_by": signer,
                                       "clinical_changes": clinical}, reason=reason)
        uow.commit()
    return CentreSettings(config, version)


def centre_history(deps: Deps, ctx: Context, centre_id: str) -> list[CentreVersion]:
    """Every saved version, newest first."""
    require(ctx.actor.role, Permission.READ_CENTRE)
    with deps.uow() as uow:
        return uow.centre_versions.history(centre_id)


def _signed_by(deps: Deps, ctx: Context, signature: PhysicianSignature | None) -> str:
    if signature is None or not signature.username.strip() or not signature.password:
        raise ValidationFailed(
            "INPUT-SIGNATURE-REQUIRED",
            "A change to a clinical setting needs a physician's signature: the physician enters "
            "their user name and password.",
            details={"signature": "required for clinical settings"})
    user = verify_signer(deps, ctx, signature.username.strip(), signature.password)
    if not allows(user.role, Permission.SIGN):
        raise AccessDenied("ACCESS-SIGNER-NOT-PHYSICIAN",
                           f"{user.full_name} is not a physician; a physician signs clinical settings.",
                           details={"signature": "not a physician"})
    return user.username
