"""Helpers shared by every event and record: Zeek field naming and JSON-ready values."""

from __future__ import annotations

import dataclasses
from typing import Any

ZEEK_ID_FIELDS = {"orig_h": "id.orig_h", "orig_p": "id.orig_p", "resp_h": "id.resp_h", "resp_p": "id.resp_p"}
"""Python field names that Zeek's logs spell with an `id.` prefix."""


def to_jsonable(value: Any) -> Any:
    """Recursively turn dataclasses, tuples, sets and bytes into JSON-ready values (Zeek names)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            ZEEK_ID_FIELDS.get(f.name, f.name): to_jsonable(getattr(value, f.name))
            for f in dataclasses.fields(value)
        }
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [to_jsonable(v) for v in items]
    if isinstance(value, bytes | bytearray):
        return value.decode("latin-1")
    if isinstance(value, float):
        return round(value, 6)
    return value
