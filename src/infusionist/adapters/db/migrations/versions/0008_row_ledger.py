"""The row ledger (issue 14 item 3): a hash chain beside the audit trail, one entry each time the
application writes a protected row (table, primary key, SHA-256 of the row's content). Like the
audit trail it is append-only: the database refuses UPDATE, DELETE and TRUNCATE.

The rows already stored are not hashed here (a migration does not import the application's
tables): right after the migrations ran, ``bootstrap`` seals every protected row the ledger does
not hold yet, and records that seal in the ledger and in the audit trail. Self-contained on
purpose (no import of ``tables.py`` or the domain).

Revision ID: 0008_row_ledger
Revises: 0007_hl7_senders
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_row_ledger"
down_revision = "0007_hl7_senders"
branch_labels = None
depends_on = None

TABLE = "row_ledger"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("table_name", sa.String(60), nullable=False),
        sa.Column("row_key", sa.String(200), nullable=False),
        sa.Column("digest", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    for statement in append_only_triggers(op.get_bind().dialect.name):
        op.execute(sa.text(statement))


def append_only_triggers(dialect: str) -> list[str]:
    """The triggers of 0001 for this table (PostgreSQL: its function infusionist_append_only)."""
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {TABLE}_no_{verb.lower()} BEFORE {verb} ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: {verb} refused'); END"
            for verb in ("UPDATE", "DELETE")
        ]
    return [
        f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION infusionist_append_only()",
        f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
        "FOR EACH STATEMENT EXECUTE FUNCTION infusionist_append_only()",
    ]


def downgrade() -> None:
    raise NotImplementedError("The clinical record is never downgraded; restore a backup instead.")
