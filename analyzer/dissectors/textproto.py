"""What the mail dissectors (SMTP, POP3, IMAP) share: a line protocol that can switch to TLS.

Theory of operation
-------------------
`LineProtocol` is the stream-dissector skeleton of a text protocol. Each direction (`_Side`) reads
its in-order bytes in one of four modes, checked in this order for every piece of a chunk:

    held  -- bytes kept aside, unparsed (the client's bytes after STARTTLS/STLS, until the server's
             answer says whether they are TLS or more commands); bounded by MAX_HELD_BYTES
    raw   -- `raw_left` bytes passed through uncounted as lines (SMTP BDAT chunks, IMAP literals)
    body  -- dot-terminated lines (SMTP DATA, POP3 multi-line answers): tolerant of long lines, only
             a bounded prefix of each is kept, so a 100 KB HTML line in a mail body does not fail
    line  -- CRLF/LF lines through `LineBuffer` (bounded: a longer line is Malformed, which is
             what a 1 MB "banner" without a newline is)

The protocol subclass gets `_line` / `_body_line` / `_raw` / `_raw_done` calls and switches the
modes with `expect_raw`, `begin_body`, `end_body`, `hold` and `release`. Lines are cut one at a time
(the chunk is searched for LF and only that line is fed to the LineBuffer), so a mode switch in the
middle of a chunk leaves the rest of the chunk untouched for the new mode.

`first` tells a hook whether its line is the first one completed by the current chunk. tshark 4.0
counts some things per TCP segment rather than per line (an SMTP reply code per reply *piece*,
POP3 only the first line of a segment); since the pipeline hands over one chunk per in-order
segment, this flag reproduces its numbers. The logical events do not depend on it.

Upgrade: `start_tls(ts)` (called by the subclass on the server's positive answer) builds a
`TlsDissector` for the flow; the client's held bytes, anything left in either line buffer and the
rest of the current chunk go to it, and from then on every byte of both directions (and every gap)
does. Its events are returned unchanged, so they reach the TLS tracker.

Gaps: in raw mode a gap is absorbed by the byte count; otherwise the partial line is dropped and
the side resynchronises at the next LF (a body stays a body: its end is still found).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from analyzer.dissectors.base import TlsUpgrade
from analyzer.dissectors.lines import LineBuffer
from analyzer.errors import Malformed

if TYPE_CHECKING:
    from analyzer.flows import Flow

# -- limits -----------------------------------------------------------------------------------------

MAX_HELD_BYTES = 64 * 1024
"""Client bytes kept while a STARTTLS/STLS answer is pending. A ClientHello with post-quantum key
shares stays under 8 KiB and a client sends nothing else before the ServerHello; more than 64 KiB
unanswered is not a TLS start and the stream is given up."""
MAX_BODY_LINE_KEPT = 1024
"""Bytes kept of each body line (RFC 5321 4.5.3.1.6 allows 1000 octets per line); the rest of a longer
line is counted, not kept."""
MAX_TEXT = 256
"""Characters kept of any wire text placed in an event (reply text, arguments, header values)."""
MAX_KEY_CHARS = 32
"""Longest command word counted under its own name; real verbs have at most 12 letters."""
MAX_HEADER_BYTES = 32 * 1024
"""Bytes of a message's header block examined for Date/From/To/Subject/...; a header block is a few
KiB, a larger one is spam or an attack, and its fields past this point are ignored."""
MAX_LIST_ITEMS = 32
"""Items kept in any list placed in an event (To addresses, Received path, extensions)."""

# -- tables -----------------------------------------------------------------------------------------

HEADER_FIELDS: dict[bytes, str] = {
    b"date": "date",
    b"from": "from",
    b"to": "to",
    b"cc": "cc",
    b"reply-to": "reply_to",
    b"message-id": "msg_id",
    b"in-reply-to": "in_reply_to",
    b"subject": "subject",
    b"x-originating-ip": "x_originating_ip",
    b"user-agent": "user_agent",
    b"x-mailer": "user_agent",
}
"""Message header (lower case) -> the Zeek smtp.log field it fills (the first occurrence wins)."""
LIST_HEADERS = frozenset({"to", "cc"})
"""Header fields that hold address lists (split on commas)."""

_RECEIVED_ADDR = re.compile(rb"\[(?:IPv6:)?([0-9A-Fa-f:.]{3,45})\]")


def text(raw: bytes, limit: int = MAX_TEXT) -> str:
    """Wire bytes as display text: UTF-8 with replacement, cut to `limit` characters."""
    return raw[: limit * 4].decode("utf-8", "replace")[:limit]


def word_key(raw: bytes) -> str:
    """A command word as a counter key: overlong words share one key, so garbage cannot grow a table."""
    if len(raw) > MAX_KEY_CHARS:
        return "(overlong)"
    return raw.decode("latin-1")


# -- shared events ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MailSessionStart:
    """A mail-protocol dissector started on a flow (its first bytes arrived)."""

    @staticmethod
    def log_path_field() -> str:
        """Shared by several protocols: this field names the `_path` in `events`."""
        return "service"

    ts: float
    """Time of the first bytes."""
    uid: str
    """Connection uid."""
    service: str
    """smtp, pop3 or imap."""
    orig_h: str
    """Client address."""
    orig_p: int
    """Client port."""
    resp_h: str
    """Server address."""
    resp_p: int
    """Server port."""


@dataclass(frozen=True, slots=True)
class AuthContinuation:
    """A SASL exchange line sent by the client (its content, a credential, is never kept)."""

    @staticmethod
    def log_path_field() -> str:
        """Shared by several protocols: this field names the `_path` in `events`."""
        return "service"

    ts: float
    """Time of the line."""
    uid: str
    """Connection uid."""
    service: str
    """smtp, pop3 or imap."""


@dataclass(frozen=True, slots=True)
class MailOddLine:
    """A line that does not fit the protocol where it stands; counted, then parsing goes on."""

    @staticmethod
    def log_path_field() -> str:
        """Shared by several protocols: this field names the `_path` in `events`."""
        return "service"

    ts: float
    """Time of the line."""
    uid: str
    """Connection uid."""
    service: str
    """smtp, pop3 or imap."""
    from_client: bool
    """Sent by the client."""
    reason: str
    """Short stable key (e.g. "reply_without_code", "empty_command")."""


@dataclass(frozen=True, slots=True)
class MailGap:
    """Bytes missing from one direction (TCP gap): the line in progress was dropped."""

    @staticmethod
    def log_path_field() -> str:
        """Shared by several protocols: this field names the `_path` in `events`."""
        return "service"

    ts: float
    """Time the gap was noticed."""
    uid: str
    """Connection uid."""
    service: str
    """smtp, pop3 or imap."""
    from_client: bool
    """The client's direction."""
    size: int
    """Bytes missing."""


