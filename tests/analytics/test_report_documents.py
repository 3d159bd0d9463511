"""The IAR report as HTML (embedded SVG charts) and PDF: the key figures are on the page."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from infusionist.adapters.documents.iar_report import percent, render_report_html, render_report_pdf
from infusionist.analytics.charts import all_charts
from infusionist.analytics.synth import trial_calibration
from infusionist.domain.protocol import Protocol
from infusionist.entrypoints.cli.app import app

GENERATED = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def charts(small_report: dict[str, Any]) -> dict[str, str]:
    return all_charts(small_report)


@pytest.fixture(scope="module")
def html(small_report: dict[str, Any], charts: dict[str, str], protocol: Protocol) -> str:
    return render_report_html(
        small_report, charts, protocol, calibration=trial_calibration(protocol).describe(), generated=GENERATED
    )


def test_charts_are_svg_and_the_same_report_draws_the_same_chart(
    small_report: dict[str, Any], charts: dict[str, str]
) -> None:
    assert set(charts) == {"by_course", "by_day", "symptoms"}
    for svg in charts.values():
        assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert all_charts(small_report) == charts


def test_html_embeds_the_three_charts_and_every_reference_with_its_source__IAR_19(
    html: str, small_report: dict[str, Any], protocol: Protocol
) -> None:
    assert html.count("<svg") == 3
    for row in small_report["by_course"]:
        assert percent(row["incidence"]) in html
        if row["reference"]:
            assert percent(row["reference"]["value"]) in html
    assert protocol.sources["pooled-2021"].citation in html
    assert protocol.sources["us-label"].citation in html
    assert "calibrated to the pooled-2021 figures" in html


def test_html_holds_no_pseudonym_name_or_birth_date(html: str) -> None:
    assert not re.search(r"S-\d{7}", html)
    assert "Synthetic Patient" not in html
    assert not re.search(r"\b(19|20)\d\d-\d\d-\d\d\b", html)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_pdf_text_carries_the_key_figures(html: str, small_report: dict[str, Any], tmp_path: Path) -> None:
    pdf = tmp_path / "iar.pdf"
    pdf.write_bytes(render_report_pdf(html))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Infusion-associated reactions" in text
    course_1 = small_report["by_course"][0]
    assert percent(course_1["incidence"]) in text
    assert f"{percent(course_1['ci_low'])} – {percent(course_1['ci_high'])}" in text
    assert "84.7%" in text and "pooled-2021" in text
    assert "Ther Adv Neurol Disord 2021" in text
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Pages:\s+4", info)
    assert "landscape" in info or re.search(r"841\.\d+ x 595", info)


def test_cli_writes_html_and_json_from_a_snapshot(
    small_snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFUSIONIST_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    runner = CliRunner()
    out = tmp_path / "iar.html"
    result = runner.invoke(app, ["report", "iar", "--snapshot", str(small_snapshot), "--format", "html",
                                 "--output", str(out), "--synthetic"])
    assert result.exit_code == 0, result.output
    assert out.read_text().count("<svg") == 3
    result = runner.invoke(app, ["report", "iar", "--snapshot", str(small_snapshot), "--format", "json",
                                 "--synthetic"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["calibration"].startswith("Synthetic data calibrated")
    refused = runner.invoke(app, ["report", "iar", "--snapshot", str(small_snapshot), "--format", "pdf"])
    assert refused.exit_code != 0 and "INPUT-OUTPUT" in refused.output
