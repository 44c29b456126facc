"""Terminal tables of the FTP section: command and reply counts, control sessions, transfers."""

from __future__ import annotations

from typing import Any

from analyzer.report.text import Table, count_table, safe

MAX_ROWS = 50
"""Rows shown per list table (the JSON keeps them all)."""
TRANSFER_COMMANDS = ("RETR", "STOR", "STOU", "APPE", "LIST", "NLST", "MLSD")
"""ftp.log commands shown in the transfers table."""


def _channel(entry: dict[str, Any]) -> str:
    port = entry.get("data_channel.resp_p")
    if port is None:
        return "-"
    mode = "passive" if entry.get("data_channel.passive") else "active"
    return safe(f"{mode} {entry.get('data_channel.resp_h')}:{port}", 40)


def ftp_tables(summary: dict[str, Any]) -> list[Table]:
    ftp = summary.get("ftp") or {}
    if not ftp:
        return []
    tables = [
        count_table("FTP commands (as tshark counts them)", "command", ftp.get("commands", {})),
        count_table("FTP reply codes (lines, as tshark counts them)", "code", ftp.get("reply_codes", {})),
    ]
    conns = ftp.get("connections", [])
    sessions = Table(
        f"FTP sessions ({len(conns)})",
        ["client", "server", "banner", "user", "password", "commands", "transfers", "TLS"],
    )
    for c in conns[:MAX_ROWS]:
        sessions.rows.append(
            [
                safe(f"{c['id.orig_h']}:{c['id.orig_p']}", 30),
                safe(f"{c['id.resp_h']}:{c['id.resp_p']}", 30),
                safe(c["banner"] or "-", 30),
                safe(c["user"] or "-", 20),
                "<hidden>" if c["password_sent"] else "-",
                c["commands"],
                c["transfers"],
                "AUTH TLS" if c["tls_upgraded"] else "-",
            ]
        )
    tables.append(sessions)
    entries = [e for e in ftp.get("sessions", []) if e["command"] in TRANSFER_COMMANDS]
    transfers = Table(
        f"FTP transfers ({len(entries)})", ["command", "file", "reply", "size", "mime type", "data channel"]
    )
    for e in entries[:MAX_ROWS]:
        transfers.rows.append(
            [
                safe(e["command"], 6),
                safe(e["arg"] or "-", 40),
                e["reply_code"] if e["reply_code"] is not None else "-",
                e["file_size"] if e["file_size"] is not None else "-",
                safe(e["mime_type"] or "-", 24),
                _channel(e),
            ]
        )
    tables.append(transfers)
    return tables
