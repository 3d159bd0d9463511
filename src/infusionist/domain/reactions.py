"""Infusion reactions: CTCAE grading from structured facts, and the management checklist.

Grading follows CTCAE v5.0 for the terms "Infusion related reaction" and "Anaphylaxis"; the
wording shown to people comes from the protocol's ``reactions.terms`` and the version stored
with every grade is the protocol's ``ctcae_version``. Whether a grade is severe, and what to
do, come from the protocol too (``severe_from_grade``, ``actions``), and so do the symptoms and
alerts behind a conditional action (``actions[*].findings``): the code only decides which of the
protocol's actions apply and which recorded event ticks each one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from infusionist.domain.day_events import ClinicalEvent, MedicationGiven, ReactionAssessed
from infusionist.domain.errors import ProtocolError
from infusionist.domain.protocol import ManagementAction, ReactionRules

INFUSION_RELATED_REACTION = "Infusion related reaction"
ANAPHYLAXIS = "Anaphylaxis"

# CTCAE v5.0 grade levels; the wording of each level is read from the protocol.
_MILD = 1
_INTERRUPTION_RESPONDS = 2
_PROLONGED_OR_RECURRENT = 3
_LIFE_THREATENING = 4

Severity = Literal["mild_moderate", "severe"]
PumpAtOnset = Literal["running", "paused", "not_running"]
FactKind = Literal[
    "interruption", "treatment", "recurrence", "anaphylaxis_sign", "critical_alert", "not_anaphylaxis",
]

# ``done_by`` names in the protocol -> the event types that do the action.
_DONE_BY_EVENTS: dict[str, frozenset[str]] = {
    "infusion_paused": frozenset({"paused", "infusion_stopped"}),
    "infusion_stopped": frozenset({"infusion_stopped"}),
}
_PUMP_ACTIONS = frozenset({"infusion_paused", "infusion_stopped", "resumed"})


@dataclass(frozen=True, slots=True)
class Grading:
    term: str
    grade: int
    ctcae_version: str
    severity: Severity
    reason: str


@dataclass(frozen=True, slots=True)
class RecordedFact:
    """Something the record holds about a reaction, whatever the grading answers say (IAR-27)."""

    kind: FactKind
    at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class Reaction:
    """One reaction of the day: onset, symptoms, the facts the record holds and its grade."""

    onset: datetime
    symptoms: tuple[str, ...]
    after_infusion: bool = False
    assessment: ReactionAssessed | None = None
    grading: Grading | None = None
    pump_at_onset: PumpAtOnset = "not_running"
    facts: tuple[RecordedFact, ...] = ()

    def has(self, kind: FactKind) -> bool:
        return any(fact.kind == kind for fact in self.facts)

    def first(self, kind: FactKind) -> RecordedFact | None:
        return next((fact for fact in self.facts if fact.kind == kind), None)

    def anaphylaxis_in_record(self) -> bool:
        """Signs of anaphylaxis recorded, and no physician's signed word that it is not."""
        return self.has("anaphylaxis_sign") and not self.has("not_anaphylaxis")

    @property
    def severity(self) -> Severity | None:
        return None if self.grading is None else self.grading.severity


@dataclass(frozen=True, slots=True)
class RecommendedAction:
    code: str
    text: str
    done: bool
    requirements: tuple[str, ...]
    done_by: str
    done_at: datetime | None = None


def grade_reaction(
    answers: ReactionAssessed, rules: ReactionRules, record: Sequence[RecordedFact] = ()
) -> Grading:
    """The CTCAE grade from the answers and what the record holds; the record only raises it.

    An interruption or a treatment in the record means at least grade 2; a recurrence grade 3;
    signs of anaphylaxis mean Anaphylaxis (grade 3 or more) unless a physician signed that it is
    not; a critical vital-sign alert during the reaction makes it severe (IAR-27, IAR-29).
    """
    kinds = {fact.kind for fact in record}
    physician_says_not = "not_anaphylaxis" in kinds
    facts = answers.model_copy(update={
        "interruption_needed": answers.interruption_needed or bool(kinds & {"interruption", "treatment"}),
        "recurred": answers.recurred or "recurrence" in kinds,
        "anaphylaxis": (answers.anaphylaxis or "anaphylaxis_sign" in kinds) and not physician_says_not,
    })
    term, grade, why = _grade(facts)
    critical = [fact for fact in record if fact.kind == "critical_alert"]
    if critical and grade < rules.severe_from_grade:
        grade, why = rules.severe_from_grade, "A critical vital sign during the reaction."
    wording = _term_wording(rules, term, grade)
    severity: Severity = "severe" if grade >= rules.severe_from_grade else "mild_moderate"
    evidence = [fact.text for fact in record if fact.kind in _RAISING[term]]
    noted = f" From the record: {'; '.join(evidence)}." if evidence else ""
    reason = f"{why}{noted} CTCAE v{rules.ctcae_version} {term}, grade {grade}: {wording}"
    return Grading(term, grade, rules.ctcae_version, severity, reason)


# Which facts of the record the reason names, by the term they led to.
_RAISING: dict[str, frozenset[str]] = {
    INFUSION_RELATED_REACTION: frozenset({"interruption", "treatment", "recurrence", "critical_alert",
                                          "not_anaphylaxis"}),
    ANAPHYLAXIS: frozenset({"anaphylaxis_sign", "critical_alert"}),
}


