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
