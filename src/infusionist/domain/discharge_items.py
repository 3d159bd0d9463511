"""The discharge checklist: the protocol's instructions gone through with the patient before they
go home, and the staff's tasks at discharge, each recorded on its own (``discharge_item_done``).

Which instructions (the protocol's ``instructions``, by audience and ``when``):
- told to the patient on every infusion day: the patient's ``infusion_days`` instructions;
- on the course's last infusion day also the patient's ``after_course`` instructions (delayed
  reactions, infections, warning signs, follow-up) and the staff's ``after_course`` tasks
  (prescriptions for delayed symptoms).
The staff's ``infusion_days`` instructions (a physician available during the infusion) are not
discharge items. The evening-before instructions are given with the printed plan before day 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from infusionist.domain.protocol import Instruction, Protocol


def discharge_items(protocol: Protocol, last_day: bool) -> tuple[Instruction, ...]:
    """Today's discharge checklist, the patient's instructions first, then the staff's tasks."""
    def applies(item: Instruction) -> bool:
        if item.when == "after_course":
            return last_day
        return item.when == "infusion_days" and item.audience == "patient"

    chosen = [i for i in protocol.instructions if applies(i)]
    return (*[i for i in chosen if i.audience == "patient"], *[i for i in chosen if i.audience == "staff"])


def is_last_day(day_date: date, other_dates: Iterable[date]) -> bool:
    """The course's last infusion day: no other day of the course comes after it."""
    return all(other < day_date for other in other_dates)
