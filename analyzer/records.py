"""Helpers shared by every event and record: Zeek field naming and JSON-ready values."""

from __future__ import annotations

import dataclasses
from typing import Any

ZEEK_ID_FIELDS = {"orig_h": "id.orig_h", "orig_p": "id.orig_p", "resp_h": "id.resp_h", "resp_p": "id.resp_p"}
"""Python field names that Zeek's logs spell with an `id.` prefix."""


_FIELDS: dict[type, tuple[tuple[str, str], ...]] = {}
"""Dataclass type -> its (attribute, JSON key) pairs; one entry per event/record class."""
_PLAIN = (str, int, bool, type(None))


def to_jsonable(value: Any) -> Any:
    """Recursively turn dataclasses, tuples, sets and bytes into JSON-ready values (Zeek names)."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is float:
        return round(value, 6)
    if kind is dict:
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [to_jsonable(v) for v in value]
    fields = _FIELDS.get(kind)
    if fields is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = _FIELDS[kind] = tuple(
            (f.name, ZEEK_ID_FIELDS.get(f.name, f.name)) for f in dataclasses.fields(value)
        )
    if fields is not None:
        return {key: to_jsonable(getattr(value, name)) for name, key in fields}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return [to_jsonable(v) for v in sorted(value, key=str)]
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return value.decode("latin-1")
    if isinstance(value, float):
        return round(value, 6)
    return value
