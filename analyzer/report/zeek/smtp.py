"""smtp.log: one row per mail transaction (trans_depth counts them in a session), from the SMTP
tracker's session records."""

from __future__ import annotations

from typing import Any

from analyzer.report.zeek.common import TS_UID_ID, by_time, records
from analyzer.report.zeek.tsv import Field

FIELDS: tuple[Field, ...] = (
    *TS_UID_ID,
    ("trans_depth", "count"),
    ("helo", "string"),
    ("mailfrom", "string"),
    ("rcptto", "set[string]"),
    ("date", "string"),
    ("from", "string"),
    ("to", "set[string]"),
    ("cc", "set[string]"),
    ("reply_to", "string"),
    ("msg_id", "string"),
    ("in_reply_to", "string"),
    ("subject", "string"),
    ("x_originating_ip", "addr"),
    ("last_reply", "string"),
    ("path", "vector[addr]"),
    ("user_agent", "string"),
    ("tls", "bool"),
)
"""smtp.log columns (Zeek's SMTP::Info)."""
SETS = ("rcptto", "to", "cc")
"""Set columns Zeek leaves unset when empty."""


def smtp_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for rec in records(summary, "smtp", "sessions"):
        row = dict(rec)
        for key in (*SETS, "path"):
            if not row.get(key):
                row[key] = None
        rows.append(row)
    return by_time(rows)
