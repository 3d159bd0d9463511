"""Acknowledgements (original mode): MSH + MSA, and ERR naming the problem for AE and AR.

ERR (v2.5+): ERR-2 error location, ERR-3 the HL7 error code (table 0357), ERR-4 severity,
ERR-5 our stable error code, ERR-8 the message for people. MSA-3 repeats the text for older
receivers that read only MSA.
"""

from __future__ import annotations

from datetime import UTC, datetime

from infusionist.adapters.hl7.oru import Header

HL7_ERROR_TEXT = {
    "100": "Segment sequence error", "101": "Required field missing", "102": "Data type error",
    "103": "Table value not found", "200": "Unsupported message type",
    "204": "Unknown key identifier", "206": "Application record locked",
    "207": "Application internal error",
}


def escape(text: str, header: Header) -> str:
    """HL7 escape sequences for the delimiters inside a text value."""
    escape_char = header.encoding[2:3] or "\\"
    out = text.replace(escape_char, f"{escape_char}E{escape_char}")
    marks = [(header.field_separator, "F"), (header.encoding[0:1] or "^", "S"),
             (header.encoding[1:2] or "~", "R"), (header.encoding[3:4] or "&", "T")]
    for char, code in marks:
        out = out.replace(char, f"{escape_char}{code}{escape_char}")
    return " ".join(out.split())  # no CR/LF inside a segment


def build_ack(header: Header | None, code: str, *, control_id: str, now: datetime,
              error_code: str | None = None, error: str | None = None, location: str = "",
              hl7_error: str = "207") -> str:
    """The ACK for a message (``header`` None: it had no readable MSH)."""
    h = header if header is not None else Header()
    sep, comp = h.field_separator, h.encoding[0:1] or "^"
    stamp = now.astimezone(UTC).strftime("%Y%m%d%H%M%S+0000")
    trigger = h.message_type.split(comp)[1] if comp in h.message_type else ""
    msh = sep.join(["MSH", h.encoding, "INFUSIONIST", h.receiving_facility, h.sending_application,
                    h.sending_facility, stamp, "", f"ACK{comp}{trigger}{comp}ACK", control_id,
                    h.processing_id, h.version])
    text = escape(f"{error_code}: {error}", h) if error_code and error else ""
    msa = sep.join(["MSA", code, h.control_id] + ([text] if text else []))
    segments = [msh, msa]
    if code != "AA" and error_code:
        where = location.replace("^", comp)
        err_code = f"{hl7_error}{comp}{HL7_ERROR_TEXT.get(hl7_error, '')}{comp}HL70357"
        severity = "E"
        segments.append(sep.join(["ERR", "", where, err_code, severity, escape(error_code, h),
                                  "", "", escape(error or "", h)]))
    return "\r".join(segments) + "\r"
