"""HTTP/1.x stream dissector: requests and responses on reassembled TCP, paired in order.

Theory of operation
-------------------
Sans-I/O in the spirit of h11: the dissector never touches a socket. It is handed each direction's
reassembled bytes (`feed`) in any chunk sizes, the holes in them (`gap`) and the end (`close`), and
returns events. Each direction has its own reader (`_Side`), a small state machine:

    START --start line--> HEAD --blank line--> framing of the body, then back to START:
        no body (request without length; HEAD answers; 1xx, 204, 304) ...... START
        Content-Length n .................................. BODY (n bytes) . START
        chunked ......... CHUNK_SIZE -> CHUNK_DATA -> CHUNK_END -> ... "0" -> TRAILERS -> START
        response without a length ......................... UNTIL_CLOSE (ends with the connection)
    101 Switching Protocols / CONNECT answered 2xx ......... TUNNEL, both directions: HTTP is over
    not a start line, broken framing, bytes missing ........ LOST --a start line--> START

Which kind a message is comes from its start line, not from the direction: a status line ("HTTP/",
"ICY") is a response, a line whose first token is a method Wireshark knows (`REQUEST_METHODS`, with
the RFC 2774 "M-" prefix) is a request, anything else is not HTTP and the reader is LOST until a
line that is a start line. So a capture whose originator was guessed wrong, or that holds one side
only (asymmetric NAT captures), still parses. Leading empty lines are skipped (RFC 9112 §2.2);
header lines may end in LF alone; obs-fold continuation lines join the previous field.

Pairing. A request's head opens a transaction and queues it (`_awaiting`, bounded); a final
response's head takes the oldest queued transaction opened from the other direction (none: a
response-only transaction). Interim 1xx answers (other than 101) leave it queued. The request's
method settles the response framing (HEAD: no body; CONNECT 2xx: tunnel); a request without a
version ("GET /", HTTP/0.9) may be answered by a bare body that lasts until the close.

Events. `HttpRequest` and `HttpResponse` when a head is complete (the counts that agree with tshark's
http.request.method and http.response.code), `HttpUpgrade` when the flow switches protocol, and
`HttpTransaction` (Zeek's http.log) once both messages of an exchange are complete, when the queue
overflows, or at close. Bodies are counted, never stored.

Gaps. Bytes missing inside a body of known size are counted and skipped: the framing survives. In a
head or in chunk framing the message is finished with what was seen and the reader is LOST; a start
line cut by the gap (or by the end of the stream) is still read by its first tokens, as tshark reads
a truncated frame. The first byte after a gap counts as a line start for the resync.

Limits. A start or header line longer than MAX_LINE_BYTES, a head with more than MAX_HEADER_FIELDS
fields or more than MAX_HEADER_BYTES bytes raise Malformed (the pipeline then detaches the
dissector). Garbage that cannot begin a start line never raises: it is skipped, not buffered.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from analyzer.dissectors.http_lines import (
    _LONGEST_TOKEN,
    MAX_CONTENT_LENGTH_DIGITS,
    REQUEST_METHODS,
    STATUS_PREFIXES,
    _content_length,
    _could_start,
    _is_request_line,
    _mime,
    _split_request,
    _split_status,
    _text,
    _version,
    is_http_start,
)
from analyzer.errors import Malformed
from analyzer.frozen import interpreted_inits
from analyzer.tcp import MAX_SKIP

if TYPE_CHECKING:
    from analyzer.flows import Flow

MAX_LINE_BYTES: Final = 16 * 1024
"""Longest start or header line. Apache (LimitRequestFieldSize 8190) and nginx (8 KiB header buffers)
refuse longer ones with 414/431; twice that leaves room for lenient servers, beyond is an attack."""
MAX_HEADER_FIELDS: Final = 256
"""Fields in one head (trailers included): 2.5 times Apache's LimitRequestFields default of 100."""
MAX_HEADER_BYTES: Final = 64 * 1024
"""Bytes in one head (trailers included): four times Node.js's 16 KiB max-http-header-size."""
MAX_PENDING_REQUESTS: Final = 64
"""Requests waiting for their response (pipelining depth). Browsers pipeline a handful at most; a
request-only capture beyond this logs the oldest as unanswered instead of holding it."""
MAX_CHUNK_SIZE_DIGITS: Final = 16
"""Hex digits of a chunk size: 16 is 2^64 - 1, the most any implementation can represent."""
_CHUNK_SIZE: Final = re.compile(rb"[0-9A-Fa-f]{1,%d}" % MAX_CHUNK_SIZE_DIGITS)
_KEPT_FIELDS: Final = frozenset(
    (b"host", b"user-agent", b"referer", b"content-type", b"content-length", b"transfer-encoding", b"upgrade")
)
"""Header fields read; the others are counted against the limits and dropped."""


