"""In-memory fakes of the HL7 intake ports: inbound messages and devices."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from infusionist.domain.device_readings import DeviceRecord, InboundMessage, InboundStatus, RefusedMessage
from infusionist.domain.errors import Conflict


class FakeInbound:
    def __init__(self, rows: dict[Any, Any], refusals: dict[int, RefusedMessage]) -> None:
        self.rows = rows
        self.refusals = refusals

    def find(self, sender: str, control_id: str) -> InboundMessage | None:
        return next((m for m in self._messages() if (m.sender, m.control_id) == (sender, control_id)), None)

    def get(self, message_id: int) -> InboundMessage | None:
        return self.rows.get(message_id)

    def add(self, message: InboundMessage) -> InboundMessage:
        if self.find(message.sender, message.control_id) is not None:
            raise Conflict("INBOUND-EXISTS", "unique (sender, control_id)")  # the database's constraint
        stored = replace(message, id=len(self._messages()) + 1)
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
        for message in self._messages():
            seen[message.sender] = max(message.received_at, seen.get(message.sender, message.received_at))
        return seen

    def count(self, status: InboundStatus | None = None) -> int:
        return sum(1 for m in self._messages() if status is None or m.status is status)

    def _messages(self) -> list[InboundMessage]:
        return list(self.rows.values())

    def add_refused(self, message: RefusedMessage) -> RefusedMessage:
        stored = replace(message, id=len(self.refusals) + 1)
        self.refusals[stored.id] = stored
        return stored

    def refused(self, sender: str | None = None) -> list[RefusedMessage]:
        return [m for m in self.refusals.values() if sender is None or m.sender == sender]

    def refusals_by_sender(self) -> dict[str, tuple[int, datetime]]:
        counts: dict[str, tuple[int, datetime]] = {}
        refused = [m for m in self._messages() if m.status is InboundStatus.REFUSED]
        for message in [*self.refusals.values(), *refused]:
            count, last = counts.get(message.sender, (0, message.received_at))
            counts[message.sender] = (count + 1, max(last, message.received_at))
        return counts


class FakeDevices:
    def __init__(self, rows: dict[Any, Any]) -> None:
        self.rows = rows

    def get(self, device_id: str) -> DeviceRecord | None:
        return self.rows.get(device_id)

    def put(self, device: DeviceRecord) -> None:
        self.rows[device.device_id] = device

    def list(self) -> list[DeviceRecord]:
        return [self.rows[k] for k in sorted(self.rows)]
