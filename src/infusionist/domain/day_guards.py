"""Guards: which events the day allows next, and why an event is refused.

Each refusal is an :class:`EventRefused` with a stable ``DAY-*`` code, a message a nurse
understands and the requirement IDs of the rule; the replay adds which event it was. A guard
only reads the facts: a refused event changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from infusionist.domain.day_events import (
    ClinicalEvent,
    InfusionStarted,
    MedicationGiven,
    PremedicationGiven,
    RateChanged,
    ReactionOnset,
    Resumed,
    SolutionPrepared,
    VitalSigns,
)
from infusionist.domain.day_facts import DayContext, DayFacts, Phase, matches
from infusionist.domain.errors import EventRefused
from infusionist.domain.protocol import Premedication, describe_rate
from infusionist.domain.units import Quantity
from infusionist.domain.vitals import check_plausible

_ALWAYS = (
    "vital_signs", "reaction_onset", "medication_given", "physician_informed", "emergency_called",
    "physician_override", "procedure_done",
)
_BY_PHASE: dict[Phase, tuple[str, ...]] = {
    Phase.PLANNED: ("solution_prepared", "premedication_given", "test_result", "infusion_stopped",
                    "discharged"),
    Phase.READY: ("infusion_started", "solution_prepared", "premedication_given", "test_result",
                  "infusion_stopped", "discharged"),
    Phase.RUNNING: ("rate_changed", "paused", "infusion_stopped", "flush_started"),
    Phase.PAUSED: ("resumed", "infusion_stopped"),
    Phase.STOPPED_FOR_DAY: ("observation_completed", "discharged"),
    Phase.FLUSHING: ("flush_completed",),
    Phase.OBSERVING: ("observation_completed", "discharged"),
    Phase.DISCHARGED: (),
}
# After discharge only a late reaction and its management can be recorded (IAR-01, IAR-15).
_AFTER_DISCHARGE = (
    "vital_signs", "reaction_onset", "medication_given", "physician_informed", "emergency_called",
    "procedure_done",
)


def clock(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def allowed_actions(facts: DayFacts, ctx: DayContext, at: datetime) -> tuple[str, ...]:
    """The event types that may be recorded next (corrections are always possible)."""
    kinds: tuple[str, ...]
    if facts.phase is Phase.DISCHARGED:
        kinds = _AFTER_DISCHARGE if _within_reaction_window(facts, ctx, at) else ()
    else:
        kinds = _BY_PHASE[facts.phase] + _ALWAYS
    if facts.reactions and kinds:
        kinds += ("reaction_assessed",)
    if facts.observation_completed_at is not None:
        kinds = tuple(k for k in kinds if k != "observation_completed")
    return (*kinds, "correction")


def _within_reaction_window(facts: DayFacts, ctx: DayContext, at: datetime) -> bool:
    end = facts.infusion_end()
    return facts.started_at is not None and end is not None and at <= end + ctx.reaction_window()


def check_event(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    """Raise :class:`EventRefused` (or ``ValidationFailed`` for vital signs) if ``event`` is refused."""
    if event.type not in allowed_actions(facts, ctx, event.at):
        _refuse_not_allowed(facts, event, ctx)
    specific = _CHECKS.get(event.type)
    if specific is not None:
        specific(facts, event, ctx)


def _refuse_not_allowed(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    if isinstance(event, InfusionStarted) and facts.phase is Phase.PLANNED:
        raise start_blockers(facts, ctx)[0]
    if event.type == "reaction_assessed" and not facts.reactions:
        raise EventRefused("DAY-NO-REACTION",
                           "There is no reaction to assess: record the reaction's onset first.",
                           requirements=("IAR-27",))
    if facts.phase is Phase.DISCHARGED and event.type in _AFTER_DISCHARGE:
        hours = ctx.reactions.window_after_infusion_hours
        raise EventRefused(
            "DAY-AFTER-REACTION-WINDOW",
            f"The patient was discharged and more than {hours} h have passed since the end of the "
            "infusion; record this on the day it belongs to or as a follow-up.",
            requirements=ctx.reactions.requirements,
        )
    allowed = ", ".join(allowed_actions(facts, ctx, event.at))
    raise EventRefused(
        "DAY-ACTION-NOT-ALLOWED",
        f"{event.type} cannot be recorded while the day is {facts.phase.value}; possible now: {allowed}.",
    )


def start_blockers(facts: DayFacts, ctx: DayContext) -> list[EventRefused]:
    """Why the infusion may not start yet, from the recorded facts alone (empty: ready)."""
    problems: list[EventRefused] = []
    if facts.solution is None:
        problems.append(EventRefused(
            "DAY-START-NO-SOLUTION",
            f"The {ctx.protocol.infusion.name} solution has not been recorded as prepared.",
            requirements=ctx.protocol.infusion.requirements,
        ))
    problems += _test_blockers(facts, ctx)
    for premed in ctx.premedications_today():
        if premed.required_before_start and premed.id not in facts.premedications:
            problems.append(EventRefused(
                "DAY-START-NO-PREMED",
                f"{_premed_words(premed)} has not been given; it is required "
                f"{-premed.offset_minutes} min before the infusion on day {ctx.day}.",
                requirements=premed.requirements,
            ))
    return problems


def _test_blockers(facts: DayFacts, ctx: DayContext) -> list[EventRefused]:
    problems = []
    for test in ctx.blocking_tests_today():
        result = facts.tests.get(test.name.casefold()) or facts.tests.get(test.id)
        wanted = test.blocks_start_unless or ""
        if result is not None and result.result.casefold() == wanted.casefold():
            continue
        if result is not None and result.result.casefold() == "positive":
            problems.append(EventRefused(
                "DAY-PREGNANCY-POSITIVE" if test.id == "pregnancy-test" else "DAY-TEST-POSITIVE",
                f"The {test.name} is positive: the infusion must not start and the course is blocked. "
                "Inform the physician.",
                requirements=test.requirements,
            ))
            continue
        found = "has no result" if result is None else f"result is {result.result!r}"
        problems.append(EventRefused(
            "DAY-START-NO-PREGNANCY-TEST" if test.id == "pregnancy-test" else "DAY-START-NO-TEST",
            f"The {test.name} {found}; it must be {wanted} before the infusion starts on day {ctx.day}.",
            requirements=test.requirements,
        ))
    return problems


def _premed_words(premed: Premedication) -> str:
    return f"{premed.name.capitalize()} {premed.dose.display()} {premed.route}"


def _check_start(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, InfusionStarted)
    blockers = start_blockers(facts, ctx)
    if blockers:
        raise blockers[0]
    for premed in ctx.premedications_today():
        given = facts.premedications.get(premed.id)
        needed = -premed.offset_minutes
        if premed.required_before_start and given is not None and (
            (event.at - given.at).total_seconds() < needed * 60
        ):
            raise EventRefused(
                "DAY-START-PREMED-TOO-SOON",
                f"{_premed_words(premed)} was given at {clock(given.at)}, only "
                f"{int((event.at - given.at).total_seconds() // 60)} min before; it must be given "
                f"{needed} min before the infusion starts (earliest start "
                f"{clock(given.at + timedelta(minutes=needed))}).",
                requirements=premed.requirements,
            )
    _check_not_expired(facts, event, ctx)
    _check_rate(facts, event.rate_ml_per_h, ctx)


def _check_not_expired(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    expires = facts.solution_expires_at(ctx)
    if expires is not None and event.at > expires:
        limit = ctx.protocol.infusion.storage_limit.display()
        raise EventRefused(
            "DAY-SOLUTION-EXPIRED",
            f"The solution prepared at {clock(facts.solution.at) if facts.solution else '?'} expired "
            f"at {clock(expires)} (usable {limit} after preparation); prepare a new one and ask "
            "the physician.",
            requirements=("PROT-13",),
        )


def _check_rate(facts: DayFacts, rate: Decimal, ctx: DayContext) -> None:
    maximum = facts.max_rate(ctx)
    if rate > maximum:
        raise EventRefused(
            "DAY-RATE-TOO-HIGH",
            f"{describe_rate(rate)} is above the maximum {describe_rate(maximum)} (the rate that "
            f"gives the prepared volume in {ctx.protocol.infusion.target_duration.display()}).",
            requirements=("PROT-14", "PROT-15"),
        )


def _check_rate_change(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, RateChanged)
    _check_rate(facts, event.rate_ml_per_h, ctx)


def _check_resume(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, Resumed)
    severe_at = facts.severe_assessed_at
    override = facts.last_override
    if severe_at is not None and (override is None or override.at < severe_at):
        raise EventRefused(
            "DAY-RESUME-NEEDS-OVERRIDE",
            f"A severe reaction was assessed at {clock(severe_at)}: the infusion may only be "
            "restarted after the physician records an override with the reason "
            "(risk-benefit assessment).",
            requirements=("IAR-14", "IAR-29"),
        )
    _check_not_expired(facts, event, ctx)
    _check_rate(facts, event.rate_ml_per_h, ctx)


def _check_solution(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, SolutionPrepared)
    dose = ctx.protocol.infusion.dose
    if not event.dose.same_mass(dose):
        raise EventRefused(
            "DAY-WRONG-DOSE",
            f"The solution holds {event.dose.display()}; the protocol dose is {dose.display()} "
            "per infusion day and no other.",
            requirements=(*ctx.protocol.infusion.requirements, "C-7"),
        )


def _check_premedication(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, PremedicationGiven)
    premed = next((p for p in ctx.protocol.premedications if matches(event.name, p.id, p.name)), None)
    if premed is None:
        known = ", ".join(p.name for p in ctx.premedications_today())
        raise EventRefused("DAY-UNKNOWN-PREMEDICATION",
                           f"{event.name!r} is not a premedication of this protocol (today: {known}); "
                           "record other drugs as medication_given.")
    if not premed.applies_on(ctx.day):
        raise EventRefused(
            "DAY-PREMED-NOT-TODAY",
            f"{premed.name.capitalize()} is not given on day {ctx.day} of the course.",
            requirements=premed.requirements,
        )
    if not _dose_accepted(event.dose, premed, ctx):
        raise EventRefused(
            "DAY-WRONG-DOSE",
            f"{premed.name.capitalize()} {event.dose.display()} differs from the protocol dose "
            f"{premed.dose.display()}.",
            requirements=premed.requirements,
        )
    if event.route != premed.route:
        raise EventRefused(
            "DAY-WRONG-ROUTE",
            f"{premed.name.capitalize()} is given {premed.route}, not {event.route}.",
            requirements=premed.requirements,
        )


def _dose_accepted(dose: Quantity, premed: Premedication, ctx: DayContext) -> bool:
    try:
        if dose.same_mass(premed.dose):
            return True
        lighter = premed.full_dose_min_weight_kg
        weight = ctx.patient.weight_kg
        # Under the full-dose weight the physician sets a lower dose (the plan warns).
        return (lighter is not None and weight is not None and weight < lighter
                and dose.in_mg() < premed.dose.in_mg())
    except ValueError:
        return False


def _check_medication(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, MedicationGiven)
    if event.dose is None:
        return
    for action in ctx.reactions.actions:
        medicine = action.medicine
        if medicine is None or medicine.dose is None or not matches(event.name, "", medicine.name):
            continue
        if not _same_amount(event.dose, medicine.dose):
            raise EventRefused(
                "DAY-WRONG-DOSE",
                f"{medicine.name.capitalize()} {event.dose.display()} differs from the protocol "
                f"dose {medicine.dose.display()}.",
                requirements=action.requirements,
            )


def _same_amount(given: Quantity, expected: Quantity) -> bool:
    try:
        return given.same_mass(expected)
    except ValueError:
        return given == expected


def _check_vitals(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, VitalSigns)
    check_plausible(event.values(), ctx.vital_rules, "Vital signs")


def _check_onset(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, ReactionOnset)
    unknown = [s for s in event.symptoms if ctx.reactions.symptom(s) is None]
    if unknown:
        known = ", ".join(s.id for s in ctx.reactions.symptoms)
        raise EventRefused("DAY-UNKNOWN-SYMPTOM",
                           f"Unknown symptom {unknown[0]!r}; choose from: {known}.",
                           requirements=ctx.reactions.requirements)


def _check_observation_over(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    end = facts.observation_end(ctx)
    if end is not None and event.at < end:
        raise EventRefused(
            "DAY-OBSERVATION-NOT-OVER",
            f"Observation runs until {clock(end)} ({ctx.protocol.observation.duration.display()} "
            "after the end of the infusion and flush); the patient stays until then.",
            requirements=ctx.protocol.observation.requirements,
        )


_CHECKS = {
    "infusion_started": _check_start, "rate_changed": _check_rate_change, "resumed": _check_resume,
    "solution_prepared": _check_solution, "premedication_given": _check_premedication,
    "medication_given": _check_medication, "vital_signs": _check_vitals,
    "reaction_onset": _check_onset, "observation_completed": _check_observation_over,
    "discharged": _check_observation_over,
}
