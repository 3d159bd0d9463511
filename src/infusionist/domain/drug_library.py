"""The drug library: per drug and route, the limits a dose is checked against before it is recorded.

Modelled on a smart pump's drug library (hard and soft limits, as in BD Alaris Guardrails):

- above a **hard** limit the administration is refused (``DRUG-HARD-LIMIT-SINGLE``,
  ``DRUG-HARD-LIMIT-24H``, ``DRUG-MIN-INTERVAL``, ``DRUG-ROUTE-NOT-ALLOWED``);
- above a **soft** limit it is recorded only with a reason and is flagged for the physician
  (``DRUG-SOFT-LIMIT``);
- a drug that is not in the library is recorded only with an indication and is flagged
  (``DRUG-NOT-IN-LIBRARY``).

Every limit is protocol data (the ``drug_library`` section of the protocol file) with its own
source key; limits the reference does not give are marked ``centre-default``. A limit is an
absolute amount (``mg``, ``g``, ``ug``, ``mL``) or an amount per kilogram of body weight
(``mg/kg``); weight bands hold different limits above and below a weight (paracetamol: 1 g from
50 kg, 15 mg/kg below). The 24-hour total and the minimum interval count every earlier
administration of the same drug, whatever its route.

:func:`check_administration` is the one bedside check; :func:`protocol_findings` checks what a
protocol schedules against the same limits when the protocol is loaded.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from infusionist.domain.errors import EventRefused, ProtocolError
from infusionist.domain.protocol_elements import Element, Frozen
from infusionist.domain.units import Quantity, format_decimal

if TYPE_CHECKING:
    from infusionist.domain.protocol import Protocol

DrugRoute = Literal["iv", "oral", "im", "sc", "inhaled"]
ROUTE_WORDS: dict[str, str] = {
    "iv": "i.v.", "oral": "orally", "im": "i.m.", "sc": "s.c.", "inhaled": "inhaled",
}
_MASS_TO_MG: dict[str, Decimal] = {"g": Decimal(1000), "mg": Decimal(1), "ug": Decimal("0.001")}
_DAY = timedelta(hours=24)


class LimitAmount(Frozen):
    """One limit value with its source: absolute or per kilogram of body weight."""

    value: Decimal = Field(gt=0)
    unit: Literal["mg", "g", "ug", "mL", "mg/kg"]
    source: str

    @property
    def per_kg(self) -> bool:
        return self.unit == "mg/kg"

    def base(self, weight_kg: Decimal | None) -> Decimal | None:
        """The limit in mg (or mL); None when it is per kilogram and the weight is unknown."""
        if self.unit == "mL":
            return self.value
        if self.per_kg:
            return None if weight_kg is None else self.value * weight_kg
        return self.value * _MASS_TO_MG[self.unit]

    def display(self, weight_kg: Decimal | None = None) -> str:
        text = f"{format_decimal(self.value)} {self.unit}"
        base = self.base(weight_kg)
        if self.per_kg and base is not None:
            text += f" ({_amount(base, 'mg')} at {format_decimal(weight_kg or Decimal(0))} kg)"
        return text


class DoseLimit(Frozen):
    """A hard and/or a soft maximum."""

    hard: LimitAmount | None = None
    soft: LimitAmount | None = None

    @model_validator(mode="after")
    def _soft_below_hard(self) -> DoseLimit:
        hard, soft = self.hard, self.soft
        if (hard and soft and not hard.per_kg and not soft.per_kg
                and (soft.base(None) or 0) > (hard.base(None) or 0)):
            raise ValueError("a soft limit must not exceed the hard limit")
        return self


def _limit_text(name: str, limit: DoseLimit | IntervalLimit) -> str | None:
    parts = [f"{kind} {amount.display()}" for kind, amount in (("soft", limit.soft),
                                                               ("hard", limit.hard)) if amount]
    return f"{name} {', '.join(parts)}" if parts else None


class IntervalAmount(Frozen):
    value: Decimal = Field(gt=0)
    unit: Literal["min", "h"]
    source: str

    def delta(self) -> timedelta:
        minutes = self.value * (60 if self.unit == "h" else 1)
        return timedelta(minutes=float(minutes))

    def display(self) -> str:
        return f"{format_decimal(self.value)} {self.unit}"


class IntervalLimit(Frozen):
    """The minimum time between two administrations of the drug."""

    hard: IntervalAmount | None = None
    soft: IntervalAmount | None = None


class WeightBand(Frozen):
    """Limits for body weights from ``from_kg`` (inclusive) up to ``below_kg`` (exclusive)."""

    from_kg: Decimal | None = None
    below_kg: Decimal | None = None
    single: DoseLimit = DoseLimit()
    per_24h: DoseLimit = DoseLimit()

    def covers(self, weight_kg: Decimal) -> bool:
        return ((self.from_kg is None or weight_kg >= self.from_kg)
                and (self.below_kg is None or weight_kg < self.below_kg))

    def describe(self) -> str:
        if self.from_kg is not None and self.below_kg is not None:
            return f"{format_decimal(self.from_kg)}-{format_decimal(self.below_kg)} kg"
        if self.from_kg is not None:
            return f"{format_decimal(self.from_kg)} kg or more"
        if self.below_kg is not None:
            return f"under {format_decimal(self.below_kg)} kg"
        return "any weight"


class UnitContent(Frozen):
    """What one ampoule or tablet holds: a dose recorded as ``2 {ampoule}`` is counted in mg."""

    form: Literal["ampoule", "tablet"]
    content: Quantity

    def display(self) -> str:
        return f"{self.form}s of {self.content.display()}"


class RouteEntry(Frozen):
    """How a drug may be given by one route, and its limits."""

    route: DrugRoute
    unit_dose: Quantity | None = None  # the usual dose
    unit_content: UnitContent | None = None
    single: DoseLimit = DoseLimit()
    per_24h: DoseLimit = DoseLimit()
    weight_bands: tuple[WeightBand, ...] = ()
    min_interval: IntervalLimit = IntervalLimit()

    @model_validator(mode="after")
    def _bands_or_flat(self) -> RouteEntry:
        flat = any(x is not None for x in (self.single.hard, self.single.soft,
                                           self.per_24h.hard, self.per_24h.soft))
        if self.weight_bands and flat:
            raise ValueError("give the limits either per weight band or for every weight, not both")
        return self

    def sources(self) -> Iterator[str]:
        limits = [self.single, self.per_24h]
        limits += [limit for band in self.weight_bands for limit in (band.single, band.per_24h)]
        for limit in limits:
            yield from (a.source for a in (limit.hard, limit.soft) if a is not None)
        yield from (a.source for a in (self.min_interval.hard, self.min_interval.soft)
                    if a is not None)

    def limits_for(self, weight_kg: Decimal | None) -> tuple[DoseLimit, DoseLimit, str | None]:
        """(single, per 24 h, band words) for this weight; the heaviest band if it is unknown."""
        if not self.weight_bands:
            return self.single, self.per_24h, None
        if weight_kg is None:
            band = max(self.weight_bands, key=lambda b: b.from_kg or Decimal(0))
        else:
            found = next((b for b in self.weight_bands if b.covers(weight_kg)), None)
            if found is None:
                return DoseLimit(), DoseLimit(), None
            band = found
        return band.single, band.per_24h, band.describe()

    def describe(self) -> str:
        """The limits in words: "single hard 12 mg; in 24 h hard 12 mg"."""
        def flat(single: DoseLimit, per_24h: DoseLimit) -> list[str]:
            return [t for t in (_limit_text("single", single), _limit_text("in 24 h", per_24h))
                    if t]

        parts = flat(self.single, self.per_24h)
        for band in self.weight_bands:
            parts.append(f"{band.describe()}: " + "; ".join(flat(band.single, band.per_24h)))
        interval = _limit_text("interval", self.min_interval)
        if interval:
            parts.append(interval)
        return "; ".join(parts) or "no limits"

    def dimension(self) -> str:
        """What doses of this route are counted in: ``mg`` (mass) or ``mL`` (volume)."""
        reference = self.unit_content.content if self.unit_content else self.unit_dose
        return "mL" if reference is not None and reference.unit == "mL" else "mg"


class DrugEntry(Element):
    """One drug of the library: its names and the routes it may be given by."""

    name: str
    synonyms: tuple[str, ...] = ()
    routes: tuple[RouteEntry, ...] = Field(min_length=1)

    def known_as(self, name: str) -> bool:
        wanted = name.strip().casefold()
        return wanted in {n.casefold() for n in (self.id, self.name, *self.synonyms)}

    def by_route(self, route: str) -> RouteEntry | None:
        return next((r for r in self.routes if r.route == route), None)

    def route_words(self) -> str:
        return ", ".join(ROUTE_WORDS[r.route] for r in self.routes)

    def title(self) -> str:
        return self.name[:1].upper() + self.name[1:]


class DrugLibrary(Element):
    """Every drug the protocol gives, with its limits."""

    drugs: tuple[DrugEntry, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _names_are_unique(self) -> DrugLibrary:
        seen: dict[str, str] = {}
        for drug in self.drugs:
            for name in (drug.id, drug.name, *drug.synonyms):
                key = name.casefold()
                if seen.get(key, drug.id) != drug.id:
                    raise ValueError(f"drug library: {name!r} names both {seen[key]} and {drug.id}")
                seen[key] = drug.id
        return self

    def find(self, name: str) -> DrugEntry | None:
        """The drug by id, generic name or synonym (brand names), ignoring case."""
        return next((d for d in self.drugs if d.known_as(name)), None)

    def sources(self) -> Iterator[str]:
        for drug in self.drugs:
            yield drug.source
            yield from (a.source for a in drug.advisories)
            for route in drug.routes:
                yield from route.sources()


# -- the bedside check ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Administration:
    """A dose already given (from the day's record): what, how much, how and when."""

    name: str
    dose: Quantity
    route: str
    at: datetime


@dataclass(frozen=True, slots=True)
class DoseCheck:
    """The verdict on a dose that may be recorded.

    ``status``: ``ok`` (within every limit), ``soft_limit`` (above a soft limit, accepted with
    the reason given) or ``not_in_library`` (accepted with the indication given). ``flagged``
    means the physician must see it; ``notes`` say why. ``next_dose_at`` is the earliest time
    another dose of the same drug is allowed after this one.
    """

    status: Literal["ok", "soft_limit", "not_in_library"]
    drug: DrugEntry | None
    message: str
    flagged: bool
    notes: tuple[str, ...] = ()
    next_dose_at: datetime | None = None
    requirements: tuple[str, ...] = ()


def check_administration(
    library: DrugLibrary,
    name: str,
    route: str,
    dose: Quantity,
    at: datetime,
    weight_kg: Decimal | None,
    earlier: Sequence[Administration],
    *,
    reason: str | None = None,
    indication: str | None = None,
    zone: tzinfo | None = None,
) -> DoseCheck:
    """Check one dose against the library; raise :class:`EventRefused` when it may not be recorded.

    Hard limits always refuse. A soft limit refuses with ``DRUG-SOFT-LIMIT`` unless a
    ``reason`` is given, a drug outside the library with ``DRUG-NOT-IN-LIBRARY`` unless an
    ``indication`` is given (the ``reason`` and ``indication`` fields of ``medication_given``);
    then the result is flagged for the physician. ``earlier`` holds
    the administrations already recorded (any drug; only the same drug counts); times in
    messages are shown in ``zone`` (the course's time zone; default: the zone of ``at``).
    """
    reason = (reason or "").strip() or None
    drug = library.find(name)
    if drug is None:
        return _not_in_library(name, dose, route, (indication or "").strip() or None, library)
    given = f"{drug.title()} {_dose_words(dose)} {ROUTE_WORDS.get(route, route)}"
    entry = drug.by_route(route)
    if entry is None:
        raise EventRefused(
            "DRUG-ROUTE-NOT-ALLOWED",
            f"{given} was not recorded: the drug library allows {drug.name} only "
            f"{drug.route_words()}".rstrip(".") + ".",
            requirements=drug.requirements,
        )
    amount = _in_base_unit(dose, entry, drug)
    unit = entry.dimension()
    single, per_24h, band = entry.limits_for(weight_kg)
    zone = zone or at.tzinfo
    same = sorted((e for e in earlier if drug.known_as(e.name) and e.at <= at), key=lambda e: e.at)
    window = [(e.at, _earlier_amount(e, drug)) for e in same if at - e.at < _DAY]
    already = sum((a for _, a in window), Decimal(0))
    last = same[-1].at if same else None
    notes: list[str] = []
    if weight_kg is None and (band is not None or _per_kg(single, per_24h)):
        notes.append(f"Body weight not recorded: {drug.name} was checked against the limits "
                     f"for {band or 'an adult'}; record the weight.")
    weight_words = f" for {format_decimal(weight_kg)} kg" if weight_kg is not None else ""

    # Hard limits: refused.
    hard_single = single.hard.base(weight_kg) if single.hard else None
    if hard_single is not None and amount > hard_single:
        assert single.hard is not None
        raise EventRefused(
            "DRUG-HARD-LIMIT-SINGLE",
            f"{given} was not recorded: the most a single dose may be{weight_words} is "
            f"{_limit_words(single.hard, weight_kg, unit)}.",
            requirements=drug.requirements,
        )
    hard_24h = per_24h.hard.base(weight_kg) if per_24h.hard else None
    if hard_24h is not None and already + amount > hard_24h:
        assert per_24h.hard is not None
        allowed_from = _earliest_within(window, amount, hard_24h)
        raise EventRefused(
            "DRUG-HARD-LIMIT-24H",
            f"{given} was not recorded: with the {_amount(already, unit)} already given in the "
            f"last 24 h it would make {_amount(already + amount, unit)}, and the most in 24 h"
            f"{weight_words} is {_limit_words(per_24h.hard, weight_kg, unit)}."
            + _next_words(allowed_from, zone, dose),
            requirements=drug.requirements,
        )
    interval = entry.min_interval
    if interval.hard is not None and last is not None and at - last < interval.hard.delta():
        allowed_from = last + interval.hard.delta()
        raise EventRefused(
            "DRUG-MIN-INTERVAL",
            f"{given} was not recorded: the last dose was at {_clock(last, zone)} and doses must "
            f"be at least {interval.hard.display()} apart." + _next_words(allowed_from, zone, None),
            requirements=drug.requirements,
        )

    # Soft limits: recorded only with a reason, flagged for the physician.
    soft: list[str] = []
    soft_single = single.soft.base(weight_kg) if single.soft else None
    if single.soft is not None and soft_single is not None and amount > soft_single:
        soft.append(f"the usual single dose{weight_words} is at most "
                    f"{_limit_words(single.soft, weight_kg, unit)}")
    soft_24h = per_24h.soft.base(weight_kg) if per_24h.soft else None
    if per_24h.soft is not None and soft_24h is not None and already + amount > soft_24h:
        soft.append(f"it makes {_amount(already + amount, unit)} in 24 h, above the usual "
                    f"{_limit_words(per_24h.soft, weight_kg, unit)}")
    if interval.soft is not None and last is not None and at - last < interval.soft.delta():
        soft.append(f"the last dose was at {_clock(last, zone)}, less than the usual "
                    f"{interval.soft.display()} ago")
    next_at = _next_dose_at(at, interval, [*window, (at, amount)], per_24h, weight_kg, amount)
    if soft:
        text = f"{given} is above a soft limit of the drug library: " + "; ".join(soft) + "."
        if reason is None:
            raise EventRefused(
                "DRUG-SOFT-LIMIT",
                text + " To give it anyway, record the reason; the physician will be told.",
                requirements=drug.requirements,
            )
        return DoseCheck("soft_limit", drug, f"{text} Reason: {reason}.", True,
                         (*notes, f"Reason: {reason}"), next_at, drug.requirements)
    return DoseCheck("ok", drug, f"{given}: within the limits of the drug library.",
                     bool(notes), tuple(notes), next_at, drug.requirements)


def _not_in_library(name: str, dose: Quantity, route: str, indication: str | None,
                    library: DrugLibrary) -> DoseCheck:
    given = f"{name.strip()} {_dose_words(dose)} {ROUTE_WORDS.get(route, route)}"
    if indication is None:
        raise EventRefused(
            "DRUG-NOT-IN-LIBRARY",
            f"{given}: {name.strip()!r} is not in the drug library of this protocol. Record it "
            "with the indication (why it is given); the physician will be told.",
            requirements=library.requirements,
        )
    return DoseCheck("not_in_library", None,
                     f"{given} is not in the drug library; indication: {indication}.", True,
                     (f"Not in the drug library; indication: {indication}",),
                     None, library.requirements)


def _in_base_unit(dose: Quantity, entry: RouteEntry, drug: DrugEntry) -> Decimal:
    dimension = entry.dimension()
    counted = entry.unit_content
    if counted is not None and dose.unit == "{" + counted.form + "}":
        return _in_base_unit(Quantity(value=dose.value * counted.content.value,
                                      unit=counted.content.unit), entry, drug)
    if dimension == "mg" and dose.unit in _MASS_TO_MG:
        return dose.value * _MASS_TO_MG[dose.unit]
    if dimension == "mL" and dose.unit == "mL":
        return dose.value
    expected = "mL" if dimension == "mL" else "mg (or g, ug)"
    if entry.unit_content is not None:
        expected += f" or {entry.unit_content.display()}"
    raise EventRefused(
        "DRUG-DOSE-UNIT",
        f"{drug.title()} {_dose_words(dose)} cannot be checked against the drug library: give the "
        f"dose in {expected}.",
        requirements=drug.requirements,
    )


def _earlier_amount(given: Administration, drug: DrugEntry) -> Decimal:
    entry = drug.by_route(given.route) or drug.routes[0]
    try:
        return _in_base_unit(given.dose, entry, drug)
    except EventRefused:
        return Decimal(0)  # an earlier dose that cannot be converted was refused on its own


def _per_kg(*limits: DoseLimit) -> bool:
    return any(a is not None and a.per_kg for limit in limits for a in (limit.hard, limit.soft))


def _earliest_within(window: list[tuple[datetime, Decimal]], amount: Decimal,
                     limit: Decimal) -> datetime | None:
    """The earliest time at which ``amount`` more stays within ``limit`` per 24 h."""
    if amount > limit:
        return None
    total = sum((a for _, a in window), Decimal(0))
    for moment, given in sorted(window):
        total -= given
        if total + amount <= limit:
            return moment + _DAY
    return None


def _next_dose_at(at: datetime, interval: IntervalLimit, window: list[tuple[datetime, Decimal]],
                  per_24h: DoseLimit, weight_kg: Decimal | None, amount: Decimal) -> datetime | None:
    candidates = []
    if interval.hard is not None:
        candidates.append(at + interval.hard.delta())
    limit = per_24h.hard.base(weight_kg) if per_24h.hard else None
    if limit is not None and sum((a for _, a in window), Decimal(0)) + amount > limit:
        found = _earliest_within(window, amount, limit)
        if found is not None:
            candidates.append(found)
    return max(candidates) if candidates else None


def _next_words(moment: datetime | None, zone: tzinfo | None, dose: Quantity | None) -> str:
    if moment is None:
        return ""
    what = f"another {_dose_words(dose)}" if dose is not None else "the next dose"
    return f" The earliest time for {what} is {_clock(moment, zone)}."


def _dose_words(dose: Quantity) -> str:
    """``1 {ampoule}`` reads "1 ampoule"; ``2 {tablet}`` reads "2 tablets"."""
    if dose.unit.startswith("{"):
        form = dose.unit.strip("{}")
        return f"{format_decimal(dose.value)} {form}{'' if dose.value == 1 else 's'}"
    return dose.display()


def _clock(moment: datetime, zone: tzinfo | None) -> str:
    local = moment.astimezone(zone)
    return local.strftime("%H:%M on %d %b")


def _amount(value: Decimal, unit: str) -> str:
    if unit == "mg" and value >= 1000 and value % 100 == 0:
        return f"{format_decimal(value / 1000)} g"
    return f"{format_decimal(value)} {unit}"


def _limit_words(limit: LimitAmount, weight_kg: Decimal | None, unit: str) -> str:
    base = limit.base(weight_kg)
    if limit.per_kg and base is not None:
        return f"{format_decimal(limit.value)} mg/kg = {_amount(base, unit)}"
    return _amount(base, unit) if base is not None else limit.display()


# -- the load-time check -------------------------------------------------------------------


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
        amount = _in_base_unit(item.dose, entry, drug)
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
        return f"at most {_amount(single, unit)} per dose{words}"
    per_24h = _most_in_band(getattr(band.per_24h, kind), band)
    if per_24h is not None and daily > per_24h:
        return f"at most {_amount(per_24h, unit)} in 24 h{words}"
    return None


def _most_in_band(limit: LimitAmount | None, band: WeightBand) -> Decimal | None:
    """The largest amount a limit allows for any weight of the band (None: no bound)."""
    if limit is None:
        return None
    if limit.per_kg:
        return None if band.below_kg is None else limit.base(band.below_kg)
    return limit.base(None)
