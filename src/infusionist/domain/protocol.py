"""The protocol model: a clinical infusion protocol as validated, frozen data.

A protocol file (YAML, see ``docs/protocol-format.md``) is parsed into these models. Every
element carries the requirement IDs it implements and the key of its source document, and any
conflict between sources sits beside the element as an :class:`Advisory`. No clinical number
lives in Python code: the planner and the bedside logic read every dose, time and threshold
from here.

The format is general enough for other infusion therapies: courses are rules over course
numbers (any count of infusion days, Monday-to-Friday or consecutive or given day offsets,
a minimum interval after the previous course), and an infusion may run at one rate derived
from volume and duration or through a stepped rate table.
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from infusionist.domain.drug_library import DrugLibrary
from infusionist.domain.protocol_elements import (
    Condition,
    DailyTiming,
    DateRule,
    Element,
    Frozen,
    Option,
    Period,
    RequirementId,
    Route,
    Slug,
    Source,
    WhenOption,
)
from infusionist.domain.protocol_monitoring import Monitoring
from infusionist.domain.protocol_rates import (
    InfusionByDose,
    ObservationByDose,
    RateReactionRules,
    RateStep,
    RateTable,
    bag_problems,
)
from infusionist.domain.units import Quantity, format_decimal


class Medication(Element):
    """A medication taken over a period (evening-before and follow-up medication)."""

    name: str
    role: str
    unit_dose: Quantity
    route: Route
    timing: DailyTiming
    start: DateRule
    end: DateRule | None = None
    end_by_option: dict[str, DateRule] = Field(default_factory=dict)
    end_option: Slug | None = None
    stop_condition: str | None = None
    when: WhenOption | None = None

    def daily_dose(self) -> Quantity:
        return Quantity(value=self.unit_dose.value * self.timing.intakes_per_day(),
                        unit=self.unit_dose.unit)

    def display_dose(self) -> str:
        return f"{self.unit_dose.display()} {self.timing.display()}"


DaySelector = Literal["all"] | tuple[int, ...]


class Premedication(Element):
    """A drug given before each infusion on the selected days of a course."""

    name: str
    dose: Quantity
    route: Route
    form: str
    offset_minutes: int = Field(lt=0)
    days: DaySelector
    hard_limit_days: tuple[int, ...] | None = None
    required_before_start: bool = True
    full_dose_min_weight_kg: Decimal | None = None

    def applies_on(self, day: int) -> bool:
        return self.days == "all" or day in self.days


class Infusion(Element):
    """The therapeutic infusion of one day (of the first dose, and of every dose that no
    ``by_dose`` entry covers)."""

    name: str
    dose: Quantity
    route: Route = "iv"
    prepared_volume: Quantity
    target_duration: Quantity
    storage_limit: Quantity
    rate_steps: tuple[RateStep, ...] = ()
    alternative_tables: tuple[RateTable, ...] = ()
    by_dose: tuple[InfusionByDose, ...] = ()
    reduced_rate_factor: Decimal = Field(gt=0, le=1)
    # The volumes a prepared bag may hold (C-11); None: any volume is accepted.
    min_prepared_volume: Quantity | None = None
    max_prepared_volume: Quantity | None = None

    @model_validator(mode="after")
    def _units(self) -> Infusion:
        volumes = (self.prepared_volume, self.min_prepared_volume, self.max_prepared_volume)
        if any(v is not None and v.unit != "mL" for v in volumes):
            raise ValueError("prepared_volume, min_prepared_volume and max_prepared_volume must be in mL")
        if self.target_duration.unit != "min" or self.storage_limit.unit != "h":
            raise ValueError("target_duration must be in min and storage_limit in h")
        problems = bag_problems(self.prepared_volume, self.target_duration, self.rate_steps,
                                 self.alternative_tables)
        for index, variant in enumerate(self.by_dose):
            if variant.doses.covers(1):
                problems.append(f"by_dose[{index}].doses: the first dose is the infusion's own")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def for_dose(self, dose: int) -> Infusion:
        """The infusion as given at dose number ``dose`` (1 = the patient's first)."""
        variant = next((v for v in self.by_dose if v.doses.covers(dose)), None)
        if variant is None:
            return self
        return self.model_copy(update={
            "dose": variant.dose, "prepared_volume": variant.prepared_volume,
            "target_duration": variant.target_duration, "rate_steps": variant.rate_steps,
            "alternative_tables": variant.alternative_tables, "by_dose": (),
            "requirements": tuple(dict.fromkeys(self.requirements + variant.requirements)),
        })

    def with_table(self, table: RateTable) -> Infusion:
        """The infusion run through the alternative ``table``."""
        return self.model_copy(update={
            "target_duration": table.target_duration, "rate_steps": table.rate_steps,
            "alternative_tables": (),
            "requirements": tuple(dict.fromkeys(self.requirements + table.requirements)),
        })

    def table(self, table_id: str) -> RateTable | None:
        return next((t for t in self.alternative_tables if t.id == table_id), None)

    def duration_minutes(self) -> int:
        return int(self.target_duration.value)

    def rate_ml_per_h(self) -> Decimal:
        """The constant rate that delivers the prepared volume in the target time (C-11)."""
        return self.prepared_volume.value * 60 / self.target_duration.value

    def max_rate_ml_per_h(self) -> Decimal:
        if self.rate_steps:
            return max(step.rate.value for step in self.rate_steps)
        return self.rate_ml_per_h()

    def storage_limit_minutes(self) -> int:
        return int(self.storage_limit.value * 60)


class Flush(Element):
    """The line flush after the infusion."""

    name: str
    volume: Quantity
    duration: Quantity
    route: Route = "iv"

    def rate_ml_per_h(self) -> Decimal:
        return self.volume.value * 60 / self.duration.value

    def duration_minutes(self) -> int:
        return int(self.duration.value)


class VitalSignsSchedule(Element):
    """Checks from before the infusion to the end of observation."""

    interval_minutes: int = Field(gt=0)
    max_interval_minutes: int = Field(gt=0)
    parameters: tuple[str, ...]
    baseline_offset_minutes: int = Field(le=0)
    # The measurements a start needs as its baseline (IAR-24); empty: no baseline required.
    baseline_parameters: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _interval_within_limit(self) -> VitalSignsSchedule:
        if self.interval_minutes > self.max_interval_minutes:
            raise ValueError("interval_minutes exceeds max_interval_minutes")
        return self


class Observation(Element):
    """Observation after the end of the flush (C-6); ``by_dose`` entries override ``duration``
    for the doses they name, the first matching entry winning."""

    duration: Quantity
    by_dose: tuple[ObservationByDose, ...] = ()

    @model_validator(mode="after")
    def _in_minutes(self) -> Observation:
        if self.duration.unit != "min":
            raise ValueError("duration: must be in min")
        for index, entry in enumerate(self.by_dose):
            if entry.duration.unit != "min":
                raise ValueError(f"by_dose[{index}].duration: must be in min")
        return self

    def duration_minutes(self) -> int:
        return int(self.duration.value)

    def minutes_for(self, dose: int, options: Mapping[str, str]) -> int:
        """The observation time after dose number ``dose`` under the centre's ``options``."""
        for entry in self.by_dose:
            if entry.doses.covers(dose) and (
                entry.when is None or options.get(entry.when.option) == entry.when.value
            ):
                return int(entry.duration.value)
        return self.duration_minutes()


class DayActivity(Element):
    """A procedure or test on given infusion days, for the patients it applies to."""

    kind: Literal["procedure", "test"]
    name: str
    days: DaySelector
    offset_minutes: int
    condition: Condition = Condition.ALWAYS
    blocks_start_unless: str | None = None  # e.g. "negative": required result before start

    def applies_on(self, day: int) -> bool:
        return self.days == "all" or day in self.days


class Instruction(Element):
    """Something the patient or the staff must know or do."""

    name: str
    text: str
    audience: Literal["patient", "staff"]
    when: Literal["evening_before", "infusion_days", "after_course"]


class FollowUp(Element):
    """A dated item after the course: a check-up, a contraception date, the next course."""

    kind: Literal["follow_up", "medication", "instruction"] = "follow_up"
    name: str
    due: DateRule
    end: DateRule | None = None
    condition: Condition = Condition.ALWAYS
    dose: Quantity | None = None
    route: Route | None = None
    text: str


class Repeat(Frozen):
    """A repeating schedule: each course is due ``every`` after the first infusion of the
    previous one (every 24 weeks, every 4 weeks); the course rule's
    ``min_interval_after_previous`` is the hard floor, ``missed_dose`` what a late dose does."""

    every: Period
    missed_dose: Literal["give_and_reset", "give_and_keep"]
    missed_dose_text: str


class CourseRule(Element):
    """The shape of courses ``first_course`` .. ``last_course`` (None: all later ones)."""

    first_course: int = Field(ge=1)
    last_course: int | None = None
    infusion_days: int = Field(ge=1)
    pattern: Literal["monday_to_friday", "consecutive", "day_offsets"]
    day_offsets: tuple[int, ...] = ()
    min_interval_after_previous: Period | None = None
    repeat: Repeat | None = None

    def covers(self, course: int) -> bool:
        return course >= self.first_course and (
            self.last_course is None or course <= self.last_course
        )

    @model_validator(mode="after")
    def _pattern_is_complete(self) -> CourseRule:
        if self.pattern == "monday_to_friday" and self.infusion_days > 5:
            raise ValueError("a Monday-to-Friday course has at most 5 days")
        if self.pattern == "day_offsets" and len(self.day_offsets) != self.infusion_days:
            raise ValueError("day_offsets must list one offset per infusion day")
        if self.first_course > 1 and self.min_interval_after_previous is None:
            raise ValueError("a later course needs min_interval_after_previous")
        if self.repeat is not None and self.first_course == 1:
            raise ValueError("repeat: only a later course repeats (the first one has nothing "
                             "to count from)")
        return self


class Symptom(Element):
    """A sign or symptom a nurse can tick when a reaction starts."""

    label: str
    category: Literal[
        "skin", "systemic", "neurological", "anaphylaxis", "cardiovascular", "respiratory",
        "gastrointestinal",
    ]
    anaphylaxis_sign: bool = False


class GradeText(Frozen):
    grade: int = Field(ge=1, le=5)
    text: str


class CtcaeTerm(Frozen):
    term: str
    grades: tuple[GradeText, ...]

    def wording(self, grade: int) -> str | None:
        return next((g.text for g in self.grades if g.grade == grade), None)


class Medicine(Frozen):
    name: str
    dose: Quantity | None = None
    route: Route | Literal["im", "inhaled"] | None = None


# Conditions the bedside code decides itself; any other ``when`` names findings in the data.
BUILT_IN_CONDITIONS = frozenset({"always", "anaphylaxis", "insufficient_effect"})


class ActionFindings(Frozen):
    """What makes a conditional action apply: any one of these symptoms (symptom ids of
    ``reactions.symptoms``) ticked, or any one of these vital-sign alerts (codes of
    ``vital_sign_rules.alerts``) active. ``requirements``: the IDs that tie the finding to the
    action (e.g. IAR-29: i.v. fluids for hypotension)."""

    symptoms: tuple[str, ...] = ()
    alerts: tuple[Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9-]+$")], ...] = ()
    requirements: tuple[RequirementId, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _names_something(self) -> ActionFindings:
        if not self.symptoms and not self.alerts:
            raise ValueError("findings name no symptom and no alert")
        return self


class ManagementAction(Element):
    """One step of reaction management; ``done_by`` names the event that ticks it.

    ``when``: ``always``; ``anaphylaxis`` (the grade, the record or the assessment says so);
    ``insufficient_effect`` (the first-line drug is in, or did not work); or the name of a
    condition whose ``findings`` (symptoms and alerts) the action lists."""

    code: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9-]+$")]
    text: str
    severity: Literal["any", "mild_moderate", "severe", "neurological"]
    when: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]*$")] = "always"
    findings: ActionFindings | None = None
    medicine: Medicine | None = None
    done_by: Literal[
        "infusion_paused", "physician_informed", "medication_given", "infusion_stopped",
        "vital_signs", "resumed", "emergency_called", "procedure_done",
    ]
    order: int

    @model_validator(mode="before")
    @classmethod
    def _id_from_code(cls, data: object) -> object:
        if isinstance(data, dict) and "id" not in data and isinstance(data.get("code"), str):
            return {**data, "id": data["code"].lower()}
        return data

    @model_validator(mode="after")
    def _findings_match_when(self) -> ManagementAction:
        if self.when in BUILT_IN_CONDITIONS and self.findings is not None:
            raise ValueError(f"when {self.when!r} is decided by the bedside rules; remove findings")
        if self.when not in BUILT_IN_CONDITIONS and self.findings is None:
            raise ValueError(f"when {self.when!r} needs findings (the symptoms and alerts that mean it)")
        return self


