"""Numbers as a unit writes them: the decimal separator of the centre's locale, never ambiguous.

A centre whose locale writes a decimal comma (de, fr, nl, ...: "37,5") may type either a comma or
a point; a centre with a decimal point ("en") types a point. Thousands separators are never
read: "1,234" in an "en" centre is refused rather than read as 1234 (or as 1.234), and a number
with both a comma and a point is refused everywhere. The values are clinical (a temperature, a
rate, a dose): a refused entry is typed again, a misread one is recorded.
"""

from __future__ import annotations

import re
from typing import Literal, get_args

from infusionist.domain.errors import ValidationFailed

NumberLocale = Literal["en", "de", "fr", "nl", "it", "es", "da", "sv", "nb", "fi", "pl", "cs"]
NUMBER_LOCALES: tuple[str, ...] = get_args(NumberLocale)
DECIMAL_POINT_LOCALES = frozenset({"en"})
_PLAIN = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def decimal_separator(locale: str) -> str:
    return "." if locale in DECIMAL_POINT_LOCALES else ","


def normalise_number(text: str, locale: str) -> str:
    """``text`` as a plain decimal string ("37,5" -> "37.5" for a decimal-comma centre).

    Refuses (``INPUT-NUMBER-FORMAT``) a comma where the centre writes a decimal point, a number
    with both separators or more than one, and anything that is not a number.
    """
    value = text.strip().replace(" ", "").replace("\u00a0", "")
    if "," in value:
        if locale in DECIMAL_POINT_LOCALES or "." in value or value.count(",") > 1:
            raise _refused(text, locale)
        value = value.replace(",", ".")
    if not _PLAIN.fullmatch(value):
        raise _refused(text, locale)
    return value


def format_number(value: object, locale: str = "en", places: int | None = None) -> str:
    """A number as the centre writes it, without trailing zeros ("14.0" -> "14"; "37.50" -> "37,5"
    in a decimal-comma centre); ``places`` rounds first (half-even, as Decimal does)."""
    from decimal import Decimal, InvalidOperation

    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if places is not None:
        number = number.quantize(Decimal(1).scaleb(-places))
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", decimal_separator(locale))


def _refused(text: str, locale: str) -> ValidationFailed:
    example = "37.5" if locale in DECIMAL_POINT_LOCALES else "37,5"
    return ValidationFailed(
        "INPUT-NUMBER-FORMAT",
        f"\"{text.strip()}\" could not be read as a number. Write it like {example}, with one "
        "decimal separator and no thousands separator.",
        details={"number": "not a number in the centre's format"},
    )
