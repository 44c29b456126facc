"""Terminal tables of the HTTP section: methods, status codes, top hosts, URIs, user agents, exchanges."""

from __future__ import annotations

from typing import Any

from analyzer.report.text import Table, endpoint, safe, share_table

TRANSACTIONS_SHOWN = 20
"""Exchanges listed in the terminal (the JSON keeps more)."""


def _exchanges(http: dict[str, Any]) -> Table:
    shown = http.get("transactions", [])[:TRANSACTIONS_SHOWN]
    table = Table(
        f"HTTP transactions (first {len(shown)})",
        ["client", "method", "host", "uri", "status", "req bytes", "resp bytes"],
    )
    for t in shown:
        table.rows.append(
            [
                endpoint(t["id.orig_h"], t["id.orig_p"]),
                safe(t["method"] or "-"),
                safe(t["host"] or "-"),
                safe(t["uri"] or "-"),
                "-" if t["status_code"] is None else t["status_code"],
                t["request_body_len"],
                t["response_body_len"],
            ]
        )
    return table


def http_tables(summary: dict[str, Any]) -> list[Table]:
    http = summary.get("http") or {}
    if not http.get("request_count") and not http.get("response_count"):
        return []
    upgrades = http.get("upgrades", 0)
    switched = f", {upgrades} upgraded" if upgrades else ""
    return [
        share_table(
            f"HTTP requests by method ({http['request_count']} requests{switched})",
            "method",
            http["requests_by_method"],
        ),
        share_table(
            f"HTTP responses by status ({http['response_count']} responses)",
            "status",
            http["responses_by_code"],
        ),
        share_table("Top HTTP hosts", "host", http.get("hosts", {}), 40),
        share_table("Top HTTP URIs", "uri", http.get("uris", {}), 60),
        share_table("Top HTTP user agents", "user agent", http.get("user_agents", {}), 60),
        _exchanges(http),
    ]
