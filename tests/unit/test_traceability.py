"""docs/traceability.md stays true: regenerated from the protocol and the test names."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_traceability_document_is_up_to_date():
    result = subprocess.run([sys.executable, "scripts/traceability.py", "--check"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_requirement_is_done_or_says_why_not():
    text = (ROOT / "docs" / "traceability.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith(("| PROT-", "| IAR-"))]
    assert len(rows) == 65
    open_rows = [row.split("|")[1].strip() for row in rows
                 if not row.rstrip(" |").endswith("done") and "not applicable:" not in row]
    assert open_rows == [], f"requirements not done: {open_rows}"


def _generator():
    import importlib.util

    spec = importlib.util.spec_from_file_location("traceability", ROOT / "scripts" / "traceability.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_requirement_and_conflict_has_code_and_a_test():
    """Each ID of ../shared/seeds/requirements.md (PROT, IAR and C) has code that declares or
    executes it (read from the code, not from a map) and a test named with it; only the
    statements that schedule nothing are exempt, with their reason."""
    gen = _generator()
    ids = [*gen.requirement_ids(), *gen.conflict_ids()]
    assert len(ids) == 78
    code, tests = gen.code_by_id(gen.protocol_elements()), gen.tests_by_id()
    missing_code = [rid for rid in ids if not code.get(rid) and rid not in gen.NOT_APPLICABLE]
    missing_tests = [rid for rid in ids if not tests.get(rid) and rid not in gen.NOT_APPLICABLE]
    assert (missing_code, missing_tests) == ([], [])


def test_the_code_column_is_read_from_the_code():
    """A module-level ``REQUIREMENTS`` declaration and an ID literal in code put the module in
    the code column; a module that takes a section's model executes its IDs; a hand-written map
    has no say (the generator holds none)."""
    gen = _generator()
    code = gen.code_by_id(gen.protocol_elements())
    assert "domain/due.py" in code["PROT-34"]  # REQUIREMENTS = ("PROT-34", ...)
    assert "services/followup.py" in code["IAR-17"]  # requirements=("IAR-17",) in a refusal
    assert "domain/reactions.py" in code["IAR-29"]  # takes ReactionRules: executes reactions.*
    assert "domain/vitals.py" in code["IAR-11"]
    assert not hasattr(gen, "CODE_BY_SECTION")


def test_every_statement_of_the_further_therapies_has_code_and_a_test():
    """Each numbered statement of the further therapies (docs/requirements-ocrelizumab.md,
    -natalizumab.md) has code that executes its protocol file's element and a test named with it."""
    gen = _generator()
    ids = gen.therapy_ids()
    assert len(ids) == 31
    tests = gen.tests_by_id()
    missing = [rid for rid, (_elements, code) in ids.items() if not code.get(rid) or not tests.get(rid)]
    assert missing == []
