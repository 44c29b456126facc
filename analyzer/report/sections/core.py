"""Terminal tables of the core sections: capture overview, protocol hierarchy, flows, malformed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from analyzer.report.text import Table, duration_text, endpoint, safe, size_text, utc
from analyzer.summary import rates

PROTOCOL_ORDER = ["eth", "sll", "null", "ppp", "vlan", "mpls", "ipv4", "ipv6", "tcp", "udp", "icmp", "icmpv6"]
"""Hierarchy rows shown first, in this order; other layers follow by count."""


def _rate(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:,.2f} {unit}"


def _duration(seconds: float) -> str:
    exact = f"{seconds:.6f} s"
    return exact if seconds < 60 else f"{duration_text(seconds)} ({exact})"


def _interfaces(f: dict[str, Any]) -> str:
    parts = []
    for i, iface in enumerate(f.get("interfaces") or []):
        name = f"{safe(iface['name'])} " if iface.get("name") else ""
        parts.append(f"#{i} {name}({iface['link_type']}, snaplen {iface['snaplen']})")
    return ", ".join(parts) or "-"


CAPTURE_ROWS: list[tuple[str, Callable[[dict[str, Any]], Any]]] = [
    ("format", lambda f: (f.get("format") or "-") + (", gzip" if f.get("compressed") else "")),
    ("encapsulation", lambda f: ", ".join(f.get("link_types") or {}) or "-"),
    ("snap length", lambda f: "-" if f.get("snaplen") is None else f"{f['snaplen']} bytes"),
    ("interfaces", lambda f: f"{len(f.get('interfaces') or [])}: {_interfaces(f)}"),
    ("packets", lambda f: f"{f['packets']:,}"),
    (
        "file size",
        lambda f: (
            "-" if f.get("file_size") is None else f"{f['file_size']:,} bytes ({size_text(f['file_size'])})"
        ),
    ),
    ("data size", lambda f: f"{f['bytes']:,} bytes ({size_text(f['bytes'])})"),
    ("first packet (UTC)", lambda f: time_us(f.get("first_ts"))),
    ("last packet (UTC)", lambda f: time_us(f.get("last_ts"))),
    ("duration", lambda f: _duration(f["duration"])),
    ("data byte rate", lambda f: _rate(f.get("data_rate"), "bytes/s")),
    ("data bit rate", lambda f: _rate(f.get("bit_rate"), "bits/s")),
    ("average packet size", lambda f: _rate(f.get("avg_packet_size"), "bytes")),
    ("average packet rate", lambda f: _rate(f.get("packet_rate"), "packets/s")),
]
"""Rows of the capture block, as capinfos prints them: label -> value from a file entry (or from the
capture totals, which carry the same keys)."""


def time_us(ts: float | None) -> str:
    """Packet time as UTC date and time to the microsecond, as capinfos prints it."""
    if ts is None:
        return "-"
    return utc(ts).strftime("%Y-%m-%d %H:%M:%S.%f")


def capture_tables(summary: dict[str, Any]) -> list[Table]:
    cap = summary["capture"]
    files = cap.get("files") or []
    columns = [safe(f["path"]) for f in files]
    entries = list(files)
    if len(files) != 1:
        totals = dict(cap)
        totals["format"] = ", ".join(dict.fromkeys(f.get("format") or "-" for f in files)) or "-"
        totals["interfaces"] = [i for f in files for i in f.get("interfaces") or []]
        sizes = [f.get("file_size") for f in files]
        totals["file_size"] = sum(n for n in sizes if n is not None) if files and None not in sizes else None
        totals.update(rates(cap["packets"], cap["bytes"], cap["duration"]))
        snaps = [f.get("snaplen") for f in files if f.get("snaplen") is not None]
        totals["snaplen"] = max(snaps, default=None)
        columns.append("all files")
        entries.append(totals)
    block = Table("Capture (times in UTC)", ["file", *columns], ranked=False)
    for label, value in CAPTURE_ROWS:
        block.rows.append([label, *(value(e) for e in entries)])
    protocols = summary["protocols"]
    total = cap["packets"] or 1
    order = [p for p in PROTOCOL_ORDER if p in protocols] + [p for p in protocols if p not in PROTOCOL_ORDER]
    hierarchy = Table("Protocol hierarchy (frames containing)", ["protocol", "frames", "share"], ranked=False)
    for name in order:
        hierarchy.rows.append([safe(name), protocols[name], f"{100 * protocols[name] / total:.1f}%"])
    return [block, hierarchy]


ICMP_PROTOS = frozenset({"icmp", "icmpv6", "ipv6-icmp"})
"""Flow protocols whose "ports" are an ICMP type and code (Zeek's conn.log convention)."""


def flow_tables(summary: dict[str, Any]) -> list[Table]:
    flows = summary.get("flows") or {}
    kept = flows.get("top", [])
    has_icmp = any(f["proto"] in ICMP_PROTOS for f in kept)
    top = Table(
        f"Top conversations by bytes ({flows.get('count', 0)} flows)",
        [
            "proto",
            "originator",
            "responder",
            *(["type/code"] if has_icmp else []),
            "service",
            "state",
            "pkts",
            "bytes",
        ],
        optional=("state", "service"),
        total=flows.get("count", 0),
    )
    for f in kept:
        icmp = f["proto"] in ICMP_PROTOS
        top.rows.append(
            [
                f["proto"],
                endpoint(f["id.orig_h"], None if icmp else f["id.orig_p"]),
                endpoint(f["id.resp_h"], None if icmp else f["id.resp_p"]),
                *([f"{f['id.orig_p']}/{f['id.resp_p']}" if icmp else "-"] if has_icmp else []),
                safe(f["service"] or "-"),
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
