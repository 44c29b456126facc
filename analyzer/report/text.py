"""Making wire-derived text safe and short for a terminal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_CELL = 48
"""Characters of one table cell before it is cut with an ellipsis (tables stay near 80 columns)."""

_ESCAPES = {i: f"\\x{i:02x}" for i in [*range(0x20), 0x7F, *range(0x80, 0xA0)]}
_ESCAPES.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", 0x1B: "\\e"})


def safe(value: Any, limit: int = MAX_CELL) -> str:
    """Text with control characters (ANSI escapes, CR, NUL, ...) shown escaped, cut to `limit`."""
    text = "" if value is None else str(value)
    text = text.translate(_ESCAPES)
    if limit and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


@dataclass(slots=True)
class Table:
    """A titled table for the terminal report."""

    title: str
    headers: list[str]
    rows: list[list[Any]] = field(default_factory=list)
