"""The course planner, rule by rule. Each test names the requirement it checks."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest

from infusionist.domain.activities import Activity, ActivityKind
from infusionist.domain.centre import CentreConfig
from infusionist.domain.errors import ConfigError, PlanningError
from infusionist.domain.planning import CoursePlan


def named(plan: CoursePlan, name: str, kind: ActivityKind | None = None) -> list[Activity]:
    return [a for a in plan.activities if a.name == name and (kind is None or a.kind is kind)]


def minutes(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 60


# -- courses -----------------------------------------------------------------------------------


def test_course_1_has_five_infusions_monday_to_friday__PROT_04(make_plan):
    plan = make_plan(course=1, first_day=date(2026, 12, 7))
    infusions = named(plan, "alemtuzumab", ActivityKind.INFUSION)
    assert [a.start.date() for a in infusions] == [date(2026, 12, 7) + timedelta(days=i) for i in range(5)]
    assert [a.start.strftime("%a") for a in infusions] == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    assert [a.day for a in infusions] == [1, 2, 3, 4, 5]


def test_course_1_must_start_on_a_monday_and_names_the_next_one__PROT_04(make_plan):
    with pytest.raises(PlanningError) as refused:
        make_plan(course=1, first_day=date(2026, 12, 9))
    assert refused.value.code == "PLAN-NOT-MONDAY"
    assert "2026-12-14" in refused.value.message
    assert refused.value.details["next_valid_first_day"] == "2026-12-14"
    assert "PROT-04" in refused.value.requirements


def test_course_1_with_weekends_allowed_runs_five_consecutive_days__IAR_23(make_plan):
    plan = make_plan(course=1, first_day=date(2026, 12, 10),
                     config=CentreConfig(allow_weekend_infusions=True))
    dates = [a.start.date() for a in named(plan, "alemtuzumab", ActivityKind.INFUSION)]
    assert dates == [date(2026, 12, 10) + timedelta(days=i) for i in range(5)]


def test_course_2_has_three_consecutive_days__PROT_05(make_plan):
    plan = make_plan(course=2, first_day=date(2027, 12, 13), previous_course_end=date(2026, 12, 11))
    dates = [a.start.date() for a in named(plan, "alemtuzumab", ActivityKind.INFUSION)]
    assert dates == [date(2027, 12, 13), date(2027, 12, 14), date(2027, 12, 15)]


@pytest.mark.parametrize(
    ("previous_end", "first_day", "allowed"),
    [
        (date(2026, 12, 11), date(2027, 12, 10), False),  # one day short of 12 months
        (date(2026, 12, 11), date(2027, 12, 13), True),
        (date(2027, 2, 26), date(2028, 2, 28), True),  # Monday 28 Feb 2028 >= 26 Feb 2028
        (date(2027, 2, 26), date(2028, 2, 25), False),
    ],
)
def test_course_2_no_earlier_than_12_months_after_course_1__PROT_05_IAR_23(
    make_plan, previous_end, first_day, allowed
):
    if allowed:
        assert make_plan(course=2, first_day=first_day, previous_course_end=previous_end).course == 2
    else:
        with pytest.raises(PlanningError) as refused:
            make_plan(course=2, first_day=first_day, previous_course_end=previous_end)
        assert refused.value.code == "PLAN-COURSE-TOO-EARLY"
        assert "next valid first day" in refused.value.message


def test_course_3_follows_the_same_rule_as_course_2__IAR_23(make_plan):
    plan = make_plan(course=3, first_day=date(2028, 12, 18), previous_course_end=date(2027, 12, 15))
    assert len(named(plan, "alemtuzumab", ActivityKind.INFUSION)) == 3
    with pytest.raises(PlanningError) as refused:
        make_plan(course=3, first_day=date(2028, 12, 4), previous_course_end=date(2027, 12, 15))
    assert refused.value.code == "PLAN-COURSE-TOO-EARLY"


def test_course_2_needs_the_end_of_the_previous_course__PROT_05(make_plan):
    with pytest.raises(PlanningError) as refused:
        make_plan(course=2, first_day=date(2027, 12, 13))
    assert refused.value.code == "PLAN-PREVIOUS-COURSE-REQUIRED"


def test_course_beyond_the_centres_maximum_is_refused(make_plan):
    with pytest.raises(PlanningError) as refused:
        make_plan(course=5, first_day=date(2030, 12, 16), previous_course_end=date(2029, 12, 12),
                  config=CentreConfig(max_courses=4))
    assert refused.value.code == "PLAN-TOO-MANY-COURSES"


def test_course_on_a_closed_day_is_refused_with_the_next_valid_first_day(make_plan):
    config = CentreConfig(closed_days=(date(2026, 12, 9),))
    with pytest.raises(PlanningError) as refused:
        make_plan(first_day=date(2026, 12, 7), config=config)
    assert refused.value.code == "PLAN-CLOSED-DAY"
    assert refused.value.details["next_valid_first_day"] == "2026-12-14"


def test_course_2_over_a_weekend_is_refused_unless_allowed__PROT_05(make_plan):
    with pytest.raises(PlanningError) as refused:
        make_plan(course=2, first_day=date(2027, 12, 16), previous_course_end=date(2026, 12, 11))
    assert refused.value.code == "PLAN-WEEKEND"
    assert refused.value.details["next_valid_first_day"] == "2027-12-20"
    allowed = make_plan(course=2, first_day=date(2027, 12, 16), previous_course_end=date(2026, 12, 11),
                        config=CentreConfig(allow_weekend_infusions=True))
    assert allowed.last_day == date(2027, 12, 18)


# -- evening before ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "dose_mg", "requirement"),
    [("cetirizine", 10, "PROT-01"), ("famotidine", 20, "PROT-02"), ("aciclovir", 200, "PROT-03")],
)
def test_evening_before_medications_start_the_evening_before_day_1__PROT_01_02_03_IAR_08(
    make_plan, name, dose_mg, requirement
):
    plan = make_plan()
    (med,) = named(plan, name, ActivityKind.MEDICATION)
    assert med.day == 0
    assert med.start.date() == date(2026, 12, 6)
    assert med.start.time() == time(20, 0)
    assert med.dose is not None and med.dose.value == dose_mg and med.dose.unit == "mg"
    assert med.dose_display == f"{dose_mg} mg 1-0-1"
    assert med.route == "oral"
    assert requirement in med.requirements
    if name in {"cetirizine", "famotidine"}:
        assert "IAR-08" in med.requirements  # H1/H2 antihistamines (optional in the IAR guide)


def test_antihistamine_conflict_between_the_sources_is_shown__C_3_IAR_08(make_plan):
    (cetirizine,) = named(make_plan(), "cetirizine", ActivityKind.MEDICATION)
    assert any(text.startswith("C-3:") and "30-60 min" in text for text in cetirizine.advisories)


def test_one_zero_one_is_a_display_and_the_daily_dose_is_explicit__C_8(protocol):
    cetirizine = next(m for m in protocol.evening_before if m.id == "cetirizine")
    assert cetirizine.timing.display() == "1-0-1"
    assert cetirizine.daily_dose().value == Decimal(20)
    assert any(a.conflict == "C-8" for a in cetirizine.advisories)


def test_ranitidine_is_not_scheduled_silently_famotidine_is_offered__C_4_PROT_02(make_plan):
    plan = make_plan()
    assert named(plan, "ranitidine") == []
    (famotidine,) = named(plan, "famotidine", ActivityKind.MEDICATION)
    assert any(text.startswith("C-4:") for text in famotidine.advisories)


def test_centre_may_choose_no_h2_antagonist__PROT_02(make_plan):
    plan = make_plan(config=CentreConfig(options={"h2-antagonist": "none"}))
    assert named(plan, "famotidine") == []


def test_cetirizine_continues_one_week_after_the_course__PROT_28(make_plan):
    plan = make_plan()
    (cetirizine,) = named(plan, "cetirizine", ActivityKind.MEDICATION)
    assert cetirizine.end is not None and cetirizine.end.date() == date(2026, 12, 18)
    (end,) = named(plan, "end of cetirizine")
    assert end.start.date() == date(2026, 12, 18) and "PROT-28" in end.requirements


@pytest.mark.parametrize(
    ("rule", "end"),
    [
        ("protocol-table", date(2027, 1, 4)),  # day 1 (7 Dec) + 4 weeks
        ("eu-label", date(2027, 1, 11)),  # last infusion (11 Dec) + 1 month
        ("us-label", date(2027, 2, 11)),  # last infusion + 2 months (or CD4 >= 200, later)
    ],
)
def test_herpes_prophylaxis_ends_by_the_configured_rule__PROT_27_C_5(make_plan, rule, end):
    plan = make_plan(config=CentreConfig(options={"herpes-prophylaxis-rule": rule}))
    (aciclovir,) = named(plan, "aciclovir", ActivityKind.MEDICATION)
    assert aciclovir.end is not None and aciclovir.end.date() == end
    assert any(text.startswith("C-5:") for text in aciclovir.advisories)
    cd4_shown = any("CD4" in text and "continue" in text for text in aciclovir.advisories)
    assert cd4_shown == (rule == "us-label")


# -- each infusion day -------------------------------------------------------------------------


def test_methylprednisolone_1_g_iv_only_on_days_1_to_3__PROT_09_IAR_07_IAR_21(make_plan):
    plan = make_plan()
    steroid = named(plan, "methylprednisolone", ActivityKind.PREMEDICATION)
    assert [a.day for a in steroid] == [1, 2, 3]
    for a in steroid:
        assert a.dose is not None and a.dose.in_mg() == 1000 and a.route == "iv"


def test_methylprednisolone_on_all_three_days_of_course_2__PROT_09(make_plan):
    plan = make_plan(course=2, first_day=date(2027, 12, 13), previous_course_end=date(2026, 12, 11))
    assert [a.day for a in named(plan, "methylprednisolone")] == [1, 2, 3]


def test_paracetamol_1_g_iv_every_infusion_day__PROT_10(make_plan):
    plan = make_plan()
    paracetamol = named(plan, "paracetamol", ActivityKind.PREMEDICATION)
    assert [a.day for a in paracetamol] == [1, 2, 3, 4, 5]
    assert all(a.dose is not None and a.dose.in_mg() == 1000 and a.route == "iv" for a in paracetamol)


def test_premedication_60_minutes_before_the_infusion__PROT_09_PROT_10_IAR_22_C_2(make_plan):
    plan = make_plan(start=time(9, 30))
    for day in plan.days:
        for premed in plan.activities_on(day.day):
            if premed.kind is ActivityKind.PREMEDICATION:
                assert minutes(premed.start, day.infusion_start) == 60
                assert 30 <= minutes(premed.start, day.infusion_start) <= 60  # IAR-22's window


def test_alemtuzumab_12_mg_iv_112_ml_at_28_ml_per_hour_over_4_hours__PROT_11_12_14_C_11(make_plan):
    plan = make_plan()
    for infusion in named(plan, "alemtuzumab", ActivityKind.INFUSION):
        assert infusion.dose is not None and infusion.dose.value == 12 and infusion.dose.unit == "mg"
        assert infusion.route == "iv"
        assert infusion.volume_ml == 112
        assert infusion.rate_ml_per_h == 28
        assert infusion.end is not None and minutes(infusion.start, infusion.end) == 240


def test_storage_limit_of_8_hours_is_part_of_the_protocol__PROT_13(protocol):
    assert protocol.infusion.storage_limit.value == 8 and protocol.infusion.storage_limit.unit == "h"
    assert protocol.infusion.storage_limit_minutes() == 480


def test_reduced_rate_is_protocol_data__PROT_15_C_10(protocol):
    assert protocol.infusion.reduced_rate_factor == Decimal("0.5")
    assert protocol.reactions is not None and protocol.reactions.restart_rate_factor == Decimal("0.5")


def test_flush_100_ml_sodium_chloride_over_30_minutes_at_200_ml_per_hour__PROT_16(make_plan):
    plan = make_plan()
    for day in plan.days:
        (flush,) = [a for a in plan.activities_on(day.day) if a.kind is ActivityKind.FLUSH]
        assert flush.name == "sodium chloride 0.9%"
        assert flush.volume_ml == 100 and flush.rate_ml_per_h == 200
        assert flush.start == day.infusion_end and flush.end == day.flush_end
        assert minutes(flush.start, flush.end) == 30


def test_observation_two_hours_after_the_end_of_the_flush__PROT_17_IAR_16_IAR_25_C_6(make_plan):
    plan = make_plan()
    for day in plan.days:
        (observation,) = [a for a in plan.activities_on(day.day) if a.kind is ActivityKind.OBSERVATION]
        assert observation.start == day.flush_end
        assert observation.end == day.observation_end
        assert minutes(observation.start, observation.end) == 120


@pytest.mark.parametrize("interval", [30, 60])
def test_vital_signs_at_the_configured_interval_from_infusion_start_to_end_of_observation__PROT_06_IAR_24_C_1(
    make_plan, interval
):
    plan = make_plan(config=CentreConfig(vital_signs_interval_minutes=interval))
    day = plan.day(1)
    checks = sorted(a.start for a in plan.activities_on(1) if a.kind is ActivityKind.VITAL_SIGNS)
    assert checks[0] < day.infusion_start  # a baseline before the infusion (IAR-24)
    during = [c for c in checks if c >= day.infusion_start]
    assert during[0] == day.infusion_start
    assert during[-1] == day.observation_end
    assert all(minutes(a, b) <= interval for a, b in pairwise(during))
    assert len(during) == -(-390 // interval) + 1  # ceil: a final check at the end of observation


def test_vital_sign_checks_record_respiratory_rate_too__C_1(protocol):
    assert "respiratory_rate_per_min" in protocol.vital_signs.parameters


def test_pregnancy_test_on_day_1_only_for_women_of_childbearing_potential__PROT_07(make_plan):
    plan = make_plan(sex="female", childbearing_potential=True)
    tests = named(plan, "pregnancy test", ActivityKind.TEST)
    assert [a.day for a in tests] == [1]
    assert tests[0].start < plan.day(1).infusion_start
    assert named(make_plan(sex="female", childbearing_potential=False), "pregnancy test") == []
    assert named(make_plan(sex="male", childbearing_potential=False), "pregnancy test") == []


def test_cannula_inserted_on_day_1_before_the_premedication__PROT_08(make_plan):
    plan = make_plan()
    (cannula,) = named(plan, "peripheral cannula", ActivityKind.PROCEDURE)
    assert cannula.day == 1
    first_premed = min(a.start for a in plan.activities_on(1) if a.kind is ActivityKind.PREMEDICATION)
    assert cannula.start <= first_premed
    day_1 = plan.activities_on(1)
    assert day_1.index(cannula) < day_1.index(named(plan, "methylprednisolone")[0])


def test_hydration_and_physician_availability_every_infusion_day__PROT_18_PROT_19_IAR_10(make_plan):
    plan = make_plan()
    assert [a.day for a in named(plan, "hydration")] == [1, 2, 3, 4, 5]
    assert "2 litres" in (named(plan, "hydration")[0].text or "")
    assert [a.day for a in named(plan, "physician availability")] == [1, 2, 3, 4, 5]


def test_chair_time_covers_premedication_to_end_of_observation(make_plan):
    plan = make_plan()
    assert [d.chair_minutes for d in plan.days] == [60 + 240 + 30 + 120] * 5


# -- patient instructions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "requirement", "day"),
    [
        ("infection-protection diet", "PROT-31", 0),
        ("bland diet", "PROT-32", 0),
        ("reaction education", "IAR-09", 0),
        ("delayed reactions", "IAR-17", None),
        ("prescriptions for delayed symptoms", "IAR-18", None),
        ("infections", "PROT-35", None),
        ("warning signs of late side effects", "PROT-36", None),
        ("follow-up regimen", "PROT-34", None),
    ],
)
def test_instructions_are_planned__PROT_31_32_34_35_36_IAR_09_17_18(make_plan, name, requirement, day):
    (instruction,) = named(make_plan(), name, ActivityKind.INSTRUCTION)
    assert instruction.day == day
    assert requirement in instruction.requirements
    assert instruction.text


def test_delayed_reactions_can_occur_within_24_hours__IAR_01_IAR_15(protocol):
    assert protocol.reactions is not None
    assert protocol.reactions.window_after_infusion_hours == 24
    assert {"IAR-01", "IAR-15"} <= set(protocol.reactions.requirements)


def test_days_1_to_3_after_an_infusion_carry_the_cardiovascular_and_stroke_warning__IAR_05_C_12(make_plan):
    plan = make_plan()
    assert any(w.startswith("C-12:") and "stroke" in w for w in plan.warnings)


# -- after the course --------------------------------------------------------------------------


def test_check_up_four_weeks_after_the_course__PROT_30(make_plan):
    (check_up,) = named(make_plan(), "check-up")
    assert check_up.day is None and check_up.all_day
    assert check_up.start.date() == date(2027, 1, 8)  # last infusion 11 Dec + 28 days


def test_contraception_until_4_months_after_the_course__PROT_33(make_plan):
    (contraception,) = named(make_plan(), "contraception")
    assert contraception.end is not None and contraception.end.date() == date(2027, 4, 11)
    assert named(make_plan(sex="male", childbearing_potential=False), "contraception") == []


def test_paracetamol_on_standby_after_the_course__PROT_29(make_plan):
    standby = [a for a in named(make_plan(), "paracetamol") if a.day is None]
    assert len(standby) == 1 and "PROT-29" in standby[0].requirements


def test_earliest_next_course_is_12_months_after_the_last_infusion__PROT_05_IAR_23(make_plan):
    (next_course,) = named(make_plan(), "next course")
    assert next_course.start.date() == date(2027, 12, 11)


def test_no_next_course_after_the_centres_last_course(make_plan):
    plan = make_plan(course=4, first_day=date(2029, 12, 17), previous_course_end=date(2028, 12, 13),
                     config=CentreConfig(max_courses=4))
    assert named(plan, "next course") == []


def test_weight_under_the_full_dose_limit_warns_about_paracetamol__PROT_10(make_plan):
    assert any("paracetamol" in w for w in make_plan(weight_kg="45").warnings)
    assert not any("paracetamol" in w for w in make_plan(weight_kg="70").warnings)


# -- time -------------------------------------------------------------------------------------


def test_wall_clock_times_stay_put_across_a_daylight_saving_change(make_plan):
    # Europe/Berlin moves to summer time on Sunday 28 March 2027: course on 22-26 March keeps 09:00,
    # and the aciclovir evening dose stays at 20:00 after the change.
    plan = make_plan(first_day=date(2027, 3, 22))
    assert {a.start.strftime("%H:%M") for a in named(plan, "alemtuzumab")} == {"09:00"}
    (aciclovir,) = named(plan, "aciclovir", ActivityKind.MEDICATION)
    assert aciclovir.end is not None
    assert aciclovir.end.strftime("%H:%M %z") == "20:00 +0200"
    assert aciclovir.start.strftime("%H:%M %z") == "20:00 +0100"


def test_plan_records_the_protocol_it_came_from(make_plan, protocol):
    plan = make_plan()
    assert (plan.protocol_id, plan.protocol_version) == (protocol.id, protocol.version)


def test_activity_ids_are_stable_and_unique(make_plan):
    first, second = make_plan(), make_plan()
    ids = [a.id for a in first.activities]
    assert ids == [a.id for a in second.activities]
    assert len(ids) == len(set(ids))


# -- centre configuration hard limits ----------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "code", "requirement"),
    [
        ({"infusion_dose_mg": "24"}, "CONFIG-DOSE-FIXED", "PROT-11"),
        ({"vital_signs_interval_minutes": 90}, "CONFIG-VITALS-INTERVAL", "PROT-06"),
        ({"min_months_between_courses": 10}, "CONFIG-COURSE-INTERVAL", "PROT-05"),
        ({"premedication_days": {"methylprednisolone": [1, 2, 3, 4]}}, "CONFIG-PREMED-DAYS", "PROT-09"),
        ({"premedication_days": {"methylprednisolone": [1, 2]}}, "CONFIG-PREMED-DAYS", "PROT-09"),
        ({"options": {"h2-antagonist": "ranitidine"}}, "CONFIG-CHOICE-REFUSED", "PROT-02"),
        ({"options": {"herpes-prophylaxis-rule": "3-days"}}, "CONFIG-UNKNOWN-CHOICE", "PROT-27"),
        ({"reduced_rate_factor": "1.5"}, "CONFIG-RATE-FACTOR", "IAR-28"),
    ],
)
def test_centre_configuration_outside_the_protocols_limits_is_refused(make_plan, config, code, requirement):
    with pytest.raises(ConfigError) as refused:
        make_plan(config=CentreConfig.model_validate(config))
    assert refused.value.code == code
    assert requirement in refused.value.requirements


def test_ranitidine_refusal_says_why__C_4(make_plan):
    with pytest.raises(ConfigError) as refused:
        make_plan(config=CentreConfig(options={"h2-antagonist": "ranitidine"}))
    assert "withdrawn" in refused.value.message and "C-4" in refused.value.message


def test_configuring_the_12_mg_dose_explicitly_is_accepted__PROT_11(make_plan):
    plan = make_plan(config=CentreConfig(infusion_dose_mg=Decimal(12)))
    assert all(a.dose is not None and a.dose.value == 12 for a in named(plan, "alemtuzumab"))
