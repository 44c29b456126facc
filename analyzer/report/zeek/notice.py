"""notice.log (the findings, one row each) and weird.log (one row per weird, streamed)."""

from __future__ import annotations

from typing import Any

from analyzer.report.zeek.common import records
from analyzer.report.zeek.tsv import Field

NOTICE_FIELDS: tuple[Field, ...] = (
    ("ts", "time"),
    ("uid", "string"),
    ("note", "enum"),
    ("msg", "string"),
    ("sub", "string"),
    ("n", "count"),
    ("actions", "set[enum]"),
    ("suppress_for", "interval"),
)
"""notice.log columns (Zeek's Notice::Info): note is `PcapAnalyzer::<kind>`, msg the summary with its
severity, sub the Wireshark display filter, n the count."""
NOTE_MODULE = "PcapAnalyzer"
"""Module part of every note name (Zeek's notes are Module::Name enums)."""
SUPPRESS_FOR = 3600.0
"""Zeek's default suppression interval (Notice::default_suppression_interval, one hour)."""
WEIRD_FIELDS: tuple[Field, ...] = (
    ("ts", "time"),
    ("uid", "string"),
    ("name", "string"),
    ("addl", "string"),
    ("notice", "bool"),
    ("peer", "string"),
    ("source", "string"),
)
"""weird.log columns (Zeek's Weird::Info, without the optional conn id)."""
PEER = "pcap-analyzer"
"""The `peer` column of weird.log (Zeek writes its node name there)."""


def notice_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for f in records(summary, "findings"):
        kind = "".join(part.capitalize() for part in str(f.get("kind")).split("_"))
        uids = f.get("uids") or []
        rows.append(
            {
                "ts": f.get("first_ts"),
                "uid": uids[0] if uids else None,
                "note": f"{NOTE_MODULE}::{kind}",
                "msg": f"[{f.get('severity')}] {f.get('summary')}",
                "sub": f.get("filter"),
                "n": f.get("count"),
                "actions": ["Notice::ACTION_LOG"],
                "suppress_for": SUPPRESS_FOR,
            }
        )
    return rows


def weird_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The summary's weird list (bounded by the pipeline's MAX_WEIRDS; every weird is counted in
    `malformed`)."""
    rows: list[dict[str, Any]] = []
    for w in records(summary, "weird"):
        name = str(w.get("name") or "")
        source = name.split(".", 1)[0].upper() if "." in name else None
        row: dict[str, Any] = {
            "ts": w.get("ts"),
            "uid": w.get("uid"),
            "name": name,
            "addl": w.get("addl") or None,
        }
        row.update(notice=False, peer=PEER, source=source)
        rows.append(row)
    return sorted(rows, key=lambda r: (r.get("ts") or 0.0, str(r.get("uid") or ""), r["name"]))
