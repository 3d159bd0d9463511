"""The drug library: hard limits refuse, soft limits need a reason, unknown drugs an indication.

Every number comes from the bundled protocol's ``drug_library`` (reference/clinical-facts.md
section 4 and "Numbers a test can check"); the tests name the requirement IDs they check.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from day_builders import BERLIN, PROTOCOL
from hypothesis import given as hypothesis_given
from hypothesis import settings
from hypothesis import strategies as st

from infusionist.domain.drug_library import Administration, DoseCheck, check_administration
from infusionist.domain.errors import EventRefused, ProtocolError
from infusionist.domain.protocol import Medicine
from infusionist.domain.protocol_drugs import check_protocol, protocol_findings
from infusionist.domain.units import Quantity

LIBRARY = PROTOCOL.drug_library
assert LIBRARY is not None
NINE = datetime(2026, 12, 7, 9, 0, tzinfo=BERLIN)


def q(text: str) -> Quantity:
    value, unit = text.split(" ")
    return Quantity.model_validate({"value": value, "unit": unit})


def given(name: str, dose: str, route: str, at: datetime) -> Administration:
    return Administration(name, q(dose), route, at)


def check(name: str, dose: str, route: str, *, at: datetime = NINE, weight: str | None = "70",
          earlier: tuple[Administration, ...] = (), reason: str | None = None,
          indication: str | None = None) -> DoseCheck:
    return check_administration(LIBRARY, name, route, q(dose), at,
                                Decimal(weight) if weight is not None else None, earlier,
                                reason=reason, indication=indication)


def refused(name: str, dose: str, route: str, **kwargs: object) -> EventRefused:
    with pytest.raises(EventRefused) as caught:
        check(name, dose, route, **kwargs)  # type: ignore[arg-type]
    return caught.value


def doses(name: str, dose: str, route: str, *times: datetime) -> tuple[Administration, ...]:
    return tuple(given(name, dose, route, t) for t in times)


# -- paracetamol: weight bands, 24 h maximum, 4 h interval --------------------------------------


@pytest.mark.parametrize(
    ("weight", "dose", "code"),
    [
        ("70", "1 g", None),
        ("50", "1 g", None),  # 1 g from 50 kg
        ("40", "600 mg", None),  # 15 mg/kg under 50 kg: 40 kg -> 600 mg
        ("40", "601 mg", "DRUG-HARD-LIMIT-SINGLE"),
        ("40", "1 g", "DRUG-HARD-LIMIT-SINGLE"),
        ("70", "1001 mg", "DRUG-HARD-LIMIT-SINGLE"),
        ("70", "10 g", "DRUG-HARD-LIMIT-SINGLE"),
        (None, "10 g", "DRUG-HARD-LIMIT-SINGLE"),
    ],
)
def test_paracetamol_single_dose_by_weight__PROT_10_PROT_29(weight, dose, code):
    if code is None:
        assert check("paracetamol", dose, "iv", weight=weight).status == "ok"
        return
    error = refused("paracetamol", dose, "iv", weight=weight)
    assert error.code == code
    assert error.message.startswith(f"Paracetamol {dose} i.v. was not recorded")


def test_the_limit_for_a_light_patient_names_the_weight_and_the_dose__PROT_10():
    error = refused("paracetamol", "1 g", "iv", weight="40")
    assert "for 40 kg is 15 mg/kg = 600 mg" in error.message


def test_a_fifth_gram_within_24_hours_is_refused_with_the_earliest_time__PROT_10_PROT_29():
    earlier = doses("paracetamol", "1 g", "iv", *(NINE + timedelta(hours=h) for h in (0, 4, 8, 12)))
    at = NINE + timedelta(hours=16)
    error = refused("paracetamol", "1 g", "iv", at=at, earlier=earlier)
    assert error.code == "DRUG-HARD-LIMIT-24H"
    assert "4 g already given in the last 24 h it would make 5 g" in error.message
    assert "the most in 24 h for 70 kg is 4 g" in error.message
    assert "The earliest time for another 1 g is 09:00 on 08 Dec." in error.message
    assert check("paracetamol", "1 g", "iv", at=NINE + timedelta(hours=24), earlier=earlier)


def test_a_light_patient_gets_at_most_60_mg_per_kg_a_day__PROT_10():
    earlier = doses("paracetamol", "600 mg", "iv", *(NINE + timedelta(hours=h) for h in (0, 4, 8, 12)))
    error = refused("paracetamol", "600 mg", "iv", at=NINE + timedelta(hours=16), weight="40",
                    earlier=earlier)
    assert error.code == "DRUG-HARD-LIMIT-24H"
    assert "60 mg/kg = 2.4 g" in error.message


@pytest.mark.parametrize(("minutes", "ok"), [(239, False), (240, True)])
def test_paracetamol_doses_are_at_least_4_hours_apart__PROT_10_PROT_29(minutes, ok):
    earlier = doses("paracetamol", "1 g", "iv", NINE)
    at = NINE + timedelta(minutes=minutes)
    if ok:
        assert check("paracetamol", "1 g", "iv", at=at, earlier=earlier).status == "ok"
        return
    error = refused("paracetamol", "1 g", "iv", at=at, earlier=earlier)
    assert error.code == "DRUG-MIN-INTERVAL"
    assert "the last dose was at 09:00 on 07 Dec" in error.message
    assert "at least 4 h apart" in error.message
    assert "The earliest time for the next dose is 13:00 on 07 Dec." in error.message


def test_oral_and_iv_paracetamol_count_together__PROT_29():
    earlier = (given("paracetamol", "1 g", "iv", NINE),
               *doses("Acetaminophen", "1 g", "oral", *(NINE + timedelta(hours=h) for h in (4, 8, 12))))
    assert refused("paracetamol", "1 g", "oral", at=NINE + timedelta(hours=16),
                   earlier=earlier).code == "DRUG-HARD-LIMIT-24H"


def test_other_drugs_do_not_count_toward_the_limits__PROT_10():
    earlier = doses("dimetindene", "4 mg", "iv", NINE - timedelta(minutes=10))
    assert check("paracetamol", "1 g", "iv", earlier=earlier).status == "ok"


def test_an_unknown_weight_is_checked_as_50_kg_or_more_and_flagged__PROT_10():
    result = check("paracetamol", "1 g", "iv", weight=None)
    assert result.status == "ok" and result.flagged
    assert "Body weight not recorded" in result.notes[0] and "50 kg or more" in result.notes[0]


def test_the_next_dose_time_is_part_of_the_verdict__PROT_10():
    result = check("paracetamol", "1 g", "iv")
    assert result.next_dose_at == NINE + timedelta(hours=4)


# -- epinephrine i.m.: 0.01 mg/kg, at most 0.5 mg, repeated after 5 min ---------------------------


@pytest.mark.parametrize(
    ("weight", "dose", "route", "code"),
    [
        ("70", "0.5 mg", "im", None),
        ("40", "0.4 mg", "im", None),  # 0.01 mg/kg
        ("40", "0.5 mg", "im", "DRUG-SOFT-LIMIT"),  # above 0.01 mg/kg: needs a reason
        ("70", "0.6 mg", "im", "DRUG-HARD-LIMIT-SINGLE"),
        ("70", "10 mg", "im", "DRUG-HARD-LIMIT-SINGLE"),
        ("70", "10 mg", "iv", "DRUG-ROUTE-NOT-ALLOWED"),
        ("70", "500 ug", "im", None),
    ],
)
def test_epinephrine_limits__IAR_29_IAR_13_PROT_20(weight, dose, route, code):
    if code is None:
        assert check("epinephrine", dose, route, weight=weight).status == "ok"
        return
    assert refused("epinephrine", dose, route, weight=weight).code == code


def test_epinephrine_route_refusal_names_the_allowed_route__IAR_29():
    error = refused("adrenaline", "10 mg", "iv")
    assert error.message == ("Epinephrine 10 mg i.v. was not recorded: the drug library allows "
                             "epinephrine only i.m.")


def test_epinephrine_above_the_weight_dose_is_recorded_with_a_reason_and_flagged__IAR_29():
    result = check("epinephrine", "0.5 mg", "im", weight="40", reason="adult dose in anaphylaxis")
    assert result.status == "soft_limit" and result.flagged
    assert "0.01 mg/kg = 0.4 mg" in result.message
    assert "Reason: adult dose in anaphylaxis" in result.message


@pytest.mark.parametrize(("minutes", "code"), [(4, "DRUG-MIN-INTERVAL"), (5, None)])
def test_epinephrine_may_be_repeated_after_5_minutes__IAR_29(minutes, code):
    earlier = doses("epinephrine", "0.5 mg", "im", NINE)
    at = NINE + timedelta(minutes=minutes)
    if code is None:
        assert check("epinephrine", "0.5 mg", "im", at=at, earlier=earlier).status == "ok"
    else:
        assert refused("epinephrine", "0.5 mg", "im", at=at, earlier=earlier).code == code


def test_a_fourth_full_epinephrine_dose_is_flagged_never_refused__IAR_29():
    earlier = doses("epinephrine", "0.5 mg", "im", *(NINE + timedelta(minutes=m) for m in (0, 5, 10)))
    at = NINE + timedelta(minutes=15)
    assert refused("epinephrine", "0.5 mg", "im", at=at, earlier=earlier).code == "DRUG-SOFT-LIMIT"
    result = check("epinephrine", "0.5 mg", "im", at=at, earlier=earlier, reason="no response")
    assert result.status == "soft_limit" and "2 mg in 24 h" in result.message


# -- dimetindene: 4 mg ampoules, 1-2 a day ------------------------------------------------------


def test_five_ampoules_of_dimetindene_in_five_minutes_stop_at_the_third__PROT_24_IAR_12():
    earlier: list[Administration] = []
    outcomes = []
    for minute in range(5):
        at = NINE + timedelta(minutes=minute)
        try:
            check_administration(LIBRARY, "Fenistil", "iv", q("1 {ampoule}"), at, Decimal(70), earlier)
        except EventRefused as error:
            outcomes.append(error.code)
            continue
        outcomes.append("ok")
        earlier.append(given("Fenistil", "1 {ampoule}", "iv", at))
    assert outcomes == ["ok", "ok", "DRUG-HARD-LIMIT-24H", "DRUG-HARD-LIMIT-24H",
                        "DRUG-HARD-LIMIT-24H"]


def test_the_third_ampoule_names_the_8_mg_limit__PROT_24():
    earlier = doses("dimetindene", "4 mg", "iv", NINE, NINE + timedelta(minutes=1))
    error = refused("FENISTIL", "4 mg", "iv", at=NINE + timedelta(minutes=2), earlier=earlier)
    assert "with the 8 mg already given in the last 24 h it would make 12 mg" in error.message
    assert "the most in 24 h for 70 kg is 8 mg" in error.message
    assert "The earliest time for another 4 mg is 09:00 on 08 Dec." in error.message


def test_two_ampoules_at_once_need_a_reason__PROT_24():
    assert refused("dimetindene", "8 mg", "iv").code == "DRUG-SOFT-LIMIT"
    assert check("dimetindene", "2 {ampoule}", "iv", reason="severe itching").status == "soft_limit"


def test_a_dose_in_a_unit_the_library_cannot_count_is_refused__PROT_24():
    error = refused("dimetindene", "4 mL", "iv")
    assert error.code == "DRUG-DOSE-UNIT"
    assert "give the dose in mg (or g, ug) or ampoules of 4 mg" in error.message


# -- corticosteroids, antihistamines, H2 blocker, aciclovir, alemtuzumab -------------------------


def test_prednisolone_250_mg_a_second_dose_needs_a_reason_a_third_is_refused__PROT_25_IAR_29():
    assert check("prednisolone", "250 mg", "iv").status == "ok"
    assert refused("prednisolone", "500 mg", "iv").code == "DRUG-HARD-LIMIT-SINGLE"
    one = doses("prednisolone", "250 mg", "iv", NINE)
    later = NINE + timedelta(hours=1)
    assert refused("prednisolone", "250 mg", "iv", at=later, earlier=one).code == "DRUG-SOFT-LIMIT"
    assert check("prednisolone", "250 mg", "iv", at=later, earlier=one, reason="recurrence").flagged
    two = (*one, given("prednisolone", "250 mg", "iv", later))
    assert refused("prednisolone", "250 mg", "iv", at=later + timedelta(hours=1),
                   earlier=two).code == "DRUG-HARD-LIMIT-24H"


def test_methylprednisolone_1_g_once_a_day__PROT_09_IAR_07():
    assert check("methylprednisolone", "1 g", "iv").status == "ok"
    assert refused("methylprednisolone", "2 g", "iv").code == "DRUG-HARD-LIMIT-SINGLE"
    earlier = doses("methylprednisolone", "1 g", "iv", NINE - timedelta(hours=1))
    assert refused("Solu-Medrol", "1000 mg", "iv", earlier=earlier).code == "DRUG-HARD-LIMIT-24H"


def test_cetirizine_20_mg_a_day_needs_a_reason_more_is_refused__PROT_01_PROT_28_C_8():
    morning = doses("cetirizine", "10 mg", "oral", NINE)
    evening = NINE + timedelta(hours=11)
    assert refused("cetirizine", "10 mg", "oral", at=evening, earlier=morning).code == "DRUG-SOFT-LIMIT"
    accepted = check("Zyrtec", "1 {tablet}", "oral", at=evening, earlier=morning,
                     reason="protocol table 1-0-1, confirmed by the prescriber")
    assert accepted.status == "soft_limit"
    twice = (*morning, given("cetirizine", "10 mg", "oral", evening))
    assert refused("cetirizine", "10 mg", "oral", at=evening + timedelta(hours=1),
                   earlier=twice).code == "DRUG-HARD-LIMIT-24H"


def test_famotidine_at_most_40_mg_a_day__PROT_02_C_4():
    earlier = doses("famotidine", "20 mg", "oral", NINE - timedelta(hours=12), NINE)
    assert refused("Pepcid", "20 mg", "oral", at=NINE + timedelta(hours=1),
                   earlier=earlier).code == "DRUG-HARD-LIMIT-24H"
    assert refused("famotidine", "40 mg", "iv").code == "DRUG-HARD-LIMIT-SINGLE"


def test_aciclovir_prophylaxis_dose_more_needs_a_reason__PROT_03_PROT_27():
    assert check("aciclovir", "200 mg", "oral").status == "ok"
    assert refused("acyclovir", "400 mg", "oral").code == "DRUG-SOFT-LIMIT"


def test_alemtuzumab_12_mg_a_day_and_no_more__PROT_11_C_7():
    assert check("alemtuzumab", "12 mg", "iv").status == "ok"
    assert refused("Lemtrada", "24 mg", "iv").code == "DRUG-HARD-LIMIT-SINGLE"
    earlier = doses("alemtuzumab", "12 mg", "iv", NINE - timedelta(hours=5))
    assert refused("alemtuzumab", "12 mg", "iv", earlier=earlier).code == "DRUG-HARD-LIMIT-24H"


# -- drugs outside the library -----------------------------------------------------------------


def test_a_drug_outside_the_library_needs_an_indication_and_is_flagged__IAR_12():
    error = refused("ibuprofen", "400 mg", "oral")
    assert error.code == "DRUG-NOT-IN-LIBRARY"
    assert "not in the drug library" in error.message and "indication" in error.message
    assert refused("ibuprofen", "400 mg", "oral", reason="a reason is not an indication").code == (
        "DRUG-NOT-IN-LIBRARY")
    result = check("ibuprofen", "400 mg", "oral", indication="headache, paracetamol at its maximum")
    assert result.status == "not_in_library" and result.flagged and result.drug is None
    assert "indication: headache, paracetamol at its maximum" in result.message


def test_a_blank_reason_or_indication_is_none__IAR_12():
    assert refused("ibuprofen", "400 mg", "oral", indication="   ").code == "DRUG-NOT-IN-LIBRARY"
    assert refused("dimetindene", "8 mg", "iv", reason=" ").code == "DRUG-SOFT-LIMIT"


@pytest.mark.parametrize("name", ["Fenistil", "fenistil", " FENIALLERG ", "dimetindene"])
def test_brand_names_and_synonyms_match_ignoring_case__PROT_24(name):
    drug = LIBRARY.find(name)
    assert drug is not None and drug.id == "dimetindene"


def test_refusal_messages_are_written_for_the_nurse__PROT_10_IAR_29():
    messages = [
        refused("paracetamol", "10 g", "iv").message,
        refused("epinephrine", "10 mg", "iv").message,
        refused("paracetamol", "1 g", "iv", at=NINE + timedelta(hours=1),
                earlier=doses("paracetamol", "1 g", "iv", NINE)).message,
    ]
    for message in messages:
        for jargon in ("per_24h", "weight_kg", "None", "route_entry", "Decimal", "{"):
            assert jargon not in message


# -- the load-time check of a protocol ---------------------------------------------------------


def test_the_bundled_protocol_is_within_its_library_with_one_c8_warning__PROT_01_C_8():
    findings = protocol_findings(PROTOCOL)
    assert [(f.severity, f.element) for f in findings] == [("soft", "evening_before.cetirizine")]
    assert "C-8" in findings[0].requirements
    assert check_protocol(PROTOCOL) == findings


def test_a_protocol_scheduling_24_mg_of_alemtuzumab_is_refused__PROT_11_C_7():
    infusion = PROTOCOL.infusion.model_copy(update={"dose": q("24 mg")})
    with pytest.raises(ProtocolError) as caught:
        check_protocol(PROTOCOL.model_copy(update={"infusion": infusion}))
    assert caught.value.code == "PROTOCOL-DRUG-LIMIT"
    assert "infusion infusion.alemtuzumab schedules alemtuzumab 24 mg" in caught.value.message
    assert "at most 12 mg per dose" in caught.value.message
    assert "C-7" in caught.value.requirements


def test_a_protocol_scheduling_2_g_of_methylprednisolone_is_refused__PROT_09():
    premeds = tuple(p.model_copy(update={"dose": q("2 g")}) if p.id == "methylprednisolone" else p
                    for p in PROTOCOL.premedications)
    with pytest.raises(ProtocolError, match=r"premedications.methylprednisolone schedules "
                                            r"methylprednisolone 2 g, above the drug library's hard "
                                            r"limit: at most 1 g per dose"):
        check_protocol(PROTOCOL.model_copy(update={"premedications": premeds}))


def test_a_protocol_paracetamol_dose_must_fit_some_weight_band__PROT_10():
    premeds = tuple(p.model_copy(update={"dose": q("1.5 g")}) if p.id == "paracetamol" else p
                    for p in PROTOCOL.premedications)
    with pytest.raises(ProtocolError, match="at most 1 g per dose \\(50 kg or more\\)"):
        check_protocol(PROTOCOL.model_copy(update={"premedications": premeds}))


def test_every_reaction_medicine_must_find_its_library_entry__IAR_29_PROT_24():
    assert PROTOCOL.reactions is not None
    actions = tuple(
        a.model_copy(update={"medicine": Medicine(name="clemastine", route="iv")})
        if a.code == "GIVE-DIMETINDENE" else a
        for a in PROTOCOL.reactions.actions
    )
    reactions = PROTOCOL.reactions.model_copy(update={"actions": actions})
    with pytest.raises(ProtocolError) as caught:
        check_protocol(PROTOCOL.model_copy(update={"reactions": reactions}))
    assert caught.value.code == "PROTOCOL-DRUG-NOT-IN-LIBRARY"
    assert "reactions.GIVE-DIMETINDENE gives 'clemastine'" in caught.value.message


def test_a_reaction_route_the_library_does_not_allow_is_refused__IAR_29():
    assert PROTOCOL.reactions is not None
    actions = tuple(
        a.model_copy(update={"medicine": Medicine(name="epinephrine", route="iv")})
        if a.code == "GIVE-EPINEPHRINE" else a
        for a in PROTOCOL.reactions.actions
    )
    reactions = PROTOCOL.reactions.model_copy(update={"actions": actions})
    with pytest.raises(ProtocolError, match=r"gives epinephrine i.v.; the drug library allows it "
                                            r"only i.m."):
        check_protocol(PROTOCOL.model_copy(update={"reactions": reactions}))


def test_a_protocol_without_a_drug_library_is_refused__PROT_10():
    with pytest.raises(ProtocolError, match="has no drug library"):
        check_protocol(PROTOCOL.model_copy(update={"drug_library": None}))


def test_every_limit_cites_a_source_of_the_protocol__PROT_10():
    assert set(LIBRARY.sources()) <= set(PROTOCOL.sources)
    assert "centre-default" in set(LIBRARY.sources())


def test_ampoules_read_as_ampoules_in_the_message__PROT_24():
    earlier = doses("dimetindene", "2 {ampoule}", "iv", NINE)
    error = refused("Fenistil", "1 {ampoule}", "iv", at=NINE + timedelta(minutes=1), earlier=earlier)
    assert error.message.startswith("Dimetindene 1 ampoule i.v. was not recorded")
    assert "The earliest time for another 1 ampoule is 09:00 on 08 Dec." in error.message


# -- whatever is recorded, the library's hard limits hold ----------------------------------------

_DOSES = st.lists(st.tuples(st.integers(0, 600), st.integers(1, 30), st.sampled_from(["iv", "oral"])),
                  min_size=1, max_size=25)


@settings(max_examples=150, deadline=None)
@hypothesis_given(steps=_DOSES, weight=st.sampled_from([None, "40", "49.9", "50", "70"]))
def test_accepted_paracetamol_never_exceeds_the_library__PROT_10_PROT_29(steps, weight):
    at, accepted = NINE, []
    for gap_minutes, hundreds, route in steps:
        at += timedelta(minutes=gap_minutes)
        try:
            check("paracetamol", f"{hundreds * 100} mg", route, at=at, weight=weight,
                  earlier=tuple(accepted), reason="any reason")
        except EventRefused as error:
            assert error.code.startswith("DRUG-")
            continue
        accepted.append(given("paracetamol", f"{hundreds * 100} mg", route, at))
    light = weight is not None and Decimal(weight) < 50
    single = Decimal(15) * Decimal(weight) if light else Decimal(1000)  # type: ignore[arg-type]
    daily = Decimal(60) * Decimal(weight) if light else Decimal(4000)  # type: ignore[arg-type]
    for index, dose in enumerate(accepted):
        assert dose.dose.in_mg() <= single
        window = [d for d in accepted if timedelta(0) <= dose.at - d.at < timedelta(hours=24)]
        assert sum(d.dose.in_mg() for d in window) <= daily
        if index:
            assert dose.at - accepted[index - 1].at >= timedelta(hours=4)


@settings(max_examples=100, deadline=None)
@hypothesis_given(gaps=st.lists(st.integers(0, 900), min_size=1, max_size=12),
                  ampoules=st.lists(st.integers(1, 3), min_size=12, max_size=12))
def test_accepted_dimetindene_never_exceeds_8_mg_in_24_hours__PROT_24(gaps, ampoules):
    at, accepted = NINE, []
    for gap, count in zip(gaps, ampoules, strict=False):
        at += timedelta(minutes=gap)
        try:
            check("Fenistil", f"{count} {{ampoule}}", "iv", at=at, earlier=tuple(accepted),
                  reason="a reason for a soft limit")
        except EventRefused as error:
            assert error.code in {"DRUG-HARD-LIMIT-SINGLE", "DRUG-HARD-LIMIT-24H"}
            continue
        accepted.append(given("dimetindene", f"{4 * count} mg", "iv", at))
    for dose in accepted:
        window = [d for d in accepted if timedelta(0) <= dose.at - d.at < timedelta(hours=24)]
        assert sum(d.dose.in_mg() for d in window) <= 8


def test_the_limits_read_in_words_for_review__PROT_10_IAR_29():
    paracetamol, epinephrine = LIBRARY.find("paracetamol"), LIBRARY.find("adrenaline")
    assert paracetamol is not None and epinephrine is not None
    assert paracetamol.routes[0].describe() == (
        "50 kg or more: single hard 1 g; in 24 h hard 4 g; under 50 kg: single hard 15 mg/kg; "
        "in 24 h hard 60 mg/kg; interval hard 4 h")
    assert epinephrine.routes[0].describe() == (
        "single soft 0.01 mg/kg, hard 0.5 mg; in 24 h soft 1.5 mg; interval hard 5 min")


def test_times_in_messages_are_in_the_course_zone__PROT_10():
    from datetime import UTC

    earlier = doses("paracetamol", "1 g", "iv", NINE.astimezone(UTC))
    with pytest.raises(EventRefused) as caught:
        check_administration(LIBRARY, "paracetamol", "iv", q("1 g"),
                             (NINE + timedelta(hours=1)).astimezone(UTC), Decimal(70), earlier,
                             zone=BERLIN)
    assert "the last dose was at 09:00 on 07 Dec" in caught.value.message
    assert "is 13:00 on 07 Dec" in caught.value.message