# -- a message's header block -----------------------------------------------------------------------


class HeaderCollector:
    """Keeps the start of a message (bounded) until its empty line, then extracts the Zeek fields."""

    __slots__ = ("_buf", "done")

    def __init__(self) -> None:
        self._buf = bytearray()
        self.done = False
        """The header block is complete (or over its limit): further bytes are ignored."""

    def add(self, data: bytes) -> None:
        """Message bytes in order (dot-unstuffed, line ends included)."""
        if self.done:
            return
        start = max(0, len(self._buf) - 3)
        self._buf += data[: MAX_HEADER_BYTES - len(self._buf) + 1]
        ended = self._buf.find(b"\n\n", start) >= 0 or self._buf.find(b"\n\r\n", start) >= 0
        no_headers = self._buf.startswith((b"\r\n", b"\n"))
        self.done = ended or no_headers or len(self._buf) > MAX_HEADER_BYTES

    def fields(self) -> tuple[dict[str, str | tuple[str, ...]], tuple[str, ...]]:
        """({zeek field: value}, Received-header addresses (newest first))."""
        found: dict[str, str | tuple[str, ...]] = {}
        path: list[str] = []
        for name, value in _unfold(bytes(self._buf[:MAX_HEADER_BYTES])):
            if name == b"received":
                m = _RECEIVED_ADDR.search(value)
                if m and len(path) < MAX_LIST_ITEMS:
                    path.append(m.group(1).decode("latin-1"))
                continue
            field = HEADER_FIELDS.get(name)
            if field is None or field in found:
                continue
            if field in LIST_HEADERS:
                parts = [text(p.strip()) for p in value.split(b",") if p.strip()]
                found[field] = tuple(parts[:MAX_LIST_ITEMS])
            else:
                found[field] = text(value.strip())
        return found, tuple(path)


def _unfold(block: bytes) -> list[tuple[bytes, bytes]]:
    """(lower-case name, unfolded value) of each header line before the first empty line."""
    headers: list[tuple[bytes, bytes]] = []
    for raw in block.split(b"\n"):
        line = raw.rstrip(b"\r")
        if not line:
            break
        if line[:1] in (b" ", b"\t"):
            if headers:
                name, value = headers[-1]
                if len(value) < MAX_TEXT * 4:
                    headers[-1] = (name, value + b" " + line.strip())
            continue
        name, sep, value = line.partition(b":")
        if sep and name and b" " not in name.strip():
            headers.append((name.strip().lower(), value.strip()))
    return headers


# -- the line-protocol skeleton ---------------------------------------------------------------------


