"""FTP (RFC 959, 2228 AUTH, 2428 EPRT/EPSV, 3659 SIZE): the control channel and the data channel.

Theory of operation
-------------------
`FtpDissector(flow)` splits each direction of the control connection into lines (CR LF, a bare LF is
accepted) with a bounded buffer: a line longer than `MAX_LINE` raises Malformed at once, so a 1 MB
banner without a newline is never buffered whole.

Client lines are commands (first token, as sent, and an argument); a PASS argument is never kept, not
even in events. Each command waits in a bounded FIFO for its reply. Server lines form replies: a line
"ddd text" is a one-line reply, "ddd-text" opens a multi-line reply that ends at the next line
starting "ddd " with the same code (RFC 959 section 4.2); a 1xx reply is preliminary and the command
keeps waiting for its final reply. A completed command updates the session (user, cwd, announced
data channel, SIZE answers, upgrade) and, for the commands Zeek logs, becomes an `FtpRecord` (a line
of Zeek's ftp.log).

Data channels. A 227 (PASV) or 229 (EPSV) reply, or a 2xx reply to PORT/EPRT, yields an
`ExpectedConnection` with service "ftp-data": the pipeline labels the next TCP connection to the
announced address/port, links it to this flow (parent_uid) and attaches `FtpDataDissector`, which
counts the bytes moved and sniffs a MIME type from the first bytes.

Upgrade. After "AUTH TLS"/"AUTH SSL" the client's next bytes are held (bounded by `MAX_HELD_BYTES`)
until the server answers. On 234 a `TlsUpgrade` event is emitted and every later byte of both
directions, the held ones first, goes to `TlsDissector(flow)`, whose events are returned as ours. Any
other answer releases the held bytes to the line parser.

Counting like tshark. tshark 4.0 does not reassemble FTP: it parses only the first line of each TCP
segment (further lines of the segment are shown as text). So `FtpCommand.at_segment_start` tells
whether a command line began a delivered chunk (in the pipeline a chunk is a TCP segment), and an
`FtpResponseCode` event is emitted for each line beginning a chunk that starts with three digits;
the tracker counts those into tshark-compatible `commands` and `reply_codes`. `FtpReply` events are
the replies themselves (a multi-line reply is one reply).

Gaps. A TCP gap drops the partial line and the fragment up to the next newline; parsing resumes
there (state such as an open multi-line reply is kept).
"""

from __future__ import annotations

import posixpath
import re
import socket
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from analyzer.dissectors.base import ExpectedConnection, TlsUpgrade
from analyzer.errors import Malformed
from analyzer.tcp import MAX_SKIP

if TYPE_CHECKING:
    from analyzer.flows import Flow

# -- limits -------------------------------------------------------------------------------------------

MAX_LINE = 8192
"""Longest control line. RFC 959 sets no limit, but servers cap commands far below this (vsftpd 4 KiB,
ProFTPD 512 bytes by default); a longer line is garbage or an attack."""
MAX_TEXT_CHARS = 512
"""Characters kept of an argument or a reply message (paths beyond this are cut)."""
MAX_PENDING_COMMANDS = 64
"""Commands waiting for their reply. FTP is strictly request/response; a client that pipelines more
than this is not a client, and the oldest waiting command is given up."""
MAX_HELD_BYTES = 64 * 1024
"""Client bytes held after AUTH TLS until the server answers: a ClientHello with every extension fits
in a few KiB; a client sending more without an answer is broken."""
MAX_SIZES = 64
"""SIZE answers remembered per session (file name -> size), oldest forgotten first."""
MAX_SIZE_DIGITS = 18
"""Digits of a SIZE reply converted to a number (10^18 bytes is an exabyte; bounds the work)."""
MIME_SNIFF_BYTES = 512
"""First bytes of a data connection kept to guess its MIME type."""
PASSWORD_MASK = "<hidden>"
"""What is written instead of a password (Zeek's ftp.log does the same)."""