# --------------------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, init=False)
class HttpRequest:
    """A request head was seen (complete, or cut by missing bytes)."""

    ts: float
    """Time of the packet that completed the head."""
    uid: str
    """Connection uid."""
    orig_h: str
    """Originator address."""
    orig_p: int
    """Originator port."""
    resp_h: str
    """Responder address."""
    resp_p: int
    """Responder port."""
    trans_depth: int
    """1-based position of this transaction on the connection."""
    method: str
    """Request method as sent (e.g. GET, CCM_POST, M-SEARCH)."""
    uri: str
    """Request target as sent (second token of the request line)."""
    version: str | None
    """Version token without "HTTP/" ("1.1"); None for a version-less (HTTP/0.9 style) request."""
    host: str | None
    """Host header."""
    user_agent: str | None
    """User-Agent header."""
    referrer: str | None
    """Referer header."""
    content_type: str | None
    """Content-Type header."""

    def __init__(
        self,
        ts: float,
        uid: str,
        orig_h: str,
        orig_p: int,
        resp_h: str,
        resp_p: int,
        trans_depth: int,
        method: str,
        uri: str,
        version: str | None,
        host: str | None,
        user_agent: str | None,
        referrer: str | None,
        content_type: str | None,
    ) -> None:
        self.ts = ts  # type: ignore[misc]
        self.uid = uid  # type: ignore[misc]
        self.orig_h = orig_h  # type: ignore[misc]
        self.orig_p = orig_p  # type: ignore[misc]
        self.resp_h = resp_h  # type: ignore[misc]
        self.resp_p = resp_p  # type: ignore[misc]
        self.trans_depth = trans_depth  # type: ignore[misc]
        self.method = method  # type: ignore[misc]
        self.uri = uri  # type: ignore[misc]
        self.version = version  # type: ignore[misc]
        self.host = host  # type: ignore[misc]
        self.user_agent = user_agent  # type: ignore[misc]
        self.referrer = referrer  # type: ignore[misc]
        self.content_type = content_type  # type: ignore[misc]


@dataclass(frozen=True, slots=True, init=False)
class HttpResponse:
    """A response head carrying a status code was seen (interim 1xx answers included)."""

    ts: float
    """Time of the packet that completed the head."""
    uid: str
    """Connection uid."""
    orig_h: str
    """Originator address."""
    orig_p: int
    """Originator port."""
    resp_h: str
    """Responder address."""
    resp_p: int
    """Responder port."""
    trans_depth: int
    """Transaction this response belongs to (that of the request it answers)."""
    status_code: int
    """Status code (the three characters after the version, as tshark reads them)."""
    status_msg: str
    """Reason phrase."""
    version: str
    """Version token without "HTTP/" ("1.1"; "ICY" for SHOUTcast)."""
    content_type: str | None
    """Content-Type header."""

    def __init__(
        self,
        ts: float,
        uid: str,
        orig_h: str,
        orig_p: int,
        resp_h: str,
        resp_p: int,
        trans_depth: int,
        status_code: int,
        status_msg: str,
        version: str,
        content_type: str | None,
    ) -> None:
        self.ts = ts  # type: ignore[misc]
        self.uid = uid  # type: ignore[misc]
        self.orig_h = orig_h  # type: ignore[misc]
        self.orig_p = orig_p  # type: ignore[misc]
        self.resp_h = resp_h  # type: ignore[misc]
        self.resp_p = resp_p  # type: ignore[misc]
        self.trans_depth = trans_depth  # type: ignore[misc]
        self.status_code = status_code  # type: ignore[misc]
        self.status_msg = status_msg  # type: ignore[misc]
        self.version = version  # type: ignore[misc]
        self.content_type = content_type  # type: ignore[misc]


