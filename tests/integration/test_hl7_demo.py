"""``examples/oru-demo.hl7`` reaches the demo's running patient, sent with the hl7 package's client."""

from __future__ import annotations

from pathlib import Path

from api_support import engine_of
from hl7_support import NURSE_CTX, listening, send

from infusionist.bootstrap import build
from infusionist.config import Settings
from infusionist.services.demo import build_demo_unit
from infusionist.services.events import list_events

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "oru-demo.hl7"


def test_the_example_message_arrives_on_the_demo_day_in_progress(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'demo.db'}",
                        argon2_time_cost=1, argon2_memory_kib=8192)
    deps = build(settings)
    unit = build_demo_unit(deps, "Europe/Berlin")
    assert unit.patients["running"] == 4  # PID-3 of the example
    text = EXAMPLE.read_text().replace("\n", "\r")
    course_id = unit.courses["running"]
    day = unit.days["running"]  # today's infusion day of the demo's course (day 2 on a Tuesday)
    before = len(list_events(deps, NURSE_CTX, course_id, day))
    with listening(deps) as port:
        [ack] = send(port, text)
        [again] = send(port, text)
    assert ack["code"] == "AA" and ack["control_id"] == "DEMO-0001", ack["text"]
    assert again["code"] == "AA"
    events = list_events(deps, NURSE_CTX, course_id, day)
    assert len(events) == before + 1
    assert events[-1].recorded_by == "device:DEMO-MONITOR^DEMO-UNIT"
    assert events[-1].payload["temperature_c"] == "37.1"
    engine_of(deps).dispose()
