"""The current schema as SQLAlchemy Core tables (the migrations create it; repositories use it)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from infusionist.adapters.db.types import UTCDateTime

metadata = MetaData()

centres = Table(
    "centres", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("config", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=True),
)

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("full_name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

sessions = Table(
    "sessions", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
)

device_tokens = Table(
    "device_tokens", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device", String(64), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("revoked_by", String(64), nullable=True),
)

# Refused log-ins, read to throttle (migration 0006); the audit trail keeps them for good.
login_failures = Table(
    "login_failures", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("address", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_login_failures_username_at", "username", "at"),
    Index("ix_login_failures_address_at", "address", "at"),
)

patients = Table(
    "patients", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("centre_id", String(64), ForeignKey("centres.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("birth_date", Date, nullable=True),
    Column("sex", String(10), nullable=False),
    Column("childbearing_potential", Boolean, nullable=False),
    Column("weight_kg", String(20), nullable=True),
    Column("pseudonym", String(32), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    # The hospital's patient number and how the unit reaches the patient (migration 0010).
    Column("identifier", String(64), nullable=True),
    Column("contact", String(200), nullable=True),
    Index("ix_patients_identifier", "centre_id", "identifier", unique=True),
)

courses = Table(
    "courses", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("patient_id", Integer, ForeignKey("patients.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("protocol_id", String(100), nullable=False),
    Column("protocol_version", String(40), nullable=False),
    Column("plan", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
    # First and last infusion day, for finding a day's courses by index (migration 0004).
    Column("first_day", Date, nullable=True),
    Column("last_day", Date, nullable=True),
    # The version of the centre's settings the plan was made with (migration 0010).
    Column("centre_version", Integer, nullable=True),
    UniqueConstraint("patient_id", "number", name="uq_courses_patient_number"),
    Index("ix_courses_days", "last_day", "first_day"),
)

day_events = Table(
    "day_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("course_id", Integer, ForeignKey("courses.id"), nullable=False),
    Column("day", Integer, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("type", String(40), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("recorded_by", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("signature", JSON, nullable=True),
    UniqueConstraint("course_id", "day", "seq", name="uq_day_events_course_day_seq"),
)

follow_up_tasks = Table(
    "follow_up_tasks", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("course_id", Integer, ForeignKey("courses.id"), nullable=False),
    Column("activity_id", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("due", Date, nullable=False),
    Column("opens", Date, nullable=False),
    Column("overdue_from", Date, nullable=False),
    Column("status", String(20), nullable=False),  # due, done, cancelled (overdue: derived)
    Column("closed_on", Date, nullable=True),
    Column("reason", Text, nullable=True),
    # The protocol element, a call's infusion day and the requirement IDs (0011): stored, never
    # parsed out of the activity id.
    Column("element", String(100), nullable=False),
    Column("infusion_day", Integer, nullable=True),
    Column("requirements", JSON, nullable=False),
    Index("ix_follow_up_tasks_status_due", "status", "due"),
)

lab_results = Table(
    "lab_results", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("patient_id", Integer, ForeignKey("patients.id"), nullable=False),
    Column("course_id", Integer, ForeignKey("courses.id"), nullable=False),
    Column("analyte", String(60), nullable=False),
    Column("value", String(40), nullable=False),  # the exact decimal text entered
    Column("unit", String(30), nullable=False),  # UCUM
    Column("reference_low", String(40), nullable=True),
    Column("reference_high", String(40), nullable=True),
    Column("taken_on", Date, nullable=False),
    Column("recorded_by", String(64), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Index("ix_lab_results_patient_analyte", "patient_id", "analyte", "taken_on"),
)

audit_log = Table(
    "audit_log", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(60), nullable=False),
    Column("entity", String(60), nullable=False),
    Column("entity_id", String(100), nullable=False),
    Column("old_value", JSON(none_as_null=True), nullable=True),
    Column("new_value", JSON(none_as_null=True), nullable=True),
    Column("reason", Text, nullable=True),
    Column("request_id", String(64), nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

chairs = Table(
    "chairs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("centre_id", String(64), nullable=False),
    Column("name", String(40), nullable=False),
    Column("kind", String(20), nullable=False),  # recliner, bed
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("centre_id", "name", name="uq_chairs_centre_name"),
)

unit_settings = Table(
    "unit_settings", metadata,
    Column("centre_id", String(64), primary_key=True),
    Column("settings", JSON, nullable=False),  # domain.capacity.UnitRules
    Column("updated_at", UTCDateTime, nullable=False),
)

# The chair each planned infusion day holds (migration 0009; PostgreSQL also excludes overlaps).
chair_bookings = Table(
    "chair_bookings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("chair_id", Integer, ForeignKey("chairs.id"), nullable=False),
    Column("course_id", Integer, ForeignKey("courses.id"), nullable=False),
    Column("day", Integer, nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("infusion_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("held_until", UTCDateTime, nullable=False),
    Column("booked_at", UTCDateTime, nullable=False),
    Column("booked_by", String(64), nullable=False),
    Column("cancelled_at", UTCDateTime, nullable=True),
    Column("cancelled_by", String(64), nullable=True),
    Column("cancel_reason", Text, nullable=True),
    CheckConstraint("starts_at < ends_at AND ends_at <= held_until", name="ck_chair_bookings_times"),
    Index("ix_chair_bookings_starts", "starts_at"),
)


# The row ledger (migration 0008, ``adapters/db/ledger.py``): one hash-chained entry each time the
# application writes a protected row, naming the row and the SHA-256 of its content.
row_ledger = Table(
    "row_ledger", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("table_name", String(60), nullable=False),
    Column("row_key", String(200), nullable=False),
    Column("digest", String(64), nullable=True),
    Column("kind", String(10), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# Every save of a centre's settings: a new numbered version, never changed (migration 0010).
centre_versions = Table(
    "centre_versions", metadata,
    Column("centre_id", String(64), ForeignKey("centres.id"), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("config", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("signed_by", String(64), nullable=True),
    Column("reason", Text, nullable=True),
)

# The one-time message a page shows after a form was posted, per session (migration 0010).
flash_messages = Table(
    "flash_messages", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("kind", String(10), nullable=False),
    Column("message", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

APPEND_ONLY_TABLES = ("day_events", "audit_log", "lab_results", "row_ledger", "centre_versions")