@dataclass(frozen=True, slots=True)
class HttpUpgrade:
    """The connection left HTTP: 101 Switching Protocols, or a CONNECT tunnel opened (2xx)."""

    ts: float
    """Time of the packet that completed the response head."""
    uid: str
    """Connection uid."""
    orig_h: str
    """Originator address."""
    orig_p: int
    """Originator port."""
    resp_h: str
    """Responder address."""
    resp_p: int
    """Responder port."""
    trans_depth: int
    """Transaction that switched."""
    protocol: str
    """Upgrade header of the response (else of the request), or "CONNECT" for a tunnel."""
    status_code: int
    """101, or the 2xx answering CONNECT."""


@dataclass(frozen=True, slots=True, init=False)
class HttpTransaction:
    """One request/response exchange, as Zeek's http.log has it."""

    ts: float
    """Time of the request head (of the response head for a response without request)."""
    uid: str
    """Connection uid."""
    orig_h: str
    """Originator address."""
    orig_p: int
    """Originator port."""
    resp_h: str
    """Responder address."""
    resp_p: int
    """Responder port."""
    trans_depth: int
    """1-based position of the exchange on the connection."""
    method: str | None
    """Request method; None when only the response was seen."""
    host: str | None
    """Host header of the request."""
    uri: str | None
    """Request target."""
    referrer: str | None
    """Referer header of the request."""
    version: str | None
    """Version of the response (of the request when there is no response), without "HTTP/"."""
    user_agent: str | None
    """User-Agent header of the request."""
    request_body_len: int
    """Request body bytes (after removing chunked framing; bytes lost in gaps included)."""
    response_body_len: int
    """Response body bytes (same rules)."""
    status_code: int | None
    """Final status code; None when no (valid) response was seen."""
    status_msg: str | None
    """Reason phrase of the final response."""
    info_code: int | None
    """Last interim 1xx code (e.g. 100 Continue)."""
    info_msg: str | None
    """Reason phrase of that interim response."""
    orig_mime_types: tuple[str, ...]
    """Media type of the request body from its Content-Type header (not sniffed, unlike Zeek)."""
    resp_mime_types: tuple[str, ...]
    """Media type of the response body from its Content-Type header (not sniffed, unlike Zeek)."""
    upgrade: str | None
    """Protocol the connection switched to after this exchange (101 / CONNECT), else None."""

    def __init__(
        self,
        ts: float,
        uid: str,
        orig_h: str,
        orig_p: int,
        resp_h: str,
        resp_p: int,
        trans_depth: int,
        method: str | None,
        host: str | None,
        uri: str | None,
        referrer: str | None,
        version: str | None,
        user_agent: str | None,
        request_body_len: int,
        response_body_len: int,
        status_code: int | None,
        status_msg: str | None,
        info_code: int | None,
        info_msg: str | None,
        orig_mime_types: tuple[str, ...],
        resp_mime_types: tuple[str, ...],
        upgrade: str | None,
    ) -> None:
        self.ts = ts  # type: ignore[misc]
        self.uid = uid  # type: ignore[misc]
        self.orig_h = orig_h  # type: ignore[misc]
        self.orig_p = orig_p  # type: ignore[misc]
        self.resp_h = resp_h  # type: ignore[misc]
        self.resp_p = resp_p  # type: ignore[misc]
        self.trans_depth = trans_depth  # type: ignore[misc]
        self.method = method  # type: ignore[misc]
        self.host = host  # type: ignore[misc]
        self.uri = uri  # type: ignore[misc]
        self.referrer = referrer  # type: ignore[misc]
        self.version = version  # type: ignore[misc]
        self.user_agent = user_agent  # type: ignore[misc]
        self.request_body_len = request_body_len  # type: ignore[misc]
        self.response_body_len = response_body_len  # type: ignore[misc]
        self.status_code = status_code  # type: ignore[misc]
        self.status_msg = status_msg  # type: ignore[misc]
        self.info_code = info_code  # type: ignore[misc]
        self.info_msg = info_msg  # type: ignore[misc]
        self.orig_mime_types = orig_mime_types  # type: ignore[misc]
        self.resp_mime_types = resp_mime_types  # type: ignore[misc]
        self.upgrade = upgrade  # type: ignore[misc]


