"""The pure parts of issue #14 items 2 and 5: the supported calendar, plans whose zone offset has
seconds, NUL detection and the investigators' redaction (allow-list of coded keys)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from infusionist.domain.access import REDACTED, redact_free_text, redact_signature
from infusionist.domain.dates import check_supported_date, check_supported_instant
from infusionist.domain.errors import ValidationFailed
from infusionist.domain.plan_json import plan_from_json, plan_to_json
from infusionist.domain.text_input import has_nul


@pytest.mark.parametrize("day", [date(1900, 1, 1), date(2199, 12, 31), date(2026, 3, 2)])
def test_the_supported_calendar_includes_its_first_and_last_day(day):
    check_supported_date(day, "the birth date", "birth_date")


@pytest.mark.parametrize("day", [date(1, 1, 1), date(1899, 12, 31), date(2200, 1, 1), date(9999, 12, 31)])
def test_a_date_outside_the_supported_calendar_is_refused_with_a_sentence(day):
    with pytest.raises(ValidationFailed) as refused:
        check_supported_date(day, "the birth date", "birth_date")
    assert refused.value.code == "INPUT-DATE-RANGE"
    assert refused.value.message.startswith(f"The birth date ({day.day} ")
    assert "1 January 1900 to 31 December 2199" in refused.value.message
    assert refused.value.details == {"birth_date": "outside 1900-01-01..2199-12-31"}


def test_an_instant_at_the_end_of_the_calendar_is_refused_before_any_conversion():
    edge = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))  # astimezone(UTC) overflows
    with pytest.raises(ValidationFailed):
        check_supported_instant(edge, "the time of the entry", "at")


@pytest.mark.parametrize(("zone", "first_day", "offset"), [
    ("Africa/Monrovia", date(1970, 1, 5), "-00:44:30"),
    ("Europe/Amsterdam", date(1930, 6, 2), "+01:19:32"),
])
def test_a_plan_whose_offset_has_seconds_reads_back_exactly(make_plan, zone, first_day, offset):
    plan = make_plan(first_day=first_day, zone=zone)
    data = plan_to_json(plan)
    assert data["days"][0]["chair_start"].endswith(offset)
    again = plan_from_json(data)
    assert again == plan
    assert again.days[0].chair_start.astimezone(UTC) == plan.days[0].chair_start.astimezone(UTC)


def test_a_nul_is_found_at_any_depth_keys_included():
    assert not has_nul({"a": ["b", {"c": 1}], "d": None})
    assert has_nul({"a": ["b", {"c": "x\x00"}]})
    assert has_nul({"k\x00": 1})
    assert has_nul(("a", "\x00"))


def test_investigators_keep_coded_values_and_lose_every_typed_text():
    payload = {"type": "correction", "at": "2026-03-02T09:55:00+01:00", "corrects": "Jane-baseline",
               "reason": "Jane Roe's values", "by": "nurse", "id": "Roe",
               "replacement": {"type": "premedication_given", "at": "2026-03-02T08:00:00+01:00",
                               "name": "for Jane", "route": "iv", "dose": {"value": 1, "unit": "g"},
                               "symptoms": ["rash"], "responded_promptly": True}}
    assert redact_free_text(payload) == {
        "type": "correction", "at": "2026-03-02T09:55:00+01:00", "corrects": REDACTED,
        "reason": REDACTED, "by": "nurse", "id": REDACTED,
        "replacement": {"type": "premedication_given", "at": "2026-03-02T08:00:00+01:00",
                        "name": REDACTED, "route": "iv", "dose": {"value": 1, "unit": "g"},
                        "symptoms": ["rash"], "responded_promptly": True}}
    assert redact_free_text({"corrects": 3, "volume_ml": 112})["corrects"] == 3
    # Numbers stored as decimal text (the pages send vital signs so) stay numbers.
    assert redact_free_text({"temperature_c": "36.8", "heart_rate_bpm": "72", "id": "1e3"}) == {
        "temperature_c": "36.8", "heart_rate_bpm": "72", "id": REDACTED}
    assert redact_signature({"printed_name": "Dr A", "username": "a", "signed_at": "t",
                             "meaning": "approved for Jane Roe"})["meaning"] == REDACTED
