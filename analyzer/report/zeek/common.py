"""Pieces every Zeek log shares: the connection id columns and reading records out of a summary."""

from __future__ import annotations

from typing import Any

from analyzer.report.zeek.tsv import Field

CONN_ID: tuple[Field, ...] = (
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
)
"""Zeek's conn_id record as logged: originator and responder address and port."""
TS_UID_ID: tuple[Field, ...] = (("ts", "time"), ("uid", "string"), *CONN_ID)
"""The first columns of every per-connection log."""


def records(summary: dict[str, Any], *path: str) -> list[dict[str, Any]]:
    """The list of records at summary[path[0]][path[1]]... (empty when absent)."""
    value: Any = summary
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return [r for r in value if isinstance(r, dict)] if isinstance(value, list) else []


def by_time(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows in packet-time order (uid breaks ties), as Zeek writes them."""
    return sorted(rows, key=lambda r: (r.get("ts") or 0.0, str(r.get("uid") or "")))
