"""HL7 intake over a real MLLP socket (the hl7 package's client): every acknowledgement checked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_support import engine_of
from hl7_support import PHYSICIAN, Unit, ack_fields, listening, oru, register, send, unit_with_day_today

from infusionist.bootstrap import build
from infusionist.config import Settings
from infusionist.domain.access import Role
from infusionist.domain.device_readings import InboundStatus
from infusionist.domain.records import Actor, Context
from infusionist.services.deps import Deps
from infusionist.services.device_vitals import list_devices
from infusionist.services.events import day_state, list_events
from infusionist.services.patients import RegisterPatient, register_patient

NURSE = Context(Actor(0, "nurse-test", "Nurse Test", Role.NURSE), "test")
ADMIN = Context(Actor(0, "admin-test", "Admin Test", Role.ADMIN), "test")


@pytest.fixture
def deps(settings: Settings) -> Iterator[Deps]:
    """The wired services without the per-role users (no password hashing: quicker set-up)."""
    built = build(settings)
    yield built
    engine_of(built).dispose()


@pytest.fixture
def unit(deps: Deps) -> Unit:
    return unit_with_day_today(deps)


@pytest.fixture
def port(deps: Deps) -> Iterator[int]:
    register(deps)  # MON-01^INFUSION at CHAIR-1, from this machine
    with listening(deps) as bound:
        yield bound


def events(deps: Deps, unit: Unit) -> list[dict[str, Any]]:
    return [e.as_json() for e in list_events(deps, NURSE, unit.course_id, 1)]


def inbound_count(deps: Deps, status: InboundStatus | None = None) -> int:
    with deps.uow() as uow:
        return uow.inbound.count(status)


def test_vital_signs_are_recorded_as_an_event_of_the_device_and_acknowledged_AA(
        deps: Deps, unit: Unit, port: int) -> None:
    [ack] = send(port, oru("MSG-1", unit.pseudonym))
    assert ack["code"] == "AA" and ack["control_id"] == "MSG-1" and ack["err"] is None
    [event] = events(deps, unit)
    assert event["type"] == "vital_signs" and event["recorded_by"] == "device:MON-01^INFUSION"
    assert event["payload"]["by"] == "device:MON-01^INFUSION"
    assert event["payload"]["heart_rate_bpm"] == "72" and event["payload"]["spo2_percent"] == "98"
    with deps.uow() as uow:
        stored = uow.inbound.find("MON-01^INFUSION", "MSG-1")
    assert stored is not None and stored.status is InboundStatus.ACCEPTED
    assert stored.raw.startswith("MSH|^~\\&|MON-01|INFUSION") and stored.event_id is not None


def test_patient_number_in_PID_3_is_accepted_too(deps: Deps, unit: Unit, port: int) -> None:
    [ack] = send(port, oru("MSG-N", str(unit.patient_id)))
    assert ack["code"] == "AA"


def test_a_repeated_control_id_is_acknowledged_again_and_stored_once(
        deps: Deps, unit: Unit, port: int) -> None:
    message = oru("MSG-DUP", unit.pseudonym)
    first, again = send(port, message, message)
    [third] = send(port, message)  # a new connection, as after a monitor restart
    assert [first["code"], again["code"], third["code"]] == ["AA", "AA", "AA"]
    assert len(events(deps, unit)) == 1 and inbound_count(deps) == 1


def test_an_alarming_value_raises_the_same_alert_as_manual_entry(deps: Deps, unit: Unit, port: int) -> None:
    [ack] = send(port, oru("MSG-SPO2", unit.pseudonym, obs={"150456": ("85", "262688^MDC_DIM_PERCENT")},
                           system="MDC"))
    assert ack["code"] == "AA"
    state = day_state(deps, NURSE, unit.course_id, 1)
    assert "LOW-SPO2" in {alert.code for alert in state.state.alerts}


def test_mdc_codes_and_fahrenheit_are_converted(deps: Deps, unit: Unit, port: int) -> None:
    obs = {"147842": ("80", "264864^MDC_DIM_BEAT_PER_MIN"), "150021": ("131", "266016^MDC_DIM_MMHG"),
           "150022": ("84", "266016^MDC_DIM_MMHG"), "150364": ("98.6", "[degF]"),
           "151562": ("16", "264928^MDC_DIM_RESP_PER_MIN")}
    [ack] = send(port, oru("MSG-MDC", unit.pseudonym, obs=obs, system="MDC"))
    assert ack["code"] == "AA", ack["text"]
    payload = events(deps, unit)[0]["payload"]
    assert payload["temperature_c"] == "37.0" and payload["systolic_mmhg"] == "131"
    assert payload["heart_rate_bpm"] == "80" and payload["respiratory_rate_per_min"] == "16"


@pytest.mark.parametrize(("message", "code", "hl7_code", "words"), [
    (lambda u: oru("E-1", "P-NOBODY"), "HL7-UNKNOWN-PATIENT", "204", "no patient 'P-NOBODY'"),
    (lambda u: oru("E-2", u.pseudonym, obs={"8310-5": ("98.6", "Cel")}), "VITALS-IMPLAUSIBLE", "207",
     "looks like Fahrenheit"),
    (lambda u: oru("E-3", u.pseudonym, obs={"8480-6": ("70", "mm[Hg]"), "8462-4": ("90", "mm[Hg]")}),
     "VITALS-IMPLAUSIBLE", "207", "must be above diastolic"),
    (lambda u: oru("E-4", u.pseudonym, obs={"8867-4": ("fast", "/min")}), "HL7-VALUE", "102", "not a number"),
    (lambda u: oru("E-5", u.pseudonym, obs={"8867-4": ("72", "Hz")}), "HL7-UNIT", "103", "unit 'Hz'"),
    (lambda u: oru("E-6", u.pseudonym, obs={"1234-5": ("1", "1")}), "HL7-NO-VITALS", "101", "No OBX"),
    (lambda u: oru("E-7", u.pseudonym, message_type="ADT^A01^ADT_A01"), "HL7-UNSUPPORTED", "200", "ADT"),
    (lambda u: oru("E-8", ""), "HL7-NO-PATIENT", "101", "PID-3"),
])
def test_a_message_that_cannot_be_accepted_gets_AE_with_ERR_naming_the_problem(
        deps: Deps, unit: Unit, port: int, message: Any, code: str, hl7_code: str, words: str) -> None:
    text = message(unit)
    [ack] = send(port, text)
    assert ack["code"] == "AE", ack["text"]
    err = ack["err"]
    assert err is not None and err[3].split("^")[0] == hl7_code and err[4] == "E" and err[5] == code
    assert words in err[8].replace("\\T\\", "&")
    assert events(deps, unit) == [] and inbound_count(deps, InboundStatus.REFUSED) == 1
    [again] = send(port, text)  # retransmitted: the same answer, nothing stored twice
    assert again["code"] == "AE" and again["err"] is not None and again["err"][5] == code
    assert inbound_count(deps) == 1


def test_no_infusion_day_today_is_refused(deps: Deps, unit: Unit, port: int) -> None:
    lonely = register_patient(deps, PHYSICIAN, RegisterPatient(name="No Course", birth_date=None, sex="male"))
    [ack] = send(port, oru("E-DAY", lonely["pseudonym"]))
    assert ack["code"] == "AE" and ack["err"] is not None and ack["err"][5] == "HL7-NO-INFUSION-DAY"


def test_garbage_without_MSH_names_no_sender_and_is_kept_and_refused_AR(deps: Deps, port: int) -> None:
    [ack] = send(port, "HELLO|this is not HL7\r")
    assert ack["code"] == "AR" and ack["err"] is not None and ack["err"][5] == "HL7-UNKNOWN-SENDER"
    with deps.uow() as uow:
        [kept] = uow.inbound.refused()
    assert kept.raw == "HELLO|this is not HL7\r" and kept.error_code == "HL7-UNKNOWN-SENDER"
    assert inbound_count(deps) == 0


def test_an_unavailable_database_is_answered_AR_and_the_retransmission_is_accepted(
        deps: Deps, unit: Unit, port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.exc import OperationalError

    from infusionist.services import device_vitals

    original = device_vitals.receive

    def down(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(device_vitals, "receive", down)
    [ack] = send(port, oru("MSG-AR", unit.pseudonym))
    assert ack["code"] == "AR" and ack["err"] is not None and ack["err"][5] == "HL7-UNAVAILABLE"
    assert inbound_count(deps) == 0
    monkeypatch.setattr(device_vitals, "receive", original)
    [retry] = send(port, oru("MSG-AR", unit.pseudonym))
    assert retry["code"] == "AA" and len(events(deps, unit)) == 1


def test_a_monitor_configured_for_another_chair_is_refused(deps: Deps, unit: Unit, port: int) -> None:
    register(deps, "MON-01^INFUSION", "CHAIR-2")
    [ack] = send(port, oru("MSG-PLACE", unit.pseudonym, chair="CHAIR-1"))
    assert ack["code"] == "AE" and ack["err"] is not None and ack["err"][5] == "HL7-PLACE-MISMATCH"


def test_devices_show_their_last_message_and_a_silent_monitor_raises_an_alert(
        deps: Deps, unit: Unit, port: int) -> None:
    register(deps, "MON-02^INFUSION", "CHAIR-2")
    send(port, oru("MSG-LIVE", unit.pseudonym))
    views = {v.device_id: v for v in list_devices(deps, NURSE)}
    assert views["MON-01^INFUSION"].last_message_at is not None
    assert not views["MON-01^INFUSION"].silent and views["MON-01^INFUSION"].alert is None
    alert = views["MON-02^INFUSION"].alert
    assert views["MON-02^INFUSION"].silent and alert is not None and alert.code == "DEVICE-SILENT"



def test_a_message_that_trips_a_bug_is_refused_alone_and_its_batch_mates_are_recorded(
        deps: Deps, unit: Unit, monkeypatch: pytest.MonkeyPatch) -> None:
    from infusionist.entrypoints.hl7.intake import Intake
    from infusionist.services import device_vitals

    record = device_vitals._record

    def buggy(uow: Any, deps: Deps, reading: Any, control_id: str, received_at: Any) -> Any:
        if control_id == "BAD-1":
            raise RuntimeError("a bug met only by this message")
        return record(uow, deps, reading, control_id, received_at)

    monkeypatch.setattr(device_vitals, "_record", buggy)
    from infusionist.adapters.hl7.mllp import Frame

    register(deps)
    acks = Intake(deps)([Frame(oru(n, unit.pseudonym), "127.0.0.1") for n in ("OK-1", "BAD-1", "OK-2")])
    codes = [ack_fields(ack)["code"] for ack in acks]
    assert codes == ["AA", "AE", "AA"]
    assert "HL7-INTERNAL" in acks[1]
    assert len(events(deps, unit)) == 2
    assert inbound_count(deps, InboundStatus.REFUSED) == 1 and inbound_count(deps, InboundStatus.ACCEPTED) == 2


def test_concurrent_monitors_each_get_their_own_acknowledgements_and_nothing_is_mixed_up(
        deps: Deps, port: int) -> None:
    """Messages of several connections are settled together (group commit); each connection
    still gets one ACK per message, in order, naming that message's control ID."""
    import threading

    patients = [unit_with_day_today(deps, name=f"Chair {n}") for n in range(6)]
    for n in range(6):
        register(deps, f"MON-{n:02d}^INFUSION", f"CHAIR-{n}")
    acked: dict[int, list[str]] = {}

    def monitor(n: int) -> None:
        messages = [oru(f"M{n}-{i:03d}", patients[n].pseudonym, sender=f"MON-{n:02d}", chair=f"CHAIR-{n}")
                    for i in range(40)]
        acked[n] = [f"{a['code']}:{a['control_id']}" for a in send(port, *messages)]

    threads = [threading.Thread(target=monitor, args=(n,)) for n in range(len(patients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for n, unit in enumerate(patients):
        assert acked[n] == [f"AA:M{n}-{i:03d}" for i in range(40)]
        assert len(events(deps, unit)) == 40
    assert inbound_count(deps, InboundStatus.ACCEPTED) == 240
