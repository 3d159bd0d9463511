"""Generate docs/traceability.md: every requirement ID -> protocol data -> code -> tests -> status.

The protocol file says which elements implement an ID; test names say which tests check it
(``test_..._PROT_09_IAR_21``: the ID list follows the double underscore). The code column is read
from the code itself (``code_by_id``, by parsing every module of ``src/infusionist``, never by a
hand-written map here): a module implements an ID when

- it declares it: a module-level ``REQUIREMENTS = ("PROT-34", ...)``, or the ID as a literal in
  its code (``EventRefused(..., requirements=("IAR-17",))``); or
- it executes protocol data that carries it: it reads the protocol's section
  (``protocol.reactions``) or takes the section's model (``ReactionRules``), and an element of
  that section names the ID (in ``requirements`` or, for a conflict, an advisory's ``conflict``).

``tests/unit/test_traceability.py`` fails when this document is out of date and when an ID of the
requirements has no code or no test. Run: ``.venv/bin/python scripts/traceability.py``.
"""

from __future__ import annotations

import ast
import re
import sys
import typing
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "infusionist"
# Where the code executes the protocol: the model's own modules, its loader and the renderers of
# the protocol do not.
EXECUTING = ("domain", "services", "analytics", "adapters")
NOT_EXECUTING = {"domain/protocol.py", "domain/protocol_elements.py", "domain/protocol_monitoring.py",
                 "adapters/protocol_files.py"}
REQUIREMENTS = ROOT.parent / "shared" / "seeds" / "requirements.md"
OUTPUT = ROOT / "docs" / "traceability.md"

# Further therapies: their own numbered statements (docs/requirements-<therapy>.md), the protocol
# file that encodes them and the ID family. PROT/IAR stay the alemtuzumab seeds.
THERAPIES = (
    ("Ocrelizumab", "OCR", ROOT / "docs" / "requirements-ocrelizumab.md", "ocrelizumab-ms.yaml"),
    ("Natalizumab", "NAT", ROOT / "docs" / "requirements-natalizumab.md", "natalizumab-ms.yaml"),
)
FAMILIES = {"PROT", "IAR", "C", *(family for _, family, _, _ in THERAPIES)}
_NUMBERED = "|".join(sorted(FAMILIES - {"C"}))
ID = re.compile(rf"^(?:(?:{_NUMBERED})-\d{{2}}|C-\d{{1,2}})$")

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


def conflict_ids() -> dict[str, str]:
    text = REQUIREMENTS.read_text(encoding="utf-8")
    return dict(re.findall(r"^- (C-\d{1,2}) (.+)$", text, flags=re.M))


def protocol_elements(file: str = "alemtuzumab-ms.yaml") -> dict[str, list[tuple[str, str]]]:
    """ID -> [(section, element id)] read from a bundled protocol file."""
    import yaml

    data = yaml.safe_load((ROOT / "src/infusionist/protocols" / file).read_text())
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)

    def walk(section: str, node: object) -> None:
        if isinstance(node, dict):
            ident = node.get("id") or node.get("code")
            cited = list(node.get("requirements", []) or [])
            cited += [a["conflict"] for a in node.get("advisories", []) or []
                      if isinstance(a, dict) and isinstance(a.get("conflict"), str)]
            for rid in dict.fromkeys(cited):
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


def section_models() -> dict[str, set[str]]:
    """Protocol section -> the names of the model classes its field holds (``ReactionRules``)."""
    sys.path.insert(0, str(ROOT / "src"))
    from infusionist.domain.protocol import Protocol

    found: dict[str, set[str]] = {}
    for name, field in Protocol.model_fields.items():
        found[name] = {arg.__name__ for arg in _type_args(field.annotation) if isinstance(arg, type)
                       and arg.__module__.startswith("infusionist.")}
    return found


def _type_args(annotation: object) -> list[object]:
    args = typing.get_args(annotation)
    return [annotation] if not args else [a for arg in args for a in _type_args(arg)]


