"""In-memory fakes of the HL7 intake ports: inbound messages and devices."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from infusionist.domain.device_readings import DeviceRecord, InboundMessage, InboundStatus
from infusionist.domain.errors import Conflict


class FakeInbound:
    def __init__(self, rows: dict[Any, Any]) -> None:
        self.rows = rows

    def find(self, sender: str, control_id: str) -> InboundMessage | None:
        return next((m for m in self.rows.values() if (m.sender, m.control_id) == (sender, control_id)), None)

    def get(self, message_id: int) -> InboundMessage | None:
        return self.rows.get(message_id)

    def add(self, message: InboundMessage) -> InboundMessage:
        if self.find(message.sender, message.control_id) is not None:
            raise Conflict("INBOUND-EXISTS", "unique (sender, control_id)")  # the database's constraint
        stored = replace(message, id=len(self.rows) + 1)
        self.rows[stored.id] = stored
        return stored

    def settle(self, message_id: int, status: InboundStatus, ack_code: str, *,
               error_code: str | None = None, error: str | None = None,
               event_id: int | None = None) -> bool:
        if self.rows[message_id].status is not InboundStatus.RECEIVED:
            return False
        self.rows[message_id] = replace(self.rows[message_id], status=status, ack_code=ack_code,
                                        error_code=error_code, error=error, event_id=event_id)
        return True

    def last_seen(self) -> dict[str, datetime]:
        seen: dict[str, datetime] = {}
        for message in self.rows.values():
            seen[message.sender] = max(message.received_at, seen.get(message.sender, message.received_at))
        return seen

    def count(self, status: InboundStatus | None = None) -> int:
        return sum(1 for m in self.rows.values() if status is None or m.status is status)


class FakeDevices:
    def __init__(self, rows: dict[Any, Any]) -> None:
        self.rows = rows

    def get(self, device_id: str) -> DeviceRecord | None:
        return self.rows.get(device_id)

    def put(self, device: DeviceRecord) -> None:
        self.rows[device.device_id] = device

    def list(self) -> list[DeviceRecord]:
        return [self.rows[k] for k in sorted(self.rows)]

    def remove(self, device_id: str) -> bool:
        return self.rows.pop(device_id, None) is not None
