"""Terminal tables of the core sections: capture overview, protocol hierarchy, flows, malformed."""

from __future__ import annotations

from typing import Any

from analyzer.report.text import Table, safe, time_ms

PROTOCOL_ORDER = ["eth", "sll", "null", "ppp", "vlan", "mpls", "ipv4", "ipv6", "tcp", "udp", "icmp", "icmpv6"]
"""Hierarchy rows shown first, in this order; other layers follow by count."""


def capture_tables(summary: dict[str, Any]) -> list[Table]:
    cap = summary["capture"]
    files = Table(
        "Capture", ["file", "format", "link types", "packets", "bytes", "first", "last", "duration s"]
    )
    for f in cap["files"]:
        files.rows.append(
            [
                safe(f["path"], 40),
                f["format"] or "-",
                ", ".join(f["link_types"]) or "-",
                f["packets"],
                f["bytes"],
                time_ms(f["first_ts"]),
                time_ms(f["last_ts"]),
                f"{f['duration']:.3f}",
            ]
        )
    protocols = summary["protocols"]
    total = cap["packets"] or 1
    order = [p for p in PROTOCOL_ORDER if p in protocols] + [p for p in protocols if p not in PROTOCOL_ORDER]
    hierarchy = Table("Protocol hierarchy (frames containing)", ["protocol", "frames", "share"])
    for name in order:
        hierarchy.rows.append([safe(name), protocols[name], f"{100 * protocols[name] / total:.1f}%"])
    return [files, hierarchy]


def flow_tables(summary: dict[str, Any]) -> list[Table]:
    flows = summary.get("flows") or {}
    top = Table(
        f"Top conversations by bytes ({flows.get('count', 0)} flows)",
        ["proto", "originator", "responder", "service", "state", "pkts", "bytes"],
    )
    for f in flows.get("top", []):
        top.rows.append(
            [
                f["proto"],
                safe(f"{f['id.orig_h']}:{f['id.orig_p']}", 30),
                safe(f"{f['id.resp_h']}:{f['id.resp_p']}", 30),
                safe(f["service"] or "-", 16),
                f["conn_state"],
                f["orig_pkts"] + f["resp_pkts"],
                f["orig_ip_bytes"] + f["resp_ip_bytes"],
            ]
        )
    states = Table("Connection states", ["conn_state", "flows"])
    states.rows = [[k, v] for k, v in (flows.get("by_conn_state") or {}).items()]
    return [top, states] if flows.get("count") else []


def malformed_tables(summary: dict[str, Any]) -> list[Table]:
    malformed = summary.get("malformed") or {}
    if not malformed:
        return []
    return [Table("Malformed", ["reason", "count"], [[safe(k), v] for k, v in malformed.items()])]
