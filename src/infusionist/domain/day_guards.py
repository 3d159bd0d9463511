"""Guards: which events the day allows next, and why an event is refused.

Each refusal is an :class:`EventRefused` with a stable ``DAY-*`` code, a message a nurse
understands and the requirement IDs of the rule; the replay adds which event it was. A guard
only reads the facts: a refused event changes nothing. The facts are what the record holds,
never only what the entry claims (issue 12): the time an entry belongs to, the grade the record
supports, the restrictions a severe reaction or a positive test leave behind.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from infusionist.domain import pump, pump_steps
from infusionist.domain.day_events import (
    ClinicalEvent,
    Correction,
    DayEvent,
    DischargeItemDone,
    FlushCompleted,
    InfusionStarted,
    MedicationGiven,
    PhysicianDecision,
    PremedicationGiven,
    RateChanged,
    ReactionAssessed,
    ReactionOnset,
    Resumed,
    SolutionPrepared,
    VitalSigns,
)
from infusionist.domain.day_facts import DayContext, DayFacts, Phase, matches
from infusionist.domain.discharge_items import discharge_items, is_last_day
from infusionist.domain.drug_library import check_administration
from infusionist.domain.errors import EventRefused
from infusionist.domain.protocol import Instruction, Premedication, describe_rate
from infusionist.domain.reactions import recommended_actions
from infusionist.domain.units import Quantity, format_decimal
from infusionist.domain.vitals import check_plausible, evaluate_alerts, latest_values

_ALWAYS = (
    "vital_signs", "reaction_onset", "medication_given", "physician_informed", "emergency_called",
    "physician_override", "physician_decision", "procedure_done", "transferred",
)
_BY_PHASE: dict[Phase, tuple[str, ...]] = {
    Phase.PLANNED: ("solution_prepared", "premedication_given", "test_result", "infusion_stopped",
                    "discharged"),
    Phase.READY: ("infusion_started", "solution_prepared", "premedication_given", "test_result",
                  "infusion_stopped", "discharged"),
    Phase.RUNNING: ("rate_changed", "paused", "infusion_stopped", "flush_started", "infusion_ended_early"),
    Phase.PAUSED: ("resumed", "infusion_stopped", "infusion_ended_early"),
    Phase.INFUSION_ENDED: ("flush_started", "infusion_stopped"),
    Phase.STOPPED_FOR_DAY: ("observation_completed", "discharge_item_done", "discharged"),
    Phase.FLUSHING: ("flush_completed",),
    Phase.OBSERVING: ("observation_completed", "discharge_item_done", "discharged"),
    Phase.DISCHARGED: (),
    Phase.TRANSFERRED: (),
}
# After discharge only a late reaction and its management can be recorded (IAR-01, IAR-15).
_AFTER_DISCHARGE = (
    "vital_signs", "reaction_onset", "medication_given", "physician_informed", "emergency_called",
    "procedure_done", "transferred",
)
# While a severe reaction locks the pump (IAR-13, IAR-29) these are not possible.
_LOCKED_BY_SEVERE = frozenset({"rate_changed", "resumed"})

# What each entry is, in the words of the unit (messages never show event type names).
ACTION_WORDS: dict[str, str] = {
    "solution_prepared": "preparing the solution", "premedication_given": "a premedication",
    "procedure_done": "a procedure", "test_result": "a test result",
    "infusion_started": "starting the infusion", "rate_changed": "changing the rate",
    "paused": "pausing the infusion", "resumed": "restarting the infusion",
    "vital_signs": "vital signs", "reaction_onset": "a reaction",
    "reaction_assessed": "grading the reaction", "medication_given": "a medication",
    "physician_informed": "informing the physician", "emergency_called": "calling the emergency team",
    "physician_override": "the physician's override", "physician_decision": "the physician's decision",
    "infusion_ended_early": "ending the infusion early", "transferred": "the transfer",
    "infusion_stopped": "stopping for the day", "flush_started": "starting the flush",
    "flush_completed": "completing the flush", "observation_completed": "completing observation",
    "discharged": "discharge", "discharge_item_done": "a point of the discharge checklist",
    "correction": "a correction",
}
_PHASE_WORDS: dict[Phase, str] = {
    Phase.PLANNED: "not ready to start yet", Phase.READY: "ready to start",
    Phase.RUNNING: "running", Phase.PAUSED: "paused", Phase.INFUSION_ENDED: "ended, not yet flushed",
    Phase.STOPPED_FOR_DAY: "stopped for the day", Phase.FLUSHING: "being flushed",
    Phase.OBSERVING: "in observation", Phase.DISCHARGED: "over (the patient was discharged)",
    Phase.TRANSFERRED: "over (the patient was transferred)",
}


def words(event_type: str) -> str:
    return ACTION_WORDS.get(event_type, event_type.replace("_", " "))


def allowed_actions(facts: DayFacts, ctx: DayContext, at: datetime) -> tuple[str, ...]:
    """The event types that may be recorded next (corrections are always possible)."""
    kinds: tuple[str, ...]
    if facts.phase is Phase.DISCHARGED:
        kinds = _AFTER_DISCHARGE if _within_reaction_window(facts, ctx, at) else ()
    elif facts.phase is Phase.TRANSFERRED:
        kinds = ()
    else:
        kinds = _BY_PHASE[facts.phase] + _ALWAYS
    if facts.reactions and kinds:
        kinds += ("reaction_assessed",)
    if facts.observation_completed_at is not None:
        kinds = tuple(k for k in kinds if k != "observation_completed")
    if facts.severe_lock() is not None:
        blocked = _LOCKED_BY_SEVERE | (frozenset() if ctx.reactions.flush_after_severe else {"flush_started"})
        kinds = tuple(k for k in kinds if k not in blocked)
    return (*kinds, "correction")


def _within_reaction_window(facts: DayFacts, ctx: DayContext, at: datetime) -> bool:
    end = facts.infusion_end()
    return facts.started_at is not None and end is not None and at <= end + ctx.reaction_window()


def check_not_in_future(event: DayEvent, now: datetime, ctx: DayContext) -> None:
    """An entry timed later than now (beyond the clock tolerance) is refused: a wrong clock must
    never block a day, since the record only grows forward."""
    latest = now + timedelta(minutes=ctx.record.clock_tolerance_minutes)
    moments = [event.at]
    if isinstance(event, Correction) and event.replacement is not None:
        moments.append(event.replacement.at)
    future = max(moments)
    if future > latest:
        raise EventRefused(
            "DAY-EVENT-IN-FUTURE",
            f"The time given for {words(event.type)} ({ctx.clock(future, ctx.local(now).date())}) is "
            f"later than now ({ctx.clock(now)}); enter the time it happened.",
            requirements=ctx.record.requirements,
        )


def check_event(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    """Raise :class:`EventRefused` (or ``ValidationFailed`` for vital signs) if ``event`` is refused."""
    _check_date(facts, event, ctx)
    if event.type not in allowed_actions(facts, ctx, event.at):
        _refuse_not_allowed(facts, event, ctx)
    specific = _CHECKS.get(event.type)
    if specific is not None:
        specific(facts, event, ctx)


def _check_date(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    """Every entry belongs to the day's date in the centre's zone (PROT-04, PROT-05, PROT-07)."""
    if isinstance(event, PhysicianDecision) and event.decision == "reschedule":
        return  # checked with the decision: it is what moves the day
    local = ctx.local(event.at).date()
    day_date = facts.day_date
    last = day_date if facts.started_at is None else day_date + timedelta(days=1)
    if day_date <= local <= last:
        return
    raise EventRefused(
        "DAY-EVENT-WRONG-DATE",
        f"{words(event.type).capitalize()} is timed {ctx.clock(event.at, day_date)}, but day {ctx.day} "
        f"is given on {day_date:%d %b %Y}. Record it on the day it belongs to; to give this day "
        "on another date a physician records a signed reschedule.",
        requirements=("PROT-04", "PROT-05"),
    )


def _refuse_not_allowed(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    if isinstance(event, InfusionStarted) and facts.phase is Phase.PLANNED:
        raise start_blockers(facts, ctx)[0]
    if event.type == "reaction_assessed" and not facts.reactions:
        raise EventRefused("DAY-NO-REACTION",
                           "There is no reaction to assess: record the reaction's onset first.",
                           requirements=("IAR-27",))
    severe_at = facts.severe_lock()
    if severe_at is not None and event.type in (*_LOCKED_BY_SEVERE, "flush_started"):
        _refuse_locked(event, severe_at, ctx)
    if facts.phase is Phase.DISCHARGED and event.type in _AFTER_DISCHARGE:
        hours = ctx.reactions.window_after_infusion_hours
        raise EventRefused(
            "DAY-AFTER-REACTION-WINDOW",
            f"The patient was discharged and more than {hours} h have passed since the end of the "
            "infusion; record this on the day it belongs to or as a follow-up.",
            requirements=ctx.reactions.requirements,
        )
    in_phase = set(_BY_PHASE[facts.phase])
    possible = [words(k) for k in allowed_actions(facts, ctx, event.at) if k in in_phase]
    now_possible = f" Possible now: {', '.join(possible)}." if possible else ""
    raise EventRefused(
        "DAY-ACTION-NOT-ALLOWED",
        f"{words(event.type).capitalize()} is not possible while the infusion is "
        f"{_PHASE_WORDS[facts.phase]}.{now_possible}",
    )


def _refuse_locked(event: ClinicalEvent, severe_at: datetime, ctx: DayContext) -> None:
    if event.type == "resumed":
        raise EventRefused(
            "DAY-RESUME-NEEDS-OVERRIDE",
            f"A severe reaction was graded at {ctx.clock(severe_at)}: the infusion may only be "
            "restarted after the physician records an override with the reason "
            "(risk-benefit assessment).",
            requirements=("IAR-14", "IAR-29"),
        )
    if event.type == "flush_started":
        raise EventRefused(
            "DAY-FLUSH-AFTER-SEVERE",
            f"A severe reaction was graded at {ctx.clock(severe_at)}: the drug line is not flushed "
            "into the patient (the protocol's rule); stop the infusion for the day.",
            requirements=("IAR-13", "IAR-29"),
        )
    raise EventRefused(
        "DAY-RATE-AFTER-SEVERE",
        f"A severe reaction was graded at {ctx.clock(severe_at)}: the rate cannot be changed. "
        "Stop the infusion at once; only the physician's signed override lets the day continue.",
        requirements=("IAR-13", "IAR-29"),
    )


# -- the start gate ------------------------------------------------------------------------------


def start_blockers(facts: DayFacts, ctx: DayContext) -> list[EventRefused]:
    """Why the infusion may not start yet, from the recorded facts alone (empty: ready)."""
    problems: list[EventRefused] = []
    if facts.solution is None:
        problems.append(EventRefused(
            "DAY-START-NO-SOLUTION",
            f"The {ctx.infusion.name} solution has not been recorded as prepared.",
            requirements=ctx.infusion.requirements,
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
    missing = [p for p in ctx.protocol.vital_signs.baseline_parameters if p not in facts.baseline]
    if missing:
        problems.append(EventRefused(
            "DAY-START-NO-BASELINE",
            "Baseline vital signs are needed before the start: " + ", ".join(_VITAL_WORDS.get(p, p)
                                                                             for p in missing) + ".",
            requirements=("IAR-24",),
        ))
    return problems


_VITAL_WORDS = {
    "systolic_mmhg": "blood pressure", "diastolic_mmhg": "diastolic pressure",
    "heart_rate_bpm": "heart rate", "temperature_c": "temperature",
    "respiratory_rate_per_min": "respiratory rate", "spo2_percent": "oxygen saturation",
}


def _test_blockers(facts: DayFacts, ctx: DayContext) -> list[EventRefused]:
    problems = []
    for test in ctx.blocking_tests_today():
        names = {test.name.casefold(), test.id}
        positive = next((facts.positive_tests[n] for n in names if n in facts.positive_tests), None)
        if positive is not None:
            problems.append(EventRefused(
                "DAY-PREGNANCY-POSITIVE" if test.id == "pregnancy-test" else "DAY-TEST-POSITIVE",
                f"The {test.name} was positive at {ctx.clock(positive.at)}: the infusion must not start "
                "and the course is blocked. Only a physician's signed decision, after a negative "
                "result, clears it.",
                requirements=test.requirements,
            ))
            continue
        result = facts.tests.get(test.name.casefold()) or facts.tests.get(test.id)
        wanted = test.blocks_start_unless or ""
        if result is not None and result.result.casefold() == wanted.casefold():
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


def earliest_start(facts: DayFacts, ctx: DayContext) -> datetime | None:
    """The first moment every premedication has had its time before the start (PROT-09, PROT-10)."""
    moments = [
        given.at + timedelta(minutes=-premed.offset_minutes)
        for premed in ctx.premedications_today()
        if premed.required_before_start and (given := facts.premedications.get(premed.id)) is not None
    ]
    return max(moments, default=None)


def _check_start(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, InfusionStarted)
    blockers = start_blockers(facts, ctx)
    if blockers:
        raise blockers[0]
    _check_not_expired(facts, event, ctx)
    _check_reactions_handled(facts, ctx)
    go_ahead = facts.decision("start_go_ahead")
    _check_premedication_times(facts, event.at, ctx, go_ahead is not None)
    _check_baseline(facts, event.at, ctx, go_ahead is not None)
    _check_rate(facts, event.rate_ml_per_h, ctx)
    _check_expiry_before_end(facts, event.at, event.rate_ml_per_h, ctx)


def _check_premedication_times(facts: DayFacts, start: datetime, ctx: DayContext, go_ahead: bool) -> None:
    earliest = earliest_start(facts, ctx)
    if earliest is not None and start < earliest:
        late = [p for p in ctx.premedications_today() if p.id in facts.premedications
                and facts.premedications[p.id].at + timedelta(minutes=-p.offset_minutes) > start]
        names = " and ".join(f"{_premed_words(p)} (given {ctx.clock(facts.premedications[p.id].at)})"
                             for p in late)
        raise EventRefused(
            "DAY-START-PREMED-TOO-SOON",
            f"{names}: the premedication must be given {-late[0].offset_minutes} min before the "
            f"infusion starts. Earliest start: {ctx.clock(earliest)}.",
            requirements=tuple(dict.fromkeys(r for p in late for r in p.requirements)),
        )
    window = timedelta(minutes=ctx.record.premedication_valid_minutes)
    for premed in ctx.premedications_today():
        given = facts.premedications.get(premed.id)
        if go_ahead or not premed.required_before_start or given is None or start - given.at <= window:
            continue
        raise EventRefused(
            "DAY-START-PREMED-TOO-OLD",
            f"{_premed_words(premed)} was given at {ctx.clock(given.at)}, more than "
            f"{ctx.record.premedication_valid_minutes} min before this start, so it no longer covers "
            "the infusion. Ask the physician: only a signed go-ahead lets the infusion start now.",
            requirements=(*premed.requirements, "IAR-21"),
        )


def _check_baseline(facts: DayFacts, start: datetime, ctx: DayContext, go_ahead: bool) -> None:
    wanted = ctx.protocol.vital_signs.baseline_parameters
    if not wanted or facts.started_at is not None:
        return
    oldest_allowed = start - timedelta(minutes=ctx.record.baseline_valid_minutes)
    taken: dict[str, datetime] = {}
    for reading in facts.readings:
        for name in reading.values():
            taken[name] = reading.at
    stale = [p for p in wanted if taken.get(p, start) < oldest_allowed]
    if stale:
        raise EventRefused(
            "DAY-START-BASELINE-OLD",
            f"The baseline {', '.join(_VITAL_WORDS.get(p, p) for p in stale)} was measured more than "
            f"{ctx.record.baseline_valid_minutes} min before the start; measure the vital signs again.",
            requirements=("IAR-24",),
        )
    critical = [a for a in evaluate_alerts(facts.baseline, {}, ctx.vital_rules) if a.severity == "critical"]
    if critical and not go_ahead:
        raise EventRefused(
            "DAY-START-BASELINE-CRITICAL",
            f"The baseline vital signs raise a critical alert: {critical[0].message} The infusion "
            "may start only with the physician's signed go-ahead.",
            requirements=("IAR-24", *critical[0].requirements),
        )


def _check_not_expired(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    expires = facts.solution_expires_at(ctx)
    if expires is not None and event.at > expires:
        limit = ctx.infusion.storage_limit.display()
        raise EventRefused(
            "DAY-SOLUTION-EXPIRED",
            f"The solution prepared at {ctx.clock(facts.solution.at) if facts.solution else '?'} "
            f"expired at {ctx.clock(expires)} (usable {limit} after preparation); prepare a new "
            "one and ask the physician.",
            requirements=("PROT-13",),
        )


def _check_expiry_before_end(facts: DayFacts, at: datetime, rate: Decimal, ctx: DayContext) -> None:
    """A start or restart whose projected end passes the expiry needs a physician (PROT-13)."""
    expires = facts.solution_expires_at(ctx)
    if expires is None or facts.solution is None:
        return
    if facts.decision("accept_solution_expiry", facts.solution.at) is not None:
        return
    if ctx.rate_steps:  # the remaining steps of the table are kept from now
        end = pump_steps.projected_end(facts.segments, facts.solution.volume_ml, at, rate, at,
                                       ctx.rate_steps)
    else:
        segments = [*facts.segments, pump.RateSegment(at, rate)]
        end = pump.projected_end(segments, facts.solution.volume_ml, at, rate)
    if end is not None and end > expires:
        how = (f"From {describe_rate(rate)}, keeping the rate table," if ctx.rate_steps
               else f"At {describe_rate(rate)}")
        raise EventRefused(
            "DAY-SOLUTION-EXPIRES-DURING-INFUSION",
            f"{how} the bag would run until {ctx.clock(end)}, but the solution "
            f"expires at {ctx.clock(expires)}. Prepare a new solution, or ask the physician for a "
            "signed decision to run it.",
            requirements=("PROT-13",),
        )


def _check_rate(facts: DayFacts, rate: Decimal, ctx: DayContext) -> None:
    maximum = facts.max_rate(ctx)
    if rate > maximum:
        why = ("the highest step of the rate table" if ctx.rate_steps else
               f"the rate that gives the prepared volume in "
               f"{ctx.infusion.target_duration.display()}")
        raise EventRefused(
            "DAY-RATE-TOO-HIGH",
            f"{describe_rate(rate)} is above the maximum {describe_rate(maximum)} ({why}).",
            requirements=("PROT-14", "PROT-15"),
        )


def _check_rate_change(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, RateChanged)
    _check_rate(facts, event.rate_ml_per_h, ctx)
    running = facts.running_rate
    if facts.reaction_open and running is not None and event.rate_ml_per_h > running:
        raise EventRefused(
            "DAY-RATE-UP-DURING-REACTION",
            f"A reaction started at {ctx.clock(facts.reactions[-1].onset)}: the rate may be reduced, "
            "not raised. Pause the infusion, grade the reaction and inform the physician first.",
            requirements=("PROT-23", "IAR-11", "IAR-12"),
        )
    # A slower rate that runs past the expiry is not refused (slowing down is how a reaction is
    # managed, IAR-12): the SOLUTION-EXPIRY alert says so instead.


def _check_resume(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, Resumed)
    _check_reactions_handled(facts, ctx)
    _check_not_expired(facts, event, ctx)
    _check_rate(facts, event.rate_ml_per_h, ctx)
    _check_expiry_before_end(facts, event.at, event.rate_ml_per_h, ctx)


def _check_reactions_handled(facts: DayFacts, ctx: DayContext) -> None:
    """No (re)start through a reaction: graded and the physician informed first (PROT-23, IAR-27)."""
    since = facts.running_since
    pending = [r for r in facts.reactions if since is None or r.onset >= since]
    ungraded = [r for r in pending if r.grading is None]
    if ungraded:
        raise EventRefused(
            "DAY-RESUME-UNGRADED",
            f"The reaction of {ctx.clock(ungraded[0].onset)} has not been graded: answer the "
            "grading questions before the infusion (re)starts.",
            requirements=("IAR-11", "IAR-27"),
        )
    if pending and not any(t >= pending[-1].onset for t in facts.physician_informed):
        raise EventRefused(
            "DAY-RESUME-PHYSICIAN-NOT-INFORMED",
            f"The physician has not been recorded as informed of the reaction of "
            f"{ctx.clock(pending[-1].onset)}; inform the physician before the infusion (re)starts.",
            requirements=("PROT-23",),
        )


def _check_solution(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, SolutionPrepared)
    infusion = ctx.infusion
    if not event.dose.same_mass(infusion.dose):
        raise EventRefused(
            "DAY-WRONG-DOSE",
            f"The solution holds {event.dose.display()}; the protocol dose is {infusion.dose.display()} "
            "per infusion day and no other.",
            requirements=(*infusion.requirements, "C-7"),
        )
    low, high = infusion.min_prepared_volume, infusion.max_prepared_volume
    too_small = low is not None and event.volume_ml < low.value
    if too_small or (high is not None and event.volume_ml > high.value):
        span = f"{low.display() if low else 'any'} to {high.display() if high else 'any'}"
        raise EventRefused(
            "DAY-VOLUME-OUT-OF-RANGE",
            f"A bag of {format_decimal(event.volume_ml)} mL is outside the protocol's range ({span}); "
            "check the preparation.",
            requirements=("PROT-12", "C-11"),
        )


def _check_premedication(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, PremedicationGiven)
    premed = next((p for p in ctx.protocol.premedications if matches(event.name, p.id, p.name)), None)
    if premed is None:
        known = ", ".join(p.name for p in ctx.premedications_today())
        raise EventRefused("DAY-UNKNOWN-PREMEDICATION",
                           f"{event.name!r} is not a premedication of this protocol (today: {known}); "
                           "record other drugs as a medication.")
    if not premed.applies_on(ctx.day):
        raise EventRefused(
            "DAY-PREMED-NOT-TODAY",
            f"{premed.name.capitalize()} is not given on day {ctx.day} of the course.",
            requirements=premed.requirements,
        )
    earlier = facts.premedications.get(premed.id)
    if earlier is not None:
        raise EventRefused(
            "DAY-PREMED-ALREADY-GIVEN",
            f"{premed.name.capitalize()} was already given today at {ctx.clock(earlier.at)}; it is "
            "not given twice. To fix the entry, correct it.",
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
    _check_against_library(facts, event, ctx)
    if facts.started_at is not None:
        raise EventRefused(
            "DAY-PREMED-AFTER-START",
            f"The infusion started at {ctx.clock(facts.started_at)}; a premedication is given before "
            "it. Record other drugs as a medication.",
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


def _check_against_library(facts: DayFacts, event: PremedicationGiven | MedicationGiven,
                           ctx: DayContext) -> None:
    """The drug library's hard and soft limits, over every dose of the day (issue 12 item 5)."""
    library = ctx.protocol.drug_library
    if library is None:
        return
    drug = library.find(event.name)
    indication = getattr(event, "indication", None)
    if event.dose is None or event.route is None:
        if drug is None and indication is None:
            raise EventRefused(
                "DRUG-NOT-IN-LIBRARY",
                f"{event.name} is not in the drug library: record the indication (why it was given); "
                "the physician will see it.", requirements=library.requirements)
        if drug is not None and any(entry.single.hard or entry.single.soft or entry.per_24h.hard
                                    or entry.per_24h.soft or entry.weight_bands for entry in drug.routes):
            raise EventRefused(
                "DAY-DOSE-REQUIRED",
                f"Record the dose and the route of {drug.name} given, so that its limits can be checked.",
                requirements=library.requirements)
        return
    check_administration(library, event.name, event.route, event.dose, event.at, ctx.patient.weight_kg,
                         facts.administrations, reason=getattr(event, "reason", None),
                         indication=indication, zone=ctx.zone)


