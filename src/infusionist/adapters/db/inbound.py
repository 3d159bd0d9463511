"""Tables and repositories of the HL7 intake: inbound messages and the configured devices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from infusionist.adapters.db.repositories import _Repository
from infusionist.adapters.db.tables import metadata
from infusionist.adapters.db.types import UTCDateTime
from infusionist.domain.device_readings import DeviceRecord, InboundMessage, InboundStatus

inbound_messages = Table(
    "inbound_messages", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sender", String(200), nullable=False),
    Column("control_id", String(200), nullable=False),
    Column("raw", Text, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("status", String(20), nullable=False),
    Column("ack_code", String(2), nullable=True),
    Column("error_code", String(60), nullable=True),
    Column("error", Text, nullable=True),
    Column("event_id", Integer, ForeignKey("day_events.id"), nullable=True),
    UniqueConstraint("sender", "control_id", name="uq_inbound_sender_control_id"),
    Index("ix_inbound_sender_received", "sender", "received_at"),
)

devices = Table(
    "devices", metadata,
    Column("device_id", String(200), primary_key=True),
    Column("centre_id", String(64), ForeignKey("centres.id"), nullable=False),
    Column("place", String(100), nullable=False),
    Column("interval_seconds", Integer, nullable=False),
    Column("description", String(200), nullable=False),
)


_SETTLE = update(inbound_messages).where(inbound_messages.c.id == bindparam("message_id"),
                                         inbound_messages.c.status == InboundStatus.RECEIVED.value)


def _message(row: Any) -> InboundMessage:
    return InboundMessage(**{**dict(row), "status": InboundStatus(row["status"])})


class InboundMessageRepository(_Repository):
    def find(self, sender: str, control_id: str) -> InboundMessage | None:
        row = self._first(inbound_messages, sender=sender, control_id=control_id)
        return _message(row) if row is not None else None

    def get(self, message_id: int) -> InboundMessage | None:
        row = self._first(inbound_messages, id=message_id)
        return _message(row) if row is not None else None

    def add(self, message: InboundMessage) -> InboundMessage:
        values = {k: v for k, v in vars(message).items() if k != "id"}
        values["status"] = message.status.value
        return InboundMessage(**{**vars(message), "id": self._insert(inbound_messages, values)})

    def settle(self, message_id: int, status: InboundStatus, ack_code: str, *,
               error_code: str | None = None, error: str | None = None,
               event_id: int | None = None) -> bool:
        changed = self.c.execute(_SETTLE, {"message_id": message_id, "status": status.value,
                                           "ack_code": ack_code, "error_code": error_code, "error": error,
                                           "event_id": event_id})
        return changed.rowcount == 1

    def last_seen(self) -> dict[str, datetime]:
        t = inbound_messages
        query = select(t.c.sender, func.max(t.c.received_at)).group_by(t.c.sender)
        return dict(self.c.execute(query).tuples().all())  # max() keeps the UTC type

    def count(self, status: InboundStatus | None = None) -> int:
        query = select(func.count()).select_from(inbound_messages)
        if status is not None:
            query = query.where(inbound_messages.c.status == status.value)
        return int(self.c.execute(query).scalar_one())


class DeviceRepository(_Repository):
    def get(self, device_id: str) -> DeviceRecord | None:
        row = self._first(devices, device_id=device_id)
        return DeviceRecord(**row) if row is not None else None

    def put(self, device: DeviceRecord) -> None:
        values = vars(device)
        changed = self.c.execute(
            update(devices).where(devices.c.device_id == device.device_id).values(values))
        if changed.rowcount == 0:
            self.c.execute(insert(devices).values(values))

    def list(self) -> list[DeviceRecord]:
        return [DeviceRecord(**r) for r in self._rows(select(devices).order_by(devices.c.device_id))]

    def remove(self, device_id: str) -> bool:
        """Forget a retired monitor's place and interval; False when it was not configured."""
        return bool(self.c.execute(delete(devices).where(devices.c.device_id == device_id)).rowcount)