class _Body:
    """A dot-terminated line in progress: a bounded prefix and the full size."""

    __slots__ = ("buf", "size")

    def __init__(self) -> None:
        self.buf = bytearray()
        self.size = 0

    def add(self, data: bytes, start: int, stop: int) -> None:
        room = MAX_BODY_LINE_KEPT - len(self.buf)
        if room > 0:
            self.buf += data[start : min(stop, start + room)]
        self.size += stop - start

    def take(self) -> tuple[bytes, int]:
        """The finished line (CR LF stripped, bounded) and its size on the wire (line end included)."""
        line = bytes(self.buf)
        if line.endswith(b"\n"):
            line = line[:-1]
        if line.endswith(b"\r"):
            line = line[:-1]
        size = self.size
        self.buf.clear()
        self.size = 0
        return line, size


class _Side:
    """One direction's reading state."""

    __slots__ = ("body", "first", "held", "held_bytes", "lines", "raw_left", "resync")

    def __init__(self, name: str) -> None:
        self.lines = LineBuffer(name)
        self.raw_left = 0
        """Bytes still to pass through in raw mode."""
        self.body: _Body | None = None
        """Set while the side sends a dot-terminated body."""
        self.held: list[bytes | int] | None = None
        """Chunks (bytes) and gaps (int) kept aside while an upgrade answer is pending."""
        self.held_bytes = 0
        self.resync = False
        """A gap cut a line: skip to the next LF."""
        self.first = True
        """No line completed yet in the current chunk."""


class _Discard:
    """Stands in for the TLS dissector when it cannot be imported: the TLS bytes are ignored."""

    def feed(self, data: bytes, from_client: bool, ts: float) -> list[Any]:
        return []

    def gap(self, size: int, from_client: bool, ts: float) -> list[Any]:
        return []

    def close(self, ts: float) -> list[Any]:
        return []

    def opaque(self, from_client: bool) -> int:
        return 0

    def skipped(self, size: int, from_client: bool, ts: float) -> list[Any]:
        return []