# -- tables -------------------------------------------------------------------------------------------

LOGGED_COMMANDS = frozenset(
    {"APPE", "DELE", "RETR", "STOR", "STOU", "ACCT", "PORT", "PASV", "EPRT", "EPSV", "LIST", "NLST", "MLSD"}
)
"""Commands that become an ftp.log line (Zeek's FTP::logged_commands plus the directory listings,
whose data connections are worth tying to a command)."""
TRANSFER_COMMANDS = frozenset({"RETR", "STOR", "STOU", "APPE", "LIST", "NLST", "MLSD"})
"""Commands that move bytes over the data channel."""
UPLOAD_COMMANDS = frozenset({"STOR", "STOU", "APPE"})
"""Transfer commands whose data flows from the client to the server."""
TLS_AUTH_MECHANISMS = (b"TLS", b"SSL")
"""AUTH arguments (RFC 2228, RFC 4217: TLS, TLS-C, TLS-P, SSL) that switch the channel to TLS."""
REPLY_AUTH_OK = 234
"""Reply code accepting AUTH: the security exchange starts right after it (RFC 2228)."""
REPLY_PASV = 227
"""Entering Passive Mode (h1,h2,h3,h4,p1,p2)."""
REPLY_EPSV = 229
"""Entering Extended Passive Mode (|||port|)."""
REPLY_PWD = 257
"""PATHNAME created / current directory: the path is the first quoted string."""
REPLY_SIZE = 213
"""File status: the SIZE answer."""
GREETING_CODES = frozenset({120, 220, 421})
"""Replies a server sends before any command (ready soon, ready, not available)."""
TELNET_PREFIX = b"\xff\xf4\xf2"
"""Telnet IP/Synch bytes that may precede ABOR (RFC 959 section 4.1.3); stripped from commands."""

MIME_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"BZh", "application/x-bzip2"),
    (b"\xfd7zXZ\x00", "application/x-xz"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"\x7fELF", "application/x-executable"),
    (b"MZ", "application/x-dosexec"),
    (b"<?xml", "application/xml"),
    (b"<!doctype html", "text/html"),
    (b"<html", "text/html"),
)
"""Leading bytes -> MIME type (case-insensitive for the text ones); otherwise text/plain when the
bytes are printable text, application/octet-stream when not."""

_PASV_RE = re.compile(rb"(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})")
_EPSV_RE = re.compile(rb"\(([!-~])\1\1(\d{1,5})\1\)")
_BYTES_RE = re.compile(rb"\((\d{1,15}) bytes\)")
_PWD_RE = re.compile(rb'"((?:[^"]|"")*)"')
_TEXT_CHARS = frozenset("\t\n\r\x0c")


# -- events -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FtpCommand:
    """One command line sent by the client."""

    ts: float
    """Time of the segment that completed the line."""
    uid: str
    """Control connection uid."""
    command: str
    """The verb as sent (case kept, as tshark's ftp.request.command)."""
    arg: str
    """The argument (cut to MAX_TEXT_CHARS); "<hidden>" for PASS."""
    at_segment_start: bool
    """The line began a TCP segment: tshark 4.0 parses only such lines."""


@dataclass(frozen=True, slots=True)
class FtpResponseCode:
    """A server line beginning a TCP segment and starting with three digits (tshark's ftp.response.code)."""

    ts: float
    """Time of the line."""
    uid: str
    """Control connection uid."""
    code: int
    """The three-digit number."""


@dataclass(frozen=True, slots=True)
class FtpReply:
    """One complete reply (a multi-line reply is one reply)."""

    ts: float
    """Time of its last line."""
    uid: str
    """Control connection uid."""
    code: int
    """Reply code."""
    msg: str
    """Text of the first line (cut to MAX_TEXT_CHARS)."""
    lines: int
    """Number of lines it spanned."""
    complete: bool
    """False when the connection ended inside a multi-line reply."""


