"""Monitor intake use cases against in-memory fakes: store first, settle once, devices go silent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fakes import fake_deps

from infusionist.domain.access import Role
from infusionist.domain.device_readings import DeviceReading, DeviceRecord, InboundStatus
from infusionist.domain.errors import ValidationFailed
from infusionist.domain.records import Actor, Context
from infusionist.services import courses, device_vitals, patients

PHYSICIAN = Context(Actor(1, "dr", "Dr Test", Role.PHYSICIAN))
ADMIN = Context(Actor(2, "admin", "Admin", Role.ADMIN))
NURSE = Context(Actor(3, "nurse", "Nurse", Role.NURSE))
SENDER = "MON-01^UNIT"
PEER = "10.1.2.3"  # the address the registered monitor sends from


def unit() -> tuple:
    deps, clock, uow = fake_deps()
    patient = patients.register_patient(deps, PHYSICIAN, patients.RegisterPatient("Jo Doe", None, "male"))
    course = courses.create_course(deps, PHYSICIAN, courses.CreateCourse(
        patient["id"], 1, date(2026, 3, 2), timezone="Europe/Berlin"))
    device_vitals.configure_device(deps, ADMIN, DeviceRecord(device_id=SENDER, place="CHAIR-1",
                                                             interval_seconds=60, sources=(PEER,)))
    return deps, clock, uow, patient["pseudonym"], course["id"]


def receive(deps, control_id: str, raw: str = "MSH|raw") -> device_vitals.Received:
    [received] = device_vitals.receive(deps, [device_vitals.Incoming(SENDER, control_id, raw, PEER)])
    return received


def settle(deps, received: device_vitals.Received, found: DeviceReading | None,
           problem=None) -> device_vitals.Outcome:
    control_id = found.control_id if found is not None else "C-?"
    [outcome] = device_vitals.settle(deps, [device_vitals.Settle(received, control_id, found, problem)])
    return outcome


def reading(patient: str, control_id: str = "C-1", **values: str) -> DeviceReading:
    found = {k: Decimal(v) for k, v in (values or {"heart_rate_bpm": "72"}).items()}
    return DeviceReading(sender=SENDER, control_id=control_id, device=SENDER, patient=patient,
                         point_of_care="CHAIR-1", observed_at=None, values=found)


def test_the_raw_message_is_committed_before_it_is_parsed_and_a_retransmission_is_answered_the_same() -> None:
    deps, _clock, uow, patient, _course = unit()
    first = receive(deps, "C-1", "MSH|raw")
    assert first.settled is None and uow.store.tables["inbound"][first.message_id].raw == "MSH|raw"
    outcome = settle(deps, first, reading(patient), None)
    assert outcome.ack == "AA" and outcome.event_id is not None
    again = receive(deps, "C-1", "MSH|raw")
    assert again.message_id == first.message_id and again.settled is not None
    assert again.settled.ack == "AA" and again.settled.duplicate
    assert len(uow.store.tables["inbound"]) == 1 and len(uow.store.tables["events"]) == 1


def test_a_message_stored_but_never_settled_is_processed_when_retransmitted() -> None:
    deps, _clock, uow, patient, _course = unit()
    lost = receive(deps, "C-9", "MSH|raw")  # then the listener died
    retry = receive(deps, "C-9", "MSH|raw")
    assert retry.message_id == lost.message_id and retry.settled is None
    assert settle(deps, retry, reading(patient, "C-9"), None).ack == "AA"
    assert settle(deps, retry, reading(patient, "C-9"), None).duplicate
    assert len(uow.store.tables["events"]) == 1


def test_a_refused_reading_leaves_no_event_and_no_audit_row__never_half_stored() -> None:
    deps, _clock, uow, patient, _course = unit()
    audit_rows = len(uow.store.tables["audit"])
    received = receive(deps, "C-2", "MSH|raw")
    outcome = settle(deps, received, reading(patient, "C-2", temperature_c="98.6"), None)
    assert outcome.ack == "AE" and outcome.error_code == "VITALS-IMPLAUSIBLE"
    assert uow.store.tables["events"] == {} and len(uow.store.tables["audit"]) == audit_rows
    assert uow.store.tables["inbound"][received.message_id].status is InboundStatus.REFUSED


def test_a_parse_problem_is_recorded_with_the_message() -> None:
    deps, _clock, uow, _patient, _course = unit()
    received = receive(deps, "C-3", "garbage")
    problem = ValidationFailed("HL7-MALFORMED", "no MSH", details={"location": "MSH", "hl7_code": "100"})
    outcome = settle(deps, received, None, problem)
    assert (outcome.ack, outcome.error_code, outcome.location, outcome.hl7_error) == (
        "AE", "HL7-MALFORMED", "MSH", "100")
    assert uow.store.tables["inbound"][received.message_id].error == "no MSH"


def test_a_batch_is_stored_and_settled_in_one_commit_each_and_a_refusal_touches_only_its_own_message() -> None:
    deps, _clock, uow, patient, _course = unit()
    audit_rows = len(uow.store.tables["audit"])
    batch = [device_vitals.Incoming(SENDER, f"B-{n}", f"MSH|{n}", PEER) for n in range(3)]
    batch.append(device_vitals.Incoming(SENDER, "B-0", "MSH|0", PEER))  # sent again before its ACK came
    received = device_vitals.receive(deps, batch)
    assert received[3].message_id == received[0].message_id and len(uow.store.tables["inbound"]) == 3
    readings = [reading(patient, "B-0"), reading(patient, "B-1", temperature_c="98.6"), reading(patient, "B-2"),
                reading(patient, "B-0")]
    outcomes = device_vitals.settle(deps, [device_vitals.Settle(r, found.control_id, found, None)
                                           for r, found in zip(received, readings, strict=True)])
    assert [o.ack for o in outcomes] == ["AA", "AE", "AA", "AA"]
    assert outcomes[1].error_code == "VITALS-IMPLAUSIBLE" and outcomes[3].duplicate
    assert len(uow.store.tables["events"]) == 2  # the refused reading left nothing, the repeat no copy
    assert len(uow.store.tables["audit"]) == audit_rows + 2


def test_a_monitor_silent_for_twice_its_interval_raises_DEVICE_SILENT() -> None:
    deps, clock, _uow, patient, _course = unit()
    assert [a.code for a in device_vitals.device_alerts(deps, NURSE)] == ["DEVICE-SILENT"]  # never sent
    received = receive(deps, "C-4", "MSH|raw")
    settle(deps, received, reading(patient, "C-4"), None)
    clock.advance(seconds=120)
    assert device_vitals.device_alerts(deps, NURSE) == []
    clock.advance(seconds=1)
    [alert] = device_vitals.device_alerts(deps, NURSE)
    assert alert.code == "DEVICE-SILENT" and "CHAIR-1" in alert.message


def test_a_message_not_heard_is_kept_apart_answered_AR_and_counted_without_taking_its_key() -> None:
    deps, _clock, uow, _patient, _course = unit()
    [stranger, wrong_place] = device_vitals.receive(deps, [
        device_vitals.Incoming("ROGUE^X", "C-1", "MSH|rogue", PEER),
        device_vitals.Incoming(SENDER, "C-2", "MSH|elsewhere", "10.9.9.9")])
    assert stranger.message_id == 0 and stranger.settled is not None
    assert (stranger.settled.ack, stranger.settled.error_code) == ("AR", "HL7-UNKNOWN-SENDER")
    assert wrong_place.settled is not None and wrong_place.settled.error_code == "HL7-SENDER-ADDRESS"
    assert uow.store.tables["inbound"] == {} and len(uow.store.tables["refused"]) == 2
    counts = {v.device_id: v.refused_count for v in device_vitals.list_devices(deps, NURSE)}
    assert counts == {"ROGUE^X": 1, SENDER: 1}
    heard = receive(deps, "C-2", "MSH|elsewhere")  # from its own address: the same key is heard
    assert heard.settled is None and heard.message_id > 0


def test_a_NUL_character_or_an_over_long_control_id_is_kept_encoded_and_refused_AE() -> None:
    deps, _clock, uow, _patient, _course = unit()
    nul = receive(deps, "C-NUL", "MSH|a\x00b")
    [long] = device_vitals.receive(deps, [device_vitals.Incoming(SENDER, "X" * 201, "MSH|long", PEER)])
    assert nul.settled is not None and nul.settled.ack == "AE" and nul.settled.error_code == "HL7-MALFORMED"
    assert long.settled is not None and "longer than 200" in (long.settled.error or "")
    kept = sorted(uow.store.tables["refused"].values(), key=lambda m: m.id)
    assert kept[0].raw_encoding == "base64" and kept[0].raw == "TVNIfGEAYg=="  # base64 of "MSH|a\0b"
    assert len(kept[1].control_id) == 200 and uow.store.tables["inbound"] == {}
