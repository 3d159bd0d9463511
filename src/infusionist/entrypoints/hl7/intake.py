"""Messages in, acknowledgements out: store raw, parse, settle, acknowledge.

The listener hands over every message waiting at that moment as one batch (group commit): the
raw messages are committed together, then parsed, then settled together, each in its own
savepoint. AA only after the vital-sign event and the message status are committed; AE with ERR
for a message that cannot be accepted; AR when it cannot be processed now (the database is
unavailable): the monitor keeps the message and sends it again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from infusionist.adapters.hl7.ack import build_ack
from infusionist.adapters.hl7.oru import Header, message_key, parse_oru, read_header
from infusionist.domain.device_readings import DeviceReading
from infusionist.domain.errors import InfusionistError, ValidationFailed
from infusionist.services import device_vitals
from infusionist.services.deps import Deps

log = logging.getLogger("infusionist.hl7")
UNAVAILABLE = (DBAPIError, PoolTimeout, OSError)


class Intake:
    """The handler the MLLP server calls with each batch of waiting messages (one at a time)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def __call__(self, raws: Sequence[str]) -> list[str]:
        """One acknowledgement per message, in the same order."""
        headers = [read_header(raw) for raw in raws]
        incoming = [device_vitals.Incoming(*message_key(raw, header), raw)
                    for raw, header in zip(raws, headers, strict=True)]
        try:
            received = device_vitals.receive(self.deps, incoming)
        except UNAVAILABLE as exc:
            log.warning("AR for %d message(s): cannot store them now: %s", len(raws), exc)
            return [self._unavailable(header) for header in headers]
        acks: list[str] = [""] * len(raws)
        waiting: list[tuple[int, device_vitals.Settle]] = []
        for index, (raw, header, stored) in enumerate(zip(raws, headers, received, strict=True)):
            if stored.settled is not None:
                acks[index] = self._ack(header, stored.settled)
            else:
                control_id = incoming[index].control_id
                waiting.append((index, device_vitals.Settle(stored, control_id, *self._parse(raw, header))))
        outcomes = self._settle([item for _, item in waiting])
        for (index, _item), outcome in zip(waiting, outcomes, strict=True):
            header = headers[index]
            acks[index] = self._unavailable(header) if outcome is None else self._ack(header, outcome)
        return acks

    def _settle(self, items: list[device_vitals.Settle]) -> list[device_vitals.Outcome | None]:
        """The batch's outcomes (None: AR). If the batch fails for a reason other than the
        database, each message is settled alone, so one message that trips a bug is refused
        (kept for review) instead of holding back the others with it."""
        if not items:
            return []
        try:
            return list(device_vitals.settle(self.deps, items))
        except UNAVAILABLE as exc:
            log.warning("AR for %d message(s): stored, not processed: %s", len(items), exc)
            return [None] * len(items)
        except Exception:
            if len(items) == 1:
                log.exception("an HL7 message could not be settled; refused, kept for review")
                problem = ValidationFailed("HL7-INTERNAL", "The message could not be processed; it is "
                                           "kept for review.", details={"hl7_code": "207"})
                refused = device_vitals.Settle(items[0].message, items[0].control_id, None, problem)
                return self._settle([refused]) if items[0].problem is None else [None]
            log.exception("a batch of %d HL7 messages failed; settling them one by one", len(items))
            return [outcome for item in items for outcome in self._settle([item])]

    @staticmethod
    def _parse(raw: str, header: Header | None) -> tuple[DeviceReading | None, InfusionistError | None]:
        try:
            return parse_oru(raw, header), None
        except InfusionistError as refused:
            return None, refused
        except Exception as exc:  # a parser bug must not lose the message: it stays stored, refused
            log.exception("unexpected error while parsing an HL7 message")
            return None, ValidationFailed("HL7-INTERNAL", f"The message could not be read ({exc}); "
                                          "it is kept for review.", details={"hl7_code": "207"})

    def _ack(self, header: Header | None, outcome: device_vitals.Outcome) -> str:
        return build_ack(header, outcome.ack, control_id=self._control_id(), now=self.deps.clock.now(),
                         error_code=outcome.error_code, error=outcome.error, location=outcome.location,
                         hl7_error=outcome.hl7_error)

    def _unavailable(self, header: Header | None) -> str:
        return build_ack(header, "AR", control_id=self._control_id(), now=self.deps.clock.now(),
                         error_code="HL7-UNAVAILABLE",
                         error="The database is unavailable; nothing was recorded. Send the message again.",
                         hl7_error="206")

    @staticmethod
    def _control_id() -> str:
        return uuid.uuid4().hex[:20]
