"""The load-time check: every drug a protocol schedules, against the protocol's drug library.

A premedication, the infusion, the flush, a period or follow-up medication and the medicine of
every reaction action must find its library entry and a route the entry allows; a scheduled
dose above a hard limit for every weight band refuses the protocol (a 24 mg infusion where the
library allows 12 mg, C-7; a 2 g premedication where it allows 1 g). A dose above a soft limit
is a warning (a tablet taken 1-0-1 above its licensed daily dose, C-8).
Per-kilogram limits need the patient's weight and are checked at the bedside only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from infusionist.domain.drug_library import (
    ROUTE_WORDS,
    DrugLibrary,
    LimitAmount,
    WeightBand,
    amount_words,
    in_base_unit,
)
from infusionist.domain.errors import EventRefused, ProtocolError
from infusionist.domain.protocol import Protocol
from infusionist.domain.units import Quantity


@dataclass(frozen=True, slots=True)
class LibraryFinding:
    """A protocol element checked against the library: ``hard`` refuses the protocol."""

    severity: Literal["hard", "soft"]
    element: str
    message: str
    code: str = "PROTOCOL-DRUG-LIMIT"
    requirements: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Scheduled:
    element: str
    what: str
    name: str
    route: str | None
    dose: Quantity | None
    per_day: int
    requirements: tuple[str, ...]


def _scheduled(protocol: Protocol) -> Iterator[_Scheduled]:
    """Every drug the protocol gives: premedications, the infusion, the flush, period medication,
    follow-up medication and the medicines of the reaction actions."""
    for premed in protocol.premedications:
        yield _Scheduled(f"premedications.{premed.id}", "premedication", premed.name,
                         premed.route, premed.dose, 1, premed.requirements)
    infusion = protocol.infusion
    yield _Scheduled(f"infusion.{infusion.id}", "infusion", infusion.name, infusion.route,
                     infusion.dose, 1, infusion.requirements)
    for index, variant in enumerate(infusion.by_dose):
        yield _Scheduled(f"infusion.by_dose[{index}]", "infusion", infusion.name,
                         infusion.route, variant.dose, 1, variant.requirements)
    if protocol.flush is not None:
        yield _Scheduled(f"flush.{protocol.flush.id}", "flush", protocol.flush.name,
                         protocol.flush.route, protocol.flush.volume, 1,
                         protocol.flush.requirements)
    for med in protocol.evening_before:
        yield _Scheduled(f"evening_before.{med.id}", "medication", med.name, med.route,
                         med.unit_dose, med.timing.intakes_per_day(), med.requirements)
    for item in protocol.follow_up:
        if item.kind == "medication":
            yield _Scheduled(f"follow_up.{item.id}", "medication", item.name, item.route,
                             item.dose, 1, item.requirements)
    if protocol.reactions is not None:
        for action in protocol.reactions.actions:
            if action.medicine is not None:
                medicine = action.medicine
                yield _Scheduled(f"reactions.{action.code}", "reaction action", medicine.name,
                                 medicine.route, medicine.dose, 1, action.requirements)


_MISSING = "PROTOCOL-DRUG-NOT-IN-LIBRARY"


def check_protocol(protocol: Protocol) -> list[LibraryFinding]:
    """Refuse a protocol that breaks a hard limit of its library; return the soft findings."""
    findings = protocol_findings(protocol)
    hard = [f for f in findings if f.severity == "hard"]
    if hard:
        raise ProtocolError(
            hard[0].code,
            f"Protocol {protocol.id} {protocol.version} is refused: "
            + " ".join(f.message for f in hard),
            requirements=tuple(dict.fromkeys(r for f in hard for r in f.requirements)),
        )
    return findings


def protocol_findings(protocol: Protocol) -> list[LibraryFinding]:
    """Check every drug the protocol schedules against its drug library.

    Hard: no library, a drug without an entry, a route the entry does not allow, a dose above
    a hard limit for every weight band. Soft: a dose above a soft limit (shown as a warning).
    Per-kilogram limits need the patient's weight and are checked at the bedside only.
    """
    library = protocol.drug_library
    if library is None:
        return [LibraryFinding("hard", "drug_library",
                               f"Protocol {protocol.id} has no drug library: every drug it gives "
                               "needs an entry with its limits.", _MISSING)]
    findings: list[LibraryFinding] = []
    for item in _scheduled(protocol):
        findings += _item_findings(item, library)
    return findings


def _item_findings(item: _Scheduled, library: DrugLibrary) -> list[LibraryFinding]:
    drug = library.find(item.name)
    where = f"The {item.what} {item.element}"
    requirements = item.requirements + tuple(
        a.conflict for a in (drug.advisories if drug else ()) if a.conflict is not None)

    def found(severity: Literal["hard", "soft"], message: str,
              code: str = "PROTOCOL-DRUG-LIMIT") -> list[LibraryFinding]:
        return [LibraryFinding(severity, item.element, message, code, requirements)]

    if drug is None:
        return found("hard", f"{where} gives {item.name!r}, which is not in the drug library.",
                     _MISSING)
    if item.route is None:
        return []
    entry = drug.by_route(item.route)
    if entry is None:
        return found("hard", f"{where} gives {drug.name} {ROUTE_WORDS[item.route]}; the drug "
                     f"library allows it only {drug.route_words()}".rstrip(".") + ".", _MISSING)
    if item.dose is None:
        return []
    try:
        amount = in_base_unit(item.dose, entry, drug)
    except EventRefused as refused:
        return found("hard", f"{where}: {refused.message}")
    unit = entry.dimension()
    daily = amount * item.per_day
    # Heaviest band last: the most a protocol dose can be allowed for any weight.
    bands = sorted(entry.weight_bands, key=lambda b: b.from_kg or Decimal(0)) or [
        WeightBand(single=entry.single, per_24h=entry.per_24h)]
    given = f"{drug.name} {item.dose.display()}" + (
        f" {item.per_day} times a day" if item.per_day > 1 else "")
    hard = [_band_excess(band, amount, daily, "hard", unit) for band in bands]
    if all(problem is not None for problem in hard):
        return found("hard", f"{where} schedules {given}, above the drug library's hard limit: "
                     f"{hard[-1]}.")
    soft = _band_excess(bands[-1], amount, daily, "soft", unit)
    if soft is not None:
        return found("soft", f"{where} schedules {given}, above the drug library's soft limit: "
                     f"{soft}.")
    return []


def _band_excess(band: WeightBand, amount: Decimal, daily: Decimal, kind: str,
                 unit: str) -> str | None:
    words = "" if band.from_kg is None and band.below_kg is None else f" ({band.describe()})"
    single = _most_in_band(getattr(band.single, kind), band)
    if single is not None and amount > single:
        return f"at most {amount_words(single, unit)} per dose{words}"
    per_24h = _most_in_band(getattr(band.per_24h, kind), band)
    if per_24h is not None and daily > per_24h:
        return f"at most {amount_words(per_24h, unit)} in 24 h{words}"
    return None


def _most_in_band(limit: LimitAmount | None, band: WeightBand) -> Decimal | None:
    """The largest amount a limit allows for any weight of the band (None: no bound)."""
    if limit is None:
        return None
    if limit.per_kg:
        return None if band.below_kg is None else limit.base(band.below_kg)
    return limit.base(None)
