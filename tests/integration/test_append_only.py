"""Clinical events and audit rows cannot be changed or removed: the database refuses it."""

from __future__ import annotations

import pytest
from api_support import ClientFactory, Role, engine_of, vital_signs
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from infusionist.services.deps import Deps


@pytest.mark.parametrize("table", ["day_events", "audit_log"])
@pytest.mark.parametrize("statement", ["UPDATE {table} SET {column} = {column}", "DELETE FROM {table}"])
def test_triggers_refuse_update_and_delete_of_events_and_audit_rows(
    deps: Deps, client_as: ClientFactory, course_id: int, table: str, statement: str
) -> None:
    nurse = client_as(Role.NURSE)
    assert nurse.post(f"/courses/{course_id}/days/1/events",
                      json={"expected_seq": 1, "event": vital_signs(0)}).status_code == 201
    engine = engine_of(deps)
    column = "seq"
    with engine.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
        connection.execute(text(statement.format(table=table, column=column)))
    with engine.connect() as connection:
        assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() > 0
