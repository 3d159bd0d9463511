"""Ocrelizumab and natalizumab from protocol data alone (issue 16): the reference's arithmetic
(../shared/reference/clinical-facts.md section 6, "Numbers a test can check"), the format's new
constructs and their mistakes, each named with its place in the file."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from infusionist.adapters.protocol_files import (
    bundled_protocol_ids,
    bundled_protocol_path,
    load_bundled_protocol,
    load_protocol,
)
from infusionist.domain.activities import Activity, ActivityKind
from infusionist.domain.centre import CentreConfig
from infusionist.domain.errors import PlanningError, ProtocolError
from infusionist.domain.plan_json import plan_from_json, plan_to_json
from infusionist.domain.planning import CoursePlan, Patient, PlanRequest, plan_course
from infusionist.domain.protocol_rates import step_spans, table_minutes

ZONE = ZoneInfo("Europe/Berlin")
OCR = load_bundled_protocol("ocrelizumab-ms")
NAT = load_bundled_protocol("natalizumab-ms")


def _plan(protocol_id: str, course: int, first_day: date, previous: date | None = None, *,
          patient: Patient | None = None, table: str | None = None,
          config: CentreConfig | None = None) -> CoursePlan:
    request = PlanRequest(patient or Patient(id="P1", sex="female"), course, first_day, time(9, 0),
                          ZONE, "Europe/Berlin", previous_course_end=previous, rate_table=table)
    return plan_course(load_bundled_protocol(protocol_id), request, config or CentreConfig())


def _infusions(plan: CoursePlan) -> list[Activity]:
    return [a for a in plan.activities if a.kind is ActivityKind.INFUSION]


def _minutes(infusion: Activity) -> Decimal:
    assert infusion.end is not None
    return Decimal((infusion.end - infusion.start).total_seconds()) / 60


# -- the reference's arithmetic ----------------------------------------------------------------

def test_the_250_ml_table_runs_about_158_min__OCR_09_12():
    infusion = OCR.infusion.for_dose(1)
    spans = step_spans(infusion.rate_steps, infusion.prepared_volume.value)
    assert [s.volume_ml for s in spans] == [15, 30, 45, 60, 75, 25]
    assert spans[4].end_minute == 150 and spans[-1].rate_ml_per_h == 180
    assert round(table_minutes(infusion.rate_steps, Decimal(250))) == 158


def test_the_500_ml_table_runs_210_min__OCR_10_12():
    infusion = OCR.infusion.for_dose(3)
    assert infusion.dose.value == 600 and infusion.prepared_volume.value == 500
    spans = step_spans(infusion.rate_steps, Decimal(500))
    assert [s.volume_ml for s in spans] == [20, 40, 60, 80, 300]
    assert spans[3].end_minute == 120 and spans[-1].end_minute == 210
    assert max(s.rate_ml_per_h for s in spans) == 200


def test_the_two_hour_table_gives_500_ml_in_120_min__OCR_11_12():
    (table,) = OCR.infusion.for_dose(3).alternative_tables
    spans = step_spans(table.rate_steps, Decimal(500))
    assert [s.volume_ml for s in spans] == [25, 50, 125, 300]
    assert spans[-1].end_minute == 120 and sum(s.volume_ml for s in spans) == 500


def test_a_reaction_at_120_ml_h_continues_at_60_for_at_least_30_min__OCR_13():
    rules = OCR.rate_reactions
    assert rules is not None
    assert rules.rate_after("mild_moderate", Decimal(120)) == 60
    rule = rules.rule("mild_moderate")
    assert rule is not None and rule.hold_minutes == 30 and rule.action == "reduce_rate"


def test_a_severe_reaction_restarts_at_half_the_onset_rate__OCR_14():
    assert OCR.rate_reactions is not None
    assert OCR.rate_reactions.rate_after("severe", Decimal(160)) == 80


def test_a_life_threatening_reaction_ends_the_therapy__OCR_15():
    assert OCR.rate_reactions is not None
    rule = OCR.rate_reactions.rule("life_threatening")
    assert rule is not None and rule.action == "discontinue"
    assert OCR.rate_reactions.rate_after("life_threatening", Decimal(120)) is None


def test_natalizumab_runs_at_100_ml_h_for_60_min__NAT_01_02():
    (infusion,) = _infusions(_plan("natalizumab-ms", 1, date(2027, 1, 4)))
    assert infusion.rate_ml_per_h == 100 and infusion.volume_ml == 100
    assert infusion.dose is not None and infusion.dose.value == 300
    assert _minutes(infusion) == 60 and infusion.rate_steps == ()


# -- planning each therapy -------------------------------------------------------------------

def test_course_1_of_ocrelizumab_is_the_split_first_dose__OCR_01_09():
    plan = _plan("ocrelizumab-ms", 1, date(2027, 1, 4))
    assert [d.date for d in plan.days] == [date(2027, 1, 4), date(2027, 1, 18)]
    for infusion in _infusions(plan):
        assert infusion.dose is not None and infusion.dose.value == 300
        assert infusion.volume_ml == 250 and infusion.rate_ml_per_h == 30
        steps = infusion.rate_steps
        assert steps[0].start == infusion.start and steps[-1].end == infusion.end
        assert all(a.end == b.start for a, b in pairwise(steps))
        assert sum(s.volume_ml for s in steps) == 250
        assert steps[-1].end - steps[0].start == timedelta(minutes=158, seconds=20)


def test_later_courses_are_one_600_mg_infusion_at_least_5_months_later__OCR_02_03_10():
    plan = _plan("ocrelizumab-ms", 2, date(2027, 6, 21), previous=date(2027, 1, 18))
    (infusion,) = _infusions(plan)
    assert infusion.dose is not None and infusion.dose.value == 600 and infusion.volume_ml == 500
    assert infusion.rate_ml_per_h == 40 and _minutes(infusion) == 210
    assert [s.rate_ml_per_h for s in infusion.rate_steps] == [40, 80, 120, 160, 200]
    with pytest.raises(PlanningError) as refused:
        _plan("ocrelizumab-ms", 2, date(2027, 6, 14), previous=date(2027, 1, 18))
    assert refused.value.code == "PLAN-COURSE-TOO-EARLY"
    assert "2027-06-18" in refused.value.message


def test_the_plan_names_when_the_next_dose_is_due_and_the_missed_dose_rule__OCR_02_04():
    plan = _plan("ocrelizumab-ms", 1, date(2027, 1, 4))
    (due,) = [a for a in plan.activities if a.element == "every-24-weeks"]
    assert due.start.date() == date(2027, 6, 21)  # 24 weeks after infusion 1
    assert due.text is not None and "not before 2027-06-18" in due.text
    assert "as soon as possible" in due.text


def test_the_two_hour_table_only_without_a_prior_serious_reaction__OCR_11():
    args = ("ocrelizumab-ms", 2, date(2027, 6, 21), date(2027, 1, 18))
    for patient in (Patient(id="P1", sex="male"),
                    Patient(id="P1", sex="male", prior_serious_reaction=True)):
        with pytest.raises(PlanningError) as refused:
            _plan(*args, patient=patient, table="ocrelizumab-600-two-hours")
        assert refused.value.code == "PLAN-RATE-TABLE-NOT-ALLOWED"
    plan = _plan(*args, patient=Patient(id="P1", sex="male", prior_serious_reaction=False),
                 table="ocrelizumab-600-two-hours")
    (infusion,) = _infusions(plan)
    assert infusion.rate_ml_per_h == 100 and _minutes(infusion) == 120
    assert "OCR-11" in infusion.requirements
    with pytest.raises(PlanningError) as unknown:
        _plan("ocrelizumab-ms", 1, date(2027, 1, 4), table="ocrelizumab-600-two-hours")
    assert unknown.value.code == "PLAN-RATE-TABLE-UNKNOWN"


def test_ocrelizumab_premedication_and_observation__OCR_05_06_16():
    plan = _plan("ocrelizumab-ms", 1, date(2027, 1, 4))
    day = plan.day(1)
    premeds = {a.element: a for a in plan.activities_on(1) if a.kind is ActivityKind.PREMEDICATION}
    assert (day.infusion_start - premeds["methylprednisolone"].start) == timedelta(minutes=30)
    assert premeds["methylprednisolone"].dose is not None
    assert premeds["methylprednisolone"].dose.value == 100
    antihistamine = day.infusion_start - premeds["antihistamine"].start
    assert timedelta(minutes=30) <= antihistamine <= timedelta(minutes=60)
    assert day.observation_end - day.flush_end == timedelta(minutes=60)


def test_natalizumab_flush_then_1_h_observation_every_4_weeks__NAT_03_04_06():
    plan = _plan("natalizumab-ms", 2, date(2027, 2, 1), previous=date(2027, 1, 4))
    day = plan.day(1)
    (flush,) = [a for a in plan.activities if a.kind is ActivityKind.FLUSH]
    assert flush.start == day.infusion_end and flush.end == day.flush_end
    assert day.observation_end - day.flush_end == timedelta(minutes=60)
    with pytest.raises(PlanningError):
        _plan("natalizumab-ms", 2, date(2027, 1, 25), previous=date(2027, 1, 4))


def test_observation_by_dose_number_follows_the_label_rule_chosen__NAT_06_07():
    eu = CentreConfig(options={"observation-rule": "first-six-doses"})
    previous = date(2027, 1, 4)
    for course, expected in ((6, 60), (7, 0)):
        plan = _plan("natalizumab-ms", course, date(2027, 6, 7), previous=previous, config=eu)
        day = plan.day(1)
        assert day.observation_end - day.flush_end == timedelta(minutes=expected)
    us = _plan("natalizumab-ms", 7, date(2027, 6, 7), previous=previous)
    assert us.day(1).observation_end - us.day(1).flush_end == timedelta(minutes=60)


def test_dose_numbers_count_every_infusion_of_earlier_courses__OCR_01_02():
    assert [OCR.dose_number(c, d) for c, d in ((1, 1), (1, 2), (2, 1), (3, 1))] == [1, 2, 3, 4]
    assert NAT.dose_number(7, 1) == 7


def test_plan_json_carries_the_rate_steps_and_reads_them_back__OCR_09():
    plan = _plan("ocrelizumab-ms", 1, date(2027, 1, 4))
    data = plan_to_json(plan)
    (infusion, _) = [a for a in data["activities"] if a["kind"] == "infusion"]
    assert infusion["rate_ml_per_h"] == 30 and infusion["volume_ml"] == 250
    assert infusion["rate_steps"][0] == {"start": "2027-01-04T09:00:00+01:00",
                                         "end": "2027-01-04T09:30:00+01:00",
                                         "rate_ml_per_h": 30, "volume_ml": 15}
    assert infusion["rate_steps"][-1]["end"] == "2027-01-04T11:38:20+01:00"
    assert plan_from_json(data) == plan
    alemtuzumab = plan_to_json(_plan("alemtuzumab-ms", 1, date(2027, 1, 4)))
    assert all("rate_steps" not in a for a in alemtuzumab["activities"])


# -- the format's mistakes, each with its place ------------------------------------------------

def _mutated(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(bundled_protocol_path("ocrelizumab-ms").read_text(encoding="utf-8"))
    data["version"] = "9.9.9"  # not released: only the format is checked
    change(data)
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _refusal(path: Path) -> str:
    with pytest.raises(ProtocolError) as refused:
        load_protocol(path)
    assert refused.value.code == "PROTOCOL-INVALID"
    return refused.value.message


def test_a_step_volume_that_does_not_match_its_rate_is_named_by_place__OCR_12(tmp_path: Path):
    def change(data: dict) -> None:
        data["infusion"]["rate_steps"][3]["volume"]["value"] = 70
    message = _refusal(_mutated(tmp_path, change))
    assert "infusion.rate_steps[3].volume: 70 mL stated, but 120 mL/h for 30 min gives 60 mL" in message


def test_steps_that_do_not_sum_to_the_bag_are_refused__OCR_12(tmp_path: Path):
    def change(data: dict) -> None:
        data["infusion"]["prepared_volume"]["value"] = 260
    message = _refusal(_mutated(tmp_path, change))
    assert "infusion.rate_steps[5].volume: 25 mL stated, but the rest of the 260 mL bag is 35 mL" in message


def test_every_mistake_of_a_file_is_named_with_its_place__OCR_12_13(tmp_path: Path):
    def change(data: dict) -> None:
        data["infusion"]["target_duration"]["value"] = 150
        del data["rate_reactions"]["rules"][0]["onset_rate_factor"]
        data["observation"]["duration"]["unit"] = "h"
    message = _refusal(_mutated(tmp_path, change))
    assert "infusion.target_duration: the table runs 158.33 min (stated 150 min" in message
    assert "rate_reactions.rules[0].onset_rate_factor: reduce_rate needs the factor" in message
    assert "observation.duration: must be in min" in message


def test_a_mistake_in_an_alternative_table_is_named_by_place__OCR_11_12(tmp_path: Path):
    def change(data: dict) -> None:
        table = data["infusion"]["by_dose"][0]["alternative_tables"][0]
        table["rate_steps"][3]["minutes"] = 50
    message = _refusal(_mutated(tmp_path, change))
    assert ("infusion.by_dose[0].alternative_tables[0].rate_steps[3].volume: 300 mL stated, "
            "but 300 mL/h for 50 min gives 250 mL") in message


def test_a_table_that_overflows_the_bag_and_an_untimed_middle_step_are_refused(tmp_path: Path):
    def change(data: dict) -> None:
        steps = data["infusion"]["by_dose"][0]["rate_steps"]
        del steps[1]["minutes"]
        del steps[1]["volume"]
    message = _refusal(_mutated(tmp_path, change))
    assert "infusion.by_dose[0].rate_steps[1].minutes: only the last step may run without minutes" in message


def test_an_observation_rule_with_an_unknown_option_is_refused__NAT_07(tmp_path: Path):
    data = yaml.safe_load(bundled_protocol_path("natalizumab-ms").read_text(encoding="utf-8"))
    data["version"] = "9.9.9"
    data["observation"]["by_dose"][0]["when"]["option"] = "no-such-option"
    path = tmp_path / "nat.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert "observation.by_dose[0].when: unknown option 'no-such-option'" in _refusal(path)


def test_a_discontinue_rule_with_a_rate_is_refused__OCR_15(tmp_path: Path):
    def change(data: dict) -> None:
        data["rate_reactions"]["rules"][2]["onset_rate_factor"] = 0.5
    message = _refusal(_mutated(tmp_path, change))
    assert "rate_reactions.rules[2]" in message and "discontinued therapy" in message


def test_the_bundled_protocols_are_listed_and_released():
    assert bundled_protocol_ids() == ["alemtuzumab-ms", "natalizumab-ms", "ocrelizumab-ms"]
    with pytest.raises(ProtocolError) as refused:
        load_bundled_protocol("rituximab")
    assert refused.value.code == "PROTOCOL-NOT-FOUND"
    assert "alemtuzumab-ms, natalizumab-ms, ocrelizumab-ms" in refused.value.message


def test_ocrelizumab_staff_and_patient_instructions_on_each_infusion_day__OCR_07_08_17():
    plan = _plan("ocrelizumab-ms", 1, date(2027, 1, 4))
    for day in (1, 2):
        texts = {a.element: a.text or "" for a in plan.activities_on(day)
                 if a.kind is ActivityKind.INSTRUCTION}
        assert "1.2 mg/mL" in texts["dilution-and-filter"] and "0.22" in texts["dilution-and-filter"]
        assert "antipyretic" in texts["antipyretic"]
        assert "24 hours" in texts["late-reactions"]


def test_ocrelizumab_reaction_figures_keep_their_source__OCR_18():
    assert OCR.reference_figures is not None
    serious = [f for f in OCR.reference_figures.figures if f.measure == "serious_iar"]
    assert [(f.percent, f.source) for f in serious] == [(Decimal("0.3"), "label")]
    assert any(f.frequency == "34-40%" for f in OCR.reference_figures.figures)


def test_natalizumab_vital_signs_during_the_infusion_and_the_observation__NAT_05():
    plan = _plan("natalizumab-ms", 1, date(2027, 1, 4))
    day = plan.day(1)
    checks = [a.start for a in plan.activities_on(1) if a.kind is ActivityKind.VITAL_SIGNS]
    assert min(checks) < day.infusion_start
    assert any(day.infusion_start < t < day.infusion_end for t in checks)
    assert max(checks) == day.observation_end
