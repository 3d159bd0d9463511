"""Issue 14 item 1, known senders only: the MLLP listener hears only monitors an admin registered
(MSH-3^MSH-4 and the addresses they send from); any other message is answered AR with an ERR
naming the reason, kept raw, and counted per sender on the devices list, the API and the page.
Through a real socket with the hl7 package's client, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_support import ClientFactory, Role, engine_of, snapshot
from hl7_support import NURSE_CTX, Unit, listening, oru, register, send, unit_with_day_today
from typer.testing import CliRunner

from infusionist.bootstrap import build
from infusionist.config import Settings
from infusionist.domain.access import Role as Roles
from infusionist.domain.errors import AccessDenied, ValidationFailed
from infusionist.domain.records import Actor, Context
from infusionist.entrypoints.cli.app import app
from infusionist.services.deps import Deps
from infusionist.services.device_vitals import configure_device, list_devices, retire_device
from infusionist.services.events import list_events

ADMIN = Context(Actor(0, "admin-test", "Admin Test", Roles.ADMIN), "test")


@pytest.fixture
def unit(deps: Deps) -> Unit:
    return unit_with_day_today(deps)


@pytest.fixture
def port(deps: Deps) -> Iterator[int]:
    with listening(deps) as bound:
        yield bound


def events(deps: Deps, unit: Unit) -> int:
    return len(list_events(deps, NURSE_CTX, unit.course_id, 1))


def inbound(deps: Deps) -> int:
    with deps.uow() as uow:
        return uow.inbound.count()


def test_an_unknown_sender_is_answered_AR_naming_the_reason_kept_raw_and_counted(
        deps: Deps, unit: Unit, port: int) -> None:
    message = oru("U-1", unit.pseudonym, sender="ROGUE", facility="LAPTOP")
    [ack] = send(port, message)
    assert ack["code"] == "AR" and ack["control_id"] == "U-1"
    err = ack["err"]
    assert err is not None and err[5] == "HL7-UNKNOWN-SENDER" and "not registered" in err[8]
    assert events(deps, unit) == 0 and inbound(deps) == 0  # nothing of it reached the record
    with deps.uow() as uow:
        [kept] = uow.inbound.refused()
    assert kept.raw == message and kept.raw_encoding == "text" and kept.peer == "127.0.0.1"
    assert (kept.sender, kept.control_id, kept.ack_code) == ("ROGUE^LAPTOP", "U-1", "AR")
    send(port, message)
    [listed] = [v for v in list_devices(deps, NURSE_CTX) if v.device_id == "ROGUE^LAPTOP"]
    assert not listed.configured and listed.refused_count == 2 and listed.last_refused_at


def test_once_registered_the_same_message_is_heard(deps: Deps, unit: Unit, port: int) -> None:
    """A refusal before intake does not take the message's key: the monitor's retransmission
    after an admin registered it is recorded (AA), once."""
    message = oru("LATE-1", unit.pseudonym)
    [refused] = send(port, message)
    register(deps)
    [accepted, again] = send(port, message, message)
    assert (refused["code"], accepted["code"], again["code"]) == ("AR", "AA", "AA")
    assert events(deps, unit) == 1 and inbound(deps) == 1


def test_a_registered_sender_from_another_address_is_refused(deps: Deps, unit: Unit, port: int) -> None:
    register(deps, sources=("10.20.0.0/16",))
    [ack] = send(port, oru("ADDR-1", unit.pseudonym))
    assert ack["code"] == "AR" and ack["err"] is not None and ack["err"][5] == "HL7-SENDER-ADDRESS"
    assert "127.0.0.1" in ack["err"][8] and events(deps, unit) == 0
    register(deps, sources=("10.20.0.0/16", "127.0.0.0/8"))  # a network holding the address
    [ack] = send(port, oru("ADDR-1", unit.pseudonym))
    assert ack["code"] == "AA"


def test_a_retired_sender_is_refused_and_registering_it_again_hears_it(
        deps: Deps, unit: Unit, port: int) -> None:
    register(deps)
    [first] = send(port, oru("RET-1", unit.pseudonym))
    view = retire_device(deps, ADMIN, "MON-01^INFUSION")
    assert view.retired and not view.silent
    [refused] = send(port, oru("RET-2", unit.pseudonym))
    assert first["code"] == "AA" and refused["code"] == "AR"
    assert refused["err"] is not None and refused["err"][5] == "HL7-SENDER-RETIRED"
    register(deps)
    [heard] = send(port, oru("RET-2", unit.pseudonym))
    assert heard["code"] == "AA" and events(deps, unit) == 2


def test_registering_needs_an_admin_and_valid_addresses_and_writes_nothing_otherwise(deps: Deps) -> None:
    from infusionist.domain.device_readings import DeviceRecord

    monitor = DeviceRecord(device_id="MON-05^UNIT", place="CHAIR-5", interval_seconds=60, sources=("10.0.0.5",))
    with pytest.raises(AccessDenied):
        configure_device(deps, NURSE_CTX, monitor)
    for sources in [(), ("not-an-address",), ("10.0.0.0/33",)]:
        with pytest.raises(ValidationFailed) as refused:
            configure_device(deps, ADMIN, DeviceRecord(device_id="MON-05^UNIT", place="CHAIR-5",
                                                       interval_seconds=60, sources=sources))
        assert refused.value.code == "INPUT-DEVICE-SOURCES"
    assert list_devices(deps, NURSE_CTX) == []


def test_the_api_registers_retires_and_counts_refusals(deps: Deps, client_as: ClientFactory) -> None:
    admin = client_as(Role.ADMIN)
    monitor = "MON-08%5EUNIT"
    before = snapshot(deps)
    missing = admin.put(f"/devices/{monitor}", json={"place": "CHAIR-8", "interval_seconds": 60})
    assert missing.status_code == 422 and "sources" in missing.text
    bad = admin.put(f"/devices/{monitor}", json={"place": "CHAIR-8", "interval_seconds": 60,
                                                 "sources": ["10.0.0.300"]})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "INPUT-DEVICE-SOURCES"
    assert "10.0.0.300" in bad.json()["error"]["message"] and snapshot(deps) == before
    ok = admin.put(f"/devices/{monitor}", json={"place": "CHAIR-8", "interval_seconds": 60,
                                                "sources": ["10.0.8.0/24", "fd00::8"]})
    assert ok.status_code == 200 and ok.json()["sources"] == ["10.0.8.0/24", "fd00::8"]
    assert client_as(Role.NURSE).post(f"/devices/{monitor}/retire").status_code == 403
    retired = admin.post(f"/devices/{monitor}/retire")
    assert retired.status_code == 200 and retired.json()["retired"]
    assert admin.post("/devices/NOBODY/retire").status_code == 404
    assert admin.post("/devices/MON%00X/retire").status_code == 422  # PostgreSQL text cannot hold NUL
    unit = unit_with_day_today(deps)
    with listening(deps) as port:
        send(port, oru("API-1", unit.pseudonym, sender="MON-08", facility="UNIT", chair="CHAIR-8"))
    [listed] = client_as(Role.NURSE).get("/devices").json()
    assert listed["device_id"] == "MON-08^UNIT" and listed["retired"] and listed["refused_count"] == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_command_line_registers_lists_retires_and_shows_refusals(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFUSIONIST_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("INFUSIONIST_DATA_DIR", str(settings.data_dir))
    runner = CliRunner()
    added = runner.invoke(app, ["hl7", "device", "MON-03^UNIT", "--place", "CHAIR-3",
                                "--source", "10.0.3.0/24", "--source", "127.0.0.1"])
    assert added.exit_code == 0, added.output
    assert '"10.0.3.0/24"' in added.output
    unsure = runner.invoke(app, ["hl7", "device", "MON-04^UNIT", "--place", "CHAIR-4", "--source", "bay 4"])
    assert unsure.exit_code != 0 and "INPUT-DEVICE-SOURCES" in unsure.output
    retired = runner.invoke(app, ["hl7", "retire", "MON-03^UNIT"])
    assert retired.exit_code == 0 and '"retired": true' in retired.output
    deps = build(settings)
    unit = unit_with_day_today(deps)
    with listening(deps) as port:
        send(port, oru("CLI-1", unit.pseudonym, sender="MON-03", facility="UNIT"))
    engine_of(deps).dispose()
    refused = runner.invoke(app, ["hl7", "refused", "--sender", "MON-03^UNIT"])
    assert refused.exit_code == 0 and "HL7-SENDER-RETIRED" in refused.output
    listed = runner.invoke(app, ["hl7", "devices"])
    assert '"refused_count": 1' in listed.output
