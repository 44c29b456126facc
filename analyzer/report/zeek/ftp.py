"""ftp.log: one row per FTP command with its reply (Zeek logs the commands that matter: logins,
transfers, directory changes), from the FTP tracker's records."""

from __future__ import annotations

from typing import Any

from analyzer.report.zeek.common import TS_UID_ID, by_time, records
from analyzer.report.zeek.tsv import Field

FIELDS: tuple[Field, ...] = (
    *TS_UID_ID,
    ("user", "string"),
    ("password", "string"),
    ("command", "string"),
    ("arg", "string"),
    ("mime_type", "string"),
    ("file_size", "count"),
    ("reply_code", "count"),
    ("reply_msg", "string"),
    ("data_channel.passive", "bool"),
    ("data_channel.orig_h", "addr"),
    ("data_channel.resp_h", "addr"),
    ("data_channel.resp_p", "port"),
)
"""ftp.log columns (Zeek's FTP::Info; the password is `<hidden>` as Zeek writes it, never the text)."""
HIDDEN = "<hidden>"


def ftp_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for rec in records(summary, "ftp", "sessions"):
        row = dict(rec)
        if row.get("password"):
            row["password"] = HIDDEN
        rows.append(row)
    return by_time(rows)