class AlertEvidence(Frozen):
    """A vital-sign alert that, during a reaction, counts as one of its symptoms (IAR-27)."""

    alert: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9-]+$")]
    symptom: str


class ReactionRules(Element):
    """What an infusion reaction is, how it is graded and how it is managed."""

    window_after_infusion_hours: int = Field(gt=0)
    # After a restart at the reduced rate, how long the rate is held before it may rise (IAR-28).
    restart_hold_minutes: int = Field(default=0, ge=0)
    # Alerts raised between a reaction's onset and its assessment that count as its symptoms.
    alert_evidence: tuple[AlertEvidence, ...] = ()
    # After a severe reaction, whether the drug line may still be flushed into the patient.
    flush_after_severe: bool = False
    ctcae_version: str
    severe_from_grade: int = Field(ge=1, le=5)
    restart_rate_factor: Decimal = Field(gt=0, le=1)
    symptoms: tuple[Symptom, ...]
    terms: tuple[CtcaeTerm, ...]
    actions: tuple[ManagementAction, ...]

    def symptom(self, code: str) -> Symptom | None:
        return next((s for s in self.symptoms if s.id == code), None)

    def term(self, name: str) -> CtcaeTerm:
        return next(t for t in self.terms if t.term == name)


class BedsideRecordRules(Element):
    """When recorded facts count for the day's decisions (issue 12); every number is a centre's.

    ``clock_tolerance_minutes``: how far ahead of the server's clock an entry may be timed.
    ``premedication_valid_minutes``: a premedication counts for a start given at most this long
    before it (PROT-09, PROT-10, IAR-21). ``baseline_valid_minutes``: vital signs count as the
    baseline when taken at most this long before the start (IAR-24). ``empty_bag_tolerance_ml``:
    the volume the pump arithmetic may still show when the flush starts (PROT-16).
    ``observation_after_reaction_minutes``: observation lasts at least this long after the last
    reaction's onset (IAR-16).
    """

    clock_tolerance_minutes: int = Field(ge=0, le=60)
    premedication_valid_minutes: int = Field(gt=0)
    baseline_valid_minutes: int = Field(gt=0)
    empty_bag_tolerance_ml: Decimal = Field(ge=0)
    observation_after_reaction_minutes: int = Field(ge=0)


