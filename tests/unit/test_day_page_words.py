"""What the day page says in each phase (issue 15 items 3-4): the next step, the card it lands on,
and numbers as the unit writes and reads them."""

from __future__ import annotations

import pytest
from day_builders import ev, preparation, started, state, told, vitals

from infusionist.domain.day_events import DayEvent
from infusionist.domain.day_state_json import state_to_json
from infusionist.domain.errors import ValidationFailed
from infusionist.domain.number_text import format_number, normalise_number
from infusionist.entrypoints.web.pages.day_view import CONFIRM, landing, next_step, unconfirmed

FLUSHED = [*started(), ev("flush_started", "12:00"), ev("flush_completed", "12:30")]
STOPPED = [*started(), ev("infusion_stopped", "09:00", reason="unwell")]
REACTION = [*started(), ev("reaction_onset", "09:00", symptoms=["rash"]), ev("paused", "09:01", reason="rash")]
GRADED = [*REACTION, ev("reaction_assessed", "09:05", interruption_needed=True, responded_promptly=True)]
DONE_OBSERVING = [*FLUSHED, vitals("14:25"), ev("observation_completed", "14:30")]
PHASES: list[tuple[str, list[DayEvent], str, str, str]] = [
    # name, events, clock, the next step begins with, the card
    ("planned", [], "07:00", "Before the infusion", "checklist"),
    ("ready", preparation(), "07:50", "Ready: start the infusion", "pump"),
    ("running", started(), "09:00", "Infusion running", "pump"),
    ("reaction to grade", REACTION, "09:02", "Reaction: tick the symptoms", "reaction"),
    ("paused, graded", GRADED, "09:10", "Paused: work through the reaction checklist", "pump"),
    ("ended early", [*started(), ev("infusion_ended_early", "09:00", reason="line blocked")], "09:05",
     "The infusion ended early", "pump"),
    ("flushing", [*started(), ev("flush_started", "12:00")], "12:05", "Flushing", "pump"),
    ("observation", FLUSHED, "13:00", "Observation: the patient stays", "discharge"),
    ("observation complete", DONE_OBSERVING, "14:31", "Observation complete: finish the discharge", "discharge"),
    ("stopped after the start", STOPPED, "09:05", "Stopped for the day: the patient stays for observation",
     "discharge"),
    ("stopped before the start", [ev("infusion_stopped", "07:00", reason="positive test")], "07:05",
     "Stopped before the infusion", "discharge"),
    ("discharged", [*DONE_OBSERVING, *told("14:31"), ev("discharged", "14:35")], "14:40",
     "The patient has gone home", "discharge"),
    ("transferred", [*started(), ev("transferred", "09:00", reason="intensive care")], "09:05",
     "The patient was transferred", "log"),
]
BEFORE_THE_INFUSION = ("observation", "discharge", "overdue", "flush")


@pytest.mark.parametrize(("name", "events", "clock", "step", "card"), PHASES, ids=[p[0] for p in PHASES])
def test_the_next_step_fits_every_phase__PROT_14_PROT_16_PROT_17_IAR_27(
    name: str, events: list[DayEvent], clock: str, step: str, card: str
) -> None:
    """Issue 15 item 4: nothing about observation or discharge before the infusion; after a stop,
    what remains to do; each entry lands on the card that is relevant now."""
    shown = state(events, clock)
    words = next_step(shown)
    assert words.startswith(step), words
    assert landing(shown) == card
    if name in ("planned", "ready"):
        assert not any(w in words.lower() for w in BEFORE_THE_INFUSION), words


def test_a_planned_day_seen_late_says_nothing_is_overdue__PROT_06_IAR_24() -> None:
    shown = state_to_json(state([], "21:00"))
    assert shown["vital_signs_overdue"] is False
    assert not [a for a in shown["alerts"] if a["code"] == "VITALS-OVERDUE"]


@pytest.mark.parametrize(("typed", "locale", "read"), [
    ("37.5", "en", "37.5"), ("37,5", "de", "37.5"), ("37.5", "de", "37.5"), (" 112 ", "fr", "112"),
    ("1,234", "de", "1.234"), (",5", "nl", ".5"),
])
def test_numbers_are_read_as_the_centre_writes_them(typed: str, locale: str, read: str) -> None:
    assert normalise_number(typed, locale) == read


@pytest.mark.parametrize(("typed", "locale"), [
    ("37,5", "en"), ("1,234", "en"), ("1.234,5", "de"), ("1,2,3", "de"), ("12 mg", "en"), ("", "en"),
    ("1e3", "en"), ("--1", "de"),
])
def test_an_ambiguous_number_is_refused_never_guessed(typed: str, locale: str) -> None:
    """"1,234" never becomes 1234: a thousands separator is not read anywhere."""
    with pytest.raises(ValidationFailed) as refused:
        normalise_number(typed, locale)
    assert refused.value.code == "INPUT-NUMBER-FORMAT"
    assert "_" not in refused.value.message


@pytest.mark.parametrize(("value", "locale", "places", "shown"), [
    ("14.0", "en", 1, "14"), ("28", "en", 1, "28"), ("4.629", "en", 1, "4.6"), ("56.25", "de", 1, "56,2"),
    ("12.000", "en", 1, "12"), ("0", "en", 1, "0"), ("37.50", "fr", None, "37,5"), ("100", "en", None, "100"),
])
def test_rates_volumes_and_doses_show_at_the_pumps_precision(value: str, locale: str, places: int | None,
                                                              shown: str) -> None:
    assert format_number(value, locale, places) == shown


@pytest.mark.parametrize("kind", ["infusion_stopped", "transferred", "discharged", "physician_decision",
                                  "correction"])
def test_dangerous_entries_ask_once_more_with_what_will_happen__PROT_17_IAR_29(kind: str) -> None:
    """Issue 15 item 4: without the ticked confirmation the page refuses, saying what would happen."""
    refusal = unconfirmed(kind, {})
    assert refusal is not None and refusal.startswith("Tick the box to confirm: ")
    assert CONFIRM[kind] in refusal and "Nothing was recorded." in refusal
    assert unconfirmed(kind, {"confirm": "yes"}) is None
    assert unconfirmed("vital_signs", {}) is None  # an ordinary entry is not asked twice
