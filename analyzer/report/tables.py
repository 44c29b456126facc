"""Every table of a summary, grouped by section, for the file formats (HTML, CSV, Markdown).

The tables come from the terminal report's SECTION_RENDERERS, so a new protocol section shows up in
every format as soon as it has terminal tables. A section of the summary JSON that has no renderer
(and is not shown by another one, such as mDNS under DNS) still gets plain tables built from its JSON
by `generic_tables`: its scalar fields, its counters and its lists of records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from analyzer.report.terminal import SECTION_RENDERERS
from analyzer.report.text import Table, limit_rows, safe

NOT_A_SECTION = frozenset({"schema"})
"""Top-level summary keys that are not sections."""
SHOWN_BY: dict[str, str] = {
    "protocols": "capture",
    "mdns": "dns",
    "llmnr": "dns",
    "mismatches": "services",
    "upgrades": "services",
}
"""Sections whose content another section's renderer shows -> that section."""
EXTRA_SECTIONS = ("ip_fragments", "weird")
"""Sections of the summary without a renderer of their own (shown by `generic_tables`); a tracker that
adds such a section adds its name here (tests/test_formats.py checks none is missing)."""
GENERIC_ROWS = 200
"""Rows of one generic table (a list of records is cut there; the JSON has them all)."""
GENERIC_COLUMNS = 10
"""Columns of one generic table of records (the first scalar fields of its first record)."""
SECTION_TITLES: dict[str, str] = {
    "findings": "Findings",
    "capture": "Capture overview",
    "flows": "Conversations",
    "icmp": "ICMP",
    "ndp": "IPv6 Neighbor Discovery",
    "dhcp": "DHCP leases",
    "dhcpv6": "DHCPv6",
    "dns": "DNS",
    "tls": "TLS",
    "quic": "QUIC",
    "tunnels": "Tunnels",
    "http": "HTTP",
    "smtp": "SMTP",
    "pop3": "POP3",
    "imap": "IMAP",
    "ftp": "FTP",
    "smb": "SMB",
    "services": "Services, port mismatches, TLS upgrades",
    "malformed": "Malformed",
    "ip_fragments": "IP fragments",
    "weird": "Weird",
}
"""Section name -> heading in the HTML and Markdown reports (others are shown by their name)."""


@dataclass(slots=True)
class Section:
    """One section of a report: its summary key, heading and tables."""

    name: str
    """Key of the section in the summary JSON (and in SECTION_RENDERERS)."""
    title: str
    """Heading shown to the reader."""
    tables: list[Table] = field(default_factory=list)
    """Its non-empty tables, in order."""


def section_title(name: str) -> str:
    return SECTION_TITLES.get(name) or safe(name.replace("_", " "), 0)


def section_names(summary: dict[str, Any]) -> list[str]:
    """Names of the sections a report of this summary can show, in report order."""
    names = list(SECTION_RENDERERS)
    for key in summary:
        if key not in names and key not in NOT_A_SECTION and key not in SHOWN_BY:
            names.append(key)
    return names


def known_section_names() -> list[str]:
    """Every name --section accepts, known before any input is read (without importing the
    pipeline, so a typo fails at once): the renderers' sections, EXTRA_SECTIONS, and those shown by
    another section."""
    names = [*SECTION_RENDERERS, *EXTRA_SECTIONS]
    return names + [n for n in SHOWN_BY if n not in names]


def report_sections(
    summary: dict[str, Any], only: list[str] | None = None, top: int | None = None
) -> list[Section]:
    """The sections of the summary (or only the named ones) that have at least one non-empty table;
    ranked tables keep their first `top` rows (None: all), their title saying what was left out."""
    out: list[Section] = []
    for name in section_names(summary):
        if only and name not in only:
            continue
        build = SECTION_RENDERERS.get(name)
        tables = build(summary) if build is not None else generic_tables(name, summary.get(name))
        tables = [limit_rows(t, top) for t in tables if t.rows]
        if tables:
            out.append(Section(name, section_title(name), tables))
    return out


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):  # every digit before the point, up to microseconds after it
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return safe(value)


def generic_tables(name: str, section: Any) -> list[Table]:
    """Plain tables for a section without a renderer: scalar fields, counters, lists of records."""
    title = section_title(name)
    if isinstance(section, list):
        return [_records_table(title, section)]
    if not isinstance(section, dict):
        return [] if section is None else [Table(title, ["value"], [[_cell(section)]])]
    tables: list[Table] = []
    fields = Table(title, ["field", "value"])
    for key, value in section.items():
        if _scalar(value):
            fields.rows.append([safe(key), _cell(value)])
        elif isinstance(value, dict) and all(_scalar(v) for v in value.values()):
            tables.append(
                Table(
                    f"{title}: {safe(key, 0)}",
                    ["key", "value"],
                    [[safe(k), _cell(v)] for k, v in list(value.items())[:GENERIC_ROWS]],
                )
            )
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            tables.append(_records_table(f"{title}: {safe(key, 0)}", value))
    return [fields, *tables]


def _records_table(title: str, records: list[Any]) -> Table:
    first = next((r for r in records if isinstance(r, dict)), None)
    if first is None:
        rows = [[_cell(r)] for r in records[:GENERIC_ROWS] if _scalar(r)]
        return Table(title, ["value"], rows, total=len(records))
    columns = [k for k, v in first.items() if _scalar(v)][:GENERIC_COLUMNS]
    table = Table(title, [safe(c) for c in columns], total=len(records))
    for rec in records[:GENERIC_ROWS]:
        if isinstance(rec, dict):
            table.rows.append([_cell(rec.get(c)) for c in columns])
    return table
