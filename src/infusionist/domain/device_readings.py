"""Vital signs sent by bedside monitors, and the record of every message a device sent.

A monitor's message becomes a :class:`DeviceReading` (parsed by the HL7 adapter) and then an
ordinary ``vital_signs`` event, recorded by the device's own actor so the source stays visible.
Every inbound message is kept as an :class:`InboundMessage` whose status follows one lifecycle:

    received --(event committed)--> accepted      (ack AA)
    received --(cannot be accepted)--> refused    (ack AE, with the problem)

A message still ``received`` after a crash is processed again when the device retransmits it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum


class InboundStatus(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    REFUSED = "refused"

    @property
    def final(self) -> bool:
        return self is not InboundStatus.RECEIVED


@dataclass(frozen=True, kw_only=True)
class InboundMessage:
    id: int = 0
    sender: str
    control_id: str
    raw: str
    received_at: datetime
    status: InboundStatus = InboundStatus.RECEIVED
    ack_code: str | None = None
    error_code: str | None = None
    error: str | None = None
    event_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class DeviceRecord:
    """Which place (chair or bed) a monitor belongs to, and how often it should send."""

    device_id: str
    place: str
    interval_seconds: int
    centre_id: str = "default"
    description: str = ""


@dataclass(frozen=True, kw_only=True)
class DeviceReading:
    """One ORU message's vital signs, in the units of the day events (Cel, /min, mm[Hg], %)."""

    sender: str
    control_id: str
    device: str
    patient: str
    point_of_care: str | None
    observed_at: datetime | None  # naive when the message gave no UTC offset
    values: Mapping[str, Decimal] = field(default_factory=dict)


def device_actor_name(device: str) -> str:
    """The author recorded on a device's events: ``device:`` and its identifier."""
    return f"device:{device}"[:64]


def is_silent(last_message_at: datetime | None, interval_seconds: int, now: datetime) -> bool:
    """A monitor is silent when nothing came for twice its interval (or it never sent)."""
    if last_message_at is None:
        return True
    return now - last_message_at > timedelta(seconds=2 * interval_seconds)
