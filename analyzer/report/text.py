"""Making wire-derived text safe for a terminal, and laying tables out without cutting a value."""

from __future__ import annotations

import datetime as dt
import textwrap
from dataclasses import dataclass, field
from typing import Any

import tabulate as tabulate_module

from analyzer.endpoints import endpoint_text

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
"""Columns of a terminal whose width is unknown (the classic terminal width)."""
MIN_COLUMN = 8
"""Narrowest a wrapped text column gets when fitting a table to a terminal."""
MIN_WIDTH = 2
"""Narrowest column (a one-character mark column keeps a two-dash rule, as tabulate drew it)."""
COLUMN_GAP = 2
"""Spaces between two columns."""
ELLIPSIS = "…"
VERTICAL_MAX_ROWS = 3
"""A table too wide for the terminal with at most this many rows is printed one "column  value" line
per cell instead (a one-row overview reads better that way than with its text columns wrapped)."""
PROSE_WORDS = 3
"""A column is wrapped to fit a terminal only when some cell of it has this many words (a sentence, a
list); a date and time, an address or a name is never split over two lines."""
DEFAULT_TOP = 25
"""Rows of a ranked table shown on a terminal and in Markdown when --top is not given (the JSON, CSV
and HTML keep every row the summary has)."""


def safe(value: Any, limit: int = 0) -> str:
    """Text with control characters (ANSI escapes, CR, NUL, ...) shown escaped; cut to `limit` only
    when one is given (0: never cut; identifiers are never given one)."""
    text = "" if value is None else str(value)
    return cut(text.translate(_ESCAPES), limit)


