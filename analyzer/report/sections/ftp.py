"""Terminal tables of the FTP section: command and reply counts, control sessions, transfers."""

from __future__ import annotations

from typing import Any

from analyzer.report.text import Table, count_table, endpoint, safe

MAX_ROWS = 50
"""Rows shown per list table (the JSON keeps them all)."""
TRANSFER_COMMANDS = ("RETR", "STOR", "STOU", "APPE", "LIST", "NLST", "MLSD")
"""ftp.log commands shown in the transfers table."""


def _channel(entry: dict[str, Any]) -> str:
    port = entry.get("data_channel.resp_p")
    if port is None:
        return "-"
    mode = "passive" if entry.get("data_channel.passive") else "active"
    return f"{mode} {endpoint(entry.get('data_channel.resp_h'), port)}"


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
                endpoint(c["id.orig_h"], c["id.orig_p"]),
                endpoint(c["id.resp_h"], c["id.resp_p"]),
                safe(c["banner"] or "-"),
                safe(c["user"] or "-"),
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
                safe(e["command"]),
                safe(e["arg"] or "-"),
                e["reply_code"] if e["reply_code"] is not None else "-",
                e["file_size"] if e["file_size"] is not None else "-",
                safe(e["mime_type"] or "-"),
                _channel(e),
            ]
        )
    tables.append(transfers)
    channels = ftp.get("data_channels", [])
    data = Table(
        f"FTP data connections ({len(channels)})",
        ["client", "server", "mode", "command", "file", "direction", "bytes", "mime type"],
        optional=("mime type",),
    )
    for d in channels:
        data.rows.append(
            [
                endpoint(d["id.orig_h"], d["id.orig_p"]),
                endpoint(d["id.resp_h"], d["id.resp_p"]),
                "passive" if d.get("passive") else "active",
                safe(d.get("command") or "-"),
                safe(d.get("arg") or "-"),
                safe(d.get("direction") or "-"),
                d.get("bytes", 0),
                safe(d.get("mime_type") or "-"),
            ]
        )
    tables.append(data)
    return tables