# --------------------------------------------------------------------------------------------------
# Reader state
# --------------------------------------------------------------------------------------------------

START: Final = "start"
HEAD: Final = "head"
BODY: Final = "body"
CHUNK_SIZE = "chunk_size"
CHUNK_DATA: Final = "chunk_data"
CHUNK_END: Final = "chunk_end"
TRAILERS: Final = "trailers"
UNTIL_CLOSE: Final = "until_close"
TUNNEL: Final = "tunnel"
LOST: Final = "lost"

_COUNTED_BODY: Final = (BODY, CHUNK_DATA)
"""States that consume a known number of body bytes (`_Side.remaining`)."""


class _Txn:
    """A request/response exchange being assembled (mutable; becomes an HttpTransaction)."""

    __slots__ = (
        "depth",
        "emitted",
        "info_code",
        "info_msg",
        "method",
        "req_done",
        "req_fields",
        "req_from_client",
        "req_len",
        "req_version",
        "resp_done",
        "resp_fields",
        "resp_len",
        "resp_version",
        "status_code",
        "status_msg",
        "ts",
        "upgrade",
        "uri",
    )

    def __init__(self, depth: int, ts: float, req_from_client: bool | None) -> None:
        self.depth = depth
        self.ts = ts
        self.req_from_client = req_from_client
        """Direction of the request (None: response-only exchange)."""
        self.method: bytes | None = None
        self.uri: bytes | None = None
        self.req_version: bytes | None = None
        self.req_fields: dict[bytes, bytes] = {}
        self.req_len = 0
        self.req_done = req_from_client is None
        self.status_code: int | None = None
        self.status_msg: bytes | None = None
        self.resp_version: bytes | None = None
        self.resp_fields: dict[bytes, bytes] = {}
        self.resp_len = 0
        self.resp_done = False
        self.info_code: int | None = None
        self.info_msg: bytes | None = None
        self.upgrade: str | None = None
        self.emitted = False


class _Message:
    """The message one direction is reading: its start line, the fields kept, its body count."""

    __slots__ = (
        "body_len",
        "fields",
        "header_bytes",
        "is_request",
        "last_name",
        "lengths",
        "n_fields",
        "start",
        "ts",
        "txn",
    )

    def __init__(self, is_request: bool, start: bytes, ts: float) -> None:
        self.is_request = is_request
        self.start = start
        self.ts = ts
        self.fields: dict[bytes, bytes] = {}
        self.lengths: list[bytes] = []
        self.n_fields = 0
        self.header_bytes = 0
        self.last_name = b""
        self.body_len = 0
        self.txn: _Txn | None = None


class _Side:
    """One direction's reader."""

    __slots__ = ("buf", "from_client", "msg", "raw_len", "remaining", "skipping", "state")

    def __init__(self, from_client: bool) -> None:
        self.from_client = from_client
        self.state = START
        self.buf = bytearray()
        """Start of a line whose end has not arrived (at most MAX_LINE_BYTES)."""
        self.skipping = False
        """Dropping bytes up to the next LF (a line that cannot be a start line)."""
        self.remaining = 0
        self.msg: _Message | None = None
        self.raw_len = 0
        """Wire length of the line being handled (LF included)."""


# --------------------------------------------------------------------------------------------------
# The dissector
# --------------------------------------------------------------------------------------------------


