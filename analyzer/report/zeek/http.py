"""http.log: one row per request/response pair, from the HTTP tracker's transaction records."""

from __future__ import annotations

from typing import Any

from analyzer.report.zeek.common import TS_UID_ID, by_time, records
from analyzer.report.zeek.tsv import Field

FIELDS: tuple[Field, ...] = (
    *TS_UID_ID,
    ("trans_depth", "count"),
    ("method", "string"),
    ("host", "string"),
    ("uri", "string"),
    ("referrer", "string"),
    ("version", "string"),
    ("user_agent", "string"),
    ("request_body_len", "count"),
    ("response_body_len", "count"),
    ("status_code", "count"),
    ("status_msg", "string"),
    ("info_code", "count"),
    ("info_msg", "string"),
    ("tags", "set[enum]"),
    ("orig_mime_types", "vector[string]"),
    ("resp_mime_types", "vector[string]"),
)
"""http.log columns (Zeek's HTTP::Info with base/protocols/http/entities.zeek; no user name or
password column: nothing here keeps credentials)."""


def http_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for tx in records(summary, "http", "transactions"):
        row = dict(tx)
        row["tags"] = []
        for key in ("orig_mime_types", "resp_mime_types"):
            if not row.get(key):
                row[key] = None
        rows.append(row)
    return by_time(rows)
