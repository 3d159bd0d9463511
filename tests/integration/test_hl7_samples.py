"""The sample messages and our acknowledgements are valid HL7 v2.6 structures (hl7apy, strict)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hl7_support import oru
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

from infusionist.adapters.hl7.ack import build_ack
from infusionist.adapters.hl7.oru import parse_oru, read_header

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "oru-demo.hl7"
NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)


def strict(text: str) -> str:
    message = parse_message(text, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
    assert message.validate()
    return str(message.name)


def example_text() -> str:
    return EXAMPLE.read_text().replace("\r\n", "\r").replace("\n", "\r")


@pytest.mark.parametrize("system", ["LN", "MDC"])
def test_generated_oru_messages_are_valid_ORU_R01(system: str) -> None:
    obs = {"8867-4": ("72", "/min")} if system == "LN" else {"150456": ("97", "262688^MDC_DIM_PERCENT")}
    assert strict(oru("S-1", "P-ABC", obs=obs, system=system, when="20261122093000+0100")) == "ORU_R01"


def test_the_demo_example_is_a_valid_ORU_R01_once_a_monitor_stamps_MSH_7() -> None:
    # The file leaves MSH-7 empty on purpose so that it holds no date; a monitor fills it.
    text = example_text()
    assert "|||ORU^R01" in text and not any(ch.isdigit() for ch in text.split("|")[6])
    assert strict(text.replace("|||ORU^R01", "|20261122093000+0100||ORU^R01", 1)) == "ORU_R01"
    tolerant = parse_message(text, validation_level=VALIDATION_LEVEL.TOLERANT, find_groups=True)
    assert tolerant.name == "ORU_R01"


def test_the_demo_example_reads_as_six_vital_signs_without_a_time() -> None:
    text = example_text()
    reading = parse_oru(text, read_header(text))
    assert reading.patient == "4" and reading.point_of_care == "CHAIR-4" and reading.observed_at is None
    assert set(reading.values) == {"heart_rate_bpm", "systolic_mmhg", "diastolic_mmhg", "spo2_percent",
                                   "respiratory_rate_per_min", "temperature_c"}


@pytest.mark.parametrize(("code", "error_code", "error"), [
    ("AA", None, None),
    ("AE", "HL7-UNKNOWN-PATIENT", "PID-3: no patient 'P-X|Y^Z' (give the patient number)."),
    ("AR", "HL7-UNAVAILABLE", "The database is unavailable; send the message again."),
])
def test_acknowledgements_are_valid_ACK_messages(code: str, error_code: str | None, error: str | None) -> None:
    header = read_header(oru("S-2", "P-ABC", when="20261122093000+0100"))
    ack = build_ack(header, code, control_id="A-1", now=NOW, error_code=error_code, error=error,
                    location="PID^1^3", hl7_error="204")
    assert strict(ack) == "ACK"
    fields = ack.split("\r")[1].split("|")
    assert fields[1:3] == [code, "S-2"]
