"""Making wire-derived text safe and short for a terminal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from tabulate import tabulate

MAX_CELL = 48
"""Characters of one table cell before it is cut with an ellipsis (tables stay near 80 columns)."""
TS_MIN = -62135596800.0
"""0001-01-01 00:00:00 UTC, the earliest time `datetime` can represent."""
TS_MAX = 253402300799.0
"""9999-12-31 23:59:59 UTC, the latest time `datetime` can represent."""


def utc(ts: float) -> dt.datetime:
    """Packet time as a UTC datetime, clamped to what `datetime` can represent: timestamps come off
    the capture file (a corrupt pcapng can say year 319418) and must not crash a report."""
    return dt.datetime.fromtimestamp(min(max(ts, TS_MIN), TS_MAX), dt.UTC)


_ESCAPES = {i: f"\\x{i:02x}" for i in [*range(0x20), 0x7F, *range(0x80, 0xA0)]}
_ESCAPES.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", 0x1B: "\\e"})
_INVISIBLE = [*range(0x200B, 0x2010), 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF]
"""Zero-width, line/paragraph separator and bidirectional override characters: they reorder or hide
text on a terminal (a "Trojan Source" name), so they are shown escaped too."""
_ESCAPES.update({i: f"\\u{i:04x}" for i in _INVISIBLE})

TERMINAL_WIDTH = 80
"""Columns a printed table is fitted into by `fit_table` (the classic terminal width)."""
MIN_COLUMN = 8
"""Narrowest a column is cut to when fitting a table; below this a value is no longer readable."""
COLUMN_GAP = 2
"""Spaces tabulate's "simple" format puts between two columns."""
HEADER_PAD = 2
"""Extra width tabulate gives a column over its header's length (its MIN_PADDING)."""
ELLIPSIS = "…"
VERTICAL_MAX_ROWS = 3
"""A table too wide for the terminal with at most this many rows is printed one "column  value" line
per cell instead (a one-file capture overview reads better that way than with every column cut)."""


def safe(value: Any, limit: int = MAX_CELL) -> str:
    """Text with control characters (ANSI escapes, CR, NUL, ...) shown escaped, cut to `limit`."""
    text = "" if value is None else str(value)
    return cut(text.translate(_ESCAPES), limit)


def cut(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, the last one an ellipsis when something was cut (0: no limit)."""
    if limit and len(text) > limit:
        return text[: limit - 1] + ELLIPSIS
    return text


def column_widths(heads: list[str], cells: list[list[str]]) -> list[int]:
    """Printed width of each column as tabulate lays it out (headers get HEADER_PAD extra)."""
    widths = [len(h) + HEADER_PAD for h in heads]
    for row in cells:
        for i, c in enumerate(row[: len(widths)]):
            widths[i] = max(widths[i], len(c))
    return widths


def table_width(heads: list[str], cells: list[list[str]]) -> int:
    """Printed width of a whole table in tabulate's "simple" format."""
    return sum(column_widths(heads, cells)) + COLUMN_GAP * (len(heads) - 1)


def fit_table(
    headers: list[str], rows: list[list[Any]], width: int | None = TERMINAL_WIDTH
) -> tuple[list[str], list[list[str]]]:
    """Headers and rows as escaped text, the widest columns cut (ellipsis) until the table fits in
    `width` columns or every column is down to MIN_COLUMN (None: escape only, cut nothing)."""
    heads = [safe(h, 0) for h in headers]
    cells = [[safe(c, 0) for c in row] for row in rows]
    if width is None or not heads:
        return heads, cells
    widths = column_widths(heads, cells)
    excess = sum(widths) + COLUMN_GAP * (len(widths) - 1) - width
    if excess <= 0:
        return heads, cells
    while excess > 0:
        widest = max(range(len(widths)), key=widths.__getitem__)
        if widths[widest] <= MIN_COLUMN:
            break
        runner_up = max([MIN_COLUMN, *(w for i, w in enumerate(widths) if i != widest)])
        step = min(excess, max(1, widths[widest] - runner_up))
        widths[widest] -= step
        excess -= step
    heads = [cut(h, max(1, w - HEADER_PAD)) for h, w in zip(heads, widths, strict=True)]
    cells = [[cut(c, widths[i]) if i < len(widths) else c for i, c in enumerate(row)] for row in cells]
    return heads, cells


def format_table(headers: list[str], rows: list[list[Any]], width: int | None = TERMINAL_WIDTH) -> str:
    """One table as text for a terminal: escaped, and made to fit `width` (None: as wide as it is)
    by printing a short table vertically or cutting the widest columns of a long one."""
    heads = [safe(h, 0) for h in headers]
    cells = [[safe(c, 0) for c in row] for row in rows]
    if width is not None and heads and table_width(heads, cells) > width:
        if len(cells) <= VERTICAL_MAX_ROWS:
            key_width = max(len(h) for h in heads)
            limit = max(MIN_COLUMN, width - key_width - COLUMN_GAP)
            blocks = [
                "\n".join(
                    f"{h.ljust(key_width)}{' ' * COLUMN_GAP}{cut(c, limit)}".rstrip()
                    for h, c in zip(heads, row, strict=False)
                )
                for row in cells
            ]
            return "\n\n".join(blocks)
        heads, cells = fit_table(heads, cells, width)
    return str(tabulate(cells, headers=heads, tablefmt="simple", disable_numparse=True))


@dataclass(slots=True)
class Table:
    """A titled table for the terminal report."""

    title: str
    headers: list[str]
    rows: list[list[Any]] = field(default_factory=list)


def time_ms(ts: float | None) -> str:
    """Packet time as UTC date and time to the millisecond ("-" when unknown)."""
    if ts is None:
        return "-"
    return utc(ts).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def count_table(title: str, header: str, counts: dict[str, int], width: int = 24) -> Table:
    """A table of counted keys (wire text cut to `width`) and their counts, in the given order."""
    return Table(title, [header, "count"], [[safe(k, width), v] for k, v in counts.items()])


def share_table(
    title: str, header: str, counts: dict[str, int], width: int = 24, shown: int | None = None
) -> Table:
    """Like `count_table` with each count's share of the total; only the first `shown` rows, if given
    (the share stays of the whole)."""
    total = sum(counts.values()) or 1
    table = Table(title, [header, "count", "share"])
    for key, n in list(counts.items())[:shown]:
        table.rows.append([safe(key, width), n, f"{100 * n / total:.1f}%"])
    return table
