"""Who is heard over MLLP (issue 14 item 1): the pure rule behind the allow-list."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from infusionist.domain.device_readings import DeviceRecord, invalid_sources, sender_refusal

MONITOR = DeviceRecord(device_id="MON-01^UNIT", place="CHAIR-1", interval_seconds=60,
                       sources=("10.1.2.0/24", "192.168.7.15", "fd00:1::/64"))


@pytest.mark.parametrize(("peer", "heard"), [
    ("10.1.2.200", True), ("192.168.7.15", True), ("::ffff:10.1.2.9", True),  # IPv4 seen through IPv6
    ("fd00:1::9", True), ("fd00:1::9%eth0", True),
    ("10.1.3.1", False), ("192.168.7.16", False), ("fd00:2::1", False), ("", False), ("not-an-ip", False),
])
def test_a_registered_sender_is_heard_only_from_its_addresses(peer: str, heard: bool) -> None:
    refusal = sender_refusal(MONITOR, "MON-01^UNIT", peer)
    assert (refusal is None) is heard
    if not heard:
        assert refusal is not None and refusal[0] == "HL7-SENDER-ADDRESS"


def test_unknown_and_retired_senders_are_not_heard_whatever_the_address() -> None:
    assert sender_refusal(None, "ROGUE", "10.1.2.3") == (
        "HL7-UNKNOWN-SENDER", "The sender ROGUE is not registered; an administrator must register it "
        "before its readings are accepted.")
    retired = DeviceRecord(**{**vars(MONITOR), "retired_at": datetime(2026, 12, 1, tzinfo=UTC)})
    refusal = sender_refusal(retired, "MON-01^UNIT", "10.1.2.3")
    assert refusal is not None and refusal[0] == "HL7-SENDER-RETIRED"
    long = sender_refusal(None, "M" * 10_000, "10.1.2.3")
    assert long is not None and len(long[1]) < 200  # an over-long sender is not echoed whole


def test_sources_must_be_addresses_or_networks() -> None:
    assert invalid_sources(("10.0.0.0/8", "::1", " 192.168.0.1 ")) == []
    assert invalid_sources(("10.0.0.0/33", "bay 4", "10.0.0.1/24")) == ["10.0.0.0/33", "bay 4"]
