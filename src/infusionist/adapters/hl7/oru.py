"""Reading ORU^R01 messages: a tolerant header read (before storing) and the full parse (after).

Profile (``docs/hl7.md``): MSH-9 ``ORU^R01``; PID-3 the patient (the study pseudonym or the
patient number); PV1-3 the point of care (chair); OBX with ``NM`` values, OBX-3 a LOINC or MDC
code, OBX-6 the unit, OBX-11 the result status, OBX-14 the observation time (else OBR-7).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

import hl7

from infusionist.adapters.hl7.codes import converter, vital_field
from infusionist.domain.device_readings import EARLIEST_YEAR, LATEST_YEAR, DeviceReading
from infusionist.domain.errors import ValidationFailed

# OBX-11 statuses that carry no measured value: deleted, not asked, wrong ("X", "D", "W", "N").
_NO_VALUE_STATUS = frozenset({"X", "D", "W", "N"})
# A number of more than ten digits either side of the point is no vital sign (a format bound).
_MAX_EXPONENT = 9


@dataclass(frozen=True)
class Header:
    """What an acknowledgement needs, read without trusting the rest of the message."""

    field_separator: str = "|"
    encoding: str = "^~\\&"
    sending_application: str = ""
    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    message_type: str = ""
    sent_at: str = ""  # MSH-7 as sent
    control_id: str = ""
    processing_id: str = "P"
    version: str = "2.6"

    @property
    def sender(self) -> str:
        """The device key: MSH-3 and MSH-4 (first components), as ``APP^FACILITY``."""
        app = self.sending_application.split(self.encoding[:1] or "^")[0]
        facility = self.sending_facility.split(self.encoding[:1] or "^")[0]
        return f"{app}^{facility}" if facility else app


def segments_of(raw: str) -> list[str]:
    text = raw.replace("\r\n", "\r").replace("\n", "\r")
    return [segment for segment in text.split("\r") if segment.strip()]


def read_header(raw: str) -> Header | None:
    """MSH fields by position; None when the message does not begin with an MSH segment."""
    segments = segments_of(raw.lstrip("\x0b"))
    if not segments or not segments[0].startswith("MSH") or len(segments[0]) < 8:
        return None
    msh = segments[0]
    separator = msh[3]
    parts = msh.split(separator)

    def field(number: int, default: str = "") -> str:  # MSH-n is parts[n - 1]
        return parts[number - 1].strip() if len(parts) >= number and parts[number - 1].strip() else default

    return Header(
        field_separator=separator, encoding=field(2, "^~\\&"),
        sending_application=field(3), sending_facility=field(4),
        receiving_application=field(5), receiving_facility=field(6), sent_at=field(7),
        message_type=field(9),
        control_id=field(10), processing_id=field(11, "P"), version=field(12, "2.6"),
    )


def message_key(raw: str, header: Header | None) -> tuple[str, str]:
    """(sender, control id); a message without MSH-10 is keyed by a hash of its text."""
    if header is not None and header.control_id:
        return header.sender, header.control_id
    digest = hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()
    return (header.sender if header is not None else ""), f"sha256:{digest}"


def _refuse(code: str, message: str, location: str, hl7_code: str) -> ValidationFailed:
    return ValidationFailed(code, message, details={"location": location, "hl7_code": hl7_code})


def parse_oru(raw: str, header: Header | None) -> DeviceReading:
    """The vital signs of one ORU^R01; raises ``ValidationFailed`` naming the problem."""
    if header is None:
        raise _refuse("HL7-MALFORMED", "The message does not begin with an MSH segment.", "MSH", "100")
    if not header.control_id:
        raise _refuse("HL7-MALFORMED", "MSH-10 (message control ID) is empty.", "MSH^1^10", "101")
    kind = header.message_type.split(header.encoding[:1] or "^")
    if kind[:2] != ["ORU", "R01"]:
        raise _refuse("HL7-UNSUPPORTED", f"Message type {header.message_type!r} is not ORU^R01.",
                      "MSH^1^9", "200")
    try:
        message = hl7.parse("\r".join(segments_of(raw)))
    except Exception as exc:  # the hl7 parser raises several kinds on broken text
        raise _refuse("HL7-MALFORMED", f"The message cannot be parsed: {exc}.", "MSH", "100") from None
    patient = _patient_identifier(message)
    place = _first_component(message, "PV1", 3)
    values, times = _observations(message)
    observed, where = max(times, key=lambda t: _comparable(t[0])) if times else _obr_time(message)
    sent = header.sent_at.split(header.encoding[:1] or "^")[0]
    return DeviceReading(sender=header.sender, control_id=header.control_id, device=header.sender,
                         patient=patient, point_of_care=place or None, observed_at=observed,
                         observed_where=where, values=values,
                         sent_at=parse_timestamp(sent, "MSH^1^7") if sent else None)


def _comparable(moment: datetime) -> datetime:
    """Times with and without offsets side by side (those without read as UTC, for ordering)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _segment(message: Any, name: str) -> Any | None:
    try:
        return message.segment(name)
    except KeyError:
        return None


