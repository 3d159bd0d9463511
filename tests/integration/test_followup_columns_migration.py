"""Migration 0011 on SQLite and PostgreSQL: follow-up tasks keep their element, a call's infusion
day and their requirement IDs as columns, backfilled from what the record already holds."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import create_engine, select, text

from infusionist.adapters.db import tables as t
from infusionist.adapters.db.migrate import _config, current_revision, head_revision, upgrade
from infusionist.config import Settings

PLAN = {"activities": [
    {"id": "c1-after-full-blood-count-m01", "element": "full-blood-count", "requirements": ["PROT-34"]},
    {"id": "c1-after-delayed-reaction-call-d2", "element": "delayed-reaction-call",
     "requirements": ["IAR-15", "IAR-17"]},
    {"id": "c1-after-aciclovir-end", "element": "aciclovir", "requirements": ["PROT-03", "PROT-27"]},
]}


def test_migration_0011_backfills_element_infusion_day_and_requirements__PROT_34_IAR_15_IAR_17(
        settings: Settings) -> None:
    engine = create_engine(settings.resolved_database_url)
    try:
        with engine.begin() as connection:
            config = _config()
            config.attributes["connection"] = connection
            command.upgrade(config, "0010_unit_admin")
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO patients (id, centre_id, name, sex, childbearing_potential, pseudonym, "
                "created_at) VALUES (1, 'default', 'Jane Roe', 'female', false, 'P-1', "
                "'2026-01-01 00:00:00+00:00')"))
            connection.execute(text(
                "INSERT INTO courses (id, patient_id, number, protocol_id, protocol_version, plan, "
                "created_at, created_by) VALUES (1, 1, 1, 'p', '1', :plan, "
                "'2026-01-01 00:00:00+00:00', 'x')"), {"plan": json.dumps(PLAN)})
            connection.execute(text(
                "INSERT INTO lab_results (id, patient_id, course_id, analyte, value, unit, taken_on, "
                "recorded_by, recorded_at) VALUES (7, 1, 1, 'platelets', '80', '10*9/L', '2026-04-01', "
                "'x', '2026-04-01 10:00:00+00:00')"))
            for activity in ("c1-after-full-blood-count-m01", "c1-after-delayed-reaction-call-d2",
                             "c1-after-aciclovir-end", "review-7-platelets-low",
                             "c1-after-thyroid-function-m03"):
                connection.execute(text(
                    "INSERT INTO follow_up_tasks (course_id, activity_id, name, kind, due, opens, "
                    "overdue_from, status) VALUES (1, :a, 'x', 'care', '2026-04-06', '2026-03-30', "
                    "'2026-04-14', 'due')"), {"a": activity})
        assert upgrade(engine) == current_revision(engine) == head_revision()
        with engine.connect() as connection:
            stored = {r.activity_id: (r.element, r.infusion_day, list(r.requirements)) for r in
                      connection.execute(select(t.follow_up_tasks))}
        assert stored == {
            "c1-after-full-blood-count-m01": ("full-blood-count", None, ["PROT-34"]),
            "c1-after-delayed-reaction-call-d2": ("delayed-reaction-call", 2, ["IAR-15", "IAR-17"]),
            "c1-after-aciclovir-end": ("aciclovir", None, ["PROT-03", "PROT-27"]),
            "review-7-platelets-low": ("platelets", None, []),
            "c1-after-thyroid-function-m03": ("thyroid-function", None, []),  # not in the plan
        }
    finally:
        engine.dispose()