class Limit(Frozen):
    """Plausible range of one vital-sign field; outside it the entry is refused."""

    min: Decimal
    max: Decimal
    unit: str
    message: str
    source: str


class AlertBound(Frozen):
    """Values the alert must always catch, whatever threshold a centre sets (reference §5)."""

    comparison: Literal["<", "<=", ">", ">="]
    value: Decimal
    source: str
    reason: str  # e.g. "NEWS2 scores it 3", "CTCAE grade 2"

    def words(self) -> str:
        return f"{_COMPARISON_WORDS[self.comparison]} {self.value}"


_COMPARISON_WORDS = {"<": "below", "<=": "at or below", ">": "above", ">=": "at or above"}


class AlertGrade(Frozen):
    """A band of a published scale: a value beyond ``value`` is ``grade`` on ``scale`` (item 9).

    ``scale`` names it as the nurse reads it ("CTCAE v5.0 fever", "NEWS2"); a grade of 3 or more
    makes the alert critical.
    """

    comparison: Literal["<", "<=", ">", ">="]
    value: Decimal
    grade: int = Field(ge=1, le=5)
    scale: str
    source: str

    def holds(self, measured: Decimal) -> bool:
        return {"<": measured < self.value, "<=": measured <= self.value,
                ">": measured > self.value, ">=": measured >= self.value}[self.comparison]


