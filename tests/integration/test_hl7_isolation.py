"""Issue 14 item 4, one bad message harms only itself: a group-commit batch of valid messages with
one poison message among them (a NUL byte, an over-long MSH-10, a time in 2099, ...) answers the
valid ones AA and the poison one AE/AR naming the reason, which is kept. Through real MLLP sockets
with the hl7 package's client, on SQLite and PostgreSQL. Also: a message stored before a crash and
sent again later is recorded once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api_support import engine_of
from hl7_support import NURSE_CTX, Unit, listening, oru, register, send, serving, unit_with_day_today

from infusionist.adapters.hl7.mllp import Frame
from infusionist.bootstrap import build
from infusionist.config import Settings
from infusionist.domain.device_readings import InboundStatus
from infusionist.entrypoints.hl7.intake import Intake
from infusionist.services import device_vitals
from infusionist.services.deps import Deps
from infusionist.services.events import list_events

VALID = 9


@pytest.fixture
def deps(settings: Settings) -> Iterator[Deps]:
    built = build(settings)
    yield built
    engine_of(built).dispose()


@pytest.fixture
def unit(deps: Deps) -> Unit:
    register(deps)
    return unit_with_day_today(deps)


class Gate:
    """The intake, held shut until a whole batch is waiting, so that the valid messages and the
    poison one are settled in one batch (one group commit)."""

    def __init__(self, intake: Intake) -> None:
        self.intake = intake
        self.entered = threading.Event()
        self.open = threading.Event()
        self.batches: list[int] = []

    def __call__(self, frames: Sequence[Frame]) -> list[str]:
        self.entered.set()
        self.open.wait(30)
        self.batches.append(len(frames))
        return self.intake(frames)


def one_batch(deps: Deps, messages: list[str]) -> list[dict[str, Any]]:
    """Send each message on its own connection so that all wait together, then let them through
    as one batch (after a first message that holds the gate); their ACKs in order."""
    gate = Gate(Intake(deps))
    acks: dict[int, dict[str, Any]] = {}
    with serving(gate) as (server, port):
        first = threading.Thread(target=lambda: send(port, oru("HOLD-0", "P-NOBODY")))
        first.start()
        assert gate.entered.wait(30)  # the first message is in the handler, behind the gate

        def monitor(n: int, message: str) -> None:
            [acks[n]] = send(port, message)

        threads = [threading.Thread(target=monitor, args=(n, m)) for n, m in enumerate(messages)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while server._waiting is not None and server._waiting.qsize() < len(messages):
            assert time.monotonic() < deadline, "the messages did not arrive"
            time.sleep(0.01)
        gate.open.set()
        for thread in [first, *threads]:
            thread.join(30)
    assert gate.batches == [1, len(messages)]  # the hold message alone, then all together
    return [acks[n] for n in range(len(messages))]


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S+0000")


POISON: dict[str, tuple[Callable[[Unit], str], str, str]] = {
    "NUL byte": (lambda u: oru("POISON", u.pseudonym).replace("Muster^Max", "Mus\x00ter"), "AE", "HL7-MALFORMED"),
    "over-long MSH-10": (lambda u: oru("X" * 300, u.pseudonym), "AE", "HL7-MALFORMED"),
    "over-long sender": (lambda u: oru("POISON", u.pseudonym, sender="M" * 300), "AR", "HL7-UNKNOWN-SENDER"),
    "unknown sender": (lambda u: oru("POISON", u.pseudonym, sender="ROGUE"), "AR", "HL7-UNKNOWN-SENDER"),
    "patient number beyond any integer": (lambda u: oru("POISON", "9" * 40), "AE", "HL7-UNKNOWN-PATIENT"),
    "over-long patient identifier": (lambda u: oru("POISON", "P-" + "Z" * 5000), "AE", "HL7-UNKNOWN-PATIENT"),
    "observation in 2099": (lambda u: oru("POISON", u.pseudonym, when="20990101120000+0000"),
                            "AE", "HL7-TIME-IN-FUTURE"),
    "value beyond any decimal": (lambda u: oru("POISON", u.pseudonym, obs={"8867-4": ("1e999999999", "/min")}),
                                 "AE", "HL7-VALUE"),
    "not ORU": (lambda u: oru("POISON", u.pseudonym, message_type="ADT^A01"), "AE", "HL7-UNSUPPORTED"),
}


@pytest.mark.parametrize("poison", list(POISON))
def test_one_poison_message_in_a_batch_is_refused_alone_and_the_others_are_recorded(
        deps: Deps, unit: Unit, poison: str) -> None:
    make, ack_code, error_code = POISON[poison]
    messages = [oru(f"OK-{n}", unit.pseudonym) for n in range(VALID)]
    messages.insert(4, make(unit))
    acks = one_batch(deps, messages)
    codes = [ack["code"] for ack in acks]
    assert codes[:4] + codes[5:] == ["AA"] * VALID, [a["text"] for a in acks]
    assert codes[4] == ack_code and acks[4]["err"] is not None and acks[4]["err"][5] == error_code, acks[4]
    assert len(list_events(deps, NURSE_CTX, unit.course_id, 1)) == VALID
    with deps.uow() as uow:
        kept = uow.inbound.refused()
        refused_inbound = uow.inbound.count(InboundStatus.REFUSED)
        accepted = uow.inbound.count(InboundStatus.ACCEPTED)
    assert accepted == VALID
    # the poison message is kept: refused before intake, or stored and refused (plus the hold message)
    assert len(kept) + refused_inbound == 2
    if "\x00" in make(unit):
        [nul] = [k for k in kept if k.error_code == "HL7-MALFORMED"]
        import base64
        assert nul.raw_encoding == "base64" and base64.b64decode(nul.raw).decode() == make(unit)


def test_a_batch_whose_storage_fails_for_one_message_stores_the_others(
        deps: Deps, unit: Unit, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database error that belongs to one message (not an outage) while storing the batch: each
    is stored alone, and the one still refused is kept encoded and answered AE HL7-UNSTORABLE."""
    from sqlalchemy.exc import DataError

    original = device_vitals._receive_one

    def picky(uow: Any, deps: Deps, message: device_vitals.Incoming) -> Any:
        if message.control_id == "BAD":
            raise DataError("INSERT", {}, Exception("value the database refuses"))
        return original(uow, deps, message)

    monkeypatch.setattr(device_vitals, "_receive_one", picky)
    messages = [oru("A", unit.pseudonym), oru("BAD", unit.pseudonym), oru("C", unit.pseudonym)]
    acks = Intake(deps)([Frame(m, "127.0.0.1") for m in messages])
    assert [a.split("\r")[1].split("|")[1] for a in acks] == ["AA", "AE", "AA"]
    assert "HL7-UNSTORABLE" in acks[1]
    with deps.uow() as uow:
        [kept] = uow.inbound.refused()
    assert kept.raw_encoding == "base64" and kept.control_id == "BAD"
    assert len(list_events(deps, NURSE_CTX, unit.course_id, 1)) == 2


