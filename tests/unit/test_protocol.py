"""The protocol file: schema, provenance, conflicts, and other therapies in the same format."""

from __future__ import annotations

import re
from datetime import date, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from infusionist.adapters.protocol_files import load_protocol
from infusionist.domain.activities import ActivityKind
from infusionist.domain.centre import CentreConfig
from infusionist.domain.errors import ProtocolError
from infusionist.domain.planning import Patient, PlanRequest, plan_course
from infusionist.domain.protocol import Protocol

FIXTURES = Path(__file__).parent.parent / "fixtures"
REQUIREMENTS = Path(__file__).parents[3] / "shared" / "seeds" / "requirements.md"
# Statements that schedule nothing and guard nothing: why each is not in the protocol data.
NOT_IN_PROTOCOL = {"IAR-03": "mechanism of IARs (cytokine release); explains, schedules nothing"}


def requirement_ids() -> set[str]:
    return set(re.findall(r"^- ((?:PROT|IAR)-\d{2}) ", REQUIREMENTS.read_text(), flags=re.M))


def conflict_ids() -> set[str]:
    return set(re.findall(r"^- (C-\d{1,2}) ", REQUIREMENTS.read_text(), flags=re.M))


def test_bundled_protocol_loads_with_id_and_version(protocol: Protocol):
    assert protocol.id == "alemtuzumab-ms"
    assert re.fullmatch(r"\d+\.\d+\.\d+", protocol.version)


def test_every_requirement_id_is_in_the_protocol_or_explained(protocol: Protocol):
    ids = requirement_ids()
    assert len(ids) == 65  # 36 PROT + 29 IAR
    assert ids - protocol.requirement_ids() == set(NOT_IN_PROTOCOL)


def test_every_conflict_appears_as_an_advisory_beside_an_element(protocol: Protocol):
    shown = {a.conflict for e in protocol.all_elements() for a in e.advisories if a.conflict}
    assert shown == conflict_ids() == {f"C-{n}" for n in range(1, 14)}


def test_every_element_names_requirements_and_a_known_source(protocol: Protocol):
    for element in protocol.all_elements():
        assert element.requirements, element.id
        assert element.source in protocol.sources, element.id


def test_the_only_schedulable_dose_is_12_mg__C_7_PROT_11(protocol: Protocol):
    assert protocol.infusion.dose.value == 12 and protocol.infusion.dose.unit == "mg"


def test_pump_rate_is_derived_from_the_prepared_volume__C_11(protocol: Protocol):
    assert protocol.infusion.rate_ml_per_h() == 28
    assert protocol.flush is not None and protocol.flush.rate_ml_per_h() == 200


def test_reaction_management_is_protocol_data__PROT_23_24_25_26_IAR_12_13_14_28_29(protocol: Protocol):
    reactions = protocol.reactions
    assert reactions is not None
    codes = {a.code: a for a in reactions.actions}
    assert codes["GIVE-DIMETINDENE"].medicine is not None
    assert codes["GIVE-DIMETINDENE"].medicine.dose is not None
    assert codes["GIVE-DIMETINDENE"].medicine.dose.value == 4
    assert codes["GIVE-PREDNISOLONE"].when == "insufficient_effect"
    assert codes["GIVE-EPINEPHRINE"].severity == "severe" and codes["GIVE-EPINEPHRINE"].when == "anaphylaxis"
    assert codes["STOP-FOR-DAY"].severity == "severe"
    assert codes["NEURO-ASSESS"].severity == "neurological"
    covered = {r for a in reactions.actions for r in a.requirements}
    assert {"PROT-23", "PROT-24", "PROT-25", "PROT-26", "IAR-12", "IAR-13", "IAR-14", "IAR-28",
            "IAR-29"} <= covered


def test_symptom_catalogue_covers_the_sources__PROT_20_21_22_IAR_04_IAR_26(protocol: Protocol):
    assert protocol.reactions is not None
    symptoms = {s.id for s in protocol.reactions.symptoms}
    assert {"headache", "rash", "pyrexia", "nausea", "flushing", "urticaria", "pruritus", "fatigue",
            "erythema", "chills", "dyspnoea", "hypotension", "neurological-worsening"} <= symptoms
    assert any(s.anaphylaxis_sign for s in protocol.reactions.symptoms)


