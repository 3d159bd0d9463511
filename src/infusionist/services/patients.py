"""Use cases of patients: register one, read one or all (pseudonymised for investigators)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from infusionist.domain.access import Permission, Role, require, sees_identity
from infusionist.domain.dates import check_supported_date
from infusionist.domain.errors import NotFound, ValidationFailed
from infusionist.domain.records import Context, PatientRecord
from infusionist.services import audit
from infusionist.services.deps import Deps
from infusionist.services.ports import UnitOfWork


@dataclass(frozen=True)
class RegisterPatient:
    name: str
    birth_date: date | None
    sex: str
    childbearing_potential: bool = False
    weight_kg: Decimal | None = None
    centre_id: str = "default"


def new_pseudonym() -> str:
    return "P-" + secrets.token_hex(5).upper()


def register_patient(deps: Deps, ctx: Context, command: RegisterPatient) -> dict[str, Any]:
    require(ctx.actor.role, Permission.REGISTER_PATIENT)
    if command.sex == "male" and command.childbearing_potential:
        raise ValidationFailed("INPUT-CHILDBEARING",
                               "childbearing_potential: applies to female patients only.",
                               details={"childbearing_potential": "female patients only"})
    if command.birth_date is not None:
        check_supported_date(command.birth_date, "the birth date", "birth_date")
    if command.birth_date is not None and command.birth_date > deps.clock.now().date():
        raise ValidationFailed("INPUT-BIRTH-DATE", "birth_date: lies in the future.",
                               details={"birth_date": "in the future"})
    with deps.uow(write=True) as uow:
        patient = uow.patients.add(PatientRecord(
            centre_id=command.centre_id, name=command.name, birth_date=command.birth_date,
            sex=command.sex, childbearing_potential=command.childbearing_potential,
            weight_kg=str(command.weight_kg) if command.weight_kg is not None else None,
            pseudonym=new_pseudonym(), created_at=deps.clock.now(),
        ))
        audit.record_for(uow, deps, ctx, "patient.create", "patient", patient.id,
                         new=patient_view(patient, Role.PHYSICIAN))
        uow.commit()
    return patient_view(patient, ctx.actor.role)


def get_patient(deps: Deps, ctx: Context, patient_id: int) -> dict[str, Any]:
    require(ctx.actor.role, Permission.READ_PSEUDONYMISED)
    with deps.uow() as uow:
        return patient_view(load_patient(uow, patient_id), ctx.actor.role)


def list_patients(deps: Deps, ctx: Context) -> list[dict[str, Any]]:
    require(ctx.actor.role, Permission.READ_PSEUDONYMISED)
    with deps.uow() as uow:
        return [patient_view(p, ctx.actor.role) for p in uow.patients.list()]


def load_patient(uow: UnitOfWork, patient_id: int) -> PatientRecord:
    patient = uow.patients.get(patient_id)
    if patient is None:
        raise NotFound("PATIENT-NOT-FOUND", f"patient_id: no patient {patient_id}.",
                       details={"patient_id": "unknown"})
    return patient


def patient_view(patient: PatientRecord, role: Role) -> dict[str, Any]:
    """The patient as JSON; without name and birth date for roles that see pseudonyms only."""
    view: dict[str, Any] = {
        "id": patient.id,
        "pseudonym": patient.pseudonym,
        "centre_id": patient.centre_id,
        "sex": patient.sex,
        "childbearing_potential": patient.childbearing_potential,
        "weight_kg": patient.weight_kg,
    }
    if sees_identity(role):
        view["name"] = patient.name
        view["birth_date"] = patient.birth_date.isoformat() if patient.birth_date else None
    return view
