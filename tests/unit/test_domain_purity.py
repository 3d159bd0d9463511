"""The domain never reads the clock (import-linter guards imports; this guards calls)."""

from __future__ import annotations

import re
from pathlib import Path

DOMAIN = Path(__file__).parents[2] / "src" / "infusionist" / "domain"
CLOCK_CALLS = re.compile(r"\b(?:datetime|date)\.(?:now|today|utcnow)\(|\btime\.time\(|\bnow\(\)")


def test_domain_modules_do_not_read_the_clock():
    offenders = [
        f"{path.name}:{number}"
        for path in sorted(DOMAIN.glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if CLOCK_CALLS.search(line)
    ]
    assert offenders == []
