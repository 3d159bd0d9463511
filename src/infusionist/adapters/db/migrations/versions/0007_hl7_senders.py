"""Known HL7 senders only (issue 14 item 1): a device's allowed source addresses and retirement,
and the messages refused before intake (unknown sender, frame too large, unstorable), kept raw.

Devices registered before this revision get no address: their messages are refused
(``HL7-SENDER-ADDRESS``) until an administrator gives each its addresses (``docs/hl7.md``).
Self-contained on purpose (no import of ``tables.py``).

Revision ID: 0007_hl7_senders
Revises: 0006_device_tokens_throttle
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_hl7_senders"
down_revision = "0006_device_tokens_throttle"
branch_labels = None
depends_on = None

Instant = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("sources", sa.String(500), nullable=False, server_default=""))
        batch.add_column(sa.Column("retired_at", Instant, nullable=True))
    op.create_table(
        "hl7_refusals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("received_at", Instant, nullable=False),
        sa.Column("peer", sa.String(100), nullable=False),
        sa.Column("sender", sa.String(200), nullable=False),
        sa.Column("control_id", sa.String(200), nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
        sa.Column("raw_encoding", sa.String(10), nullable=False),
        sa.Column("ack_code", sa.String(2), nullable=False),
        sa.Column("error_code", sa.String(60), nullable=False),
        sa.Column("error", sa.Text, nullable=False),
    )
    op.create_index("ix_hl7_refusals_sender", "hl7_refusals", ["sender", "received_at"])


def downgrade() -> None:
    raise NotImplementedError("The clinical record is never downgraded; restore a backup instead.")
