"""Observation codes and units a monitor may send for the six vital signs of the day events.

LOINC codes (coding system ``LN``) and the IEEE 11073-10101 (MDC) context-free codes that
IHE PCD-01 monitors send (``MDC``): partition 2 (SCADA) x 65536 + term code, checked against
published term codes: MDC_ECG_HEART_RATE 147842, MDC_PULS_OXIM_PULS_RATE 149530,
MDC_PRESS_BLD_NONINV_SYS/DIA 150021/150022, MDC_PRESS_BLD_ART_SYS/DIA 150033/150034 (invasive),
MDC_PRESS_CUFF_SYS/DIA 150301/150302, MDC_TEMP_BODY 150364, MDC_PULS_OXIM_SAT_O2 150456,
MDC_RESP_RATE 151562, MDC_TTHOR_RESP_RATE 151578. Units are UCUM, or the MDC unit codes and
names monitors put beside them. Conversions are physical, not clinical thresholds.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

# code -> (event field, priority: lower wins when one message carries two sources of one sign)
LOINC: dict[str, tuple[str, int]] = {
    "8867-4": ("heart_rate_bpm", 1),
    "8480-6": ("systolic_mmhg", 1),
    "8462-4": ("diastolic_mmhg", 1),
    "8310-5": ("temperature_c", 1),
    "9279-1": ("respiratory_rate_per_min", 1),
    "59408-5": ("spo2_percent", 1),
    "2708-6": ("spo2_percent", 2),
}

MDC: dict[str, tuple[str, int]] = {
    "147842": ("heart_rate_bpm", 1),            # MDC_ECG_HEART_RATE
    "149530": ("heart_rate_bpm", 2),            # MDC_PULS_OXIM_PULS_RATE
    "150021": ("systolic_mmhg", 1),             # MDC_PRESS_BLD_NONINV_SYS
    "150022": ("diastolic_mmhg", 1),            # MDC_PRESS_BLD_NONINV_DIA
    "150301": ("systolic_mmhg", 1),             # MDC_PRESS_CUFF_SYS
    "150302": ("diastolic_mmhg", 1),            # MDC_PRESS_CUFF_DIA
    "150033": ("systolic_mmhg", 2),             # MDC_PRESS_BLD_ART_SYS (invasive)
    "150034": ("diastolic_mmhg", 2),            # MDC_PRESS_BLD_ART_DIA (invasive)
    "150364": ("temperature_c", 1),             # MDC_TEMP_BODY
    "150456": ("spo2_percent", 1),              # MDC_PULS_OXIM_SAT_O2
    "151562": ("respiratory_rate_per_min", 1),  # MDC_RESP_RATE
    "151578": ("respiratory_rate_per_min", 2),  # MDC_TTHOR_RESP_RATE
}
MDC_NAMES: dict[str, str] = {
    "MDC_ECG_HEART_RATE": "147842", "MDC_PULS_OXIM_PULS_RATE": "149530",
    "MDC_PRESS_BLD_NONINV_SYS": "150021", "MDC_PRESS_BLD_NONINV_DIA": "150022",
    "MDC_PRESS_CUFF_SYS": "150301", "MDC_PRESS_CUFF_DIA": "150302",
    "MDC_PRESS_BLD_ART_SYS": "150033", "MDC_PRESS_BLD_ART_DIA": "150034",
    "MDC_TEMP_BODY": "150364", "MDC_PULS_OXIM_SAT_O2": "150456",
    "MDC_RESP_RATE": "151562", "MDC_TTHOR_RESP_RATE": "151578",
}

Converter = Callable[[Decimal], Decimal]
_TENTH = Decimal("0.1")
_KPA_TO_MMHG = Decimal("7.500615758")  # 1 kPa = 1000 / 133.322387415 mmHg


def _same(value: Decimal) -> Decimal:
    return value


def _fahrenheit(value: Decimal) -> Decimal:
    return ((value - 32) * 5 / 9).quantize(_TENTH)


def _kpa(value: Decimal) -> Decimal:
    return (value * _KPA_TO_MMHG).quantize(_TENTH)


_PER_MINUTE: dict[str, Converter] = {
    "/min": _same, "{beats}/min": _same, "{beat}/min": _same, "{Beats}/min": _same, "bpm": _same,
    "{breaths}/min": _same, "{breath}/min": _same, "{Breaths}/min": _same,
    "264864": _same, "MDC_DIM_BEAT_PER_MIN": _same, "264928": _same, "MDC_DIM_RESP_PER_MIN": _same,
}
_PRESSURE: dict[str, Converter] = {
    "mm[Hg]": _same, "mmHg": _same, "266016": _same, "MDC_DIM_MMHG": _same,
    "kPa": _kpa, "MDC_DIM_KILO_PASCAL": _kpa,
}
UNITS: dict[str, dict[str, Converter]] = {
    "temperature_c": {"Cel": _same, "268192": _same, "MDC_DIM_DEGC": _same,
                      "[degF]": _fahrenheit, "MDC_DIM_FAHR": _fahrenheit},
    "heart_rate_bpm": _PER_MINUTE,
    "respiratory_rate_per_min": _PER_MINUTE,
    "systolic_mmhg": _PRESSURE,
    "diastolic_mmhg": _PRESSURE,
    "spo2_percent": {"%": _same, "262688": _same, "MDC_DIM_PERCENT": _same},
}


def vital_field(code: str, text: str, system: str) -> tuple[str, int] | None:
    """The event field an OBX-3 observation identifier names, or None for anything else."""
    system = system.upper()
    if system in {"LN", "LOINC"}:
        return LOINC.get(code)
    if system in {"MDC", "MDCX", "IEEE"} or not system:
        found = MDC.get(code) or MDC.get(MDC_NAMES.get(code, "")) or MDC.get(MDC_NAMES.get(text, ""))
        if found is not None or system:
            return found
        return LOINC.get(code)
    return None


def converter(field: str, unit_components: list[str]) -> Converter | None:
    """How to bring a value in the unit of OBX-6 (code, text, system) to the field's unit."""
    accepted = UNITS[field]
    for candidate in unit_components:
        if candidate in accepted:
            return accepted[candidate]
    return None
