"""The unit's chairs, its working rules and the bookings of planned infusion days (issue 17).

- ``chairs``: one row per chair or bed of a centre (``name`` unique per centre); a chair no
  longer in use is made inactive, never deleted (its bookings name it).
- ``unit_settings``: the unit's opening hours, turnover and staffing limits, as JSON per centre.
- ``chair_bookings``: the chair a planned infusion day holds, from ``starts_at`` (first
  premedication or check) to ``held_until`` (end of observation plus turnover). A cancelled
  booking keeps its row with ``cancelled_at``; a day has at most one live booking (partial
  unique index). On PostgreSQL an exclusion constraint also refuses two live bookings whose
  held times overlap on one chair (``int4range`` stands in for the chair so that plain GiST
  can compare it, without the btree_gist extension). SQLite cannot express that: there the
  unit of work's writer lock, held from the check to the commit, is the guard.

Self-contained on purpose (no import of ``tables.py`` or the domain).

Revision ID: 0009_chairs
Revises: 0008_row_ledger
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_chairs"
down_revision = "0008_row_ledger"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chairs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("centre_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("centre_id", "name", name="uq_chairs_centre_name"),
    )
    op.create_table(
        "unit_settings",
        sa.Column("centre_id", sa.String(64), primary_key=True),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "chair_bookings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("chair_id", sa.Integer, sa.ForeignKey("chairs.id"), nullable=False),
        sa.Column("course_id", sa.Integer, sa.ForeignKey("courses.id"), nullable=False),
        sa.Column("day", sa.Integer, nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("infusion_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("held_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("booked_by", sa.String(64), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(64), nullable=True),
        sa.Column("cancel_reason", sa.Text, nullable=True),
        sa.CheckConstraint("starts_at < ends_at AND ends_at <= held_until", name="ck_chair_bookings_times"),
    )
    live = sa.text("cancelled_at IS NULL")
    op.create_index("uq_chair_bookings_live_day", "chair_bookings", ["course_id", "day"], unique=True,
                    sqlite_where=live, postgresql_where=live)
    op.create_index("ix_chair_bookings_starts", "chair_bookings", ["starts_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text(
            "ALTER TABLE chair_bookings ADD CONSTRAINT ex_chair_bookings_overlap EXCLUDE USING gist "
            "(int4range(chair_id, chair_id, '[]') WITH &&, tstzrange(starts_at, held_until, '[)') WITH &&) "
            "WHERE (cancelled_at IS NULL)"
        ))


def downgrade() -> None:
    op.drop_table("chair_bookings")
    op.drop_table("unit_settings")
    op.drop_table("chairs")