@dataclass(frozen=True, slots=True)
class FtpRecord:
    """One line of Zeek's ftp.log: a logged command with its final reply."""

    ts: float
    """Time the command was sent."""
    uid: str
    """Control connection uid."""
    orig_h: str
    """Client address."""
    orig_p: int
    """Client port."""
    resp_h: str
    """Server address."""
    resp_p: int
    """Server port."""
    user: str | None
    """User name sent with USER (None before any)."""
    password: str | None
    """"<hidden>" once a PASS was sent; the password itself is never kept."""
    command: str
    """The command, upper-cased."""
    arg: str | None
    """Its argument as sent (cut to MAX_TEXT_CHARS)."""
    mime_type: str | None
    """MIME type of the data moved (filled from the data connection)."""
    file_size: int | None
    """Size announced by SIZE or by the 150 reply ("(N bytes)")."""
    reply_code: int | None
    """Final reply code (None if the connection ended first)."""
    reply_msg: str | None
    """Final reply text (first line)."""
    data_channel_passive: bool | None
    """Data channel for this command: True passive (PASV/EPSV), False active (PORT/EPRT)."""
    data_channel_orig_h: str | None
    """Data channel: address that connects."""
    data_channel_resp_h: str | None
    """Data channel: announced address that accepts the connection."""
    data_channel_resp_p: int | None
    """Data channel: announced port."""
    cwd: str | None
    """Working directory when the command was sent (from PWD/CWD replies), if known."""


@dataclass(frozen=True, slots=True)
class FtpSessionEnd:
    """A control connection summed up when it ends."""

    ts: float
    """Time of its first line."""
    uid: str
    """Control connection uid."""
    orig_h: str
    """Client address."""
    orig_p: int
    """Client port."""
    resp_h: str
    """Server address."""
    resp_p: int
    """Server port."""
    banner: str | None
    """First line of the server's greeting."""
    user: str | None
    """Last user name sent."""
    password_sent: bool
    """A PASS command was sent (its argument is never kept)."""
    logged_in: bool
    """A 230 reply was seen."""
    commands: int
    """Command lines sent."""
    transfers: int
    """Transfer commands (RETR, STOR, LIST, ...) answered."""
    cwd: str | None
    """Last known working directory."""
    tls_upgraded: bool
    """AUTH TLS/SSL was accepted: the rest of the connection is TLS."""


@dataclass(frozen=True, slots=True)
class FtpDataRecord:
    """An FTP data connection summed up when it ends."""

    ts: float
    """Time of its first bytes (or of the close when none)."""
    uid: str
    """Data connection uid."""
    parent_uid: str | None
    """uid of the control connection that announced it."""
    orig_h: str
    """Connecting address."""
    orig_p: int
    """Connecting port."""
    resp_h: str
    """Accepting address."""
    resp_p: int
    """Accepting port."""
    orig_bytes: int
    """Bytes sent by the connecting side."""
    resp_bytes: int
    """Bytes sent by the accepting side."""
    missed_bytes: int
    """Bytes lost in capture gaps."""
    mime_type: str | None
    """MIME type guessed from the first bytes (None when no data)."""


# -- helpers -------------------------------------------------------------------------------------------


def _text(raw: bytes) -> str:
    return raw[: MAX_TEXT_CHARS * 4].decode("utf-8", "replace")[:MAX_TEXT_CHARS]


def _code(line: bytes) -> int | None:
    """Reply code of a line starting with three digits (tshark's test), else None."""
    if len(line) >= 3 and 0x30 <= line[0] <= 0x39 and 0x30 <= line[1] <= 0x39 and 0x30 <= line[2] <= 0x39:
        return int(line[:3])
    return None


def _ipv4_from_parts(parts: list[int]) -> str | None:
    if any(p > 255 for p in parts):
        return None
    return ".".join(str(p) for p in parts)


