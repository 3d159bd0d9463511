"""Quantities: a Decimal amount with a UCUM unit from a closed list.

A dose is ``Quantity(value=Decimal("12"), unit="mg")``: never a float, never a bare number.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Product default: an entered amount has at most 12 digits, 6 after the point (0.000001 to
# 999999.999999), and is finite. Far beyond any dose, volume, rate or vital sign, and it keeps the
# pump arithmetic away from Decimal overflow (an entry of 1E+999999 mL could not be replayed).
Amount = Annotated[Decimal, Field(max_digits=12, decimal_places=6)]

# The closed list of UCUM codes the system accepts. UCUM spells litres "L", minutes "min",
# hours "h", Celsius "Cel", millimetres of mercury "mm[Hg]" and per-minute "/min".
Unit = Literal[
    "mg",
    "g",
    "ug",
    "mL",
    "L",
    "mL/h",
    "L/d",
    "mg/kg",
    "min",
    "h",
    "d",
    "wk",
    "mo",
    "Cel",
    "/min",
    "mm[Hg]",
    "%",
    "{ampoule}",
    "{tablet}",
]

# Laboratory units (UCUM) accepted for safety-monitoring results: cell counts per litre or per
# microlitre, concentrations, international units, cells per high-power field.
LabUnit = Literal["10*9/L", "/uL", "umol/L", "mg/dL", "g/L", "m[IU]/L", "pmol/L", "/[HPF]"]

_TO_MG: dict[str, Decimal] = {"g": Decimal(1000), "mg": Decimal(1), "ug": Decimal("0.001")}


class Quantity(BaseModel):
    """An exact amount with its UCUM unit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: Amount
    unit: Unit

    @field_validator("value", mode="before")
    @classmethod
    def _no_floats(cls, value: object) -> object:
        # Floats carry binary rounding error; YAML and JSON numbers arrive as int/float,
        # so convert through their text form to keep 0.1 as exactly 0.1.
        if isinstance(value, float):
            return Decimal(repr(value))
        return value

    def in_mg(self) -> Decimal:
        """The amount as milligrams; only mass units convert."""
        try:
            return self.value * _TO_MG[self.unit]
        except KeyError:
            raise ValueError(f"{self.unit} is not a mass unit") from None

    def same_mass(self, other: Quantity) -> bool:
        return self.in_mg() == other.in_mg()

    def display(self) -> str:
        return f"{format_decimal(self.value)} {self.unit}"


def format_decimal(value: Decimal) -> str:
    """Print a Decimal without exponent or trailing zeros: 12, 0.5, 28."""
    normalized = value.normalize()
    text = format(normalized, "f")
    return text


def json_number(value: Decimal) -> int | float:
    """A Decimal as the plainest JSON number (int when whole)."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)
