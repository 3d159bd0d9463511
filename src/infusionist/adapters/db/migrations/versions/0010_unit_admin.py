"""The unit administered from the browser (issue 15 items 5 and 7).

- ``patients.identifier`` (the hospital's patient number) and ``patients.contact`` (phone or
  address the unit reaches the patient at): registered and edited on the patients page.
- ``centre_versions``: every save of a centre's settings is a new, numbered version (append-only:
  UPDATE and DELETE are refused); ``courses.centre_version`` names the version a plan was made with.
- ``flash_messages``: the one-time message a page shows after a form was posted, kept server-side
  per session and deleted when shown.

Self-contained on purpose (no import of ``tables.py`` or the domain).

Revision ID: 0010_unit_admin
Revises: 0009_chairs
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_unit_admin"
down_revision = "0009_chairs"
branch_labels = None
depends_on = None

VERSIONS = "centre_versions"


def upgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.add_column(sa.Column("identifier", sa.String(64), nullable=True))
        batch.add_column(sa.Column("contact", sa.String(200), nullable=True))
    op.create_index("ix_patients_identifier", "patients", ["centre_id", "identifier"], unique=True)
    with op.batch_alter_table("courses") as batch:
        batch.add_column(sa.Column("centre_version", sa.Integer, nullable=True))
    op.create_table(
        VERSIONS,
        sa.Column("centre_id", sa.String(64), sa.ForeignKey("centres.id"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("signed_by", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
    )
    for statement in append_only_triggers(op.get_bind().dialect.name):
        op.execute(sa.text(statement))
    op.create_table(
        "flash_messages",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def append_only_triggers(dialect: str) -> list[str]:
    """The triggers of 0001 for the versions table (PostgreSQL: its function infusionist_append_only)."""
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {VERSIONS}_no_{verb.lower()} BEFORE {verb} ON {VERSIONS} "
            f"BEGIN SELECT RAISE(ABORT, '{VERSIONS} is append-only: {verb} refused'); END"
            for verb in ("UPDATE", "DELETE")
        ]
    return [
        f"CREATE TRIGGER {VERSIONS}_append_only BEFORE UPDATE OR DELETE ON {VERSIONS} "
        "FOR EACH ROW EXECUTE FUNCTION infusionist_append_only()",
        f"CREATE TRIGGER {VERSIONS}_no_truncate BEFORE TRUNCATE ON {VERSIONS} "
        "FOR EACH STATEMENT EXECUTE FUNCTION infusionist_append_only()",
    ]


def downgrade() -> None:
    raise NotImplementedError("The clinical record is never downgraded; restore a backup instead.")
