"""Device tokens instead of user tokens, and the failed log-ins that throttle logging in (issue 14).

``device_tokens``: a token belongs to a named device, not to a user; it has an expiry set when it
is issued and may be revoked (by whom and when is kept). The old ``api_tokens`` acted as the user
they were issued for, so an admin could record in a nurse's name: the table is dropped and every
token issued before this revision stops working (issue device tokens again).

``login_failures``: one row per refused log-in (the name typed, the source address, the time),
read to throttle per account and per address. These rows are working data, not the record: the
audit trail keeps every failed log-in for good. Self-contained (no import of ``tables.py``).

Revision ID: 0006_device_tokens_throttle
Revises: 0005_lab_results
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_device_tokens_throttle"
down_revision = "0005_lab_results"
branch_labels = None
depends_on = None

Instant = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "device_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("device", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", Instant, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("expires_at", Instant, nullable=False),
        sa.Column("revoked_at", Instant, nullable=True),
        sa.Column("revoked_by", sa.String(64), nullable=True),
    )
    op.drop_table("api_tokens")
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", Instant, nullable=False),
    )
    op.create_index("ix_login_failures_username_at", "login_failures", ["username", "at"])
    op.create_index("ix_login_failures_address_at", "login_failures", ["address", "at"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_address_at", "login_failures")
    op.drop_index("ix_login_failures_username_at", "login_failures")
    op.drop_table("login_failures")
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", Instant, nullable=False),
        sa.Column("revoked_at", Instant, nullable=True),
    )
    op.drop_table("device_tokens")