def test_a_message_stored_before_a_crash_is_recorded_once_when_sent_again(deps: Deps, unit: Unit) -> None:
    """docs/hl7.md: the raw message is committed before it is parsed; if the listener dies before
    settling it, the retransmission settles it (AA), and nothing is stored twice."""
    message = oru("CRASH-1", unit.pseudonym)
    [stored] = device_vitals.receive(deps, [device_vitals.Incoming("MON-01^INFUSION", "CRASH-1", message,
                                                                    "127.0.0.1")])
    assert stored.settled is None  # stored, never settled: the listener died here
    with listening(deps) as port:
        [ack, again] = send(port, message, message)
    assert ack["code"] == "AA" and again["code"] == "AA"
    assert len(list_events(deps, NURSE_CTX, unit.course_id, 1)) == 1
    with deps.uow() as uow:
        assert uow.inbound.count() == 1 and uow.inbound.count(InboundStatus.ACCEPTED) == 1


@pytest.mark.parametrize(("offset", "code"), [
    (timedelta(minutes=2), "AA"),                      # a monitor's clock a little ahead: tolerated
    (timedelta(hours=1), "HL7-TIME-IN-FUTURE"),
    (timedelta(days=365 * 70), "HL7-TIME-IN-FUTURE"),  # 2099 and beyond: never AA
])
def test_an_observation_time_later_than_now_is_refused_beyond_the_clock_tolerance(
        deps: Deps, unit: Unit, offset: timedelta, code: str) -> None:
    when = stamp(datetime.now(UTC) + offset)
    with listening(deps) as port:
        msh7 = oru("T-MSH", unit.pseudonym).replace("|UNIT||", f"|UNIT|{when}|", 1)
        [sent] = send(port, msh7)  # observed at receipt, sent "at" MSH-7
        [obx] = send(port, oru("T-OBX", unit.pseudonym, when=when))
    for ack in (obx, sent):
        if code == "AA":
            assert ack["code"] == "AA", ack["text"]
        else:
            assert ack["code"] == "AE" and ack["err"] is not None and ack["err"][5] == code, ack["text"]
            assert ack["err"][3].split("^")[0] == "102"
    expected = 2 if code == "AA" else 0
    assert len(list_events(deps, NURSE_CTX, unit.course_id, 1)) == expected


def test_a_time_outside_the_supported_years_is_refused(deps: Deps, unit: Unit) -> None:
    with listening(deps) as port:
        [ack] = send(port, oru("T-9999", unit.pseudonym, when="99991231235959+1400"))
    assert ack["code"] == "AE" and ack["err"] is not None and ack["err"][5] == "HL7-TIME"
