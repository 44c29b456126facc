"""Terminal table of the findings: what to look at first, with the Wireshark filter that shows it."""

from __future__ import annotations

from typing import Any

from analyzer.report.text import Table, safe

FINDINGS_SHOWN = 15
"""Findings listed in the terminal (the JSON keeps up to analyzer.findings.MAX_FINDINGS): with the
capture block and the protocol hierarchy, `--brief` must fit one screen."""
BRIEF_SECTIONS = ["capture", "findings"]
"""Sections `analyze --brief` prints: the capture block (with the protocol hierarchy) and findings."""


def findings_tables(summary: dict[str, Any]) -> list[Table]:
    """The findings table; cells are not cut here (a filter must stay whole to be pasted into
    Wireshark from HTML or Markdown): the terminal fits the widest columns to its width."""
    findings = [f for f in summary.get("findings") or [] if isinstance(f, dict)]
    if not findings:
        return []
    shown = findings[:FINDINGS_SHOWN]
    more = f", first {len(shown)}; --format json lists all" if len(shown) < len(findings) else ""
    table = Table(f"Findings ({len(findings)}{more})", ["severity", "count", "finding", "wireshark filter"])
    for f in shown:
        table.rows.append([f["severity"], f["count"], safe(f["summary"], 0), safe(f["filter"], 0)])
    return [table]