class LineProtocol:
    """Stream-dissector skeleton for SMTP/POP3/IMAP: line, body, raw and held modes, then TLS."""

    SERVICE: ClassVar[str] = ""
    UPGRADE_COMMAND: ClassVar[str] = "STARTTLS"
    """The command that asks this protocol to switch to TLS (POP3 says STLS)."""
    """smtp, pop3 or imap: the section, the Malformed prefix and the events' `service`."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.uid = flow.uid
        self._client = _Side(self.SERVICE)
        self._server = _Side(self.SERVICE)
        self._tls: Any = None
        self._started = False
        self.upgraded = False
        """The session switched to TLS (STARTTLS/STLS accepted)."""

    # -- the stream-dissector contract --

    def feed(self, data: bytes, from_client: bool, ts: float) -> list[Any]:
        if self._tls is not None:
            events: list[Any] = self._tls.feed(data, from_client, ts)
            return events
        events = self._begin(ts)
        events += self._process(data, from_client, ts)
        return events

    def opaque(self, from_client: bool) -> int:
        """After STARTTLS, what the TLS dissector will not read; the clear-text part is read whole."""
        if self._tls is None:
            return 0
        size: int = self._tls.opaque(from_client)
        return size

    def skipped(self, size: int, from_client: bool, ts: float) -> list[Any]:
        if self._tls is None:
            return []
        events: list[Any] = self._tls.skipped(size, from_client, ts)
        return events

    def gap(self, size: int, from_client: bool, ts: float) -> list[Any]:
        if self._tls is not None:
            events: list[Any] = self._tls.gap(size, from_client, ts)
            return events
        events = self._begin(ts)
        side = self._client if from_client else self._server
        if side.held is not None:
            side.held.append(size)
            return events
        if side.raw_left:
            used = min(size, side.raw_left)
            side.raw_left -= used
            size -= used
            if not side.raw_left:
                events += self._raw_done(from_client, ts)
            if not size:
                return events
        events.append(MailGap(ts, self.uid, self.SERVICE, from_client, size))
        side.lines.reset()
        if side.body is not None:
            side.body.take()
        side.resync = True
        events += self._gap(size, from_client, ts)
        return events

    def close(self, ts: float) -> list[Any]:
        events = self._begin(ts)
        if self._tls is not None:
            events += self._tls.close(ts)
        events += self._close(ts)
        return events

    # -- hooks for the protocol --

    def _line(self, line: bytes, from_client: bool, ts: float, first: bool) -> list[Any]:
        """A complete line (CR LF stripped) in line mode."""
        raise NotImplementedError

    def _body_line(self, line: bytes, size: int, from_client: bool, ts: float, first: bool) -> list[Any]:
        """A line of a dot-terminated body: bounded prefix (CR LF stripped) and size on the wire."""
        return []

    def _raw(self, data: bytes, from_client: bool) -> None:
        """Raw-mode bytes (a piece of a BDAT chunk or literal)."""

    def _raw_done(self, from_client: bool, ts: float) -> list[Any]:
        """The raw bytes announced by `expect_raw` have all gone by (or were lost in a gap)."""
        return []

    def _gap(self, size: int, from_client: bool, ts: float) -> list[Any]:
        """A gap outside raw mode (the partial line is already dropped)."""
        return []

    def _close(self, ts: float) -> list[Any]:
        """End of the connection."""
        return []

    # -- mode switches for the protocol --

    def expect_raw(self, from_client: bool, size: int) -> None:
        """The next `size` bytes of this side are raw."""
        (self._client if from_client else self._server).raw_left = size

    def cancel_raw(self, from_client: bool) -> None:
        """Forget announced raw bytes (an IMAP synchronising literal the server refused)."""
        (self._client if from_client else self._server).raw_left = 0

    def begin_body(self, from_client: bool) -> None:
        """The following lines of this side form a dot-terminated body."""
        (self._client if from_client else self._server).body = _Body()

    def end_body(self, from_client: bool) -> None:
        """Back to line mode."""
        (self._client if from_client else self._server).body = None

    def in_body(self, from_client: bool) -> bool:
        return (self._client if from_client else self._server).body is not None

    def hold(self, from_client: bool) -> None:
        """Keep this side's further bytes aside until `release` or `start_tls`."""
        side = self._client if from_client else self._server
        side.held = []
        side.held_bytes = 0

    def release(self, from_client: bool, ts: float) -> list[Any]:
        """The upgrade was refused: parse the held bytes as the protocol after all."""
        side = self._client if from_client else self._server
        held, side.held = side.held, None
        events: list[Any] = []
        for item in held or []:
            if isinstance(item, int):
                events += self.gap(item, from_client, ts)
            else:
                events += self.feed(item, from_client, ts)
        return events

    def start_tls(self, ts: float) -> list[Any]:
        """The server accepted the upgrade: hand every later byte of both directions to TLS."""
        try:
            from analyzer.dissectors.tls import TlsDissector
        except ImportError:  # pragma: no cover - the TLS module is part of the package
            self._tls = _Discard()
        else:
            self._tls = TlsDissector(self.flow)
        self.upgraded = True
        self.flow.service = self.SERVICE
        events: list[Any] = [TlsUpgrade(ts, self.uid, self.SERVICE, self.UPGRADE_COMMAND)]
        for from_client, side in ((True, self._client), (False, self._server)):
            held, side.held = side.held, None
            for item in held or []:
                if isinstance(item, int):
                    events += self._tls.gap(item, from_client, ts)
                else:
                    events += self._tls.feed(item, from_client, ts)
            rest = side.lines.take_rest()
            if rest:
                events += self._tls.feed(rest, from_client, ts)
        return events

    # -- the reading loop --

    def _begin(self, ts: float) -> list[Any]:
        if self._started:
            return []
        self._started = True
        f = self.flow
        return [MailSessionStart(ts, self.uid, self.SERVICE, f.orig_h, f.orig_port, f.resp_h, f.resp_port)]

    def _process(self, data: bytes, from_client: bool, ts: float) -> list[Any]:
        side = self._client if from_client else self._server
        side.first = True
        events: list[Any] = []
        pos, end = 0, len(data)
        while pos < end:
            if self._tls is not None:
                events += self._tls.feed(data[pos:] if pos else data, from_client, ts)
                break
            if side.held is not None:
                side.held_bytes += end - pos
                if side.held_bytes > MAX_HELD_BYTES:
                    raise Malformed(f"{self.SERVICE}.starttls_unanswered", f"{side.held_bytes} bytes held")
                side.held.append(data[pos:] if pos else data)
                break
            if side.raw_left:
                take = min(side.raw_left, end - pos)
                side.raw_left -= take
                self._raw(data[pos : pos + take], from_client)
                pos += take
                if not side.raw_left:
                    events += self._raw_done(from_client, ts)
                continue
            nl = data.find(b"\n", pos)
            if side.resync:
                if nl < 0:
                    break
                side.resync = False
                pos = nl + 1
                continue
            if side.body is not None:
                stop = end if nl < 0 else nl + 1
                side.body.add(data, pos, stop)
                pos = stop
                if nl < 0:
                    break
                line, size = side.body.take()
                first, side.first = side.first, False
                events += self._body_line(line, size, from_client, ts, first)
                continue
            if nl < 0:
                if side.lines.pending + end - pos > side.lines.max_line:
                    size = side.lines.pending + end - pos
                    side.lines.reset()
                    raise Malformed(f"{self.SERVICE}.line_too_long", f"{size} bytes without a newline")
                side.lines.feed(data[pos:])
                break
            lines = side.lines.feed(data[pos : nl + 1])
            pos = nl + 1
            first, side.first = side.first, False
            for line in lines:
                events += self._line(line, from_client, ts, first)
        return events
