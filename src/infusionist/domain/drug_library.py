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
(``mg/kg``); weight bands hold different limits above and below a weight (an analgesic dosed
1 g from 50 kg, 15 mg/kg below). The 24-hour total and the minimum interval count every earlier
administration of the same drug, whatever its route.

:func:`check_administration` is the one bedside check; ``domain/protocol_drugs.py`` checks what a
protocol schedules against the same limits when the protocol is loaded.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Literal, NoReturn

from pydantic import Field, model_validator

from infusionist.domain.errors import EventRefused
from infusionist.domain.protocol_elements import Element, Frozen
from infusionist.domain.units import Quantity, format_decimal

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
            text += f" ({amount_words(base, 'mg')} at {format_decimal(weight_kg or Decimal(0))} kg)"
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


class DrugCode(Frozen):
    """A drug's code in a terminology, for exports (FHIR, SDTM): ``atc``, ``snomed``, ``rxnorm``."""

    system: Literal["atc", "snomed", "rxnorm"]
    code: str = Field(min_length=1, max_length=40)
    display: str
    source: str | None = None


class DrugEntry(Element):
    """One drug of the library: its names, codes and the routes it may be given by."""

    name: str
    synonyms: tuple[str, ...] = ()
    codes: tuple[DrugCode, ...] = ()
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
            yield from (c.source for c in drug.codes if c.source is not None)
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
    single, per_24h, band = entry.limits_for(weight_kg)
    same = sorted((e for e in earlier if drug.known_as(e.name) and e.at <= at), key=lambda e: e.at)
    dosing = _Dosing(
        drug=drug, given=given, dose=dose, amount=in_base_unit(dose, entry, drug),
        unit=entry.dimension(), single=single, per_24h=per_24h, interval=entry.min_interval,
        weight_kg=weight_kg, at=at, zone=zone or at.tzinfo,
        window=tuple((e.at, _earlieramount_words(e, drug)) for e in same if at - e.at < _DAY),
        last=same[-1].at if same else None,
    )
    dosing.refuse_above_hard_limits()
    notes: list[str] = []
    if weight_kg is None and (band is not None or _per_kg(single, per_24h)):
        notes.append(f"Body weight not recorded: {drug.name} was checked against the limits "
                     f"for {band or 'an adult'}; record the weight.")
    soft = dosing.soft_problems()
    if soft:
        text = f"{given} is above a soft limit of the drug library: " + "; ".join(soft) + "."
        if reason is None:
            raise EventRefused(
                "DRUG-SOFT-LIMIT",
                text + " To give it anyway, record the reason; the physician will be told.",
                requirements=drug.requirements,
            )
        return DoseCheck("soft_limit", drug, f"{text} Reason: {reason}.", True,
                         (*notes, f"Reason: {reason}"), dosing.next_dose_at(), drug.requirements)
    return DoseCheck("ok", drug, f"{given}: within the limits of the drug library.",
                     bool(notes), tuple(notes), dosing.next_dose_at(), drug.requirements)


