"""Terminal tables of the `dhcp` section: messages by type, one lease row per client, servers,
findings, and each client's lease timeline."""

from __future__ import annotations

from typing import Any

from analyzer.report.text import Table, safe, time_ms

MAX_LEASE_ROWS = 200
"""Clients listed in the lease table; the JSON keeps them all, a terminal does not need thousands."""
MAX_TIMELINE_CLIENTS = 20
"""Clients whose timeline is printed (the first seen); the JSON has every client's timeline."""
INFINITE_LEASE = 0xFFFFFFFF


def _lease(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    if seconds == INFINITE_LEASE:
        return "infinite"
    return f"{seconds}s"


def _cell(value: Any) -> str:
    return "-" if value is None or value == "" else safe(value)


def dhcp_tables(summary: dict[str, Any]) -> list[Table]:
    section = summary.get("dhcp") or {}
    if not section.get("messages"):
        return []
    by_type = Table("DHCP messages by type", ["message type", "count"])
    by_type.rows = [[safe(k), v] for k, v in section.get("by_message_type", {}).items()]
    leases = section.get("leases", [])
    lease_table = Table(
        f"DHCP leases (one row per client, {len(leases)} clients)",
        [
            "client mac",
            "host name",
            "state",
            "address",
            "server",
            "lease",
            "expires",
            "renew/rebind",
        ],
        optional=("renew/rebind", "lease", "host name"),
        total=len(leases),
    )
    for row in leases[:MAX_LEASE_ROWS]:
        lease_table.rows.append(
            [
                _cell(row["mac"]),
                _cell(row.get("host_name")),
                row["state"],
                _cell(row.get("assigned_addr")),
                _cell(row.get("server_addr")),
                _lease(row.get("lease_time")),
                "never" if row.get("infinite") else time_ms(row.get("expires")),
                f"{row.get('renewals', 0)}/{row.get('rebinds', 0)}",
            ]
        )
    if len(leases) > MAX_LEASE_ROWS:
        lease_table.rows.append([f"... {len(leases) - MAX_LEASE_ROWS} more", *[""] * 7])
    servers = Table("DHCP servers", ["server", "mac", "messages", "clients", "lease times"])
    for s in section.get("servers", []):
        servers.rows.append(
            [
                _cell(s["server_addr"]),
                _cell(s["mac"]),
                safe(", ".join(f"{k} {v}" for k, v in s["by_message_type"].items())),
                s["clients"],
                safe(", ".join(_lease(t) for t in s["lease_times"])),
            ]
        )
    findings = Table("DHCP findings", ["time", "kind", "client", "server", "address", "detail"])
    for f in section.get("findings", []):
        findings.rows.append(
            [
                time_ms(f["ts"]),
                f["kind"],
                _cell(f["mac"]),
                _cell(f["server_addr"]),
                _cell(f["addr"]),
                _cell(f["detail"]),
            ]
        )
    if section.get("findings_dropped"):
        findings.rows.append(["", f"... {section['findings_dropped']} more", "", "", "", ""])
    timeline = Table(
        "DHCP lease timeline",
        ["client mac", "time", "message", "step", "server", "address", "note"],
        ranked=False,
        optional=("step", "server"),
    )
    for row in leases[:MAX_TIMELINE_CLIENTS]:
        for i, e in enumerate(row.get("timeline", [])):
            timeline.rows.append(
                [
                    _cell(row["mac"]) if i == 0 else "",
                    time_ms(e["ts"]),
                    safe(e["msg_type"]),
                    e["step"],
                    _cell(e["server_addr"]),
                    _cell(e["addr"]),
                    _cell(e["note"]),
                ]
            )
        if row.get("timeline_dropped"):
            timeline.rows.append(["", "", "", f"... {row['timeline_dropped']} more", "", "", ""])
    if len(leases) > MAX_TIMELINE_CLIENTS:
        timeline.rows.append([f"... {len(leases) - MAX_TIMELINE_CLIENTS} more clients", *[""] * 6])
    malformed = Table("DHCP malformed messages", ["reason", "count"])
    malformed.rows = [[safe(k), v] for k, v in section.get("malformed", {}).items()]
    return [by_type, lease_table, servers, findings, timeline, malformed]


def dhcpv6_tables(summary: dict[str, Any]) -> list[Table]:
    section = summary.get("dhcpv6") or {}
    if not section.get("messages"):
        return []
    by_type = Table("DHCPv6 messages by type", ["message type", "count"])
    by_type.rows = [[safe(k), v] for k, v in section.get("by_message_type", {}).items()]
    leases = section.get("leases", [])
    clients = Table(
        f"DHCPv6 clients ({len(leases)})",
        ["client mac", "host name", "state", "addresses / prefixes", "valid", "expires", "status"],
    )
    for row in leases[:MAX_LEASE_ROWS]:
        held = row.get("assigned", [])
        clients.rows.append(
            [
                _cell(row.get("mac")),
                _cell(row.get("host_name")),
                row["state"],
                safe(", ".join(b["addr"] for b in held) or "-"),
                ", ".join(_lease(b["valid_lifetime"]) for b in held) or "-",
                time_ms(min((b["expires"] for b in held if b["expires"] is not None), default=None)),
                _cell(row.get("status")),
            ]
        )
    if len(leases) > MAX_LEASE_ROWS:
        clients.rows.append([f"... {len(leases) - MAX_LEASE_ROWS} more", *[""] * 6])
    findings = Table("DHCPv6 findings", ["time", "kind", "client", "server", "detail"])
    for f in section.get("findings", []):
        findings.rows.append(
            [
                time_ms(f["ts"]),
                f["kind"],
                _cell(f["mac"]),
                _cell(f["server_addr"]),
                _cell(f["detail"]),
            ]
        )
    malformed = Table("DHCPv6 malformed messages", ["reason", "count"])
    malformed.rows = [[safe(k), v] for k, v in section.get("malformed", {}).items()]
    return [by_type, clients, findings, malformed]
