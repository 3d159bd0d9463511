"""The patient's handout: `infusionist plan --format pdf`, rendered to PNG and read back as text.

Needs Debian's poppler-utils (pdftoppm, pdftotext), installed by scripts/setup.sh when missing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from infusionist.adapters.documents.handout import render_handout_html
from infusionist.domain.centre import CentreConfig
from infusionist.domain.planning import CoursePlan
from infusionist.domain.protocol import Protocol

ROOT = Path(__file__).parents[2]
PlanFactory = Callable[..., CoursePlan]
CENTRE = ROOT / "examples" / "centre.yaml"


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path is not None, f"{name} is missing: run scripts/setup.sh (installs poppler-utils)"
    return path


@pytest.fixture(scope="module")
def handout(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("handout")
    pdf = folder / "handout.pdf"
    subprocess.run(
        [sys.executable, "-m", "infusionist", "plan", "--first-day", "2026-12-07", "--sex", "female",
         "--childbearing-potential", "yes", "--timezone", "Europe/Berlin", "--config", str(CENTRE),
         "--format", "pdf", "--output", str(pdf)],
        check=True, capture_output=True, cwd=ROOT,
    )
    text = subprocess.run([_tool("pdftotext"), str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    return pdf, re.sub(r"\s+", " ", text)  # reading order, one space between words


def test_the_handout_renders_to_png_pages(handout: tuple[Path, str]) -> None:
    pdf, _ = handout
    assert pdf.read_bytes().startswith(b"%PDF")
    prefix = pdf.parent / "page"
    subprocess.run([_tool("pdftoppm"), "-r", "60", "-png", str(pdf), str(prefix)], check=True)
    pages = sorted(pdf.parent.glob("page-*.png"))
    assert 2 <= len(pages) <= 6
    assert all(page.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and page.stat().st_size > 10_000 for page in pages)


def test_the_handout_shows_every_infusion_day_with_its_times__PROT_04(handout: tuple[Path, str]) -> None:
    _, text = handout
    for day in ("Mon 7 Dec 2026", "Tue 8 Dec 2026", "Wed 9 Dec 2026", "Thu 10 Dec 2026", "Fri 11 Dec 2026"):
        assert day in text
    assert "08:00" in text and "09:00" in text and "15:30" in text


def test_the_handout_gives_explicit_doses_with_the_1_0_1_display__PROT_01_PROT_02_PROT_27(
    handout: tuple[Path, str],
) -> None:
    _, text = handout
    assert "1-0-1" in text
    for medicine, per_day in (("aciclovir", "400 mg a day"), ("cetirizine", "20 mg a day"),
                              ("famotidine", "40 mg a day")):
        assert medicine in text and per_day in text
    assert "evening of Mon 4 Jan" in text  # aciclovir: 4 weeks from day 1 (PROT-27)
    assert "evening of Fri 18 Dec 2026" in text  # cetirizine: one more week (PROT-28)


def test_the_handout_has_diet_and_hydration__PROT_18_PROT_31_PROT_32(handout: tuple[Path, str]) -> None:
    _, text = handout
    assert "2 litres" in text
    assert "raw milk" in text
    assert "bland diet" in text.lower()


def test_the_handout_gives_the_contraception_date__PROT_33(handout: tuple[Path, str]) -> None:
    _, text = handout
    assert "Contraception until at least Sun 11 Apr 2027" in text


def test_the_handout_lists_follow_up_dates__PROT_30_PROT_34(handout: tuple[Path, str]) -> None:
    _, text = handout
    assert "Fri 8 Jan 2027" in text  # check-up 4 weeks after the course
    assert "Wed 11 Dec 2030" in text  # last monitoring date: 48 months after the last infusion
    assert "11 Jan 2027" in text and "11 Dec 2029" in text


def test_the_handout_teaches_warning_signs_and_whom_to_call__IAR_05_IAR_17_PROT_35_PROT_36(
    handout: tuple[Path, str],
) -> None:
    _, text = handout
    for heading in ("stroke and heart warning signs", "Reactions after you go home", "Infections",
                    "Bleeding", "Kidney signs"):
        assert heading in text
    assert "+49 30 0000 0000" in text


def test_the_handout_leaves_room_for_the_number_when_none_is_configured(
    make_plan: PlanFactory, protocol: Protocol
) -> None:
    html = render_handout_html(make_plan(), protocol, CentreConfig())
    assert "the unit writes its number here" in html


def test_no_contraception_box_for_patients_it_does_not_apply_to__PROT_33(
    make_plan: PlanFactory, protocol: Protocol
) -> None:
    html = render_handout_html(make_plan(sex="male", childbearing_potential=False), protocol, CentreConfig())
    assert "Contraception until" not in html


def test_the_handout_of_course_2_counts_from_its_own_last_infusion__PROT_05(
    make_plan: PlanFactory, protocol: Protocol
) -> None:
    plan = make_plan(course=2, first_day=date(2027, 12, 13), previous_course_end=date(2026, 12, 11))
    html = render_handout_html(plan, protocol, CentreConfig())
    assert "Your alemtuzumab course 2" in html
    assert "Mon 15 Dec 2031" in html  # 48 months after the last infusion of course 2