def _port_from_parts(hi: int, lo: int) -> int | None:
    if hi > 255 or lo > 255:
        return None
    port = hi * 256 + lo
    return port or None


def parse_port_arg(arg: bytes) -> tuple[str, int] | None:
    """(address, port) of a PORT argument "h1,h2,h3,h4,p1,p2", or None."""
    m = _PASV_RE.search(arg)
    if m is None:
        return None
    nums = [int(g) for g in m.groups()]
    addr = _ipv4_from_parts(nums[:4])
    port = _port_from_parts(nums[4], nums[5])
    return (addr, port) if addr is not None and port is not None else None


def parse_eprt_arg(arg: bytes) -> tuple[str, int] | None:
    """(address, port) of an EPRT argument "|1|132.235.1.2|6275|" (RFC 2428), or None."""
    arg = arg.strip()
    if len(arg) < 7:
        return None
    delim = arg[:1]
    fields = arg.split(delim)
    if len(fields) != 5 or fields[0] or fields[4]:
        return None
    family = {b"1": socket.AF_INET, b"2": socket.AF_INET6}.get(fields[1])
    if family is None or not fields[3].isdigit() or len(fields[3]) > 5:
        return None
    try:
        addr = socket.inet_ntop(family, socket.inet_pton(family, fields[2].decode("ascii")))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    port = int(fields[3])
    return (addr, port) if 0 < port <= 0xFFFF else None


def parse_epsv_reply(msg: bytes) -> int | None:
    """Port of a 229 reply text "... (|||port|)", or None."""
    m = _EPSV_RE.search(msg)
    if m is None:
        return None
    port = int(m.group(2))
    return port if 0 < port <= 0xFFFF else None


def sniff_mime(head: bytes) -> str | None:
    """A MIME type for the first bytes of a transfer (None when there are none)."""
    if not head:
        return None
    lower = head[:16].lower()
    for magic, mime in MIME_MAGIC:
        if head.startswith(magic) or lower.startswith(magic):
            return mime
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:
            return "application/octet-stream"
        text = head[: exc.start].decode("utf-8")  # a multibyte character cut by the sample's end
    if any(ch not in _TEXT_CHARS and (ch < " " or ch == "\x7f") for ch in text):
        return "application/octet-stream"
    return "text/plain"


# -- control channel ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Pending:
    """A command waiting for its final reply."""

    ts: float
    verb: str
    arg: bytes
    size: int | None = None


@dataclass(slots=True)
class _Channel:
    """The last data channel announced on the control connection."""

    passive: bool
    orig_h: str
    resp_h: str
    resp_p: int


class _Side:
    """Line-splitting state of one direction."""

    __slots__ = ("buf", "buf_at_start", "resync")

    def __init__(self) -> None:
        self.buf = bytearray()
        self.buf_at_start = False
        """The buffered partial line began a chunk (a TCP segment)."""
        self.resync = False
        """After a gap: drop bytes up to the next newline (a line fragment)."""


