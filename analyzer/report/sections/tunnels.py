"""Terminal tables of the tunnels section (Zeek's tunnel.log): encapsulations by type and each tunnel
with its outer endpoints and what it carried."""

from __future__ import annotations

from typing import Any

from analyzer.report.text import Table, count_table, endpoint, safe


def tunnels_tables(summary: dict[str, Any]) -> list[Table]:
    tunnels = summary.get("tunnels") or {}
    if not tunnels.get("count"):
        return []
    by_type = count_table("Tunnels by type", "tunnel", tunnels.get("by_type") or {})
    inner = count_table("Inner flows by tunnel type", "tunnel", tunnels.get("inner_flows_by_type") or {})
    listed = tunnels.get("tunnels") or []
    table = Table(
        f"Tunnels ({tunnels['count']})",
        ["outer source", "outer destination", "type", "inner flows", "inner packets", "inner bytes", "uid"],
        total=tunnels["count"],
        optional=("uid", "inner bytes"),
    )
    for t in listed:
        table.rows.append(
            [
                endpoint(t.get("id.orig_h"), t.get("id.orig_p")),
                endpoint(t.get("id.resp_h"), t.get("id.resp_p")),
                safe(t.get("tunnel_type")),
                t.get("inner_flows", 0),
                t.get("inner_pkts", 0),
                t.get("inner_bytes", 0),
                safe(t.get("uid")),
            ]
        )
    return [by_type, inner, table]


__all__ = ["tunnels_tables"]
