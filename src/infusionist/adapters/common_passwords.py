"""Common and breached passwords: the list that the ``zxcvbn`` package ships (30 000 entries from
public breach corpora, most frequent first), used as a plain set, not as a strength score."""

from __future__ import annotations

from functools import cached_property


class CommonPasswords:
    """``password in CommonPasswords()``: case-insensitive. Loaded on first use (about 30 ms)."""

    @cached_property
    def _words(self) -> frozenset[str]:
        from zxcvbn.frequency_lists import FREQUENCY_LISTS

        return frozenset(word.lower() for word in FREQUENCY_LISTS["passwords"])

    def __contains__(self, password: object) -> bool:
        return isinstance(password, str) and password.lower() in self._words

    def __len__(self) -> int:
        return len(self._words)
