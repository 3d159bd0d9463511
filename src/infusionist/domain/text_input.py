"""Text as people type it: a NUL character is never part of it.

No keyboard types U+0000 and PostgreSQL cannot store it in a text column, so any text that holds
one (at any depth of a request) is refused before anything reads or writes it, with one code.
"""

from __future__ import annotations

from infusionist.domain.errors import ValidationFailed

NUL_CODE = "INPUT-TEXT-NUL"
NUL_MESSAGE = ("A text contains an invisible NUL character, which cannot be stored; "
               "type the text again without it.")


def has_nul(value: object) -> bool:
    """Whether ``value`` (a text, or dicts and lists of them, keys included) holds a NUL."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False


def refuse_nul(value: object) -> None:
    if has_nul(value):
        raise ValidationFailed(NUL_CODE, NUL_MESSAGE, details={"text": "contains a NUL character"})
