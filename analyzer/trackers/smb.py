"""SMB: commands per version, dialects, function groups, status codes, sessions, trees and files.

Theory of operation
-------------------
Counting follows tshark so the numbers compare: an SMB1 message counts once under the command of its
header (AndX-chained commands are counted apart in `andx_chained_commands`), an SMB2 PDU counts once
per header, so every PDU of a compound counts. Requests and responses are told apart by the header's
reply/response flag. Dialects come from NEGOTIATE requests (offered, every occurrence) and responses
(chosen); an SMB1 NEGOTIATE answered in SMB2 counts its chosen dialect under smb2. Transform
messages (0xFD encrypted, 0xFC compressed) are counted, not parsed.

`functions` counts requests by the three kinds of function the protocol notes list: session
management, file and printer access, messaging (pipes, transactions, echo). SMB1 browser datagrams
(UDP 138) count as commands like tshark counts them, but never make a session: sessions are the
per-connection records TCP dissectors emit when a connection ends. Lists are bounded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, ClassVar

from analyzer.dissectors.smb import (
    FUNCTIONS,
    SmbCommand,
    SmbDialects,
    SmbFileRecord,
    SmbSessionRecord,
    SmbTransform,
    SmbTreeRecord,
    SmbWeird,
)
from analyzer.records import to_jsonable

MAX_SESSIONS = 10_000
"""Connection records kept for the report."""
MAX_TREES = 10_000
"""Tree connects kept for the report."""
MAX_FILES = 10_000
"""File records kept for the report."""
MAX_KEYS = 512
"""Distinct keys per counter (commands, dialects, status codes): names come from tables, but an
unknown code is shown in hex and a hostile peer could send many; further keys count as OTHER_KEY."""
OTHER_KEY = "(other)"
"""Counter key for values beyond MAX_KEYS."""


def _count(counter: Counter[str], key: str, n: int = 1) -> None:
    if key not in counter and len(counter) >= MAX_KEYS:
        key = OTHER_KEY
    counter[key] += n


class _Version:
    """Counters of one SMB version."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.responses: Counter[str] = Counter()
        self.chained: Counter[str] = Counter()
        self.offered: Counter[str] = Counter()
        self.negotiated: Counter[str] = Counter()

    def seen(self) -> bool:
        return bool(self.requests or self.responses or self.offered or self.negotiated)


class SmbTracker:
    """Builds the "smb" section."""

    EVENT_TYPES: ClassVar[tuple[type, ...]] = (
        SmbCommand,
        SmbDialects,
        SmbTransform,
        SmbWeird,
        SmbTreeRecord,
        SmbFileRecord,
        SmbSessionRecord,
    )

    def __init__(self) -> None:
        self.v1 = _Version()
        self.v2 = _Version()
        self.encrypted = 0
        self.compressed = 0
        self.functions: Counter[str] = Counter({f: 0 for f in FUNCTIONS})
        self.status_codes: Counter[str] = Counter()
        self.transports: Counter[str] = Counter()
        self.malformed: Counter[str] = Counter()
        self.sessions: list[SmbSessionRecord] = []
        self.trees: list[SmbTreeRecord] = []
        self.files: list[SmbFileRecord] = []
        self.dropped = 0
        self._handlers: dict[type, Callable[[Any], None]] = {
            SmbCommand: self._command,
            SmbDialects: self._dialects,
            SmbTransform: self._transform,
            SmbWeird: self._weird,
            SmbTreeRecord: self._tree,
            SmbFileRecord: self._file,
            SmbSessionRecord: self._session,
        }

    def handle(self, event: Any) -> None:
        self._handlers[type(event)](event)

    def expire(self, now: float) -> None:
        pass  # nothing waits for time: records arrive finished

    def _command(self, ev: SmbCommand) -> None:
        v = self.v1 if ev.version == 1 else self.v2
        _count(v.responses if ev.is_response else v.requests, ev.command)
        for name in ev.chained:
            _count(v.chained, name)
        _count(self.transports, ev.transport)
        if ev.is_response:
            if ev.status is not None:
                _count(self.status_codes, ev.status)
        else:
            self.functions[ev.function] += 1

    def _dialects(self, ev: SmbDialects) -> None:
        v = self.v1 if ev.version == 1 else self.v2
        for name in ev.offered:
            _count(v.offered, name)
        if ev.chosen is not None:
            _count(v.negotiated, ev.chosen)

    def _transform(self, ev: SmbTransform) -> None:
        if ev.kind == "encrypted":
            self.encrypted += 1
        else:
            self.compressed += 1

    def _weird(self, ev: SmbWeird) -> None:
        _count(self.malformed, ev.reason)

    def _keep(self, items: list[Any], item: Any, limit: int) -> None:
        if len(items) < limit:
            items.append(item)
        else:
            self.dropped += 1

    def _tree(self, ev: SmbTreeRecord) -> None:
        self._keep(self.trees, ev, MAX_TREES)

    def _file(self, ev: SmbFileRecord) -> None:
        self._keep(self.files, ev, MAX_FILES)

    def _session(self, ev: SmbSessionRecord) -> None:
        self._keep(self.sessions, ev, MAX_SESSIONS)

    def finish(self) -> dict[str, Any]:
        v1, v2 = self.v1, self.v2
        if not (
            v1.seen() or v2.seen() or self.encrypted or self.compressed or self.sessions or self.malformed
        ):
            return {}

        def counts(c: Counter[str]) -> dict[str, int]:
            return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))

        def records(items: list[Any]) -> list[Any]:
            return [to_jsonable(r) for r in sorted(items, key=lambda r: (r.ts, r.uid))]

        return {
            "smb": {
                "smb1": {
                    "requests_by_command": counts(v1.requests),
                    "responses_by_command": counts(v1.responses),
                    "andx_chained_commands": counts(v1.chained),
                    "dialects_offered": counts(v1.offered),
                    "negotiated_dialects": counts(v1.negotiated),
                },
                "smb2": {
                    "requests_by_command": counts(v2.requests),
                    "responses_by_command": counts(v2.responses),
                    "dialects_offered": counts(v2.offered),
                    "negotiated_dialects": counts(v2.negotiated),
                    "encrypted": self.encrypted,
                    "compressed": self.compressed,
                },
                "functions": dict(self.functions),
                "status_codes": counts(self.status_codes),
                "by_transport": counts(self.transports),
                "sessions": records(self.sessions),
                "trees": records(self.trees),
                "files": records(self.files),
                "malformed": counts(self.malformed),
                "dropped_records": self.dropped,
            }
        }