def code_by_id(elements: dict[str, list[tuple[str, str]]]) -> dict[str, list[str]]:
    """ID -> the modules (relative to ``src/infusionist``) that declare it or execute protocol data
    that carries it. Read from the code: module-level ``REQUIREMENTS``, ID literals, and which
    protocol sections a module reads or whose models it takes."""
    models = section_models()
    declared: dict[str, set[str]] = defaultdict(set)
    executes: dict[str, set[str]] = defaultdict(set)  # section -> modules
    for path in sorted(SOURCE.rglob("*.py")):
        module = path.relative_to(SOURCE).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and ID.match(node.value):
                declared[node.value].add(module)
        if not module.startswith(EXECUTING) or module in NOT_EXECUTING:
            continue
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        names |= {a.name.rsplit(".", 1)[-1] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                  for a in n.names}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in models and "protocol" in _name(node.value):
                executes[node.attr].add(module)
        for section, classes in models.items():
            if classes & names:
                executes[section].add(module)
    found: dict[str, list[str]] = {}
    for rid in set(declared) | set(elements):
        modules = set(declared.get(rid, set()))
        for section, _ in elements.get(rid, []):
            modules |= executes.get(section, set())
        found[rid] = sorted(modules)
    return found


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id.lower()
    if isinstance(node, ast.Attribute):
        return node.attr.lower()
    return ""


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


def status(rid: str, code: list[str], tests: list[str]) -> str:
    if rid in NOT_APPLICABLE:
        return "not applicable: " + NOT_APPLICABLE[rid]
    if rid in LATER:
        return "later: " + LATER[rid]
    if code and tests:
        return "done"
    if not tests:
        return "no test yet"
    return "tested, no code declares it"


def render() -> str:
    statements, conflicts = requirement_ids(), conflict_ids()
    elements, tests = protocol_elements(), tests_by_id()
    code = code_by_id(elements)
    lines = [
        "# Traceability",
        "",
        "Every requirement of `../shared/seeds/requirements.md` mapped to the protocol data that",
        "encodes it, the code that executes it and the tests that check it. Generated by",
        "`scripts/traceability.py` from the protocol file, the code and the test names; a test fails",
        "when it is out of date or when an ID has no code or no test. The code column is what the",
        "code declares: a module-level `REQUIREMENTS` tuple or the ID as a literal in the module, or",
        "a module that reads the protocol section (or takes its model) whose data carries the ID.",
        "Conflicts C-1..C-13 are advisories beside the elements they touch (see",
        "`infusionist protocol show`) and are listed at the end.",
        "",
        "| ID | Statement | Protocol data | Code | Tests | Status |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for rid, statement in statements.items():
        lines.append(_row(rid, statement, elements, code, tests))
    lines += ["", "## Conflicts and dated statements", "",
              "| ID | Statement | Protocol data | Code | Tests | Status |",
              "| --- | --- | --- | --- | --- | --- |"]
    for rid, statement in conflicts.items():
        lines.append(_row(rid, statement, elements, code, tests))
    for title, family, path, file in THERAPIES:
        lines += _therapy_rows(title, family, path, file, tests)
    return "\n".join(lines) + "\n"


def therapy_ids() -> dict[str, tuple[dict[str, list[tuple[str, str]]], dict[str, list[str]]]]:
    """Each further therapy's ID -> (its protocol file's elements, the code that executes them)."""
    found = {}
    for _title, family, path, file in THERAPIES:
        elements = protocol_elements(file)
        code = code_by_id(elements)
        for rid in requirement_ids(path, family):
            found[rid] = (elements, code)
    return found


def _therapy_rows(title: str, family: str, path: Path, file: str,
                  tests: dict[str, list[str]]) -> list[str]:
    elements = protocol_elements(file)
    code = code_by_id(elements)
    lines = [
        "", f"## {title} ({family})", "",
        f"The statements of `{path.relative_to(ROOT)}`, encoded by `src/infusionist/protocols/{file}`.",
        "", "| ID | Statement | Protocol data | Code | Tests | Status |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for rid, statement in requirement_ids(path, family).items():
        lines.append(_row(rid, statement, elements, code, tests))
    return lines


def _row(rid: str, statement: str, elements: dict[str, list[tuple[str, str]]],
         code: dict[str, list[str]], tests: dict[str, list[str]]) -> str:
    found = elements.get(rid, [])
    data = "<br>".join(f"`{section}.{ident}`" for section, ident in found) or "-"
    modules = code.get(rid, [])
    implemented = "<br>".join(modules) or "-"
    checked = "<br>".join(f"`{t}`" for t in tests.get(rid, [])) or "-"
    state = status(rid, modules, tests.get(rid, []))
    return f"| {rid} | {statement} | {data} | {implemented} | {checked} | {state} |"


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