class AlertRule(Element):
    """A threshold on a vital sign that raises an alert.

    ``message`` states the threshold in force through the ``{threshold}`` placeholder, so that a
    centre's own threshold is what the nurse reads. ``must_alert`` lists the values the alert
    may never silence (NEWS2 score 3, CTCAE grade 2 or more): a threshold that would is refused.
    """

    code: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9-]+$")]
    parameter: str
    comparison: Literal["<", "<=", ">", ">=", "drop_percent_from_baseline"]
    threshold: Decimal
    severity: Literal["warning", "critical"]
    message: str
    must_alert: tuple[AlertBound, ...] = ()
    grades: tuple[AlertGrade, ...] = ()  # the value's grade on a published scale (reference §3, §5)

    def grade_of(self, measured: Decimal) -> AlertGrade | None:
        """The highest grade band ``measured`` falls in, if any."""
        return max((g for g in self.grades if g.holds(measured)), key=lambda g: g.grade, default=None)

    @model_validator(mode="after")
    def _states_its_threshold_and_silences_nothing(self) -> AlertRule:
        if "{threshold}" not in self.message:
            raise ValueError(f"alert {self.code}: the message must state the threshold in force "
                             "with the {threshold} placeholder")
        for bound in self.must_alert:
            if (bound.comparison in ("<", "<=")) != (self.comparison in ("<", "<=")):
                raise ValueError(f"alert {self.code}: bound {bound.words()} is on the other side")
        silenced = self.silenced_by(self.threshold)
        if silenced is not None:
            raise ValueError(f"alert {self.code}: threshold {self.threshold} silences values "
                             f"{silenced.words()} ({silenced.reason})")
        return self

    def silenced_by(self, threshold: Decimal) -> AlertBound | None:
        """The first bound whose values ``threshold`` would leave without an alert."""
        for bound in self.must_alert:
            if self.comparison in (">", ">="):
                strict = self.comparison == ">" and bound.comparison == ">="
                covered = threshold < bound.value if strict else threshold <= bound.value
            else:
                strict = self.comparison == "<" and bound.comparison == "<="
                covered = threshold > bound.value if strict else threshold >= bound.value
            if not covered:
                return bound
        return None

    def text(self) -> str:
        """The alert's message with the threshold in force."""
        return self.message.replace("{threshold}", str(self.threshold))