def test_reference_figures_carry_their_sources__IAR_02_IAR_19_IAR_20_C_13(protocol: Protocol):
    figures = protocol.reference_figures
    assert figures is not None
    course_1 = [f for f in figures.figures if f.measure == "any_iar" and f.course == 1 and f.arm == "12 mg"]
    assert {(str(f.percent), f.source) for f in course_1} == {("84.7", "iar-guide"), ("84.7", "pooled-2021")}
    overall = {f.source: f.percent for f in figures.figures
               if f.measure == "any_iar" and f.course is None and f.arm == "12 mg"}
    assert str(overall["iar-guide"]) == "90.1" and overall["us-label"] == 92  # IAR-02: about 90 %
    urticaria = {f.source: f for f in figures.figures if f.symptom == "urticaria"}
    assert urticaria["iar-guide"].frequency == "common (>20%)" and urticaria["us-label"].percent == 16


def test_an_invalid_protocol_is_refused_with_the_problem(tmp_path: Path):
    data = yaml.safe_load((Path(__file__).parents[2] / "src/infusionist/protocols/alemtuzumab-ms.yaml")
                          .read_text())
    data["infusion"]["requirements"] = []
    data["premedications"][0]["source"] = "nowhere"
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(data))
    with pytest.raises(ProtocolError) as refused:
        load_protocol(broken)
    assert refused.value.code == "PROTOCOL-INVALID"
    assert "infusion.requirements" in refused.value.message


def test_a_missing_protocol_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ProtocolError) as refused:
        load_protocol(tmp_path / "nope.yaml")
    assert refused.value.code == "PROTOCOL-NOT-FOUND"


def test_another_therapy_single_infusion_every_4_weeks_needs_no_code_change():
    protocol = load_protocol(FIXTURES / "natalizumab-like.yaml")
    patient = Patient(id="N1", sex="male")
    zone = ZoneInfo("Europe/Berlin")
    first = plan_course(protocol, PlanRequest(patient, 1, date(2027, 1, 4), time(10, 0), zone, "Europe/Berlin"),
                        CentreConfig())
    (infusion,) = [a for a in first.activities if a.kind is ActivityKind.INFUSION]
    assert infusion.rate_ml_per_h == 100 and infusion.dose is not None and infusion.dose.value == 300
    second = plan_course(protocol, PlanRequest(patient, 2, date(2027, 2, 1), time(10, 0), zone,
                                               "Europe/Berlin", previous_course_end=date(2027, 1, 4)),
                         CentreConfig())
    assert second.first_day == date(2027, 2, 1)
    assert first.day(1).observation_end.strftime("%H:%M") == "12:00"


def test_a_stepped_rate_table_and_day_offsets_need_no_code_change():
    protocol = load_protocol(FIXTURES / "ocrelizumab-steps.yaml")
    assert protocol.infusion.max_rate_ml_per_h() == 180
    plan = plan_course(protocol, PlanRequest(Patient(id="O1", sex="female"), 1, date(2027, 1, 4), time(9, 0),
                                             ZoneInfo("UTC"), "UTC"), CentreConfig())
    assert [d.date for d in plan.days] == [date(2027, 1, 4), date(2027, 1, 18)]


@pytest.mark.parametrize(("field", "value", "says"), [
    ("symptoms", ["hypotension", "low-mood"], "unknown symptom 'low-mood'"),
    ("alerts", ["HYPOTENSION", "BP-CRASH"], "unknown alert 'BP-CRASH'"),
])
def test_an_action_naming_an_unknown_symptom_or_alert_is_refused_with_its_place__IAR_29(
        tmp_path: Path, field: str, value: list[str], says: str):
    """A conditional reaction action's findings must name the protocol's own symptoms and alerts;
    ``protocol validate`` says which action and which name (IAR-29's conditions are data)."""
    data = yaml.safe_load((Path(__file__).parents[2] / "src/infusionist/protocols/alemtuzumab-ms.yaml")
                          .read_text())
    fluids = next(a for a in data["reactions"]["actions"] if a["code"] == "GIVE-IV-FLUIDS")
    fluids["findings"][field] = value
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(data))
    with pytest.raises(ProtocolError) as refused:
        load_protocol(broken)
    assert refused.value.code == "PROTOCOL-INVALID"
    assert "reactions.actions[GIVE-IV-FLUIDS].findings" in refused.value.message
    assert says in refused.value.message


def test_a_named_condition_without_findings_is_refused__IAR_29(tmp_path: Path):
    data = yaml.safe_load((Path(__file__).parents[2] / "src/infusionist/protocols/alemtuzumab-ms.yaml")
                          .read_text())
    fluids = next(a for a in data["reactions"]["actions"] if a["code"] == "GIVE-IV-FLUIDS")
    del fluids["findings"]
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(data))
    with pytest.raises(ProtocolError) as refused:
        load_protocol(broken)
    assert "needs findings" in refused.value.message
