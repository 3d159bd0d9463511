"""``infusionist audit verify`` catches an audit row changed, inserted or removed with raw SQL
behind the application's back (the append-only triggers are switched off for the attack)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from api_support import engine_of
from sqlalchemy import Connection, text

from infusionist.config import Settings
from infusionist.domain.access import USER_ROLES
from infusionist.services import audit
from infusionist.services.deps import Deps

ATTACKS = {
    "changed": ["UPDATE audit_log SET actor = 'mallory' WHERE seq = 2"],
    "removed": ["DELETE FROM audit_log WHERE seq = 2"],
    "inserted": [
        "INSERT INTO audit_log (seq, at, actor, action, entity, entity_id, prev_hash, hash) "
        "SELECT seq + 1, at, 'mallory', 'user.create', 'user', '99', hash, hash FROM audit_log "
        "WHERE seq = (SELECT max(seq) FROM audit_log)"
    ],
}
EXPECTED = {"changed": ("audit row 2", "changed"), "removed": ("audit row 3", "removed"),
            "inserted": ("audit row 6", "changed")}


def without_triggers(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        for verb in ("update", "delete"):
            connection.execute(text(f"DROP TRIGGER audit_log_no_{verb}"))
    else:
        connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))


def test_an_untouched_audit_trail_verifies(deps: Deps) -> None:
    checked = audit.verify(deps)
    # The seal of the new database's one stored row (the default centre), then one row per user.
    assert (checked.audit_rows, checked.audit_break, checked.intact) == (1 + len(USER_ROLES), None, True)
    assert checked.ledger_entries == 1 + checked.rows["users"] == 1 + len(USER_ROLES)


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_audit_verify_names_the_first_tampered_row(deps: Deps, settings: Settings, attack: str) -> None:
    with engine_of(deps).begin() as connection:
        without_triggers(connection)
        for statement in ATTACKS[attack]:
            connection.execute(text(statement))
    broken = audit.verify(deps).audit_break
    assert broken is not None
    where, what = EXPECTED[attack]
    assert broken.describe().startswith(where) and what in broken.describe()

    env = {**os.environ, "INFUSIONIST_DATABASE_URL": settings.resolved_database_url,
           "INFUSIONIST_DATA_DIR": str(settings.data_dir)}
    cli = subprocess.run([sys.executable, "-m", "infusionist", "audit", "verify"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert cli.returncode == 1
    assert "AUDIT BROKEN after checking" in cli.stderr and where in cli.stderr
