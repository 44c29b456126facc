"""The terminal report: every section's tables rendered with tabulate."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any

from analyzer.report.sections import core
from analyzer.report.sections import dhcp as dhcp_section
from analyzer.report.sections import dns as dns_section
from analyzer.report.sections import findings as findings_section
from analyzer.report.sections import ftp as ftp_section
from analyzer.report.sections import http as http_section
from analyzer.report.sections import icmp as icmp_section
from analyzer.report.sections import mail as mail_section
from analyzer.report.sections import quic as quic_section
from analyzer.report.sections import services as services_section
from analyzer.report.sections import smb as smb_section
from analyzer.report.sections import tls as tls_section
from analyzer.report.sections import tunnels as tunnels_section
from analyzer.report.text import DEFAULT_TOP, TERMINAL_WIDTH, Table, format_table, limit_rows, safe

SectionTables = Callable[[dict[str, Any]], list[Table]]

SECTION_RENDERERS: dict[str, SectionTables] = {
    "findings": findings_section.findings_tables,
    "capture": core.capture_tables,
    "flows": core.flow_tables,
    "tunnels": tunnels_section.tunnels_tables,
    "icmp": icmp_section.icmp_tables,
    "ndp": icmp_section.ndp_tables,
    "dhcp": dhcp_section.dhcp_tables,
    "dhcpv6": dhcp_section.dhcpv6_tables,
    "dns": dns_section.dns_tables,
    "tls": tls_section.tls_tables,
    "quic": quic_section.quic_tables,
    "http": http_section.http_tables,
    "smtp": mail_section.smtp_tables,
    "pop3": mail_section.pop3_tables,
    "imap": mail_section.imap_tables,
    "services": services_section.services_tables,
    "ftp": ftp_section.ftp_tables,
    "smb": smb_section.smb_tables,
    "malformed": core.malformed_tables,
}
"""Section name -> function building its tables from the whole summary JSON, in print order."""


def title_line(title: str, width: int | None) -> str:
    """`== title ==`, wrapped at spaces to `width` (None: one line); never cut."""
    text = f"== {safe(title)} =="
    if width is None or len(text) <= width:
        return text
    return "\n".join(textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False))


def render(
    summary: dict[str, Any],
    sections: list[str] | None = None,
    width: int | None = TERMINAL_WIDTH,
    top: int | None = DEFAULT_TOP,
) -> str:
    """All tables of the summary (or of the named sections) as one text block; every cell escaped
    (control characters, ANSI escapes), none cut. `width`: the terminal's columns, fitted by leaving
    out optional columns and wrapping text (None: as wide as the tables are, for a pipe or a file).
    `top`: rows of each ranked table (None: all), the title saying what was left out."""
    out: list[str] = []
    for name, build in SECTION_RENDERERS.items():
        if sections and name not in sections:
            continue
        for table in build(summary):
            if not table.rows:
                continue
            table = limit_rows(table, top)
            out.append(title_line(table.title, width))
            out.append(format_table(table.headers, table.rows, width, table.optional))
            out.append("")
    return "\n".join(out)
