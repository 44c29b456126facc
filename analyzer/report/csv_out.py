"""The summary as CSV: one file per table, named after its section and title, into a directory.

Cells are the report's table cells (control characters already shown escaped). A spreadsheet runs a
cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return) as a formula, so such a text
cell gets a leading `'` (OWASP's advice against CSV injection); plain numbers, signed or not, and the
lone "-" the tables use for "none" are left as they are.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from analyzer.report.tables import report_sections
from analyzer.report.text import safe

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet treat a cell as a formula."""
_NUMBER = re.compile(r"[-+]?\d+(\.\d+)?%?")
"""A plain (possibly signed) number or percentage: safe in a spreadsheet."""
MAX_NAME = 80
"""Characters of a CSV file's name before `.csv` (titles can be long)."""
_NOT_NAME = re.compile(r"[^a-z0-9]+")
_COUNTS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
"""A parenthesised or bracketed part of a title ("(23 queries)", "[first 25 of 103; ...]"): left
out of file names, which stay stable."""


def csv_cell(value: Any) -> str | int | float:
    """A cell as written: numbers as they are, text escaped and defused against formula injection."""
    if isinstance(value, bool) or value is None:
        return safe(value, 0)
    if isinstance(value, int | float):
        return value
    text = safe(value, 0)
    if text.startswith(FORMULA_STARTS) and text != "-" and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def file_name(section: str, title: str, taken: set[str]) -> str:
    """`<section>-<title slug>.csv` (counts in parentheses left out, the section not repeated), unique
    among `taken` (which it joins)."""
    prefix = _NOT_NAME.sub("-", section.lower()).strip("-")
    slug = _NOT_NAME.sub("-", _COUNTS.sub("", title).lower()).strip("-")
    if slug == prefix or slug.startswith(f"{prefix}-"):
        slug = slug[len(prefix) :].lstrip("-")
    base = (f"{prefix}-{slug}" if slug else prefix)[:MAX_NAME].strip("-") or "table"
    name, n = f"{base}.csv", 1
    while name in taken:
        n += 1
        name = f"{base}-{n}.csv"
    taken.add(name)
    return name


def write_csv(
    summary: dict[str, Any], directory: str | Path, sections: list[str] | None = None, top: int | None = None
) -> list[Path]:
    """Write one CSV per table of the summary (or of the named sections), every row unless `top`
    limits the ranked ones; returns the files written."""
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    written: list[Path] = []
    for section in report_sections(summary, sections, top):
        for table in section.tables:
            path = out_dir / file_name(section.name, table.title, taken)
            with path.open("w", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow([csv_cell(h) for h in table.headers])
                writer.writerows([csv_cell(c) for c in row] for row in table.rows)
            written.append(path)
    return written
