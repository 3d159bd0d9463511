"""The base of the services' read models: typed, frozen, and JSON only at the edge."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class ReadModel(BaseModel):
    """What a use case returns to a page, a route or the command line.

    ``as_json()`` is its JSON (fields a reader may not see are left unset and out, not null).
    ``view["field"]`` and ``view.get("field")`` read a field as the dictionaries these models
    replace did (a field hidden from the reader reads as None); they are kept for the callers not
    yet moved to attributes (pages and analytics of other areas).
    """

    model_config = ConfigDict(frozen=True)

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)

    def __getitem__(self, key: str) -> Any:
        if key not in type(self).model_fields:
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key) if key in type(self).model_fields else default
