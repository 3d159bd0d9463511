"""Use cases of patients: register and edit one, find by name or identifier, read one or all
(pseudonymised for investigators). The API and the patients page call the same functions."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from infusionist.domain.access import Permission, Role, require, sees_identity
from infusionist.domain.dates import check_supported_date
from infusionist.domain.errors import Conflict, NotFound, ValidationFailed
from infusionist.domain.records import Context, PatientRecord
from infusionist.services import audit
from infusionist.services.deps import Deps
from infusionist.services.ports import UnitOfWork
from infusionist.services.read_model import ReadModel


@dataclass(frozen=True)
class RegisterPatient:
    name: str
    birth_date: date | None
    sex: str
    childbearing_potential: bool = False
    weight_kg: Decimal | None = None
    centre_id: str = "default"
    identifier: str | None = None  # the hospital's patient number
    contact: str | None = None  # phone or address the unit reaches the patient at


MAX_WEIGHT_KG = Decimal(500)  # the API schema's upper bound (schemas.PatientIn)
IDENTIFIER_MAX_LENGTH = 64
CONTACT_MAX_LENGTH = 200
NAME_MAX_LENGTH = 200
FIND_LIMIT = 50


def new_pseudonym() -> str:
    return "P-" + secrets.token_hex(5).upper()


def register_patient(deps: Deps, ctx: Context, command: RegisterPatient) -> PatientView:
    require(ctx.actor.role, Permission.REGISTER_PATIENT)
    command = _checked(deps, command)
    with deps.uow(write=True) as uow:
        _identifier_free(uow, command, None)
        patient = uow.patients.add(PatientRecord(
            centre_id=command.centre_id, name=command.name, birth_date=command.birth_date,
            sex=command.sex, childbearing_potential=command.childbearing_potential,
            weight_kg=str(command.weight_kg) if command.weight_kg is not None else None,
            pseudonym=new_pseudonym(), created_at=deps.clock.now(),
            identifier=command.identifier, contact=command.contact,
        ))
        audit.record_for(uow, deps, ctx, "patient.create", "patient", patient.id,
                         new=patient_view(patient, Role.PHYSICIAN).as_json())
        uow.commit()
    return patient_view(patient, ctx.actor.role)


def edit_patient(deps: Deps, ctx: Context, patient_id: int, command: RegisterPatient,
                 reason: str | None = None) -> PatientView:
    """Change a patient's details (same checks as registering); the audit row keeps old and new.
    The pseudonym and the centre never change. Courses already planned keep their plan."""
    require(ctx.actor.role, Permission.REGISTER_PATIENT)
    command = _checked(deps, command)
    with deps.uow(write=True) as uow:
        before = load_patient(uow, patient_id)
        command = replace(command, centre_id=before.centre_id)
        _identifier_free(uow, command, patient_id)
        after = replace(before, name=command.name, birth_date=command.birth_date, sex=command.sex,
                        childbearing_potential=command.childbearing_potential,
                        weight_kg=str(command.weight_kg) if command.weight_kg is not None else None,
                        identifier=command.identifier, contact=command.contact)
        if after == before:
            return patient_view(before, ctx.actor.role)  # nothing changed, nothing written
        uow.patients.update(after)
        old = patient_view(before, Role.PHYSICIAN).as_json()
        new = patient_view(after, Role.PHYSICIAN).as_json()
        changed = sorted(k for k in new if old.get(k) != new.get(k))
        audit.record_for(uow, deps, ctx, "patient.edit", "patient", patient_id,
                         old={k: old.get(k) for k in changed}, new={k: new.get(k) for k in changed},
                         reason=(reason or "").strip() or None)
        uow.commit()
    return patient_view(after, ctx.actor.role)


def find_patients(deps: Deps, ctx: Context, text: str) -> list[PatientView]:
    """Patients whose name, hospital number or pseudonym contains ``text``; investigators find
    by pseudonym only (they never search names)."""
    require(ctx.actor.role, Permission.READ_PSEUDONYMISED)
    text = text.strip()[:NAME_MAX_LENGTH]
    if not text:
        return list_patients(deps, ctx)
    with deps.uow() as uow:
        if sees_identity(ctx.actor.role):
            found = uow.patients.search(text, FIND_LIMIT)
        else:
            one = uow.patients.by_pseudonym(text.upper())
            found = [one] if one is not None else []
    return [patient_view(p, ctx.actor.role) for p in found]


def _checked(deps: Deps, command: RegisterPatient) -> RegisterPatient:
    """The same rules for the API and the page; the first broken one is refused, nothing written."""
    name = " ".join(command.name.split())
    if not name or len(name) > NAME_MAX_LENGTH:
        raise ValidationFailed("INPUT-PATIENT-NAME",
                               f"Give the patient's name (1 to {NAME_MAX_LENGTH} characters).",
                               details={"name": "missing or too long"})
    if command.sex not in ("female", "male"):
        raise ValidationFailed("INPUT-SEX", "Choose the patient's sex: female or male.",
                               details={"sex": "female or male"})
    if command.sex == "male" and command.childbearing_potential:
        raise ValidationFailed("INPUT-CHILDBEARING",
                               "childbearing_potential: applies to female patients only.",
                               details={"childbearing_potential": "female patients only"})
    if command.birth_date is not None:
        check_supported_date(command.birth_date, "the birth date", "birth_date")
    if command.birth_date is not None and command.birth_date > deps.clock.now().date():
        raise ValidationFailed("INPUT-BIRTH-DATE", "birth_date: lies in the future.",
                               details={"birth_date": "in the future"})
    weight = command.weight_kg
    if weight is not None and (not weight.is_finite() or not Decimal(0) < weight <= MAX_WEIGHT_KG):
        raise ValidationFailed("INPUT-WEIGHT", f"Give the weight in kg, above 0 and at most {MAX_WEIGHT_KG}.",
                               details={"weight_kg": "out of range"})
    identifier = (command.identifier or "").strip() or None
    if identifier is not None and len(identifier) > IDENTIFIER_MAX_LENGTH:
        raise ValidationFailed("INPUT-IDENTIFIER",
                               f"The hospital number is at most {IDENTIFIER_MAX_LENGTH} characters.",
                               details={"identifier": "too long"})
    contact = (command.contact or "").strip() or None
    if contact is not None and len(contact) > CONTACT_MAX_LENGTH:
        raise ValidationFailed("INPUT-CONTACT",
                               f"The contact is at most {CONTACT_MAX_LENGTH} characters.",
                               details={"contact": "too long"})
    return replace(command, name=name, identifier=identifier, contact=contact)


def _identifier_free(uow: UnitOfWork, command: RegisterPatient, patient_id: int | None) -> None:
    if command.identifier is None:
        return
    holder = uow.patients.by_identifier(command.centre_id, command.identifier)
    if holder is not None and holder.id != patient_id:
        raise Conflict("PATIENT-IDENTIFIER-EXISTS",
                       f"Hospital number {command.identifier} already belongs to another patient "
                       f"({holder.pseudonym}); look the patient up instead of registering again.",
                       details={"identifier": "already registered"})


def get_patient(deps: Deps, ctx: Context, patient_id: int) -> PatientView:
    require(ctx.actor.role, Permission.READ_PSEUDONYMISED)
    with deps.uow() as uow:
        return patient_view(load_patient(uow, patient_id), ctx.actor.role)


def list_patients(deps: Deps, ctx: Context) -> list[PatientView]:
    require(ctx.actor.role, Permission.READ_PSEUDONYMISED)
    with deps.uow() as uow:
        return [patient_view(p, ctx.actor.role) for p in uow.patients.list()]


def load_patient(uow: UnitOfWork, patient_id: int) -> PatientRecord:
    patient = uow.patients.get(patient_id)
    if patient is None:
        raise NotFound("PATIENT-NOT-FOUND", f"patient_id: no patient {patient_id}.",
                       details={"patient_id": "unknown"})
    return patient


class PatientView(ReadModel):
    """A patient as the reader may see them: the identity (name, birth date, hospital number,
    contact) only for roles that see it; for the others it is unset and left out of the JSON."""

    id: int
    pseudonym: str
    centre_id: str
    sex: str
    childbearing_potential: bool
    weight_kg: str | None
    name: str | None = None
    birth_date: str | None = None
    identifier: str | None = None
    contact: str | None = None


def patient_view(patient: PatientRecord, role: Role) -> PatientView:
    """The patient; without name and birth date for roles that see pseudonyms only."""
    seen = PatientView(id=patient.id, pseudonym=patient.pseudonym, centre_id=patient.centre_id,
                       sex=patient.sex, childbearing_potential=patient.childbearing_potential,
                       weight_kg=patient.weight_kg)
    if not sees_identity(role):
        return seen
    return PatientView(**seen.model_dump(exclude_unset=True), name=patient.name,
                       birth_date=patient.birth_date.isoformat() if patient.birth_date else None,
                       identifier=patient.identifier, contact=patient.contact)
