"""How the CLI reports refusals: one line on stderr with the code, exit status 2."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer

from infusionist.domain.errors import InfusionistError

EXIT_REFUSED = 2


def fail(code: str, message: str) -> NoReturn:
    sys.stderr.write(f"error {code}: {message}\n")
    raise typer.Exit(EXIT_REFUSED)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn any InfusionistError into one clear line on stderr and exit status 2."""
    try:
        yield
    except InfusionistError as error:
        # A refusal during a replay names the event it refused before the rule (docs/day-events.md).
        event = error.details.get("event")
        fail(error.code, (f"{event}: " if event else "") + error.message + _refs(error))


def _refs(error: InfusionistError) -> str:
    return f" [{', '.join(error.requirements)}]" if error.requirements else ""


