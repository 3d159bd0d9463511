"""Clinical events and audit rows cannot be changed or removed: the database refuses it."""

from __future__ import annotations

import pytest
from api_support import ClientFactory, Role, engine_of, vital_signs
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from infusionist.services.deps import Deps

LAB_RESULT = {"analyte": "platelets", "value": "210", "unit": "10*9/L", "reference_low": "150",
              "reference_high": "400", "taken_on": "2026-04-06"}


@pytest.mark.parametrize(("table", "column"), [("day_events", "seq"), ("audit_log", "seq"),
                                               ("lab_results", "value"), ("centre_versions", "version")])
@pytest.mark.parametrize("statement", ["UPDATE {table} SET {column} = {column}", "DELETE FROM {table}"])
def test_triggers_refuse_update_and_delete_of_events_lab_results_and_audit_rows(
    deps: Deps, client_as: ClientFactory, course_id: int, table: str, column: str, statement: str
) -> None:
    nurse = client_as(Role.NURSE)
    assert nurse.post(f"/courses/{course_id}/days/1/events",
                      json={"expected_seq": 1, "event": vital_signs(0)}).status_code == 201
    assert nurse.post("/patients/1/lab-results", json=LAB_RESULT).status_code == 201
    assert client_as(Role.ADMIN).put("/centres/default", json={"config": {"name": "Unit"}}).status_code == 200
    engine = engine_of(deps)
    with engine.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
        connection.execute(text(statement.format(table=table, column=column)))
    with engine.connect() as connection:
        assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() > 0
