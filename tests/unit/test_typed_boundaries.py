"""Typed boundaries (issue 13 item 2): the use cases return typed values (domain objects or read
models), the bedside port takes and returns typed records; ``dict[str, Any]`` stays at the JSON
edge. A regression guard over the public functions of the services the pages and routes call."""

from __future__ import annotations

import inspect
import typing
from types import ModuleType
from typing import Any

import pytest

from infusionist.services import (
    bookings,
    centres,
    courses,
    device_vitals,
    events,
    lab_results,
    patients,
    unit,
    views,
)
from infusionist.services.ports import CentreRepository, DayRules, UnitSettingsRepository

# Answers that are a JSON contract of the domain by design: the plan (domain/plan_json.py).
PLAN_JSON = {("views", "preview_course"), ("views", "course_for_print")}


def _holds_json_object(hint: Any) -> bool:
    """``dict[str, Any]`` anywhere in the hint (also inside a list, tuple or union)."""
    if typing.get_origin(hint) is dict and typing.get_args(hint)[1:] == (Any,):
        return True
    return any(_holds_json_object(arg) for arg in typing.get_args(hint))


def _public_functions(module: ModuleType) -> list[tuple[str, Any]]:
    return [(name, fn) for name, fn in inspect.getmembers(module, inspect.isfunction)
            if not name.startswith("_") and fn.__module__ == module.__name__]


@pytest.mark.parametrize("module", [bookings, centres, courses, device_vitals, events, lab_results,
                                    patients, unit, views], ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_the_use_cases_return_typed_values_not_json_objects(module: ModuleType) -> None:
    short = module.__name__.rsplit(".", 1)[1]
    untyped = [name for name, fn in _public_functions(module)
               if (short, name) not in PLAN_JSON
               and _holds_json_object(typing.get_type_hints(fn).get("return"))]
    assert untyped == []


@pytest.mark.parametrize("port", [DayRules, CentreRepository, UnitSettingsRepository])
def test_the_ports_take_and_return_typed_records(port: type) -> None:
    """The bedside rules read ``StoredEvent`` records and answer ``DayEvent``/``DayState``; the
    settings repositories ``CentreConfig`` and ``UnitRules``. ``DayRules.parse`` alone reads the
    JSON a client sent (a ``Mapping``), which is what it validates."""
    for name, method in inspect.getmembers(port, inspect.isfunction):
        if name.startswith("_"):
            continue
        hints = typing.get_type_hints(method)
        assert not any(_holds_json_object(hint) for hint in hints.values()), (port.__name__, name)


def test_a_read_model_keeps_what_a_reader_may_not_see_out_of_its_json() -> None:
    from datetime import UTC, datetime

    from infusionist.domain.access import Role
    from infusionist.domain.records import PatientRecord

    record = PatientRecord(id=7, centre_id="default", name="Jane Roe", birth_date=None, sex="female",
                           childbearing_potential=False, weight_kg="61.5", pseudonym="P-ABC",
                           created_at=datetime(2026, 1, 1, tzinfo=UTC))
    seen = patients.patient_view(record, Role.INVESTIGATOR)
    assert seen.name is None and "name" not in seen.as_json() and seen.as_json()["pseudonym"] == "P-ABC"
    assert patients.patient_view(record, Role.NURSE).as_json()["name"] == "Jane Roe"
