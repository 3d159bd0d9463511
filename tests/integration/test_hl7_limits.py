"""Issue 14 item 8, MLLP limits: a frame over the size limit is answered AR (HL7-FRAME-TOO-LARGE),
kept, and its connection closed; a connection idle past the timeout is closed; connections beyond
the cap are refused while the others go on. Real sockets, the hl7 package's client."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from api_support import engine_of
from hl7.client import MLLPClient
from hl7_support import NURSE_CTX, Unit, ack_fields, listening, oru, register, send, unit_with_day_today

from infusionist.adapters.hl7.mllp import MllpLimits
from infusionist.bootstrap import build
from infusionist.config import Settings
from infusionist.entrypoints.hl7.listener import limits_of
from infusionist.services.deps import Deps
from infusionist.services.events import list_events

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # no database rule here


@pytest.fixture
def deps(settings: Settings) -> Iterator[Deps]:
    built = build(settings)
    yield built
    engine_of(built).dispose()


@pytest.fixture
def unit(deps: Deps) -> Unit:
    register(deps)
    return unit_with_day_today(deps)


def closed_by_peer(client: MLLPClient) -> bool:
    """True when the listener has closed the connection (the next read sees the end)."""
    client.socket.settimeout(5)
    try:
        return client.socket.recv(1) == b""
    except ConnectionError:
        return True


def test_a_frame_over_the_size_limit_is_answered_AR_kept_and_the_connection_closed(
        deps: Deps, unit: Unit) -> None:
    big = oru("BIG-1", unit.pseudonym).replace("PV1||O|CHAIR-1", "PV1||O|CHAIR-1|" + "x" * 8000)
    with listening(deps, MllpLimits(max_frame_bytes=4096)) as port, MLLPClient("127.0.0.1", port) as client:
        ack = ack_fields(client.send_message(big))
        assert ack["code"] == "AR" and ack["control_id"] == "BIG-1"
        assert ack["err"] is not None and ack["err"][5] == "HL7-FRAME-TOO-LARGE"
        assert closed_by_peer(client)
        [small] = send(port, oru("SMALL-1", unit.pseudonym))  # a new connection is heard as usual
    assert small["code"] == "AA"
    with deps.uow() as uow:
        [kept] = uow.inbound.refused()
    assert kept.error_code == "HL7-FRAME-TOO-LARGE" and kept.raw.startswith("MSH|") and len(kept.raw) <= 4096
    assert len(list_events(deps, NURSE_CTX, unit.course_id, 1)) == 1


def test_an_idle_connection_is_closed_after_the_timeout(deps: Deps, unit: Unit) -> None:
    with listening(deps, MllpLimits(idle_timeout_seconds=0.5)) as port, \
            MLLPClient("127.0.0.1", port) as client:
        assert ack_fields(client.send_message(oru("IDLE-1", unit.pseudonym)))["code"] == "AA"
        started = time.monotonic()
        assert closed_by_peer(client)
        assert 0.3 < time.monotonic() - started < 4


def test_connections_beyond_the_cap_are_refused_and_the_others_go_on(deps: Deps, unit: Unit) -> None:
    with listening(deps, MllpLimits(max_connections=2)) as port:
        with MLLPClient("127.0.0.1", port) as one, MLLPClient("127.0.0.1", port) as two:
            assert ack_fields(one.send_message(oru("CAP-1", unit.pseudonym)))["code"] == "AA"
            assert ack_fields(two.send_message(oru("CAP-2", unit.pseudonym)))["code"] == "AA"
            third = socket.create_connection(("127.0.0.1", port), timeout=5)
            try:
                assert third.recv(1) == b""  # closed at once, nothing read from it
            except ConnectionError:
                pass
            finally:
                third.close()
            assert ack_fields(one.send_message(oru("CAP-3", unit.pseudonym)))["code"] == "AA"
        time.sleep(0.2)  # the two closed: room again
        [again] = send(port, oru("CAP-4", unit.pseudonym))
    assert again["code"] == "AA"
    assert len(list_events(deps, NURSE_CTX, unit.course_id, 1)) == 4


def test_the_limits_are_product_defaults_in_the_settings(database_url: str) -> None:
    limits = limits_of(Settings(database_url="sqlite://"))
    assert limits == MllpLimits()
    assert (limits.max_connections, limits.idle_timeout_seconds, limits.max_frame_bytes) == (64, 300.0, 1048576)
    tight = limits_of(Settings(database_url="sqlite://", hl7_max_connections=3, hl7_idle_timeout_seconds=10,
                               hl7_max_frame_bytes=65536))
    assert tight == MllpLimits(3, 10.0, 65536)
