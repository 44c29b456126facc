"""The summary as Markdown (GitHub-flavoured tables), for pasting into tickets and wikis.

Cells come from the same tables as the terminal report (already free of control characters); here
every character that Markdown or the HTML a wiki renders it to would interpret is escaped, so a DNS
name such as `<script>` or `*bold*|x` shows as typed.
"""

from __future__ import annotations

from typing import Any

from analyzer.report.tables import report_sections
from analyzer.report.text import duration_text, safe

_MARKDOWN_ESCAPES = str.maketrans(
    {
        "\\": "\\\\",
        "`": "\\`",
        "*": "\\*",
        "_": "\\_",
        "[": "\\[",
        "]": "\\]",
        "|": "\\|",
        "#": "\\#",
        "~": "\\~",
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
    }
)
"""Characters with a meaning in Markdown (or raw HTML inside it) -> their escaped form."""


def md_escape(value: Any) -> str:
    """One table cell or heading as literal Markdown text."""
    return safe(value, 0).translate(_MARKDOWN_ESCAPES)


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    lines = [
        "| " + " | ".join(md_escape(h) for h in headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    for row in rows:
        lines.append("| " + " | ".join(md_escape(c) for c in row) + " |")
    return lines


def render_markdown(
    summary: dict[str, Any], sections: list[str] | None = None, top: int | None = None
) -> str:
    """The whole report (or the named sections) as one Markdown document; ranked tables keep their
    first `top` rows (None: all). No cell is cut."""
    cap = summary.get("capture") or {}
    files = ", ".join(md_escape(f.get("path")) for f in cap.get("files", []))
    lines = [
        "# pcap-analyzer report",
        "",
        f"{files or 'no input'}: {cap.get('packets', 0)} packets, {cap.get('bytes', 0)} bytes, "
        f"{duration_text(cap.get('duration', 0.0))} (times in UTC).",
        "",
    ]
    for section in report_sections(summary, sections, top):
        lines += [f"## {md_escape(section.title)}", ""]
        for table in section.tables:
            lines += [f"### {md_escape(table.title)}", "", *_table(table.headers, table.rows), ""]
    return "\n".join(lines)
