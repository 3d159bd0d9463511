"""The API describes itself (issue 13 item 2): every operation's success answer has a response
schema with named fields, and every refusal it declares is the one error envelope
(``{"error": {code, message, field, details, requirements}}``). The day state's schema takes the
domain's JSON contract (docs/day-events.md) unchanged, for every reader."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from infusionist.bootstrap import build
from infusionist.config import Settings
from infusionist.domain.access import strip_free_text
from infusionist.domain.day_state_json import state_to_json
from infusionist.entrypoints.web import create_app
from infusionist.entrypoints.web.schemas_day import DayStateOut

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
from day_builders import ev, started, state

# Answers that are files, not JSON: the inspector's CSV and a chair's iCalendar feed.
FILES = {("get", "/api/v1/audit/export"): "text/csv", ("get", "/api/v1/chairs/{chair_id}/calendar.ics"): "text/calendar"}
ERROR_REF = "#/components/schemas/ErrorOut"
METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data_dir = tmp_path_factory.mktemp("openapi")
    config = Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'infusionist.db'}")
    document: dict[str, Any] = create_app(config, deps=build(config)).openapi()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, operation) for path, item in document["paths"].items()
            for method, operation in item.items() if method in METHODS and path.startswith("/api/")]


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = document["components"]["schemas"][name]
    return schema


def _named_fields(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    """An object with properties, or an array of them; never an empty or free-form object."""
    schema = _resolve(document, schema)
    if schema.get("type") == "array":
        return _named_fields(document, schema["items"])
    return bool(schema.get("properties"))


def test_every_operation_answers_success_with_a_schema_of_named_fields(openapi: dict[str, Any]) -> None:
    operations = _operations(openapi)
    assert len(operations) > 40
    missing = []
    for method, path, operation in operations:
        success = {code: answer for code, answer in operation["responses"].items() if code.startswith("2")}
        assert success, f"{method.upper()} {path}: no success answer declared"
        for code, answer in success.items():
            if code == "204":
                assert "content" not in answer, f"{method.upper()} {path}: 204 with a body"
                continue
            if (method, path) in FILES:
                assert FILES[(method, path)] in answer["content"], f"{method.upper()} {path}"
                continue
            schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
            if not _named_fields(openapi, schema):
                missing.append(f"{method.upper()} {path} {code}")
    assert missing == []


def test_every_declared_refusal_is_the_error_envelope(openapi: dict[str, Any]) -> None:
    wrong = []
    for method, path, operation in _operations(openapi):
        refusals = {code: answer for code, answer in operation["responses"].items() if code[0] in "45"}
        if path != "/api/v1/health":
            assert {"401", "403", "404", "422"} <= set(refusals), f"{method.upper()} {path}"
        for code, answer in refusals.items():
            schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
            if schema.get("$ref") != ERROR_REF:
                wrong.append(f"{method.upper()} {path} {code}: {schema}")
    assert wrong == []
    envelope = _resolve(openapi, {"$ref": ERROR_REF})
    body = _resolve(openapi, envelope["properties"]["error"])
    assert {"code", "message"} <= set(body["required"])


@pytest.mark.parametrize(("method", "path", "fields"), [
    ("get", "/api/v1/courses/{course_id}/days/{day}/state",
     {"phase", "rate_ml_per_h", "alerts", "reactions", "recommended_actions", "allowed_actions", "next_seq"}),
    ("get", "/api/v1/courses/{course_id}/days/{day}/events",
     {"course_id", "day", "seq", "type", "recorded_at", "recorded_by", "payload", "signature"}),
    ("get", "/api/v1/worklist", {"date", "total", "overdue", "tasks"}),
    ("get", "/api/v1/centres/{centre_id}", {"centre_id", "timezone", "version"}),
    ("get", "/api/v1/centres/{centre_id}/unit", {"rules", "chairs", "closed_days", "timezone"}),
    ("get", "/api/v1/devices", {"device_id", "alert", "refused_count"}),
    ("get", "/api/v1/health", {"status", "version", "database"}),
])
def test_the_named_answers_describe_their_fields(openapi: dict[str, Any], method: str, path: str,
                                                fields: set[str]) -> None:
    schema = openapi["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
    schema = _resolve(openapi, schema)
    if schema.get("type") == "array":
        schema = _resolve(openapi, schema["items"])
    assert fields <= set(schema["properties"])


def _state_json(clock: str) -> dict[str, Any]:
    events = [*started(), ev("reaction_onset", "09:00", symptoms=["rash", "pruritus"]),
              ev("paused", "09:00", reason="reaction"),
              ev("reaction_assessed", "09:05", interruption_needed=True, responded_promptly=True),
              ev("medication_given", "09:05", name="dimetindene", dose={"value": 4, "unit": "mg"},
                 route="iv")]
    return {**state_to_json(state(events, clock)), "seq": len(events), "next_seq": len(events) + 1}


@pytest.mark.parametrize("clock", ["07:45", "09:10"])
def test_the_day_state_model_keeps_the_json_contract_as_it_is(clock: str) -> None:
    """The response model neither adds, drops nor changes a field: also for an investigator, whose
    state comes without the free texts (a reaction's reason, the checklist's texts)."""
    full = _state_json(clock)
    for shown in (full, strip_free_text(full)):
        typed = DayStateOut.model_validate(shown)
        assert typed.model_dump(mode="json", exclude_unset=True) == shown
    if clock == "09:10":
        assert full["reactions"] and "reason" not in strip_free_text(full)["reactions"][0]
