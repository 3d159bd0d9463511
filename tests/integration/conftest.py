"""Storage and API fixtures: every test runs on SQLite (real files) and on PostgreSQL when reachable.

PostgreSQL: the server on 127.0.0.1:5432 (user postgres). One fresh database per test session
(``infusionist_test_<random>``), dropped at the end; each test gets a clean schema. With
``CI=true`` an unreachable server fails the tests instead of skipping them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_support import (
    PASSWORDS,
    PG_ADMIN_URL,
    PG_HOST,
    PG_PORT,
    ClientFactory,
    Role,
    engine_of,
    postgres_reachable,
    serving,
)
from sqlalchemy import create_engine, text

from infusionist.bootstrap import build
from infusionist.config import Settings
from infusionist.domain.access import USER_ROLES
from infusionist.entrypoints.web import create_app
from infusionist.services.auth import create_user
from infusionist.services.deps import Deps


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    if not postgres_reachable():
        message = f"PostgreSQL not reachable on {PG_HOST}:{PG_PORT}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}, and CI=true requires it")
        pytest.skip(f"{message}: PostgreSQL tests skipped (they run on CI)")
    name = f"infusionist_test_{secrets.token_hex(4)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'infusionist.db'}"
    url: str = request.getfixturevalue("postgres_database")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # Real argon2id, at its cheapest cost so that the many log-ins of the tests stay quick.
    return Settings(data_dir=tmp_path, database_url=database_url, argon2_time_cost=1,
                    argon2_memory_kib=8192)


@pytest.fixture
def deps(settings: Settings) -> Iterator[Deps]:
    built = build(settings)
    for role in USER_ROLES:
        create_user(built, None, role.value, f"{role.value.title()} Example", role, PASSWORDS[role])
    yield built
    engine_of(built).dispose()


@pytest.fixture
def base_url(settings: Settings, deps: Deps) -> Iterator[str]:
    with serving(create_app(settings, deps=deps)) as url:
        yield url


@pytest.fixture
def client_as(base_url: str) -> Iterator[ClientFactory]:
    """``client_as(Role.NURSE)``: an HTTP client logged in with that role (None: anonymous)."""
    clients: list[httpx.Client] = []

    def make(role: Role | None) -> httpx.Client:
        client = httpx.Client(base_url=base_url + "/api/v1", timeout=30)
        clients.append(client)
        if role is not None:
            response = client.post("/session", json={"username": role.value,
                                                     "password": PASSWORDS[role]})
            assert response.status_code == 200, response.text
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def course_id(client_as: ClientFactory) -> int:
    """A patient with course 1 planned (days 1-5 from 2026-03-02), made through the API."""
    physician = client_as(Role.PHYSICIAN)
    patient = physician.post("/patients", json={"name": "Jane Roe", "birth_date": "1980-01-02",
                                                "sex": "female"})
    assert patient.status_code == 201, patient.text
    course = physician.post(f"/patients/{patient.json()['id']}/courses",
                            json={"course": 1, "first_day": "2026-03-02", "timezone": "Europe/Berlin"})
    assert course.status_code == 201, course.text
    return int(course.json()["id"])
