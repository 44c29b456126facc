"""dhcp.log: one row per lease exchange (the messages of one transaction id: DISCOVER/OFFER/REQUEST/ACK,
a renewal's REQUEST/ACK, a RELEASE, ...), as Zeek's DHCP::Info, from the lease records' timelines.

A lease record of the DHCP tracker covers a client's whole lifecycle and lists each message (with its
xid) in its timeline; the rows here split that timeline by xid. The timeline of one lease is bounded
(the tracker counts what it drops); a lease without a timeline gives one row of its own.
"""

from __future__ import annotations

from typing import Any

from analyzer.report.zeek.common import by_time, records
from analyzer.report.zeek.tsv import Field

FIELDS: tuple[Field, ...] = (
    ("ts", "time"),
    ("uids", "set[string]"),
    ("client_addr", "addr"),
    ("server_addr", "addr"),
    ("mac", "string"),
    ("host_name", "string"),
    ("client_fqdn", "string"),
    ("domain", "string"),
    ("requested_addr", "addr"),
    ("assigned_addr", "addr"),
    ("lease_time", "interval"),
    ("client_message", "string"),
    ("server_message", "string"),
    ("msg_types", "vector[string]"),
    ("duration", "interval"),
)
"""dhcp.log columns (Zeek's DHCP::Info)."""
GRANTS = frozenset({"ACK"})
"""Message types that assign the address they carry."""
NOT_MESSAGES = frozenset({None, "", "-"})
"""Timeline steps that are no DHCP message (a lease expiring) and so belong to no exchange."""
REQUESTS = frozenset({"REQUEST", "DISCOVER", "INFORM", "DECLINE", "RELEASE"})
"""Message types sent by the client (their address is the one it asks about)."""


def _exchanges(timeline: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for step in timeline:
        groups.setdefault(str(step.get("xid")), []).append(step)
    return sorted(groups.values(), key=lambda g: g[0].get("ts") or 0.0)


def _row(lease: dict[str, Any], steps: list[dict[str, Any]]) -> dict[str, Any]:
    server = next((s.get("server_addr") for s in steps if s.get("server_addr")), None)
    granted = [s for s in steps if s.get("msg_type") in GRANTS]
    asked = next((s.get("addr") for s in steps if s.get("msg_type") in REQUESTS and s.get("addr")), None)
    first = steps[0].get("ts") or 0.0
    last = steps[-1].get("ts") or first
    return {
        "ts": first,
        "uids": lease.get("uids") or [],
        "client_addr": lease.get("client_addr"),
        "server_addr": server,
        "mac": lease.get("mac"),
        "host_name": lease.get("host_name"),
        "client_fqdn": lease.get("client_fqdn"),
        "domain": lease.get("domain"),
        "requested_addr": asked,
        "assigned_addr": granted[-1].get("addr") if granted else None,
        "lease_time": lease.get("lease_time") if granted else None,
        "client_message": lease.get("client_message"),
        "server_message": lease.get("server_message"),
        "msg_types": [s.get("msg_type") for s in steps],
        "duration": last - first,
    }


def dhcp_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for lease in records(summary, "dhcp", "leases"):
        timeline = [
            s
            for s in lease.get("timeline") or []
            if isinstance(s, dict) and s.get("msg_type") not in NOT_MESSAGES
        ]
        if not timeline:
            rows.append(
                _row(lease, [{"ts": lease.get("ts"), "msg_type": t} for t in lease.get("msg_types") or []])
                if lease.get("msg_types")
                else _row(lease, [{"ts": lease.get("ts")}])
            )
            continue
        rows.extend(_row(lease, steps) for steps in _exchanges(timeline))
    return by_time(rows)