def _first_component(message: Any, name: str, number: int) -> str:
    segment = _segment(message, name)
    if segment is None or len(segment) <= number:
        return ""
    return _component(segment[number], 1)


def _component(field: Any, index: int) -> str:
    """Component ``index`` (1-based) of the first repetition of a parsed field, as text."""
    if isinstance(field, str):
        return field.strip() if index == 1 else ""
    first = field[0]
    if isinstance(first, str):  # a field without repetitions holds components directly
        return str(field[index - 1]).strip() if len(field) >= index else ""
    return str(first[index - 1]).strip() if len(first) >= index else ""


def _patient_identifier(message: Any) -> str:
    identifier = _first_component(message, "PID", 3)
    if not identifier:
        raise _refuse("HL7-NO-PATIENT", "PID-3 (patient identifier) is missing.", "PID^1^3", "101")
    return identifier


def _observations(message: Any) -> tuple[dict[str, Decimal], list[tuple[datetime, str]]]:
    chosen: dict[str, tuple[int, Decimal]] = {}
    times: list[tuple[datetime, str]] = []
    for number, obx in enumerate(_segments(message, "OBX"), start=1):
        found = vital_field(_get(obx, 3, 1), _get(obx, 3, 2), _get(obx, 3, 3))
        if found is None or _get(obx, 11, 1).upper() in _NO_VALUE_STATUS:
            continue
        field, priority = found
        where = f"OBX^{number}^5"
        text = _get(obx, 5, 1)
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise _refuse("HL7-VALUE", f"OBX {number} ({field}): {text[:40]!r} is not a number.", where,
                          "102") from None
        if not value.is_finite() or abs(value.adjusted()) > _MAX_EXPONENT:
            raise _refuse("HL7-VALUE", f"OBX {number} ({field}): {text[:40]!r} is not a number we read.",
                          where, "102")
        units = [_get(obx, 6, 1), _get(obx, 6, 2)]
        convert = converter(field, [u for u in units if u])
        if convert is None:
            raise _refuse("HL7-UNIT", f"OBX {number} ({field}): unit {'^'.join(units).strip('^')!r} "
                          "is not one we can convert.", f"OBX^{number}^6", "103")
        if field not in chosen or priority < chosen[field][0]:
            chosen[field] = (priority, convert(value))
        stamp = _get(obx, 14, 1)
        if stamp:
            times.append((parse_timestamp(stamp, f"OBX^{number}^14"), f"OBX^{number}^14"))
    if not chosen:
        raise _refuse("HL7-NO-VITALS", "No OBX carries a vital sign we read (heart rate, blood pressure, "
                      "temperature, respiratory rate, SpO2).", "OBX", "101")
    return {field: value for field, (_, value) in chosen.items()}, times


def _segments(message: Any, name: str) -> list[Any]:
    try:
        return list(message.segments(name))
    except KeyError:
        return []


def _get(segment: Any, field: int, component: int) -> str:
    if len(segment) <= field:
        return ""
    return _component(segment[field], component)


def _obr_time(message: Any) -> tuple[datetime | None, str]:
    stamp = _first_component(message, "OBR", 7)
    return (parse_timestamp(stamp, "OBR^1^7"), "OBR^1^7") if stamp else (None, "")


def parse_timestamp(text: str, location: str) -> datetime:
    """An HL7 DTM (YYYYMMDDHHMM[SS[.S+]][+/-ZZZZ]); naive when it has no offset."""
    body, offset = text, None
    for sign in ("+", "-"):
        if sign in text[8:]:
            cut = text.rindex(sign)
            body, offset = text[:cut], text[cut:]
    digits = body.split(".")[0]
    try:
        if len(digits) < 12:
            raise ValueError("too short")
        moment = datetime.strptime(digits[:14].ljust(14, "0"), "%Y%m%d%H%M%S")  # noqa: DTZ007
        if offset is not None:
            hours, minutes = int(offset[1:3]), int(offset[3:5] or 0)
            delta = timedelta(hours=hours, minutes=minutes)
            moment = moment.replace(tzinfo=timezone(delta if offset[0] == "+" else -delta))
    except ValueError:
        raise _refuse("HL7-TIME", f"{location}: {text[:40]!r} is not a time (YYYYMMDDHHMMSS+ZZZZ).", location,
                      "102") from None
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise _refuse("HL7-TIME", f"{location}: {text[:40]!r} is outside the years {EARLIEST_YEAR} to "
                      f"{LATEST_YEAR} that we accept.", location, "102")
    return moment
