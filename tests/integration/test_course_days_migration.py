"""Migration 0004: every stored course gets its first and last infusion day from its plan."""

from __future__ import annotations

import json
from datetime import date

from alembic import command
from sqlalchemy import create_engine, select, text

from infusionist.adapters.db import tables as t
from infusionist.adapters.db.migrate import _config, upgrade
from infusionist.config import Settings


def test_migration_0004_fills_first_and_last_day_from_the_plan(settings: Settings) -> None:
    engine = create_engine(settings.resolved_database_url)
    try:
        with engine.begin() as connection:
            config = _config()
            config.attributes["connection"] = connection
            command.upgrade(config, "0003_followup")
        plan = {"days": [{"day": n, "date": f"2026-03-0{n + 1}"} for n in (1, 2, 3)]}
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO patients (id, centre_id, name, sex, childbearing_potential, pseudonym, "
                "created_at) VALUES (1, 'default', 'Jane Roe', 'female', false, 'P-1', "
                "'2026-01-01 00:00:00+00:00')"))
            connection.execute(text(
                "INSERT INTO courses (id, patient_id, number, protocol_id, protocol_version, plan, "
                "created_at, created_by) VALUES (1, 1, 1, 'p', '1', :plan, "
                "'2026-01-01 00:00:00+00:00', 'x')"), {"plan": json.dumps(plan)})
        upgrade(engine)
        with engine.connect() as connection:
            row = connection.execute(select(t.courses.c.first_day, t.courses.c.last_day)).one()
        assert (row.first_day, row.last_day) == (date(2026, 3, 2), date(2026, 3, 4))
    finally:
        engine.dispose()
