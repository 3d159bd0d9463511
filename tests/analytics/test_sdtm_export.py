"""SDTM export of a small synthetic trial: conformance, XPT v5 read-back, pseudonymisation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from infusionist.adapters.cdisc.conformance import check
from infusionist.adapters.cdisc.sdtm import DOMAINS, build, duration, write
from infusionist.domain.protocol import Protocol
from infusionist.entrypoints.cli.app import app

STUDY = "SYNTH-IAR"


@pytest.fixture(scope="module")
def domains(small_snapshot: Path, protocol: Protocol) -> dict[str, list[dict[str, Any]]]:
    return build(small_snapshot, protocol, STUDY)


def test_the_export_passes_the_conformance_checks(domains: dict[str, list[dict[str, Any]]]) -> None:
    assert check(domains) == []
    assert all(domains[name] for name in DOMAINS)


def test_the_checks_catch_what_they_claim_to(domains: dict[str, list[dict[str, Any]]]) -> None:
    broken = {name: [dict(r) for r in rows[:3]] for name, rows in domains.items()}
    broken["AE"][0]["AESTDTC"] = "04/03/2024"
    broken["AE"][1]["AEACN"] = "STOPPED"
    del broken["DM"][0]["SEX"]
    broken["VS"][1]["VSSEQ"] = broken["VS"][0]["VSSEQ"]
    broken["VS"][2]["VSELTM"] = "45 min"
    broken["CM"][0]["STUDYID"] = "OTHER"
    rules = {(d, rule) for d, rule, _ in check(broken)}
    assert {("AE", "iso8601"), ("AE", "controlled-term"), ("VS", "seq"), ("VS", "iso8601"),
            ("*", "one-studyid")} <= rules
    assert any(d == "DM" and rule == "required" for d, rule in rules)


def test_xpt_v5_files_read_back_with_the_same_rows(
    domains: dict[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    import pyreadstat

    write(domains, tmp_path)
    for name in DOMAINS:
        frame, meta = pyreadstat.read_xport(str(tmp_path / f"{name.lower()}.xpt"))
        assert meta.table_name == name
        assert len(frame) == len(domains[name])
        assert list(frame.columns) == list(domains[name][0])
        assert frame["USUBJID"].tolist() == [r["USUBJID"] for r in domains[name]]
        assert all(len(label or "") <= 40 for label in meta.column_labels)
        assert (tmp_path / f"{name.lower()}.csv").read_text().splitlines()[0].startswith("STUDYID,DOMAIN")
    with (tmp_path / "dm.xpt").open("rb") as f:
        assert f.read(80).startswith(b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!")  # XPORT v5


def test_ex_splits_at_every_rate_change_and_pause(domains: dict[str, list[dict[str, Any]]]) -> None:
    adjusted = [r for r in domains["EX"] if r["EXADJ"].startswith("INFUSION REACTION")]
    assert adjusted, "the small trial has grade 2 reactions with a reduced-rate restart"
    per_day: dict[tuple[str, str], float] = {}
    for r in domains["EX"]:
        per_day[(r["USUBJID"], r["VISIT"])] = per_day.get((r["USUBJID"], r["VISIT"]), 0) + r["EXDOSE"]
    full = [v for v in per_day.values() if v > 11.5]
    assert len(full) > 0.9 * len(per_day) and max(per_day.values()) <= 12.001  # 12 mg a day, never more


def test_ae_carries_grade_seriousness_and_action__IAR_19(domains: dict[str, list[dict[str, Any]]]) -> None:
    ae = domains["AE"]
    assert {r["AETOXGR"] for r in ae} <= {"1", "2", "3", "4"}
    assert all((r["AESER"] == "Y") == (int(r["AETOXGR"]) >= 3) for r in ae)
    assert {"DOSE RATE REDUCED", "DOSE NOT CHANGED"} <= {r["AEACN"] for r in ae}


def test_vs_time_points_are_relative_to_the_infusion_start(domains: dict[str, list[dict[str, Any]]]) -> None:
    vs = domains["VS"]
    assert {r["VSTPTREF"] for r in vs} == {"INFUSION START"}
    assert any(r["VSELTM"].startswith("-PT") and r["VSTPT"] == "PRE-INFUSION" for r in vs)
    assert any(r["VSELTM"] == "PT0M" for r in vs)
    assert duration(__import__("datetime").timedelta(minutes=75)) == "PT1H15M"


def test_cm_holds_premedications_and_rescue_medications(domains: dict[str, list[dict[str, Any]]]) -> None:
    categories = {(r["CMCAT"], r["CMTRT"]) for r in domains["CM"]}
    assert ("PREMEDICATION", "METHYLPREDNISOLONE") in categories
    assert ("RESCUE MEDICATION", "DIMETINDENE") in categories


def test_investigator_data_are_pseudonymised(domains: dict[str, list[dict[str, Any]]], tmp_path: Path) -> None:
    write(domains, tmp_path)
    text = "".join(p.read_text(errors="replace") for p in tmp_path.glob("*.csv"))
    assert "Synthetic Patient" not in text and "BRTHDTC" not in text
    assert all(re.fullmatch(rf"{STUDY}-S-\d{{7}}", r["USUBJID"]) for r in domains["DM"])


def test_cli_exports_sdtm_from_a_snapshot(small_snapshot: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFUSIONIST_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    result = CliRunner().invoke(app, ["export", "sdtm", str(tmp_path / "sdtm"), "--snapshot", str(small_snapshot),
                                      "--study", STUDY])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "sdtm").iterdir()) == sorted(
        f"{n.lower()}.{ext}" for n in DOMAINS for ext in ("xpt", "csv"))
