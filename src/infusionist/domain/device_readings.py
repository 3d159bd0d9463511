"""Vital signs sent by bedside monitors, and the record of every message a device sent.

A monitor's message becomes a :class:`DeviceReading` (parsed by the HL7 adapter) and then an
ordinary ``vital_signs`` event, recorded by the device's own actor so the source stays visible.
Every inbound message is kept as an :class:`InboundMessage` whose status follows one lifecycle:

    received --(event committed)--> accepted      (ack AA)
    received --(cannot be accepted)--> refused    (ack AE, with the problem)

A message still ``received`` after a crash is processed again when the device retransmits it.

Only registered senders are heard: a :class:`DeviceRecord` names the sender (MSH-3^MSH-4) and
the addresses (or networks) it may send from; :func:`sender_refusal` says why any other message
is refused before it is read. Such refusals are kept apart (:class:`RefusedMessage`), so a
sender registered later can send the same message again.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

# The longest sender (MSH-3^MSH-4) and control ID (MSH-10) kept as a message's key.
MAX_KEY_LENGTH = 200
# Observation times outside these years are refused (the product's supported range).
EARLIEST_YEAR, LATEST_YEAR = 1900, 2199


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
    # Where it may send from: IP addresses or networks (CIDR), e.g. ``10.1.2.0/24``.
    sources: tuple[str, ...] = ()
    retired_at: datetime | None = None  # set: it is no longer heard


@dataclass(frozen=True, kw_only=True)
class RefusedMessage:
    """A message refused before it was taken in (unknown sender, too large, unstorable), kept as
    received: ``raw`` is the text, or its UTF-8 bytes in base64 when ``raw_encoding`` says so."""

    id: int = 0
    received_at: datetime
    peer: str
    sender: str
    control_id: str
    raw: str
    raw_encoding: str = "text"
    ack_code: str
    error_code: str
    error: str


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
    observed_where: str = ""  # the field that gave ``observed_at`` (e.g. ``OBX^2^14``)
    sent_at: datetime | None = None  # MSH-7, naive when it gave no UTC offset


def device_actor_name(device: str) -> str:
    """The author recorded on a device's events: ``device:`` and its identifier."""
    return f"device:{device}"[:64]


def is_silent(last_message_at: datetime | None, interval_seconds: int, now: datetime) -> bool:
    """A monitor is silent when nothing came for twice its interval (or it never sent)."""
    if last_message_at is None:
        return True
    return now - last_message_at > timedelta(seconds=2 * interval_seconds)


def invalid_sources(sources: tuple[str, ...]) -> list[str]:
    """The entries that are neither an IP address nor a network (CIDR)."""
    bad = []
    for source in sources:
        try:
            ipaddress.ip_network(source.strip(), strict=False)
        except ValueError:
            bad.append(source)
    return bad


def sender_refusal(device: DeviceRecord | None, sender: str, peer: str) -> tuple[str, str] | None:
    """Why a message from ``sender`` arriving from address ``peer`` is not heard (code, sentence),
    or None when the sender is registered, not retired, and sends from one of its addresses."""
    shown = sender[:80] or "(none)"
    if device is None:
        return ("HL7-UNKNOWN-SENDER", f"The sender {shown} is not registered; an administrator must "
                "register it before its readings are accepted.")
    if device.retired_at is not None:
        return ("HL7-SENDER-RETIRED", f"The sender {shown} was retired; an administrator must "
                "register it again before its readings are accepted.")
    if not _address_allowed(peer, device.sources):
        return ("HL7-SENDER-ADDRESS", f"The sender {shown} may not send from this address "
                f"({peer[:64] or 'unknown'}); an administrator must add it to the sender's addresses.")
    return None


def _address_allowed(peer: str, sources: tuple[str, ...]) -> bool:
    try:
        address = ipaddress.ip_address(peer.split("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for source in sources:
        try:
            if address in ipaddress.ip_network(source.strip(), strict=False):
                return True
        except ValueError:
            continue
    return False
