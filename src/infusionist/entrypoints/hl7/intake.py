"""Messages in, acknowledgements out: store raw, parse, settle, acknowledge.

The listener hands over every message waiting at that moment as one batch (group commit): the
raw messages are committed together, then parsed, then settled together, each in its own
savepoint. AA only after the vital-sign event and the message status are committed; AE with ERR
for a message that cannot be accepted; AR when it cannot be processed now (the database is
unavailable): the monitor keeps the message and sends it again.

One bad message harms only itself: a message refused before intake (unknown sender, over the
frame size limit, a NUL byte, an over-long key) is kept apart and answered while the others go
on; if storing the batch fails for a reason other than the database being unavailable, each
message is stored alone, and one the database still refuses is kept in base64 and answered AE
``HL7-UNSTORABLE``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from infusionist.adapters.hl7.ack import build_ack
from infusionist.adapters.hl7.mllp import Frame
from infusionist.adapters.hl7.oru import Header, message_key, parse_oru, read_header
from infusionist.domain.device_readings import DeviceReading
from infusionist.domain.errors import InfusionistError, ValidationFailed
from infusionist.services import device_vitals
from infusionist.services.deps import Deps

log = logging.getLogger("infusionist.hl7")
# The database cannot be reached or is locked: nothing is settled, the sender resends (AR). Any
# other database error (a value it refuses) belongs to one message and is settled alone.
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout, OSError)


def _unavailable_error(exc: BaseException) -> bool:
    return isinstance(exc, UNAVAILABLE) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


class Intake:
    """The handler the MLLP server calls with each batch of waiting messages (one at a time)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def __call__(self, frames: Sequence[Frame]) -> list[str]:
        """One acknowledgement per message, in the same order."""
        raws = [frame.raw for frame in frames]
        headers = [read_header(raw) for raw in raws]
        incoming = [self._incoming(frame, header) for frame, header in zip(frames, headers, strict=True)]
        received = self._receive(incoming)
        acks: list[str] = [""] * len(raws)
        waiting: list[tuple[int, device_vitals.Settle]] = []
        for index, (raw, header, stored) in enumerate(zip(raws, headers, received, strict=True)):
            if stored is None:
                acks[index] = self._unavailable(header)
            elif stored.settled is not None:
                acks[index] = self._ack(header, stored.settled)
            else:
                control_id = incoming[index].control_id
                waiting.append((index, device_vitals.Settle(stored, control_id, *self._parse(raw, header))))
        outcomes = self._settle([item for _, item in waiting])
        for (index, _item), outcome in zip(waiting, outcomes, strict=True):
            header = headers[index]
            acks[index] = self._unavailable(header) if outcome is None else self._ack(header, outcome)
        return acks

    def _incoming(self, frame: Frame, header: Header | None) -> device_vitals.Incoming:
        sender, control_id = message_key(frame.raw, header)
        refused = None
        if frame.oversize:
            refused = device_vitals.Outcome(
                "AR", "HL7-FRAME-TOO-LARGE", "The message is larger than this listener accepts; nothing "
                "was recorded and the connection is closed.", "MSH", "207")
        return device_vitals.Incoming(sender, control_id, frame.raw, frame.peer, refused)

    def _receive(self, incoming: list[device_vitals.Incoming]) -> list[device_vitals.Received | None]:
        """Store the batch (None for a message answered AR: the database is unavailable). If the
        batch fails for another reason, each message is stored alone, and one that still fails
        is kept encoded and refused."""
        try:
            return list(device_vitals.receive(self.deps, incoming))
        except Exception as exc:
            if _unavailable_error(exc):
                log.warning("AR for %d message(s): cannot store them now: %s", len(incoming), exc)
                return [None] * len(incoming)
            if len(incoming) > 1:
                log.warning("storing a batch of %d HL7 messages failed (%s); storing them one by one",
                            len(incoming), type(exc).__name__)
                return [stored for message in incoming for stored in self._receive([message])]
            log.warning("an HL7 message could not be stored (%s); kept encoded, refused",
                        type(exc).__name__)
            try:
                return [device_vitals.keep_unstorable(self.deps, incoming[0], type(exc).__name__)]
            except Exception:
                log.exception("an HL7 message could not be kept at all; AR")
                return [None]

    def _settle(self, items: list[device_vitals.Settle]) -> list[device_vitals.Outcome | None]:
        """The batch's outcomes (None: AR). If the batch fails for a reason other than the
        database, each message is settled alone, so one message that trips a bug is refused
        (kept for review) instead of holding back the others with it."""
        if not items:
            return []
        try:
            return list(device_vitals.settle(self.deps, items))
        except Exception as exc:
            if _unavailable_error(exc):
                log.warning("AR for %d message(s): stored, not processed: %s", len(items), exc)
                return [None] * len(items)
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
