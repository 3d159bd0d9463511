"""Generate docs/traceability.md: every requirement ID -> protocol data -> code -> tests -> status.

The protocol file says which elements implement an ID; test names say which tests check it
(``test_..._PROT_09_IAR_21``: the ID list follows the double underscore); the code column comes from
the kind of element (the module that executes it). ``tests/unit/test_traceability.py`` fails when
this document is out of date. Run: ``.venv/bin/python scripts/traceability.py``.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT.parent / "shared" / "seeds" / "requirements.md"
OUTPUT = ROOT / "docs" / "traceability.md"

# Which module executes each kind of protocol element.
CODE_BY_SECTION = {
    "courses": "domain/course_days.py",
    "evening_before": "domain/planning.py",
    "premedications": "domain/planning.py; domain/infusion_day.py (start guard)",
    "infusion": "domain/planning.py; domain/pump.py",
    "flush": "domain/planning.py; domain/pump.py",
    "vital_signs": "domain/planning.py",
    "observation": "domain/planning.py; domain/infusion_day.py",
    "day_activities": "domain/planning.py; domain/infusion_day.py (start guard)",
    "instructions": "domain/planning.py",
    "follow_up": "domain/planning.py",
    "course_warnings": "domain/planning.py (plan warnings)",
    "reactions": "domain/reactions.py; domain/infusion_day.py",
    "vital_sign_rules": "domain/vitals.py",
    "reference_figures": "analytics/iar.py (report); analytics/calibration.py (synthetic trial)",
    "monitoring": "domain/followup.py",
    "options": "domain/centre.py",
    "rate_reactions": "domain/protocol_rates.py (rate at onset; bedside: issue 13)",
    "drug_library": "domain/drug_library.py (bedside check); domain/protocol_drugs.py (load-time check)",
}
# Further therapies: their own numbered statements (docs/requirements-<therapy>.md), the protocol
# file that encodes them and the ID family. PROT/IAR above stay the alemtuzumab seeds.
THERAPIES = (
    ("Ocrelizumab", "OCR", ROOT / "docs" / "requirements-ocrelizumab.md", "ocrelizumab-ms.yaml"),
    ("Natalizumab", "NAT", ROOT / "docs" / "requirements-natalizumab.md", "natalizumab-ms.yaml"),
)
FAMILIES = {"PROT", "IAR", "C", *(family for _, family, _, _ in THERAPIES)}
# IDs whose statement schedules nothing, with the reason (shown as their status).
NOT_APPLICABLE = {
    "IAR-03": "Explains the mechanism of IARs (cytokine release); nothing to schedule, guard or compute. "
    "Kept as background in the reaction education text.",
}
# IDs whose main behaviour belongs to a later capability: the issue that completes them.
LATER: dict[str, str] = {}


def requirement_ids(path: Path = REQUIREMENTS, families: str = "PROT|IAR") -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    return dict(re.findall(rf"^- ((?:{families})-\d{{2}}) (.+)$", text, flags=re.M))


def protocol_elements(file: str = "alemtuzumab-ms.yaml") -> dict[str, list[tuple[str, str]]]:
    """ID -> [(section, element id)] read from a bundled protocol file."""
    import yaml

    data = yaml.safe_load((ROOT / "src/infusionist/protocols" / file).read_text())
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)

    def walk(section: str, node: object) -> None:
        if isinstance(node, dict):
            ident = node.get("id") or node.get("code")
            for rid in node.get("requirements", []) or []:
                if isinstance(ident, str):
                    found[rid].append((section, ident))
            for value in node.values():
                walk(section, value)
        elif isinstance(node, list):
            for item in node:
                walk(section, item)

    for section, node in data.items():
        walk(section, node)
    return found


def expand(ids_part: str) -> list[str]:
    """``PROT_01_02_IAR_21`` -> PROT-01, PROT-02, IAR-21; ``C_8`` -> C-8."""
    out, prefix = [], None
    for token in ids_part.split("_"):
        if token in FAMILIES:
            prefix = token
        elif token.isdigit() and prefix is not None:
            width = 1 if prefix == "C" else 2
            out.append(f"{prefix}-{int(token):0{width}d}")
        else:
            prefix = None
    return out


def tests_by_id() -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    families = "|".join(sorted(FAMILIES))
    pattern = re.compile(rf"def (test_\w+?__((?:{families})_[\w]+))\(")
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        for name, ids in pattern.findall(path.read_text(encoding="utf-8")):
            for rid in expand(ids):
                found[rid].append(f"{path.relative_to(ROOT / 'tests')}::{name}")
    return found


def status(rid: str, elements: list[tuple[str, str]], tests: list[str]) -> str:
    if rid in NOT_APPLICABLE:
        return "not applicable: " + NOT_APPLICABLE[rid]
    if rid in LATER:
        return "later: " + LATER[rid]
    if elements and tests:
        return "done"
    if not tests:
        return "no test yet"
    return "tested, no protocol element"


def render() -> str:
    statements = requirement_ids()
    elements, tests = protocol_elements(), tests_by_id()
    lines = [
        "# Traceability",
        "",
        "Every requirement of `../shared/seeds/requirements.md` mapped to the protocol data that",
        "encodes it, the code that executes it and the tests that check it. Generated by",
        "`scripts/traceability.py` from the protocol file and the test names; a test fails when it is",
        "out of date. Conflicts C-1..C-13 are advisories beside the elements they touch (see",
        "`infusionist protocol show`) and tests named with them are listed at the end.",
        "",
        "| ID | Statement | Protocol data | Code | Tests | Status |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for rid, statement in statements.items():
        found = elements.get(rid, [])
        sections = sorted({section for section, _ in found})
        data = "<br>".join(f"`{section}.{ident}`" for section, ident in found) or "-"
        code = "<br>".join(CODE_BY_SECTION.get(section, section) for section in sections) or "-"
        checked = "<br>".join(f"`{t}`" for t in tests.get(rid, [])) or "-"
        lines.append(f"| {rid} | {statement} | {data} | {code} | {checked} | "
                     f"{status(rid, found, tests.get(rid, []))} |")
    lines += ["", "## Conflicts and dated statements", "", "| ID | Tests |", "| --- | --- |"]
    for number in range(1, 14):
        rid = f"C-{number}"
        checked = "<br>".join(f"`{t}`" for t in tests.get(rid, [])) or "-"
        lines.append(f"| {rid} | {checked} |")
    for title, family, path, file in THERAPIES:
        lines += _therapy_rows(title, family, path, file, tests)
    return "\n".join(lines) + "\n"


def _therapy_rows(title: str, family: str, path: Path, file: str,
                  tests: dict[str, list[str]]) -> list[str]:
    elements = protocol_elements(file)
    lines = [
        "", f"## {title} ({family})", "",
        f"The statements of `{path.relative_to(ROOT)}`, encoded by `src/infusionist/protocols/{file}`.",
        "", "| ID | Statement | Protocol data | Code | Tests | Status |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for rid, statement in requirement_ids(path, family).items():
        found = elements.get(rid, [])
        sections = sorted({section for section, _ in found})
        data = "<br>".join(f"`{section}.{ident}`" for section, ident in found) or "-"
        code = "<br>".join(CODE_BY_SECTION.get(section, section) for section in sections) or "-"
        checked = "<br>".join(f"`{t}`" for t in tests.get(rid, [])) or "-"
        lines.append(f"| {rid} | {statement} | {data} | {code} | {checked} | "
                     f"{status(rid, found, tests.get(rid, []))} |")
    return lines


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print("docs/traceability.md is out of date: run .venv/bin/python scripts/traceability.py")
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