def _check_medication(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, MedicationGiven)
    for action in ctx.reactions.actions:
        medicine = action.medicine
        if event.dose is None or medicine is None or medicine.dose is None or not matches(
                event.name, "", medicine.name):
            continue
        if not _same_amount(event.dose, medicine.dose):
            raise EventRefused(
                "DAY-WRONG-DOSE",
                f"{medicine.name.capitalize()} {event.dose.display()} differs from the protocol "
                f"dose {medicine.dose.display()}.",
                requirements=action.requirements,
            )
    _check_against_library(facts, event, ctx)


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
        known = ", ".join(s.label for s in ctx.reactions.symptoms)
        raise EventRefused("DAY-UNKNOWN-SYMPTOM",
                           f"Unknown symptom {unknown[0]!r}; choose from: {known}.",
                           requirements=ctx.reactions.requirements)


def _check_assessment(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    """An answer that contradicts what the record holds is refused, naming the fact (IAR-27)."""
    assert isinstance(event, ReactionAssessed)
    reaction = facts.reactions[-1]
    answered = event.model_fields_set
    checks = (
        ("interruption_needed", ("interruption", "treatment"), "DAY-ASSESSMENT-CONTRADICTS-INTERRUPTION",
         "the reaction needed an interruption or treatment"),
        ("recurred", ("recurrence",), "DAY-ASSESSMENT-CONTRADICTS-RECURRENCE",
         "the symptoms came back after improving"),
    )
    for name, kinds, code, meaning in checks:
        fact = next((f for f in reaction.facts if f.kind in kinds), None)
        if name in answered and getattr(event, name) is False and fact is not None:
            raise EventRefused(code, f"The record shows {fact.text}: {meaning}. Answer the question "
                               "again from the record.", requirements=("IAR-27",))
    sign = reaction.first("anaphylaxis_sign")
    if "anaphylaxis" in answered and event.anaphylaxis is False and reaction.anaphylaxis_in_record():
        assert sign is not None
        raise EventRefused(
            "DAY-ASSESSMENT-CONTRADICTS-ANAPHYLAXIS",
            f"The record shows {sign.text}. Only the physician can record, signed, that this is not "
            "anaphylaxis.",
            requirements=("IAR-27", "IAR-29", "PROT-20"),
        )


def _check_signed(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    if event.signed_by is None:
        raise EventRefused("DAY-DECISION-NOT-SIGNED",
                           "A physician's decision is recorded only with the physician's signature "
                           "(the password again and the reason).", requirements=("PROT-19",))


def _check_decision(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, PhysicianDecision)
    _check_signed(facts, event, ctx)
    if event.decision == "reschedule":
        _check_reschedule(facts, event, ctx)
    elif event.decision == "not_anaphylaxis" and not facts.reactions:
        raise EventRefused("DAY-NO-REACTION", "There is no reaction to decide on.",
                           requirements=("IAR-27",))
    elif event.decision == "clear_positive_test":
        _check_clear_test(facts, event, ctx)
    elif event.decision == "accept_solution_expiry" and facts.solution is None:
        raise EventRefused("DAY-START-NO-SOLUTION", "No solution has been prepared yet.",
                           requirements=("PROT-13",))


def _check_reschedule(facts: DayFacts, event: PhysicianDecision, ctx: DayContext) -> None:
    assert event.date is not None
    if facts.started_at is not None:
        raise EventRefused("DAY-RESCHEDULE-AFTER-START",
                           f"The infusion started at {ctx.clock(facts.started_at)}; a day that has "
                           "started cannot move to another date.", requirements=("PROT-04", "PROT-05"))
    if event.date in ctx.other_dates:
        raise EventRefused(
            "DAY-RESCHEDULE-DATE-TAKEN",
            f"{event.date:%d %b %Y} is already an infusion day of this course; two infusion days "
            "never share a date (a missed dose is not given on the day of a scheduled dose).",
            requirements=("PROT-04", "PROT-05", "PROT-11"),
        )


def _check_clear_test(facts: DayFacts, event: PhysicianDecision, ctx: DayContext) -> None:
    latest_positive = max((t.at for t in facts.positive_tests.values()), default=None)
    if latest_positive is None:
        raise EventRefused("DAY-NO-POSITIVE-TEST", "There is no positive test to clear.",
                           requirements=("PROT-07",))
    negative_after = any(t.at > latest_positive and t.result.strip().casefold() == "negative"
                         for t in facts.tests.values())
    if not negative_after:
        raise EventRefused(
            "DAY-CLEAR-TEST-NEEDS-NEGATIVE",
            f"The test was positive at {ctx.clock(latest_positive)}; record a later negative result "
            "before the physician clears it.",
            requirements=("PROT-07",),
        )


def _empty_at(facts: DayFacts, ctx: DayContext, at: datetime, rate: Decimal) -> datetime:
    """When the bag runs empty at ``rate`` (with a rate table: its remaining steps kept)."""
    assert facts.solution is not None
    volume = facts.solution.volume_ml
    if not ctx.rate_steps:
        return pump.projected_end(facts.segments, volume, at, rate)
    running = pump.current_rate(facts.segments, at) > 0 and facts.running_since is not None
    anchor = facts.running_since if running and facts.running_since is not None else at
    return pump_steps.projected_end(facts.segments, volume, at, rate, anchor, ctx.rate_steps)


def _check_flush_started(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    """The flush starts when the bag is empty, or after the infusion was ended early (PROT-16)."""
    if facts.ended_early is not None or facts.solution is None:
        return
    volume = facts.solution.volume_ml
    left = Decimal(volume) - pump.to_decimal(pump.volume_infused(facts.segments, event.at, volume),
                                             Decimal("0.01"))
    if left > ctx.record.empty_bag_tolerance_ml:
        rate = facts.running_rate
        when = "" if not rate else f" (empty at {ctx.clock(_empty_at(facts, ctx, event.at, rate))})"
        raise EventRefused(
            "DAY-FLUSH-BAG-NOT-EMPTY",
            f"The bag still holds about {format_decimal(left)} mL{when}. Start the flush when the bag "
            "is empty, or record that the infusion ended early, with the reason.",
            requirements=("PROT-16", "C-11"),
        )


def _check_flush_completed(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, FlushCompleted)
    flush = ctx.flush()
    started = facts.flush_started_at
    if flush is not None and started is not None and event.at - started < flush:
        raise EventRefused(
            "DAY-FLUSH-TOO-FAST",
            f"The flush started at {ctx.clock(started)} runs {int(flush.total_seconds() // 60)} min; "
            f"it cannot be complete before {ctx.clock(started + flush)}.",
            requirements=("PROT-16",),
        )


def _check_observation_over(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    refusal = _observation_not_over(facts, ctx, event.at)
    if refusal is not None:
        raise refusal


def _observation_not_over(facts: DayFacts, ctx: DayContext, at: datetime) -> EventRefused | None:
    end = facts.observation_end(ctx)
    if end is None or at >= end:
        return None
    return EventRefused(
        "DAY-OBSERVATION-NOT-OVER",
        f"Observation runs until {ctx.clock(end)} ({ctx.protocol.observation.duration.display()} "
        "after the end of the infusion and flush, and after the last reaction); the patient "
        "stays until then.",
        requirements=ctx.protocol.observation.requirements,
    )


def discharge_blockers(facts: DayFacts, ctx: DayContext, at: datetime) -> list[EventRefused]:
    """Why the patient may not go home yet (IAR-13, IAR-16, IAR-29, PROT-06, PROT-17)."""
    problems: list[EventRefused] = []
    for reaction in facts.ungraded_reactions():
        problems.append(EventRefused(
            "DAY-DISCHARGE-REACTION-UNGRADED",
            f"The reaction of {ctx.clock(reaction.onset)} has not been graded yet.",
            requirements=("IAR-27",),
        ))
    open_actions = severe_actions_open(facts, ctx)
    if open_actions:
        problems.append(EventRefused(
            "DAY-DISCHARGE-SEVERE-ACTION-OPEN",
            f"A severe reaction's action is still open: {open_actions[0]}",
            requirements=("IAR-13", "IAR-29"),
        ))
    observing = _observation_not_over(facts, ctx, at)
    if observing is not None:
        problems.append(observing)
    interval = ctx.protocol.vital_signs.interval_minutes
    last = facts.readings[-1].at if facts.readings else None
    if facts.started_at is not None and (last is None or at - last > timedelta(minutes=interval)):
        problems.append(EventRefused(
            "DAY-DISCHARGE-NO-RECENT-VITALS",
            f"No vital signs in the last {interval} min; measure them before the patient leaves.",
            requirements=ctx.protocol.vital_signs.requirements,
        ))
    if facts.started_at is not None:
        open_items = [i for i in _discharge_checklist(facts, ctx) if i.id not in _items_done(facts)]
        if open_items:
            problems.append(EventRefused(
                "DAY-DISCHARGE-CHECKLIST-OPEN",
                "The discharge checklist is not complete: "
                f"{', '.join(i.name for i in open_items)}.",
                requirements=tuple(dict.fromkeys(r for i in open_items for r in i.requirements)),
            ))
    return problems


def _discharge_checklist(facts: DayFacts, ctx: DayContext) -> tuple[Instruction, ...]:
    return discharge_items(ctx.protocol, is_last_day(facts.day_date, ctx.other_dates))


def _items_done(facts: DayFacts) -> dict[str, datetime]:
    return {e.item: e.at for e in facts.events if isinstance(e, DischargeItemDone)}


def _check_discharge_item(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, DischargeItemDone)
    items = {i.id: i for i in _discharge_checklist(facts, ctx)}
    if event.item not in items:
        raise EventRefused("DAY-DISCHARGE-ITEM-UNKNOWN",
                           "This point is not on today's discharge checklist.")
    done = _items_done(facts).get(event.item)
    if done is not None:
        item = items[event.item]
        raise EventRefused("DAY-DISCHARGE-ITEM-DONE",
                           f"{item.name.capitalize()} was already gone through at {ctx.clock(done)}.",
                           requirements=item.requirements)


def severe_actions_open(facts: DayFacts, ctx: DayContext) -> list[str]:
    """The texts of the actions recommended for a severe reaction that are not done yet."""
    latest = latest_values(r.values() for r in facts.readings)
    alerts = [a.code for a in evaluate_alerts(latest, facts.baseline, ctx.vital_rules)]
    texts: list[str] = []
    for reaction in facts.reactions:
        if reaction.severity != "severe":
            continue
        since = [e for e in facts.events if e.at >= reaction.onset]
        texts += [a.text for a in recommended_actions(reaction, ctx.reactions, since, alerts) if not a.done]
    return texts


def _check_discharge(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    if facts.decision("discharge_despite_gate") is not None:
        return
    blockers = discharge_blockers(facts, ctx, event.at)
    if blockers:
        first = blockers[0]
        raise EventRefused(first.code, f"{first.message} A physician may sign a discharge anyway.",
                           requirements=first.requirements)


_CHECKS = {
    "infusion_started": _check_start, "rate_changed": _check_rate_change, "resumed": _check_resume,
    "solution_prepared": _check_solution, "premedication_given": _check_premedication,
    "medication_given": _check_medication, "vital_signs": _check_vitals,
    "reaction_onset": _check_onset, "reaction_assessed": _check_assessment,
    "physician_decision": _check_decision, "physician_override": _check_signed,
    "flush_started": _check_flush_started,
    "flush_completed": _check_flush_completed, "observation_completed": _check_observation_over,
    "discharged": _check_discharge, "discharge_item_done": _check_discharge_item,
}