class HttpDissector:
    """One per TCP flow: HTTP/1.x messages of both directions, paired into transactions."""

    __slots__ = ("_awaiting", "_depth", "_ids", "_out", "_over", "_sides", "_ts")

    def __init__(self, flow: Flow) -> None:
        self._ids = (flow.uid, flow.orig_h, flow.orig_port, flow.resp_h, flow.resp_port)
        self._sides = {True: _Side(True), False: _Side(False)}
        self._awaiting: list[_Txn] = []  # bounded by MAX_PENDING_REQUESTS; a list is 10x lighter
        self._depth = 0
        self._over = False
        """HTTP is over on this flow: switched protocol (101, CONNECT tunnel) or closed."""
        self._ts = 0.0
        self._out: list[object] = []

    # -- the stream contract --

    def feed(self, data: bytes, from_client: bool, ts: float) -> list[object]:
        """Consume in-order bytes of one direction; return the events they complete."""
        if self._over or not data:
            return []
        self._ts, self._out = ts, []
        self._consume(self._sides[from_client], data)
        return self._out

    def opaque(self, from_client: bool) -> int:
        """Body bytes still to come whose count is known (or a body lasting until the close): the
        reassembler may swallow them; nothing in a body is parsed."""
        if self._over:
            return 0
        side = self._sides[from_client]
        if side.state in _COUNTED_BODY:
            return side.remaining
        return MAX_SKIP if side.state == UNTIL_CLOSE else 0

    def skipped(self, size: int, from_client: bool, ts: float) -> list[object]:
        """`size` body bytes that `opaque` announced went by: counted as `feed` counts them."""
        if self._over or size <= 0:
            return []
        self._ts, self._out = ts, []
        side = self._sides[from_client]
        if side.state in _COUNTED_BODY:
            self._consume_body(side, min(size, side.remaining))
        elif side.state == UNTIL_CLOSE:
            assert side.msg is not None
            side.msg.body_len += size
        return self._out

    def gap(self, size: int, from_client: bool, ts: float) -> list[object]:
        """`size` bytes of one direction are missing: skip them inside a sized body, else resync."""
        if self._over or size <= 0:
            return []
        self._ts, self._out = ts, []
        side = self._sides[from_client]
        state = side.state
        if state in _COUNTED_BODY and size <= side.remaining:
            self._consume_body(side, size)
        elif state == UNTIL_CLOSE:
            assert side.msg is not None
            side.msg.body_len += size
        else:
            if state in _COUNTED_BODY:
                assert side.msg is not None
                side.msg.body_len += side.remaining
            elif state == START and side.buf and not side.skipping:
                self._salvage_start(side)
            if side.state == HEAD:
                self._end_of_head(side, truncated=True)
            self._lose(side)
        return self._out

    def close(self, ts: float) -> list[object]:
        """End of the connection: finish what can be finished, log every open exchange."""
        self._ts, self._out = ts, []
        for side in self._sides.values():
            if side.state == START and side.buf and not side.skipping:
                self._salvage_start(side)
            if side.state == HEAD:
                self._end_of_head(side, truncated=True)
            if side.msg is not None and side.msg.txn is not None:
                self._message_done(side)
            side.state, side.msg = LOST, None
            side.buf.clear()
        self._over = True  # nothing more is parsed
        for txn in sorted(self._awaiting, key=lambda t: t.depth):
            self._emit(txn)
        self._awaiting.clear()
        return self._out

    # -- bytes to lines and bodies --

    def _consume(self, side: _Side, data: bytes) -> None:
        i, n = 0, len(data)
        while i < n and not self._over:
            state = side.state
            if state in _COUNTED_BODY:
                take = min(side.remaining, n - i)
                i += take
                self._consume_body(side, take)
            elif state == UNTIL_CLOSE:
                assert side.msg is not None
                side.msg.body_len += n - i
                return
            else:
                nl = data.find(b"\n", i)
                if nl < 0:
                    self._hold(side, data[i:])
                    return
                if side.skipping:
                    side.skipping = False
                    side.buf.clear()
                    i = nl + 1
                    continue
                size = len(side.buf) + nl - i
                if size > MAX_LINE_BYTES:
                    head = (bytes(side.buf[:_LONGEST_TOKEN]) + data[i : i + _LONGEST_TOKEN])[:_LONGEST_TOKEN]
                    self._overlong(side, head)
                    side.skipping = False  # the line ended here
                    side.buf.clear()
                    i = nl + 1
                    continue
                if side.buf:
                    line = bytes(side.buf) + data[i:nl]
                    side.buf.clear()
                else:
                    line = data[i:nl]
                side.raw_len = size + 1
                i = nl + 1
                if line.endswith(b"\r"):
                    line = line[:-1]
                _LINE_HANDLERS[side.state](self, side, line)

    def _hold(self, side: _Side, part: bytes) -> None:
        """Keep the start of a line until its LF comes, within bounds; drop what cannot matter."""
        if side.skipping:
            return
        side.buf += part
        if side.state in (START, LOST) and not _could_start(bytes(side.buf[:_LONGEST_TOKEN])):
            if side.state == START and self._answers_http09(side):
                side.raw_len = len(side.buf)
                side.buf.clear()
                self._start_http09_body(side)
                return
            if side.state == START:
                self._abandon(side)
            side.buf.clear()
            side.skipping = True
        elif len(side.buf) > MAX_LINE_BYTES:
            self._overlong(side, bytes(side.buf[:_LONGEST_TOKEN]))
            side.buf.clear()
            side.skipping = True

    def _overlong(self, side: _Side, head: bytes) -> None:
        """A line past MAX_LINE_BYTES: fatal inside a message, skipped when it is not HTTP anyway."""
        if side.state == LOST or (side.state == START and not _could_start(head)):
            if side.state == START:
                self._abandon(side)
            return
        raise Malformed("http.line_too_long", f"{side.state} line over {MAX_LINE_BYTES} bytes")

    def _consume_body(self, side: _Side, size: int) -> None:
        msg = side.msg
        assert msg is not None
        msg.body_len += size
        side.remaining -= size
        if side.remaining == 0:
            if side.state == BODY:
                self._message_done(side)
            else:
                side.state = CHUNK_END

    # -- line handlers (one per line state, see _LINE_HANDLERS) --

    def _on_start_line(self, side: _Side, line: bytes) -> None:
        if not line:
            return  # RFC 9112 §2.2: empty lines before a start line are ignored
        if line.startswith(STATUS_PREFIXES):
            side.msg = _Message(False, line, self._ts)
        elif _is_request_line(line):
            side.msg = _Message(True, line, self._ts)
        elif self._answers_http09(side):
            self._start_http09_body(side)
            return
        else:
            side.state = LOST
            return
        side.state = HEAD

    def _on_lost_line(self, side: _Side, line: bytes) -> None:
        if line.startswith(STATUS_PREFIXES) or _is_request_line(line):
            side.state = START
            self._on_start_line(side, line)

    def _on_head_line(self, side: _Side, line: bytes) -> None:
        if line:
            self._field(side, line)
        else:
            self._end_of_head(side, truncated=False)

    def _on_chunk_size(self, side: _Side, line: bytes) -> None:
        digits = line.split(b";", 1)[0].strip()
        if not _CHUNK_SIZE.fullmatch(digits):
            self._lose(side)
            return
        size = int(digits, 16)
        if size:
            side.state, side.remaining = CHUNK_DATA, size
        else:
            side.state = TRAILERS

    def _on_chunk_end(self, side: _Side, line: bytes) -> None:
        if line:
            self._lose(side)  # chunk data not followed by CRLF: the sizes lied
        else:
            side.state = CHUNK_SIZE

    def _on_trailer(self, side: _Side, line: bytes) -> None:
        if line:
            self._field(side, line, keep=False)
        else:
            self._message_done(side)

    # -- heads --

    def _field(self, side: _Side, line: bytes, keep: bool = True) -> None:
        msg = side.msg
        assert msg is not None
        msg.header_bytes += side.raw_len
        if msg.header_bytes > MAX_HEADER_BYTES:
            raise Malformed("http.header_too_large", f"head over {MAX_HEADER_BYTES} bytes")
        if line[0] in b" \t":  # obs-fold: continues the previous field
            if keep and msg.last_name in msg.fields:
                msg.fields[msg.last_name] += b" " + line.strip()
            return
        msg.n_fields += 1
        if msg.n_fields > MAX_HEADER_FIELDS:
            raise Malformed("http.too_many_headers", f"more than {MAX_HEADER_FIELDS} fields")
        colon = line.find(b":")
        if colon <= 0:
            msg.last_name = b""
            return  # not a field: tolerated and ignored, as tshark and most servers do
        name = line[:colon].strip().lower()
        msg.last_name = name
        if not keep or name not in _KEPT_FIELDS:
            return
        value = line[colon + 1 :].strip()
        if name == b"content-length":
            msg.lengths.append(value)
        elif name == b"transfer-encoding" and name in msg.fields:
            msg.fields[name] += b"," + value
        else:
            msg.fields.setdefault(name, value)

    def _end_of_head(self, side: _Side, truncated: bool) -> None:
        """The head is complete (or cut short): emit its event and choose how the body is framed."""
        msg = side.msg
        assert msg is not None
        if msg.is_request:
            self._request_head(side, msg, truncated)
        else:
            self._response_head(side, msg, truncated)

    def _request_head(self, side: _Side, msg: _Message, truncated: bool) -> None:
        method, uri, version = _split_request(msg.start)
        self._depth += 1
        txn = msg.txn = _Txn(self._depth, msg.ts, side.from_client)
        txn.method, txn.uri, txn.req_version, txn.req_fields = method, uri, version, msg.fields
        f = msg.fields
        self._out.append(
            HttpRequest(
                self._ts,
                *self._ids,
                txn.depth,
                _text(method) or "",
                _text(uri) or "",
                _version(version),
                _text(f.get(b"host")),
                _text(f.get(b"user-agent")),
                _text(f.get(b"referer")),
                _text(f.get(b"content-type")),
            )
        )
        if len(self._awaiting) >= MAX_PENDING_REQUESTS:
            self._emit(self._awaiting.pop(0))
        self._awaiting.append(txn)
        if truncated:
            return
        length = _content_length(msg.lengths)
        coding = f.get(b"transfer-encoding")
        if coding is not None:
            if _chunked(coding):
                side.state = CHUNK_SIZE
            else:
                self._lose(side)  # RFC 9112 §6.3: unknown coding on a request, its end is unknown
        elif length is None or length == 0:
            self._message_done(side)
        elif length < 0:
            self._lose(side)
        else:
            side.state, side.remaining = BODY, length

    def _response_head(self, side: _Side, msg: _Message, truncated: bool) -> None:
        version, code, reason = _split_status(msg.start)
        f = msg.fields
        interim = code is not None and 100 <= code < 200 and code != 101
        txn = self._peer_request(side, take=not interim)
        if code is not None:
            depth = txn.depth if txn is not None else self._depth + 1
            self._out.append(
                HttpResponse(
                    self._ts,
                    *self._ids,
                    depth,
                    code,
                    _text(reason) or "",
                    _version(version) or "",
                    _text(f.get(b"content-type")),
                )
            )
        if interim:
            if txn is not None:
                txn.info_code, txn.info_msg = code, reason
            side.msg, side.state = None, START
            return
        if txn is None:
            self._depth += 1
            txn = _Txn(self._depth, msg.ts, None)
        msg.txn = txn
        txn.status_code, txn.status_msg, txn.resp_version, txn.resp_fields = code, reason, version, f
        connect_ok = txn.method == b"CONNECT" and code is not None and 200 <= code < 300
        if code == 101 or connect_ok:
            self._switch(side, txn, code or 0, connect_ok)
            return
        if truncated:
            return
        length = _content_length(msg.lengths)
        coding = f.get(b"transfer-encoding")
        if txn.method == b"HEAD" or code in (204, 304):
            self._message_done(side)
        elif coding is not None:
            side.state = CHUNK_SIZE if _chunked(coding) else UNTIL_CLOSE
        elif length is None:
            side.state = UNTIL_CLOSE
        elif length == 0:
            self._message_done(side)
        elif length < 0:
            self._lose(side)
        else:
            side.state, side.remaining = BODY, length

    def _switch(self, side: _Side, txn: _Txn, code: int, connect: bool) -> None:
        """101 or CONNECT 2xx: HTTP ends on this flow; the rest is another protocol's."""
        offered = txn.resp_fields.get(b"upgrade") or txn.req_fields.get(b"upgrade")
        protocol = "CONNECT" if connect else (_text(offered) or "")
        txn.upgrade = protocol
        self._out.append(HttpUpgrade(self._ts, *self._ids, txn.depth, protocol, code))
        self._message_done(side)
        for s in self._sides.values():
            if s.msg is not None and s.msg.txn is not None:
                self._message_done(s)
            s.state, s.msg, s.skipping = TUNNEL, None, False
            s.buf.clear()
        self._over = True

    # -- HTTP/0.9 --

    def _answers_http09(self, side: _Side) -> bool:
        txn = self._peer_request(side, take=False)
        return txn is not None and txn.req_version is None

    def _start_http09_body(self, side: _Side) -> None:
        txn = self._peer_request(side, take=True)
        assert txn is not None
        msg = side.msg = _Message(False, b"", self._ts)
        msg.txn = txn
        msg.body_len = side.raw_len
        side.state = UNTIL_CLOSE

    # -- resync and completion --

    def _salvage_start(self, side: _Side) -> None:
        """A start line cut by missing bytes: read its first tokens, as tshark does."""
        line = bytes(side.buf).rstrip(b"\r")
        side.buf.clear()
        if line.startswith(STATUS_PREFIXES):
            side.msg, side.state = _Message(False, line, self._ts), HEAD
        elif _is_request_line(line) and b" " in line:
            side.msg, side.state = _Message(True, line, self._ts), HEAD

    def _lose(self, side: _Side) -> None:
        """Give up on the current message: keep what was counted, look for the next start line."""
        self._abandon(side)
        if not self._over:
            side.state = LOST
        side.buf.clear()
        side.skipping = False

    def _abandon(self, side: _Side) -> None:
        if side.msg is not None and side.msg.txn is not None:
            self._message_done(side)
        side.msg = None
        if not self._over:
            side.state = LOST

    def _message_done(self, side: _Side) -> None:
        msg = side.msg
        assert msg is not None and msg.txn is not None
        txn = msg.txn
        if msg.is_request:
            txn.req_len, txn.req_done = msg.body_len, True
        else:
            txn.resp_len, txn.resp_done = msg.body_len, True
        side.msg = None
        side.state = START
        if txn.req_done and txn.resp_done:
            self._emit(txn)

    def _peer_request(self, side: _Side, take: bool) -> _Txn | None:
        """The oldest request still unanswered that came from the other direction."""
        for i, txn in enumerate(self._awaiting):
            if txn.req_from_client is not side.from_client:
                if take:
                    del self._awaiting[i]
                return txn
        return None

    def _emit(self, txn: _Txn) -> None:
        if txn.emitted:
            return
        txn.emitted = True
        q, r = txn.req_fields, txn.resp_fields
        self._out.append(
            HttpTransaction(
                txn.ts,
                *self._ids,
                txn.depth,
                _text(txn.method),
                _text(q.get(b"host")),
                _text(txn.uri),
                _text(q.get(b"referer")),
                _version(txn.resp_version) or _version(txn.req_version),
                _text(q.get(b"user-agent")),
                txn.req_len,
                txn.resp_len,
                txn.status_code,
                _text(txn.status_msg),
                txn.info_code,
                _text(txn.info_msg),
                _mime(q.get(b"content-type")),
                _mime(r.get(b"content-type")),
                txn.upgrade,
            )
        )