class FtpDissector:
    """Stream dissector for the FTP control connection (any port)."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.uid = flow.uid
        self._id = (flow.orig_h, flow.orig_port, flow.resp_h, flow.resp_port)
        self._client = _Side()
        self._server = _Side()
        self._pending: deque[_Pending] = deque()
        self._multi: tuple[int, bytes, int] | None = None
        """Open multi-line reply: (code, first line text, lines so far)."""
        self._greeted = False
        self._banner: str | None = None
        self._user: str | None = None
        self._password_sent = False
        self._logged_in = False
        self._commands = 0
        self._transfers = 0
        self._cwd: str | None = None
        self._sizes: dict[bytes, int] = {}
        self._channel: _Channel | None = None
        self._held: bytearray | None = None
        """Client bytes held while an AUTH TLS/SSL waits for its answer."""
        self._tls: Any = None
        """The TlsDissector once AUTH TLS was accepted."""
        self._upgrade_pending = False
        self._first_ts: float | None = None

    # -- the stream contract --

    def feed(self, data: bytes, from_client: bool, ts: float) -> list[object]:
        if self._tls is not None:
            events: list[object] = self._tls.feed(data, from_client, ts)
            return events
        if self._first_ts is None:
            self._first_ts = ts
        if from_client and self._held is not None:
            self._hold(data)
            return []
        return self._lines(data, from_client, ts)

    def opaque(self, from_client: bool) -> int:
        """After AUTH TLS, what the TLS dissector will not read; the control channel reads it all."""
        return self._tls.opaque(from_client) if self._tls is not None else 0

    def skipped(self, size: int, from_client: bool, ts: float) -> list[object]:
        if self._tls is None:
            return []
        events: list[object] = self._tls.skipped(size, from_client, ts)
        return events

    def gap(self, size: int, from_client: bool, ts: float) -> list[object]:
        if self._tls is not None:
            events: list[object] = self._tls.gap(size, from_client, ts)
            return events
        if from_client and self._held is not None:
            self._held = None  # a hole in what should be a ClientHello: give the upgrade up
        side = self._client if from_client else self._server
        side.buf.clear()
        side.resync = True
        return []

    def close(self, ts: float) -> list[object]:
        events: list[object] = []
        if self._tls is not None:
            events += self._tls.close(ts)
        else:
            for from_client, side in ((True, self._client), (False, self._server)):
                if side.buf and not side.resync:  # a last line without its newline
                    line = bytes(side.buf)
                    side.buf.clear()
                    self._line(line.rstrip(b"\r"), side.buf_at_start, from_client, ts, events)
            if self._multi is not None:
                code, first, lines = self._multi
                self._multi = None
                events.append(FtpReply(ts, self.uid, code, _text(first), lines, False))
        while self._pending:
            self._finish(self._pending.popleft(), None, None, events)
        orig_h, orig_p, resp_h, resp_p = self._id
        events.append(
            FtpSessionEnd(
                ts=self._first_ts if self._first_ts is not None else ts,
                uid=self.uid,
                orig_h=orig_h,
                orig_p=orig_p,
                resp_h=resp_h,
                resp_p=resp_p,
                banner=self._banner,
                user=self._user,
                password_sent=self._password_sent,
                logged_in=self._logged_in,
                commands=self._commands,
                transfers=self._transfers,
                cwd=self._cwd,
                tls_upgraded=self._tls is not None,
            )
        )
        return events

    # -- lines --

    def _hold(self, data: bytes) -> None:
        assert self._held is not None
        if len(self._held) + len(data) > MAX_HELD_BYTES:
            self._held = None
            raise Malformed(
                "ftp.auth_held_overflow", f"> {MAX_HELD_BYTES} client bytes before the AUTH answer"
            )
        self._held += data

    def _lines(self, data: bytes, from_client: bool, ts: float) -> list[object]:
        side = self._client if from_client else self._server
        events: list[object] = []
        pos, n = 0, len(data)
        while pos < n:
            nl = data.find(b"\n", pos)
            buffered = len(side.buf)
            if nl < 0:
                if buffered + n - pos > MAX_LINE:
                    side.buf.clear()
                    raise Malformed("ftp.line_too_long", f"{buffered + n - pos} bytes without a newline")
                if not buffered:
                    side.buf_at_start = pos == 0
                side.buf += data[pos:]
                break
            if buffered + nl - pos > MAX_LINE:
                side.buf.clear()
                raise Malformed("ftp.line_too_long", f"{buffered + nl - pos} bytes")
            if buffered:
                line = bytes(side.buf) + data[pos:nl]
                at_start = side.buf_at_start
                side.buf.clear()
            else:
                line = data[pos:nl]
                at_start = pos == 0
            pos = nl + 1
            if side.resync:  # the fragment of a line cut by a gap
                side.resync = False
                continue
            if line.endswith(b"\r"):
                line = line[:-1]
            self._line(line, at_start, from_client, ts, events)
            if self._upgrade_pending:  # the 234 just arrived: the rest of both directions is TLS
                self._start_tls(data[pos:], ts, events)
                break
            if from_client and self._held is not None:  # AUTH TLS just sent: hold what follows
                self._hold(data[pos:])
                break
        return events

    def _line(self, line: bytes, at_start: bool, from_client: bool, ts: float, events: list[object]) -> None:
        if from_client:
            self._command(line, at_start, ts, events)
        else:
            self._reply_line(line, at_start, ts, events)

    def _command(self, line: bytes, at_start: bool, ts: float, events: list[object]) -> None:
        line = line.lstrip(TELNET_PREFIX)
        verb_raw, _, arg = line.partition(b" ")
        if not verb_raw:
            return
        verb = _text(verb_raw)
        upper = verb.upper()
        self._commands += 1
        shown = PASSWORD_MASK if upper == "PASS" else _text(arg)
        events.append(FtpCommand(ts, self.uid, verb, shown, at_start))
        if upper == "PASS":
            self._password_sent = True
            arg = b""
        elif upper == "USER":
            self._user = _text(arg)
        if len(self._pending) >= MAX_PENDING_COMMANDS:
            self._finish(self._pending.popleft(), None, None, events)
        self._pending.append(_Pending(ts, upper, arg))
        if upper == "AUTH" and arg.strip().upper().startswith(TLS_AUTH_MECHANISMS):
            self._held = bytearray()

    def _reply_line(self, line: bytes, at_start: bool, ts: float, events: list[object]) -> None:
        code = _code(line)
        if at_start and code is not None:
            events.append(FtpResponseCode(ts, self.uid, code))
        sep = line[3:4]
        if self._multi is not None:
            mcode, first, lines = self._multi
            if code == mcode and sep != b"-":
                self._multi = None
                self._reply(mcode, first, lines + 1, ts, events)
            else:
                self._multi = (mcode, first, lines + 1)
            return
        if code is None:
            return  # a stray text line outside any reply (e.g. after a gap)
        if sep == b"-":
            self._multi = (code, line[4:], 1)
        else:
            self._reply(code, line[4:], 1, ts, events)

    def _reply(self, code: int, msg: bytes, lines: int, ts: float, events: list[object]) -> None:
        events.append(FtpReply(ts, self.uid, code, _text(msg), lines, True))
        if not self._greeted:
            self._greeted = True
            if code in GREETING_CODES:
                if self._banner is None:
                    self._banner = _text(msg)
                if not self._pending or code != 421:
                    return
        if code == 230:
            self._logged_in = True
        if not self._pending:
            return
        cmd = self._pending[0]
        if 100 <= code < 200:  # preliminary: the command waits for its final reply
            m = _BYTES_RE.search(msg)
            if m is not None:
                cmd.size = int(m.group(1))
            return
        self._pending.popleft()
        self._finish(cmd, code, msg, events, ts)

    # -- completed commands --

    def _finish(
        self,
        cmd: _Pending,
        code: int | None,
        msg: bytes | None,
        events: list[object],
        ts: float | None = None,
    ) -> None:
        ok = code is not None and 200 <= code < 300
        verb, arg = cmd.verb, cmd.arg
        handler = _COMPLETIONS.get(verb)
        if handler is not None and code is not None and msg is not None:
            handler(self, cmd, code, msg, events, ts if ts is not None else cmd.ts)
        if verb in TRANSFER_COMMANDS and code is not None:
            self._transfers += 1
        if verb == "AUTH" and self._held is not None and not self._upgrade_pending:
            held, self._held = bytes(self._held), None  # refused (or unanswered): parse as commands
            if held and code is not None:
                events += self._lines(held, True, ts if ts is not None else cmd.ts)
        if verb not in LOGGED_COMMANDS:
            return
        channel = self._channel if verb in TRANSFER_COMMANDS or verb in _CHANNEL_COMMANDS else None
        if verb in _CHANNEL_COMMANDS and not ok:
            channel = None
        size = cmd.size
        if size is None and verb in TRANSFER_COMMANDS:
            size = self._sizes.get(arg)
        orig_h, orig_p, resp_h, resp_p = self._id
        events.append(
            FtpRecord(
                ts=cmd.ts,
                uid=self.uid,
                orig_h=orig_h,
                orig_p=orig_p,
                resp_h=resp_h,
                resp_p=resp_p,
                user=self._user,
                password=PASSWORD_MASK if self._password_sent else None,
                command=verb,
                arg=_text(arg) if arg else None,
                mime_type=None,
                file_size=size,
                reply_code=code,
                reply_msg=_text(msg) if msg is not None else None,
                data_channel_passive=channel.passive if channel else None,
                data_channel_orig_h=channel.orig_h if channel else None,
                data_channel_resp_h=channel.resp_h if channel else None,
                data_channel_resp_p=channel.resp_p if channel else None,
                cwd=self._cwd,
            )
        )

    def _expect(self, channel: _Channel, ts: float, events: list[object]) -> None:
        self._channel = channel
        events.append(
            ExpectedConnection(ts, channel.resp_h, channel.resp_p, "ftp-data", self.uid, channel.orig_h)
        )

    def _on_pasv(self, cmd: _Pending, code: int, msg: bytes, events: list[object], ts: float) -> None:
        if code != REPLY_PASV:
            return
        m = _PASV_RE.search(msg)
        if m is None:
            return
        nums = [int(g) for g in m.groups()]
        addr = _ipv4_from_parts(nums[:4])
        port = _port_from_parts(nums[4], nums[5])
        if port is None:
            return
        server = self._id[2]
        if addr is None or addr == "0.0.0.0":
            addr = server
        self._expect(_Channel(True, self._id[0], addr, port), ts, events)
        if addr != server:  # a server behind NAT announces its private address: expect both
            events.append(ExpectedConnection(ts, server, port, "ftp-data", self.uid, self._id[0]))

    def _on_epsv(self, cmd: _Pending, code: int, msg: bytes, events: list[object], ts: float) -> None:
        if code != REPLY_EPSV:
            return
        port = parse_epsv_reply(msg)
        if port is not None:
            self._expect(_Channel(True, self._id[0], self._id[2], port), ts, events)

    def _on_port(self, cmd: _Pending, code: int, msg: bytes, events: list[object], ts: float) -> None:
        if not 200 <= code < 300:
            return
        target = parse_port_arg(cmd.arg) if cmd.verb == "PORT" else parse_eprt_arg(cmd.arg)
        if target is not None:
            self._expect(_Channel(False, self._id[2], target[0], target[1]), ts, events)

    def _on_cwd(self, cmd: _Pending, code: int, msg: bytes, events: list[object], ts: float) -> None:
        if not 200 <= code < 300:
            return
        target = ".." if cmd.verb == "CDUP" else _text(cmd.arg)
        if target.startswith("/"):
            self._cwd = posixpath.normpath(target)
        elif self._cwd is not None:
            self._cwd = posixpath.normpath(posixpath.join(self._cwd, target))

    def _on_pwd(self, cmd: _Pending, code: int, msg: bytes, events: list[object], ts: float) -> None:
        if code != REPLY_PWD:
            return
        m = _PWD_RE.search(msg)
        if m is not None:
            self._cwd = _text(m.group(1).replace(b'""', b'"'))

    def _on_size(self, cmd: _Pending, code: int, msg: bytes, events: list[object], ts: float) -> None:
        text = msg.strip()
        if code != REPLY_SIZE or not text.isdigit() or len(text) > MAX_SIZE_DIGITS:
            return
        if len(self._sizes) >= MAX_SIZES:
            del self._sizes[next(iter(self._sizes))]
        self._sizes[cmd.arg] = int(text)

    def _on_auth(self, cmd: _Pending, code: int, msg: bytes, events: list[object], ts: float) -> None:
        if code == REPLY_AUTH_OK and cmd.arg.strip().upper().startswith(TLS_AUTH_MECHANISMS):
            self._upgrade_pending = True
            events.append(TlsUpgrade(ts, self.uid, "ftp", _text(b"AUTH " + cmd.arg.strip())))

    def _start_tls(self, server_rest: bytes, ts: float, events: list[object]) -> None:
        from analyzer.dissectors.tls import TlsDissector  # lazily: FTP without TLS never needs it

        self._upgrade_pending = False
        held, self._held = bytes(self._held or b""), None
        tls = TlsDissector(self.flow)
        self._tls = tls
        self._server.buf.clear()
        self._client.buf.clear()
        if held:
            events += tls.feed(held, True, ts)
        if server_rest:
            events += tls.feed(server_rest, False, ts)


_CHANNEL_COMMANDS = frozenset({"PASV", "EPSV", "PORT", "EPRT"})
"""Commands that announce a data channel."""

_Completion = Callable[[FtpDissector, _Pending, int, bytes, list[object], float], None]
_COMPLETIONS: dict[str, _Completion] = {
    "PASV": FtpDissector._on_pasv,
    "EPSV": FtpDissector._on_epsv,
    "PORT": FtpDissector._on_port,
    "EPRT": FtpDissector._on_port,
    "CWD": FtpDissector._on_cwd,
    "CDUP": FtpDissector._on_cwd,
    "XCWD": FtpDissector._on_cwd,
    "PWD": FtpDissector._on_pwd,
    "XPWD": FtpDissector._on_pwd,
    "SIZE": FtpDissector._on_size,
    "AUTH": FtpDissector._on_auth,
}
"""Upper-cased verb -> what its final reply changes in the session."""


# -- data channel --------------------------------------------------------------------------------------


class FtpDataDissector:
    """Counts the bytes an FTP data connection moves and sniffs their MIME type.

    Theory of operation: no state machine; per direction a byte counter, gaps counted as missed, and
    the first MIME_SNIFF_BYTES of the first direction that sends data kept for `sniff_mime`.
    """

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self._bytes = {True: 0, False: 0}
        self._missed = 0
        self._head = bytearray()
        self._head_dir: bool | None = None
        self._first_ts: float | None = None

    def feed(self, data: bytes, from_client: bool, ts: float) -> list[object]:
        if not data:
            return []
        if self._first_ts is None:
            self._first_ts = ts
        self._bytes[from_client] += len(data)
        if self._head_dir is None:
            self._head_dir = from_client
        if self._head_dir == from_client and len(self._head) < MIME_SNIFF_BYTES:
            self._head += data[: MIME_SNIFF_BYTES - len(self._head)]
        return []

    def opaque(self, from_client: bool) -> int:
        """Everything after the bytes kept for MIME sniffing is only counted."""
        if self._head_dir is None or (self._head_dir == from_client and len(self._head) < MIME_SNIFF_BYTES):
            return 0
        return MAX_SKIP

    def skipped(self, size: int, from_client: bool, ts: float) -> list[object]:
        self._bytes[from_client] += size
        return []

    def gap(self, size: int, from_client: bool, ts: float) -> list[object]:
        self._missed += size
        return []

    def close(self, ts: float) -> list[object]:
        flow = self.flow
        return [
            FtpDataRecord(
                ts=self._first_ts if self._first_ts is not None else ts,
                uid=flow.uid,
                parent_uid=flow.parent_uid,
                orig_h=flow.orig_h,
                orig_p=flow.orig_port,
                resp_h=flow.resp_h,
                resp_p=flow.resp_port,
                orig_bytes=self._bytes[True],
                resp_bytes=self._bytes[False],
                missed_bytes=self._missed,
                mime_type=sniff_mime(bytes(self._head)),
            )
        ]
