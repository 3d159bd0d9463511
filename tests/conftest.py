"""Shared fixtures: the bundled protocol and a quick way to plan a course."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from zoneinfo import ZoneInfo

import pytest

from infusionist.adapters.protocol_files import load_protocol
from infusionist.domain.centre import CentreConfig
from infusionist.domain.planning import CoursePlan, Patient, PlanRequest, plan_course
from infusionist.domain.protocol import Protocol

PlanFactory = Callable[..., CoursePlan]


@pytest.fixture(scope="session")
def protocol() -> Protocol:
    return load_protocol()


@pytest.fixture
def make_plan(protocol: Protocol) -> PlanFactory:
    """``make_plan(course=1, first_day=date(...), ...)`` with sensible defaults."""

    def make(
        *,
        course: int = 1,
        first_day: date = date(2026, 12, 7),
        start: time = time(9, 0),
        zone: str = "Europe/Berlin",
        sex: str = "female",
        childbearing_potential: bool = True,
        previous_course_end: date | None = None,
        config: CentreConfig | None = None,
        weight_kg: str | None = None,
    ) -> CoursePlan:
        patient = Patient.model_validate(
            {"id": "P-001", "sex": sex, "childbearing_potential": childbearing_potential,
             "weight_kg": weight_kg}
        )
        request = PlanRequest(patient, course, first_day, start, ZoneInfo(zone), zone,
                              previous_course_end)
        return plan_course(protocol, request, config or CentreConfig())

    return make
