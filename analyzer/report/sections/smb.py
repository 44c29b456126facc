"""Terminal tables of the SMB section: commands per version, dialects, functions, sessions, shares,
files."""

from __future__ import annotations

from typing import Any

from analyzer.report.text import Table, endpoint, safe

MAX_ROWS = 50
"""Rows shown per list table (the JSON keeps them all)."""


def _who(s: dict[str, Any]) -> str:
    if s.get("user") is None:
        return "-"
    user = s["user"] or "(anonymous)"
    return safe(f"{s['domain']}\\{user}" if s.get("domain") else user)


def smb_tables(summary: dict[str, Any]) -> list[Table]:
    smb = summary.get("smb") or {}
    if not smb:
        return []
    commands = Table("SMB commands", ["version", "command", "requests", "responses"])
    for version, label in (("smb1", "SMB1"), ("smb2", "SMB2/3")):
        v = smb.get(version, {})
        req, resp = v.get("requests_by_command", {}), v.get("responses_by_command", {})
        for name in list(req) + [n for n in resp if n not in req]:
            commands.rows.append([label, safe(name), req.get(name, 0), resp.get(name, 0)])
    smb2 = smb.get("smb2", {})
    if smb2.get("encrypted") or smb2.get("compressed"):
        commands.rows.append(["SMB3", "(encrypted)", smb2.get("encrypted", 0), "-"])
        if smb2.get("compressed"):
            commands.rows.append(["SMB3", "(compressed)", smb2["compressed"], "-"])
    dialects = Table("SMB dialects", ["version", "dialect", "offered", "chosen"])
    for version, label in (("smb1", "SMB1"), ("smb2", "SMB2/3")):
        v = smb.get(version, {})
        offered, chosen = v.get("dialects_offered", {}), v.get("negotiated_dialects", {})
        for name in list(offered) + [n for n in chosen if n not in offered]:
            dialects.rows.append([label, safe(name), offered.get(name, 0), chosen.get(name, 0)])
    functions = Table(
        "SMB requests by function",
        ["function", "requests"],
        [[name, n] for name, n in (smb.get("functions") or {}).items()],
    )
    sessions = smb.get("sessions", [])
    stable = Table(
        f"SMB sessions ({len(sessions)})",
        [
            "client",
            "server",
            "dialect",
            "auth",
            "user",
            "host",
            "result",
            "shares",
            "files",
            "read",
            "written",
            "encrypted",
        ],
    )
    for s in sessions[:MAX_ROWS]:
        stable.rows.append(
            [
                endpoint(s["id.orig_h"], s["id.orig_p"]),
                endpoint(s["id.resp_h"], s["id.resp_p"]),
                safe(s["dialect"] or "-"),
                s["auth"] or "-",
                _who(s),
                safe(s["host"] or "-"),
                safe(s["auth_status"] or "-"),
                len(s["trees"]),
                s["files_opened"],
                s["bytes_read"],
                s["bytes_written"],
                s["encrypted"],
            ]
        )
    trees = smb.get("trees", [])
    ttable = Table(f"SMB shares connected ({len(trees)})", ["client", "share", "type", "status"])
    for t in trees[:MAX_ROWS]:
        ttable.rows.append(
            [
                safe(t["id.orig_h"]),
                safe(t["path"] or "-"),
                t["share_type"] or "-",
                safe(t["status"] or "-"),
            ]
        )
    files = smb.get("files", [])
    ftable = Table(
        f"SMB files ({len(files)})", ["name", "share", "action", "size", "read", "written", "status"]
    )
    for f in files[:MAX_ROWS]:
        ftable.rows.append(
            [
                safe(f["name"] or "-"),
                safe(f["path"] or "-"),
                f["action"] or "-",
                f["size"] if f["size"] is not None else "-",
                f["bytes_read"],
                f["bytes_written"],
                safe(f["status"] or "-"),
            ]
        )
    return [commands, dialects, functions, stable, ttable, ftable]