def _grade(facts: ReactionAssessed) -> tuple[str, int, str]:
    if facts.anaphylaxis:
        if facts.life_threatening:
            return ANAPHYLAXIS, _LIFE_THREATENING, "Anaphylaxis with life-threatening consequences."
        return ANAPHYLAXIS, _PROLONGED_OR_RECURRENT, "Signs of anaphylaxis."
    if facts.life_threatening:
        return INFUSION_RELATED_REACTION, _LIFE_THREATENING, "Life-threatening consequences."
    if facts.recurred:
        return INFUSION_RELATED_REACTION, _PROLONGED_OR_RECURRENT, "Symptoms recurred after improving."
    if facts.hospitalisation_indicated:
        return INFUSION_RELATED_REACTION, _PROLONGED_OR_RECURRENT, "Hospitalisation is indicated."
    if facts.interruption_needed and facts.responded_promptly is False:
        return (INFUSION_RELATED_REACTION, _PROLONGED_OR_RECURRENT,
                "Interruption needed and no prompt response to symptomatic treatment.")
    if facts.interruption_needed:
        pending = " (response to treatment not yet recorded)" if facts.responded_promptly is None else ""
        return (INFUSION_RELATED_REACTION, _INTERRUPTION_RESPONDS,
                f"Interruption or treatment needed, responding promptly{pending}.")
    return INFUSION_RELATED_REACTION, _MILD, "No interruption and no treatment needed."


def _term_wording(rules: ReactionRules, term: str, grade: int) -> str:
    found = next((t for t in rules.terms if t.term == term), None)
    wording = None if found is None else found.wording(grade)
    if wording is None:
        raise ProtocolError(
            "PROTOCOL-CTCAE-TERM",
            f"The protocol has no CTCAE wording for {term!r} grade {grade}; add it to reactions.terms.",
            requirements=rules.requirements,
        )
    return wording


def recommended_actions(
    reaction: Reaction,
    rules: ReactionRules,
    events_since_onset: Sequence[ClinicalEvent],
    active_alert_codes: Iterable[str],
) -> list[RecommendedAction]:
    """The protocol's checklist for ``reaction``, each item ticked by the event that does it."""
    alerts = frozenset(active_alert_codes)
    chosen = [
        action for action in rules.actions
        if _severity_applies(action, reaction, rules)
        and _condition_holds(action, reaction, alerts, _first_line_given(action, rules, events_since_onset))
        and not (action.done_by in _PUMP_ACTIONS and reaction.pump_at_onset == "not_running")
    ]
    chosen.sort(key=lambda action: (action.order, action.code))
    return [_ticked(action, reaction, events_since_onset) for action in chosen]


def _severity_applies(action: ManagementAction, reaction: Reaction, rules: ReactionRules) -> bool:
    if action.severity == "any":
        return True
    if action.severity == "neurological":
        return any(_category(rules, s) == "neurological" for s in reaction.symptoms)
    return reaction.severity == action.severity


def _category(rules: ReactionRules, symptom_id: str) -> str | None:
    symptom = rules.symptom(symptom_id)
    return None if symptom is None else symptom.category


def _first_line_given(
    action: ManagementAction, rules: ReactionRules, events: Sequence[ClinicalEvent]
) -> bool:
    """Whether an unconditional drug of the same ladder (e.g. dimetindene) has been given."""
    first_line = [
        a for a in rules.actions
        if a.severity == action.severity and a.when == "always" and a.done_by == "medication_given"
    ]
    return any(_does(a, e) for a in first_line for e in events)


def _condition_holds(
    action: ManagementAction, reaction: Reaction, alerts: frozenset[str], first_line_given: bool
) -> bool:
    when, facts = action.when, reaction.assessment
    if when == "always":
        return True
    if when == "insufficient_effect":
        # The next step once the first-line drug is in, or when it visibly did not work.
        return first_line_given or (
            facts is not None and (facts.responded_promptly is False or facts.recurred))
    if when == "anaphylaxis" and (
        (reaction.grading is not None and reaction.grading.term == ANAPHYLAXIS)
        or reaction.anaphylaxis_in_record() or (facts is not None and facts.anaphylaxis)
    ):
        return True
    findings = action.findings  # the protocol's symptoms and alerts for this condition
    if findings is None:
        return False
    return bool(set(findings.symptoms) & set(reaction.symptoms)) or bool(set(findings.alerts) & alerts)


def _ticked(
    action: ManagementAction, reaction: Reaction, events: Sequence[ClinicalEvent]
) -> RecommendedAction:
    done_at = reaction.onset if (
        action.done_by == "infusion_paused" and reaction.pump_at_onset == "paused"
    ) else next((e.at for e in events if _does(action, e)), None)
    return RecommendedAction(
        code=action.code, text=action.text, done=done_at is not None,
        requirements=action.requirements, done_by=action.done_by, done_at=done_at,
    )


def _does(action: ManagementAction, event: ClinicalEvent) -> bool:
    if event.type not in _DONE_BY_EVENTS.get(action.done_by, frozenset({action.done_by})):
        return False
    if isinstance(event, MedicationGiven) and action.medicine is not None:
        return event.name.casefold() == action.medicine.name.casefold()
    return True
