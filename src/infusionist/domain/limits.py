"""Size limits on what people and devices send (product defaults, docs/security.md).

Free text (a note, a reason, a signature's meaning, a test result's comment) is at most
``TEXT_MAX_LENGTH`` characters wherever it comes in: API schemas, form posts, event payloads.
A JSON object sent as data (an event, a centre configuration) is at most ``JSON_MAX_DEPTH``
levels deep with at most ``JSON_MAX_ITEMS`` values in all.
"""

from __future__ import annotations

from typing import Any

TEXT_MAX_LENGTH = 1000
JSON_MAX_ITEMS = 1000
JSON_MAX_DEPTH = 8
FORM_MAX_FIELDS = 200


def json_too_large(value: Any, *, text_max: int = TEXT_MAX_LENGTH, items_max: int = JSON_MAX_ITEMS,
                   depth_max: int = JSON_MAX_DEPTH) -> str | None:
    """Why ``value`` (parsed JSON) is too large, or None: the first text longer than
    ``text_max`` (keys too), nesting deeper than ``depth_max``, more than ``items_max`` values."""
    count = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        count += 1
        if count > items_max:
            return f"more than {items_max} values"
        if depth > depth_max:
            return f"nested more than {depth_max} levels deep"
        if isinstance(item, str) and len(item) > text_max:
            return f"a text longer than {text_max} characters"
        if isinstance(item, dict):
            for key, inner in item.items():
                if len(str(key)) > text_max:
                    return f"a name longer than {text_max} characters"
                stack.append((inner, depth + 1))
        elif isinstance(item, list):
            stack.extend((inner, depth + 1) for inner in item)
    return None
