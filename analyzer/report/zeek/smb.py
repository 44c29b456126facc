"""smb_files.log (one row per file opened over SMB) and smb_mapping.log (one row per tree connect),
from the SMB tracker's records."""

from __future__ import annotations

from typing import Any

from analyzer.report.zeek.common import TS_UID_ID, by_time, records
from analyzer.report.zeek.tsv import Field

FILES_FIELDS: tuple[Field, ...] = (
    *TS_UID_ID,
    ("action", "enum"),
    ("path", "string"),
    ("name", "string"),
    ("size", "count"),
)
"""smb_files.log columns (Zeek's SMB::FileInfo)."""
MAPPING_FIELDS: tuple[Field, ...] = (
    *TS_UID_ID,
    ("path", "string"),
    ("service", "string"),
    ("native_file_system", "string"),
    ("share_type", "string"),
)
"""smb_mapping.log columns (Zeek's SMB::TreeInfo)."""
PIPE_SHARE = "PIPE"


def _action(rec: dict[str, Any]) -> str:
    """Zeek's SMB::Action for what was done with the file (the last thing that matters)."""
    kind = "PIPE" if str(rec.get("path") or "").upper().endswith("IPC$") else "FILE"
    if rec.get("bytes_written"):
        return f"SMB::{kind}_WRITE"
    if rec.get("bytes_read"):
        return f"SMB::{kind}_READ"
    return f"SMB::{kind}_OPEN"


def files_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for rec in records(summary, "smb", "files"):
        row = dict(rec)
        row["action"] = _action(rec)
        row["size"] = rec.get("size") or 0
        rows.append(row)
    return by_time(rows)


def mapping_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for rec in records(summary, "smb", "trees"):
        row = dict(rec)
        row["share_type"] = rec.get("share_type") or "DISK"
        rows.append(row)
    return by_time(rows)