class VitalSignRules(Element):
    plausibility: dict[str, Limit]
    fahrenheit_in_celsius_field_above: Decimal
    alerts: tuple[AlertRule, ...]


class ReferenceFigure(Frozen):
    """A published trial figure, kept with its source (C-13)."""

    measure: Literal["any_iar", "serious_iar", "symptom"]
    arm: str
    course: int | None = None
    symptom: str | None = None
    percent: Decimal | None = None
    frequency: str | None = None
    patients_with: int | None = None
    patients_exposed: int | None = None
    note: str | None = None
    source: str


class ReferenceFigures(Element):
    """Reference figures for trial analytics; never used to schedule anything."""

    figures: tuple[ReferenceFigure, ...]


class Courses(Frozen):
    rules: tuple[CourseRule, ...] = Field(min_length=1)
    max_courses: int | None = None

    def rule_for(self, course: int) -> CourseRule | None:
        return next((rule for rule in self.rules if rule.covers(course)), None)


class Protocol(Frozen):
    """A whole versioned protocol."""

    id: Slug
    version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+$")]
    title: str
    status: Literal["draft", "approved", "retired"]
    sources: dict[str, Source]
    options: tuple[Option, ...] = ()
    courses: Courses
    evening_before: tuple[Medication, ...] = ()
    premedications: tuple[Premedication, ...] = ()
    infusion: Infusion
    flush: Flush | None = None
    vital_signs: VitalSignsSchedule
    observation: Observation
    day_activities: tuple[DayActivity, ...] = ()
    instructions: tuple[Instruction, ...] = ()
    follow_up: tuple[FollowUp, ...] = ()
    monitoring: Monitoring | None = None
    course_warnings: tuple[Element, ...] = ()
    reactions: ReactionRules | None = None
    rate_reactions: RateReactionRules | None = None
    vital_sign_rules: VitalSignRules | None = None
    bedside_record: BedsideRecordRules | None = None
    reference_figures: ReferenceFigures | None = None
    drug_library: DrugLibrary | None = None

    @model_validator(mode="after")
    def _sources_and_references_exist(self) -> Protocol:
        problems = [
            f"{element.id}: unknown source {element.source!r}"
            for element in self.all_elements()
            if element.source not in self.sources
        ]
        problems += [
            f"{element.id}: advisory cites unknown source {advisory.source!r}"
            for element in self.all_elements()
            for advisory in element.advisories
            if advisory.source not in self.sources
        ]
        option_ids = {o.id for o in self.options}
        problems += [
            f"observation.by_dose[{i}].when: unknown option {entry.when.option!r}"
            for i, entry in enumerate(self.observation.by_dose)
            if entry.when is not None and entry.when.option not in option_ids
        ]
        if self.rate_reactions is not None:
            problems += [
                f"rate_reactions.rules[{i}].source: unknown source {rule.source!r}"
                for i, rule in enumerate(self.rate_reactions.rules)
                if rule.source not in self.sources
            ]
        for med in self.evening_before:
            if med.when is not None and med.when.option not in option_ids:
                problems.append(f"{med.id}: unknown option {med.when.option!r}")
            if med.end_option is not None and med.end_option not in option_ids:
                problems.append(f"{med.id}: unknown option {med.end_option!r}")
        if self.reference_figures is not None:
            problems += [
                f"reference figure cites unknown source {figure.source!r}"
                for figure in self.reference_figures.figures
                if figure.source not in self.sources
            ]
        if self.monitoring is not None:
            problems += self.monitoring.problems(option_ids, set(self.sources))
        problems += self._reaction_findings_problems()
        if self.drug_library is not None:
            problems += [
                f"drug library cites unknown source {key!r}"
                for key in sorted(set(self.drug_library.sources()) - set(self.sources))
            ]
        ids = [e.id for e in self.all_elements()]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            problems.append(f"duplicate element ids: {', '.join(duplicates)}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _reaction_findings_problems(self) -> list[str]:
        """An action's findings name only symptoms and alerts this protocol defines."""
        if self.reactions is None:
            return []
        symptoms = {s.id for s in self.reactions.symptoms}
        alerts = ({a.code for a in self.vital_sign_rules.alerts}
                  if self.vital_sign_rules is not None else set())
        problems = []
        for action in self.reactions.actions:
            if action.findings is None:
                continue
            place = f"reactions.actions[{action.code}].findings"
            problems += [f"{place}: unknown symptom {s!r} (not in reactions.symptoms)"
                         for s in action.findings.symptoms if s not in symptoms]
            problems += [f"{place}: unknown alert {a!r} (not in vital_sign_rules.alerts)"
                         for a in action.findings.alerts if a not in alerts]
        return problems

    def all_elements(self) -> list[Element]:
        singles: list[Element | None] = [
            self.infusion, self.flush, self.vital_signs, self.observation, self.reactions,
            self.rate_reactions,
            self.vital_sign_rules, self.bedside_record, self.reference_figures, self.drug_library,
            *self.courses.rules,
        ]
        many: list[Element] = [
            *self.evening_before, *self.premedications, *self.day_activities,
            *self.instructions, *self.follow_up, *self.course_warnings,
            *self.infusion.alternative_tables, *self.infusion.by_dose,
            *(t for v in self.infusion.by_dose for t in v.alternative_tables),
        ]
        if self.reactions is not None:
            many += [*self.reactions.symptoms, *self.reactions.actions]
        if self.vital_sign_rules is not None:
            many += list(self.vital_sign_rules.alerts)
        if self.monitoring is not None:
            many += self.monitoring.elements()
        return [e for e in singles if e is not None] + many

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)

    def dose_number(self, course: int, day: int) -> int:
        """The patient's dose number of infusion ``day`` of ``course``: every infusion of the
        earlier courses counts (after a first course of two infusions, course 2 is dose 3)."""
        earlier = 0
        for number in range(1, course):
            rule = self.courses.rule_for(number)
            earlier += rule.infusion_days if rule is not None else 1
        return earlier + day

    def requirement_ids(self) -> set[str]:
        return {rid for element in self.all_elements() for rid in element.requirements}


def describe_rate(value: Decimal) -> str:
    return f"{format_decimal(value.quantize(Decimal('0.1')))} mL/h"
