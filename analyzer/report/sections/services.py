"""Terminal tables of hybrid classification: services and how they were recognised, the flows nothing
named (by port), port/payload mismatches, and in-stream TLS upgrades (STARTTLS, STLS, AUTH TLS)."""

from __future__ import annotations

from typing import Any

from analyzer.report.text import Table, endpoint, safe

UNKNOWN_KEY = "unknown"
"""Services key of the flows nothing named (analyzer/trackers/services.py)."""
MAX_ROWS = 50
"""Rows shown per list table (the JSON keeps them all)."""
MISMATCH_KINDS = {
    "unusual_port": "known protocol on a non-standard port",
    "port_mismatch": "standard port carrying something else",
}
"""Mismatch kind -> words for the table."""


def _endpoint(entry: dict[str, Any], side: str) -> str:
    host, port = entry.get(f"id.{side}_h"), entry.get(f"id.{side}_p")
    return "-" if host is None else endpoint(host, port)


def services_tables(summary: dict[str, Any]) -> list[Table]:
    services = summary.get("services") or {}
    table = Table(
        "Services (port proposes, payload confirms)",
        ["service", "flows", "bytes", "port", "payload", "both", "expected"],
    )
    for name, s in services.items():
        if name == UNKNOWN_KEY:
            continue  # listed in a table of its own
        by = s.get("by", {})
        table.rows.append(
            [
                safe(name),
                s["flows"],
                s["bytes"],
                by.get("port", 0),
                by.get("payload", 0),
                by.get("both", 0),
                by.get("expected", 0),
            ]
        )
    unknown = services.get(UNKNOWN_KEY) or {}
    unk = Table(
        f"Flows no port or payload named ({unknown.get('flows', 0)} flows, {unknown.get('bytes', 0)} bytes)",
        ["proto", "port", "flows", "bytes"],
    )
    for p in unknown.get("ports", [])[:MAX_ROWS]:
        unk.rows.append([safe(str(p["proto"]), 4), p["port"], p["flows"], p["bytes"]])
    mismatches = summary.get("mismatches") or []
    mism = Table(
        f"Port/payload mismatches ({len(mismatches)})",
        ["client", "server", "proto", "port proposes", "payload says", "kind"],
    )
    for m in mismatches[:MAX_ROWS]:
        mism.rows.append(
            [
                _endpoint(m, "orig"),
                _endpoint(m, "resp"),
                m["proto"],
                safe(m["port_service"] or "-"),
                safe(m["service"]),
                MISMATCH_KINDS.get(m["kind"], safe(m["kind"])),
            ]
        )
    upgrades = summary.get("upgrades") or []
    upg = Table(
        f"TLS upgrades in the same stream ({len(upgrades)})", ["client", "server", "protocol", "command"]
    )
    for u in upgrades[:MAX_ROWS]:
        upg.rows.append([_endpoint(u, "orig"), _endpoint(u, "resp"), safe(u["protocol"]), safe(u["command"])])
    return [table, unk, mism, upg]