@dataclass(frozen=True, slots=True)
class _Dosing:
    """One dose to check, with the limits for the patient's weight and the doses before it."""

    drug: DrugEntry
    given: str  # the drug, dose and route in words: "<Name> 1 g i.v."
    dose: Quantity
    amount: Decimal  # in mg (or mL)
    unit: str
    single: DoseLimit
    per_24h: DoseLimit
    interval: IntervalLimit
    weight_kg: Decimal | None
    at: datetime
    zone: tzinfo | None
    window: tuple[tuple[datetime, Decimal], ...]  # the same drug in the last 24 h
    last: datetime | None  # the same drug's latest earlier dose

    @property
    def already(self) -> Decimal:
        return sum((a for _, a in self.window), Decimal(0))

    @property
    def for_weight(self) -> str:
        return f" for {format_decimal(self.weight_kg)} kg" if self.weight_kg is not None else ""

    def _refuse(self, code: str, text: str) -> NoReturn:
        raise EventRefused(code, f"{self.given} was not recorded: {text}",
                           requirements=self.drug.requirements)

    def refuse_above_hard_limits(self) -> None:
        single, per_24h, interval = self.single.hard, self.per_24h.hard, self.interval.hard
        most = single.base(self.weight_kg) if single else None
        if single is not None and most is not None and self.amount > most:
            self._refuse("DRUG-HARD-LIMIT-SINGLE", f"the most a single dose may be{self.for_weight}"
                         f" is {_limit_words(single, self.weight_kg, self.unit)}.")
        most = per_24h.base(self.weight_kg) if per_24h else None
        if per_24h is not None and most is not None and self.already + self.amount > most:
            self._refuse(
                "DRUG-HARD-LIMIT-24H",
                f"with the {amount_words(self.already, self.unit)} already given in the last 24 h it "
                f"would make {amount_words(self.already + self.amount, self.unit)}, and the most in "
                f"24 h{self.for_weight} is {_limit_words(per_24h, self.weight_kg, self.unit)}."
                + _next_words(_earliest_within(list(self.window), self.amount, most), self.zone,
                              self.dose))
        if interval is not None and self.last is not None and self.at - self.last < interval.delta():
            self._refuse(
                "DRUG-MIN-INTERVAL",
                f"the last dose was at {_clock(self.last, self.zone)} and doses must be at least "
                f"{interval.display()} apart."
                + _next_words(self.last + interval.delta(), self.zone, None))

    def soft_problems(self) -> list[str]:
        """Why the dose is above a soft limit (empty: it is not)."""
        problems = []
        single, per_24h, interval = self.single.soft, self.per_24h.soft, self.interval.soft
        most = single.base(self.weight_kg) if single else None
        if single is not None and most is not None and self.amount > most:
            problems.append(f"the usual single dose{self.for_weight} is at most "
                            f"{_limit_words(single, self.weight_kg, self.unit)}")
        most = per_24h.base(self.weight_kg) if per_24h else None
        if per_24h is not None and most is not None and self.already + self.amount > most:
            problems.append(f"it makes {amount_words(self.already + self.amount, self.unit)} in 24 h, "
                            f"above the usual {_limit_words(per_24h, self.weight_kg, self.unit)}")
        if interval is not None and self.last is not None and self.at - self.last < interval.delta():
            problems.append(f"the last dose was at {_clock(self.last, self.zone)}, less than the "
                            f"usual {interval.display()} ago")
        return problems

    def next_dose_at(self) -> datetime | None:
        """The earliest time another dose of the same size is allowed after this one."""
        candidates = []
        if self.interval.hard is not None:
            candidates.append(self.at + self.interval.hard.delta())
        most = self.per_24h.hard.base(self.weight_kg) if self.per_24h.hard else None
        with_this = [*self.window, (self.at, self.amount)]
        if most is not None and self.already + 2 * self.amount > most:
            found = _earliest_within(with_this, self.amount, most)
            if found is not None:
                candidates.append(found)
        return max(candidates) if candidates else None


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


def in_base_unit(dose: Quantity, entry: RouteEntry, drug: DrugEntry) -> Decimal:
    dimension = entry.dimension()
    counted = entry.unit_content
    if counted is not None and dose.unit == "{" + counted.form + "}":
        return in_base_unit(Quantity(value=dose.value * counted.content.value,
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


def _earlieramount_words(given: Administration, drug: DrugEntry) -> Decimal:
    entry = drug.by_route(given.route) or drug.routes[0]
    try:
        return in_base_unit(given.dose, entry, drug)
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


def amount_words(value: Decimal, unit: str) -> str:
    if unit == "mg" and value >= 1000 and value % 100 == 0:
        return f"{format_decimal(value / 1000)} g"
    return f"{format_decimal(value)} {unit}"


def _limit_words(limit: LimitAmount, weight_kg: Decimal | None, unit: str) -> str:
    base = limit.base(weight_kg)
    if limit.per_kg and base is not None:
        return f"{format_decimal(limit.value)} mg/kg = {amount_words(base, unit)}"
    return amount_words(base, unit) if base is not None else limit.display()