def cut(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, the last one an ellipsis when something was cut (0: no limit)."""
    if limit and len(text) > limit:
        return text[: limit - 1] + ELLIPSIS
    return text


def endpoint(host: Any, port: Any = None) -> str:
    """One endpoint as printed everywhere (`analyzer.endpoints`), escaped for a terminal."""
    return endpoint_text(None if host is None or host == "" else safe(host), port)


def aggregate(headers: list[str], rows: list[list[Any]]) -> tuple[list[str], list[list[Any]]]:
    """Identical rows folded into one, first-seen order kept, with a "count" column saying how many
    there were (only when some row repeats: a column of 1s says nothing)."""
    counts: dict[tuple[str, ...], int] = {}
    first: dict[tuple[str, ...], list[Any]] = {}
    for row in rows:
        key = tuple(str(c) for c in row)
        counts[key] = counts.get(key, 0) + 1
        first.setdefault(key, row)
    if len(counts) == len(rows):
        return headers, rows
    return [*headers, "count"], [[*first[k], n] for k, n in counts.items()]


def column_widths(heads: list[str], cells: list[list[str]]) -> list[int]:
    """Printed width of each column: its widest line, header included."""
    widths = [max(MIN_WIDTH, len(h)) for h in heads]
    for row in cells:
        for i, c in enumerate(row[: len(widths)]):
            widths[i] = max(widths[i], *(len(line) for line in c.split("\n")))
    return widths


def table_width(heads: list[str], cells: list[list[str]]) -> int:
    """Printed width of a whole table."""
    return sum(column_widths(heads, cells)) + COLUMN_GAP * (len(heads) - 1)


def _longest_word(text: str) -> int:
    return max((len(w) for w in text.split()), default=0)


def _wrap(text: str, width: int) -> str:
    """Text wrapped at spaces to `width`, never inside a word: an address, a port or a name inside
    a sentence stays whole on one line."""
    if len(text) <= width:
        return text
    return "\n".join(textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)) or text


def fit_table(
    headers: list[str],
    rows: list[list[Any]],
    width: int = TERMINAL_WIDTH,
    optional: tuple[str, ...] = (),
) -> tuple[list[str], list[list[str]]] | None:
    """Headers and rows as escaped text made to fit `width` without cutting anything: first the
    `optional` (low-value) columns are left out, in their order, then the widest columns of prose
    (PROSE_WORDS) are wrapped at spaces, never narrower than their longest word. None when the table
    cannot fit that way (its identifiers alone are wider than the terminal)."""
    heads = [safe(h) for h in headers]
    cells = [[safe(c) for c in row] for row in rows]
    for name in optional:
        if table_width(heads, cells) <= width:
            break
        if name in heads and len(heads) > 1:
            i = heads.index(name)
            heads = heads[:i] + heads[i + 1 :]
            cells = [row[:i] + row[i + 1 :] for row in cells]
    widths = column_widths(heads, cells)
    excess = sum(widths) + COLUMN_GAP * (len(widths) - 1) - width
    if excess <= 0:
        return heads, cells
    floor = [
        max(MIN_COLUMN, len(h), *(_longest_word(r[i]) for r in cells))
        if any(len(r[i].split()) >= PROSE_WORDS for r in cells)
        else widths[i]
        for i, h in enumerate(heads)
    ]
    if sum(widths) - sum(floor) < excess:
        return None
    target = list(widths)
    while excess > 0:
        widest = max((i for i in range(len(target)) if target[i] > floor[i]), key=target.__getitem__)
        step = min(excess, target[widest] - floor[widest], max(1, target[widest] // 4))
        target[widest] -= step
        excess -= step
    cells = [
        [_wrap(c, target[i]) if target[i] < widths[i] else c for i, c in enumerate(row)] for row in cells
    ]
    return heads, cells


def layout(heads: list[str], cells: list[list[str]]) -> str:
    """A table in tabulate's "simple" style (header, dashes, rows, two spaces between columns, every
    cell left-aligned and taken as text); a cell may hold several lines. Headers get no extra padding
    (`_TABULATE_MIN_PADDING`), so a column is as wide as its widest value, and no line ends in blanks."""
    tabulate_module.MIN_PADDING = _TABULATE_MIN_PADDING
    heads = [h.ljust(MIN_WIDTH) for h in heads]
    text = tabulate_module.tabulate(cells, headers=heads, tablefmt="simple", disable_numparse=True)
    return "\n".join(line.rstrip() for line in text.split("\n"))


_TABULATE_MIN_PADDING = 0
"""tabulate widens every header by MIN_PADDING (2) characters; a `proto` column holding "tcp" would
take 7 columns on an 80-column terminal."""


def vertical(heads: list[str], cells: list[list[str]], width: int) -> str:
    """Each row as a block of "column  value" lines (values wrapped at spaces to `width`), blocks
    separated by a blank line: how a table too wide for the terminal keeps every value whole."""
    key_width = max(len(h) for h in heads)
    room = max(MIN_COLUMN, width - key_width - COLUMN_GAP)
    blocks = []
    for row in cells:
        lines = []
        for h, c in zip(heads, row, strict=False):
            parts = _wrap(c, room).split("\n")
            lines.append(f"{h.ljust(key_width)}{' ' * COLUMN_GAP}{parts[0]}".rstrip())
            lines += [f"{' ' * (key_width + COLUMN_GAP)}{p}".rstrip() for p in parts[1:]]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def format_table(
    headers: list[str],
    rows: list[list[Any]],
    width: int | None = TERMINAL_WIDTH,
    optional: tuple[str, ...] = (),
) -> str:
    """One table as text for a terminal: escaped, and made to fit `width` (None: as wide as it is):
    a short table (VERTICAL_MAX_ROWS) is printed vertically, a longer one leaves out its optional
    columns and wraps its prose, and one that still cannot fit is printed vertically. No cell is
    ever cut."""
    heads = [safe(h) for h in headers]
    cells = [[safe(c) for c in row] for row in rows]
    if width is None or not heads or table_width(heads, cells) <= width:
        return layout(heads, cells)
    fitted = None if len(cells) <= VERTICAL_MAX_ROWS else fit_table(heads, cells, width, optional)
    if fitted is None:
        return vertical(heads, cells, width)
    return layout(*fitted)


@dataclass(slots=True)
class Table:
    """A titled table for the reports."""

    title: str
    """Heading (wire text in it already escaped)."""
    headers: list[str]
    """Column names."""
    rows: list[list[Any]] = field(default_factory=list)
    """Cells, row by row: whole values, never cut (the terminal wraps text, the formats keep all)."""
    optional: tuple[str, ...] = ()
    """Headers of low-value columns a narrow terminal leaves out first, in this order."""
    ranked: bool = True
    """Rows are in rank order and --top may show only the first N of them (False: rows belong
    together, such as a timeline, and are all shown)."""
    total: int | None = None
    """How many items the table stands for when the summary kept fewer rows (None: len(rows))."""


def limit_rows(table: Table, top: int | None) -> Table:
    """The table with only its first `top` rows (None: all), its title saying how many of how many
    are shown and how to see more."""
    total = table.total if table.total is not None else len(table.rows)
    shown = table.rows if top is None or not table.ranked else table.rows[:top]
    if len(shown) >= total:
        return table
    if len(shown) < len(table.rows):
        note = f" [top {len(shown)} of {total}; --top {len(table.rows)} for all]"
    else:
        note = f" [top {len(shown)} of {total}, as kept in the summary]"
    return Table(table.title + note, table.headers, shown, table.optional, table.ranked, len(shown))


def time_ms(ts: float | None) -> str:
    """Packet time as UTC date and time to the millisecond ("-" when unknown)."""
    if ts is None:
        return "-"
    return utc(ts).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def count_table(title: str, header: str, counts: dict[str, int], width: int = 0) -> Table:
    """A table of counted keys and their counts, in the given order (`width`: kept for callers;
    keys are never cut)."""
    return Table(title, [header, "count"], [[safe(k), v] for k, v in counts.items()])


def share_table(
    title: str, header: str, counts: dict[str, int], width: int = 0, shown: int | None = None
) -> Table:
    """Like `count_table` with each count's share of the total; only the first `shown` rows, if given
    (the share stays of the whole, and the title says how many were left out)."""
    total = sum(counts.values()) or 1
    table = Table(title, [header, "count", "share"], total=len(counts))
    for key, n in list(counts.items())[:shown]:
        table.rows.append([safe(key), n, f"{100 * n / total:.1f}%"])
    return table


def duration_text(seconds: float) -> str:
    """A duration as a reader says it: 12.345 s, 5 min 3 s, 9 h 0 min 2 s, 3 d 4 h 5 min, 12 y 3 d."""
    if seconds < 60:
        return f"{seconds:.3f} s"
    whole = int(seconds)
    years, rest = divmod(whole, 365 * 86400)
    days, rest = divmod(rest, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if years:
        return f"{years} y {days} d"
    if days:
        return f"{days} d {hours} h {minutes} min"
    if hours:
        return f"{hours} h {minutes} min {secs} s"
    return f"{minutes} min {secs} s"


def size_text(n: float, unit: str = "B") -> str:
    """A byte count (or rate) with a decimal prefix: 950 B, 83.8 kB, 1.2 MB, 3.4 GB."""
    value = float(n)
    for prefix in ("", "k", "M", "G", "T"):
        if abs(value) < 1000 or prefix == "T":
            return f"{value:,.0f} {unit}" if not prefix else f"{value:,.1f} {prefix}{unit}"
        value /= 1000
    return f"{n} {unit}"
