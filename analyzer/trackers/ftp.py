"""FTP: command and reply counts, ftp.log lines, control connections and data connections.

Theory of operation
-------------------
Counting follows tshark 4.0 so the numbers compare: `commands` counts the command lines that began
a TCP segment (tshark parses only the first line of a segment), by verb as sent; `reply_codes`
counts `FtpResponseCode` events (every line beginning a segment that starts with a code, so a
multi-line reply whose lines travel in separate segments counts once per such line). `replies`
counts whole replies by code (a multi-line reply once).

Records: `FtpRecord` events are the ftp.log lines ("sessions" in the JSON, Zeek names), and
`FtpDataRecord` events are the data connections. At `finish()` each data connection is joined to
the transfer command it served: same control connection (parent_uid), and its endpoint equals the
announced data channel (either orientation: an active-mode connection may be seen from either
side). A joined transfer gets the data connection's MIME type, and its bytes as file size when no
size was announced. Every list is bounded; what does not fit is counted as dropped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, ClassVar

from analyzer.dissectors.ftp import (
    TRANSFER_COMMANDS,
    UPLOAD_COMMANDS,
    FtpCommand,
    FtpDataRecord,
    FtpRecord,
    FtpReply,
    FtpResponseCode,
    FtpSessionEnd,
)
from analyzer.records import to_jsonable

MAX_RECORDS = 10_000
"""ftp.log lines kept for the report (all are counted)."""
MAX_DATA_RECORDS = 10_000
"""Data connections kept for joining and reporting."""
MAX_CONNECTIONS = 10_000
"""Control connections kept for the report."""
MAX_COMMAND_KEYS = 256
"""Distinct verbs counted; FTP has ~50, a client sending garbage must not grow the table unboundedly.
Further verbs are counted under OTHER_KEY."""
OTHER_KEY = "(other)"
"""Counter key for verbs beyond MAX_COMMAND_KEYS."""
DOTTED_FIELDS = {
    "data_channel_passive": "data_channel.passive",
    "data_channel_orig_h": "data_channel.orig_h",
    "data_channel_resp_h": "data_channel.resp_h",
    "data_channel_resp_p": "data_channel.resp_p",
}
"""Record fields that Zeek's ftp.log spells with a dot."""


def _record_json(rec: FtpRecord, mime_type: str | None, file_size: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in to_jsonable(rec).items():
        out[DOTTED_FIELDS.get(key, key)] = value
    out["mime_type"] = mime_type
    out["file_size"] = file_size
    return out


def _endpoint_match(rec: FtpRecord, data: FtpDataRecord) -> bool:
    host, port = rec.data_channel_resp_h, rec.data_channel_resp_p
    return (host == data.resp_h and port == data.resp_p) or (host == data.orig_h and port == data.orig_p)


class FtpTracker:
    """Builds the "ftp" section."""

    EVENT_TYPES: ClassVar[tuple[type, ...]] = (
        FtpCommand,
        FtpResponseCode,
        FtpReply,
        FtpRecord,
        FtpSessionEnd,
        FtpDataRecord,
    )

    def __init__(self) -> None:
        self.commands: Counter[str] = Counter()
        self.reply_codes: Counter[str] = Counter()
        self.replies: Counter[str] = Counter()
        self.records: list[FtpRecord] = []
        self.data: list[FtpDataRecord] = []
        self.connections: list[FtpSessionEnd] = []
        self.dropped = 0
        self._handlers: dict[type, Callable[[Any], None]] = {
            FtpCommand: self._command,
            FtpResponseCode: self._code,
            FtpReply: self._reply,
            FtpRecord: self._record,
            FtpSessionEnd: self._connection,
            FtpDataRecord: self._data,
        }

    def handle(self, event: Any) -> None:
        self._handlers[type(event)](event)

    def expire(self, now: float) -> None:
        pass  # everything is bounded by count, nothing waits for time

    def _command(self, ev: FtpCommand) -> None:
        if not ev.at_segment_start:
            return
        key = ev.command
        if key not in self.commands and len(self.commands) >= MAX_COMMAND_KEYS:
            key = OTHER_KEY
        self.commands[key] += 1

    def _code(self, ev: FtpResponseCode) -> None:
        self.reply_codes[str(ev.code)] += 1

    def _reply(self, ev: FtpReply) -> None:
        self.replies[str(ev.code)] += 1

    def _record(self, ev: FtpRecord) -> None:
        if len(self.records) < MAX_RECORDS:
            self.records.append(ev)
        else:
            self.dropped += 1

    def _connection(self, ev: FtpSessionEnd) -> None:
        if len(self.connections) < MAX_CONNECTIONS:
            self.connections.append(ev)
        else:
            self.dropped += 1

    def _data(self, ev: FtpDataRecord) -> None:
        if len(self.data) < MAX_DATA_RECORDS:
            self.data.append(ev)
        else:
            self.dropped += 1

    def finish(self) -> dict[str, Any]:
        if not (self.commands or self.reply_codes or self.records or self.data or self.connections):
            return {}
        transfers: dict[str, list[int]] = {}
        for i, rec in enumerate(self.records):
            if rec.command in TRANSFER_COMMANDS and rec.data_channel_resp_p is not None:
                transfers.setdefault(rec.uid, []).append(i)
        joined: dict[int, FtpDataRecord] = {}
        channels: list[dict[str, Any]] = []
        for data in sorted(self.data, key=lambda d: (d.ts, d.uid)):
            match = None
            for i in transfers.get(data.parent_uid or "", []):
                if i not in joined and _endpoint_match(self.records[i], data):
                    match = i
                    break
            served = self.records[match] if match is not None else None
            if match is not None:
                joined[match] = data
            entry = to_jsonable(data)
            entry["passive"] = served.data_channel_passive if served else None
            entry["command"] = served.command if served else None
            entry["arg"] = served.arg if served else None
            entry["direction"] = (
                None if served is None else "upload" if served.command in UPLOAD_COMMANDS else "download"
            )
            entry["bytes"] = data.orig_bytes + data.resp_bytes
            channels.append(entry)
        sessions = []
        for i, rec in enumerate(self.records):
            moved = joined.get(i)
            mime = moved.mime_type if moved else rec.mime_type
            size = rec.file_size
            if size is None and moved is not None:
                size = moved.orig_bytes + moved.resp_bytes
            sessions.append(_record_json(rec, mime, size))
        return {
            "ftp": {
                "commands": dict(self.commands.most_common()),
                "reply_codes": dict(self.reply_codes.most_common()),
                "replies": dict(self.replies.most_common()),
                "sessions": sessions,
                "data_channels": channels,
                "connections": [
                    to_jsonable(c) for c in sorted(self.connections, key=lambda c: (c.ts, c.uid))
                ],
                "dropped_records": self.dropped,
            }
        }
