"""The terminal report: every section's tables rendered with tabulate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tabulate import tabulate

from analyzer.report.sections import core
from analyzer.report.text import Table

SectionTables = Callable[[dict[str, Any]], list[Table]]

SECTION_RENDERERS: dict[str, SectionTables] = {
    "capture": core.capture_tables,
    "flows": core.flow_tables,
    "malformed": core.malformed_tables,
}
"""Section name -> function building its tables from the whole summary JSON, in print order."""


def render(summary: dict[str, Any], sections: list[str] | None = None) -> str:
    """All tables of the summary (or of the named sections) as one text block."""
    out: list[str] = []
    for name, build in SECTION_RENDERERS.items():
        if sections and name not in sections:
            continue
        for table in build(summary):
            if not table.rows:
                continue
            out.append(f"== {table.title} ==")
            out.append(tabulate(table.rows, headers=table.headers, tablefmt="simple", disable_numparse=True))
            out.append("")
    return "\n".join(out)
