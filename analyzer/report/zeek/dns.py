"""dns.log: one row per transaction (query and its answer, or an unanswered query), DNS, mDNS and LLMNR
alike as Zeek logs them, from the DNS tracker's transaction records."""

from __future__ import annotations

from typing import Any

from analyzer.report.zeek.common import TS_UID_ID, by_time, records
from analyzer.report.zeek.tsv import Field

FIELDS: tuple[Field, ...] = (
    *TS_UID_ID,
    ("proto", "enum"),
    ("trans_id", "count"),
    ("rtt", "interval"),
    ("query", "string"),
    ("qclass", "count"),
    ("qclass_name", "string"),
    ("qtype", "count"),
    ("qtype_name", "string"),
    ("rcode", "count"),
    ("rcode_name", "string"),
    ("AA", "bool"),
    ("TC", "bool"),
    ("RD", "bool"),
    ("RA", "bool"),
    ("Z", "count"),
    ("answers", "vector[string]"),
    ("TTLs", "vector[interval]"),
    ("rejected", "bool"),
)
"""dns.log columns (Zeek's DNS::Info)."""
SECTIONS = ("dns", "mdns", "llmnr")
"""Summary sections whose transactions go to dns.log."""


def dns_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for section in SECTIONS:
        for tx in records(summary, section, "answers") + records(summary, section, "unanswered"):
            row = dict(tx)
            if (
                row.get("rcode") is None
            ):  # unanswered: no reply, so no answers either (Zeek leaves them unset)
                row["answers"] = None
                row["TTLs"] = None
            rows.append(row)
    return by_time(rows)
