"""One message in, one acknowledgement out: store raw, parse, settle, acknowledge.

AA only after the vital-sign event and the message status are committed together; AE with ERR
for a message that cannot be accepted; AR when it cannot be processed now (the database is
unavailable): the monitor keeps the message and sends it again.
"""

from __future__ import annotations

import logging
import uuid

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
    """The handler the MLLP server calls for every message (from several threads)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def __call__(self, raw: str) -> str:
        header = read_header(raw)
        sender, control_id = message_key(raw, header)
        try:
            received = device_vitals.receive(self.deps, sender, control_id, raw)
        except UNAVAILABLE as exc:
            log.warning("AR for %s/%s: cannot store it now: %s", sender, control_id, exc)
            return self._unavailable(header)
        if received.settled is not None:
            return self._ack(header, received.settled)
        reading, problem = self._parse(raw, header)
        try:
            outcome = device_vitals.settle(self.deps, received.message_id, reading, problem)
        except UNAVAILABLE as exc:
            log.warning("AR for %s/%s: stored, not processed: %s", sender, control_id, exc)
            return self._unavailable(header)
        return self._ack(header, outcome)

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
