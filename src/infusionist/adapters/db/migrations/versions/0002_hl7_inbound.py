"""HL7 inbound messages (raw text kept before parsing, one row per sender and MSH-10) and devices.

Self-contained on purpose (no import of ``tables.py``).

Revision ID: 0002_hl7
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_hl7"
down_revision = "0001"
branch_labels = None
depends_on = None

Instant = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sender", sa.String(200), nullable=False),
        sa.Column("control_id", sa.String(200), nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
        sa.Column("received_at", Instant, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("ack_code", sa.String(2), nullable=True),
        sa.Column("error_code", sa.String(60), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("event_id", sa.Integer, sa.ForeignKey("day_events.id"), nullable=True),
        sa.UniqueConstraint("sender", "control_id", name="uq_inbound_sender_control_id"),
    )
    op.create_index("ix_inbound_sender_received", "inbound_messages", ["sender", "received_at"])
    op.create_table(
        "devices",
        sa.Column("device_id", sa.String(200), primary_key=True),
        sa.Column("centre_id", sa.String(64), sa.ForeignKey("centres.id"), nullable=False),
        sa.Column("place", sa.String(100), nullable=False),
        sa.Column("interval_seconds", sa.Integer, nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("The clinical record is never downgraded; restore a backup instead.")