def _chunked(coding: bytes) -> bool:
    """Whether chunked is the last transfer coding applied (RFC 9112 §6.3)."""
    return coding.rsplit(b",", 1)[-1].strip().lower() == b"chunked"


_LINE_HANDLERS: Final[dict[str, Callable[[HttpDissector, _Side, bytes], None]]] = {
    START: HttpDissector._on_start_line,
    LOST: HttpDissector._on_lost_line,
    HEAD: HttpDissector._on_head_line,
    CHUNK_SIZE: HttpDissector._on_chunk_size,
    CHUNK_END: HttpDissector._on_chunk_end,
    TRAILERS: HttpDissector._on_trailer,
}
"""Line state -> handler of one complete line (CR LF or LF stripped)."""

__all__ = [
    "MAX_CHUNK_SIZE_DIGITS",
    "MAX_CONTENT_LENGTH_DIGITS",
    "MAX_HEADER_BYTES",
    "MAX_HEADER_FIELDS",
    "MAX_LINE_BYTES",
    "MAX_PENDING_REQUESTS",
    "REQUEST_METHODS",
    "HttpDissector",
    "HttpRequest",
    "HttpResponse",
    "HttpTransaction",
    "HttpUpgrade",
    "is_http_start",
]


interpreted_inits(HttpRequest, HttpResponse, HttpTransaction)
