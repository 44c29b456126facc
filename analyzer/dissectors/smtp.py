"""SMTP (RFC 5321, ESMTP extensions, RFC 3030 BDAT, RFC 4954 AUTH, RFC 3207 STARTTLS).

Theory of operation
-------------------
The client sends command lines; the server answers each with a reply of one or more lines
("250-..." continues, "250 ..." ends it). Commands may be pipelined (RFC 2920), so commands wait in
a FIFO (`_pending`, bounded) and each finished reply answers the oldest one; a reply with nothing
pending is the greeting (or unsolicited). The client side moves between modes:

    command --DATA--> body (dot-terminated lines; the reply to DATA must be 354, any other reply
       ^                 |   cancels the body) --lone "."--> command (pseudo-command DATA-END
       |                 |   waits for the reply that accepts or refuses the message)
       +--BDAT n--> raw (n bytes, never parsed as lines) --> command (LAST ends the message)
       +--server 334 to AUTH--> the next client line is a SASL continuation (never kept), then command
       +--STARTTLS--> held (bytes kept aside) --220--> TLS (see textproto); other reply: command

A body line is dot-unstuffed; the message size is the unstuffed bytes (line ends included, the final
"." excluded). The header block (bounded) yields the Zeek smtp.log fields at the message's end.

Counting as tshark 4.0 does (so `commands` and `reply_codes` match Wireshark):
- a command is every client line in command mode; its key is the first word upper-cased (tshark's
  `smtp.req.command` keeps only 4 letters, so parity uses the first word of `smtp.command_line`).
  Not commands: body lines, BDAT chunk bytes, AUTH continuation lines, empty lines.
- `smtp.response.code` is given once per reply *piece*: the first line of a reply, plus the first
  line of each later TCP segment the same multi-line reply continues in (tshark dissects each
  segment's complete lines on their own). `SmtpReply.code_lines` carries that number.
Known tshark 4.0 differences we do not copy: it stays in data mode after a refused DATA, it loses
track of commands after BDAT, and it counts the continuation lines of AUTH mechanisms other than
LOGIN/PLAIN/CRAM-MD5 (e.g. XOAUTH2) as commands - they are credentials, so we never keep them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from analyzer.dissectors.textproto import (
    MAX_LIST_ITEMS,
    AuthContinuation,
    HeaderCollector,
    LineProtocol,
    MailOddLine,
    text,
    word_key,
)

if TYPE_CHECKING:
    from analyzer.flows import Flow

MAX_PENDING = 128
"""Commands awaiting a reply. RFC 2920 pipelines a few dozen at most (a MAIL, RCPTs, DATA); beyond
this the client is not waiting for replies at all and the oldest are forgotten."""
MAX_BDAT_CHUNK = 1 << 32
"""Largest BDAT chunk skipped by count (4 GiB); a larger size is not a real chunk."""
MAX_BDAT_DIGITS = 12
"""Digits of a BDAT size converted to a number (more cannot be under MAX_BDAT_CHUNK; bounds the work)."""

COMMAND_ARGS: dict[str, str] = {
    "HELO": "domain",
    "EHLO": "domain",
    "LHLO": "domain",
    "MAIL": "path",
    "RCPT": "path",
    "AUTH": "mechanism",
    "VRFY": "text",
    "EXPN": "text",
    "HELP": "text",
    "BDAT": "chunk",
    "ETRN": "text",
    "DATA": "none",
    "RSET": "none",
    "NOOP": "none",
    "QUIT": "none",
    "STARTTLS": "none",
    "TURN": "none",
}
"""Command -> what its argument is and therefore what is kept of it: a domain, a path (MAIL FROM /
RCPT TO address), a SASL mechanism (the initial response after it is a credential and is dropped),
free text, a BDAT chunk size, or nothing. Unknown commands keep nothing."""

REPLY_CLASSES: dict[str, str] = {
    "1": "positive_preliminary",
    "2": "positive_completion",
    "3": "positive_intermediate",
    "4": "transient_negative",
    "5": "permanent_negative",
}
"""First digit of a reply code -> its class (RFC 5321 4.2.1)."""

HELLOS = frozenset({"EHLO", "LHLO"})
"""Commands whose multi-line 250 reply lists the extensions offered (first line: the greeting)."""
DATA_END = "DATA-END"
"""Pseudo-command the reply after a message's final "." answers (not a command line on the wire)."""
GREETING = None
"""`command` of the greeting (a reply with no command pending)."""


@dataclass(frozen=True, slots=True)
class SmtpCommand:
    """One client command line."""

    ts: float
    """Time of the line."""
    uid: str
    """Connection uid."""
    command: str
    """First word upper-cased (tshark parity key), e.g. EHLO, MAIL, STARTTLS."""
    arg: str | None
    """What COMMAND_ARGS allows to keep: HELO domain, MAIL/RCPT address, AUTH mechanism, ..."""


@dataclass(frozen=True, slots=True)
class SmtpReply:
    """One complete server reply (all its lines)."""

    ts: float
    """Time of its last line."""
    uid: str
    """Connection uid."""
    code: int | None
    """Reply code (None when the first line has no 3-digit code)."""
    command: str | None
    """Command it answers (DATA-END for the message's final reply; None: greeting/unsolicited)."""
    text: str
    """Text of the first line after the code (bounded)."""
    lines: int
    """Lines in the reply."""
    code_lines: int
    """smtp.response.code occurrences tshark 4.0 reports for it (one per TCP segment it spans)."""
    extensions: tuple[str, ...] = ()
    """EHLO reply: the extension lines offered (STARTTLS, SIZE 35882577, AUTH PLAIN LOGIN, ...)."""


@dataclass(frozen=True, slots=True)
class SmtpMessage:
    """A message sent with DATA or BDAT, as far as it went by."""

    ts: float
    """Time its end was seen."""
    uid: str
    """Connection uid."""
    via: str
    """DATA or BDAT."""
    size: int
    """Message bytes (dot-unstuffed, line ends included)."""
    complete: bool
    """Its end (lone "." or BDAT LAST) was seen."""
    headers: tuple[tuple[str, str | tuple[str, ...]], ...]
    """Zeek smtp.log header fields found: date, from, to, cc, subject, msg_id, user_agent, ..."""
    received_path: tuple[str, ...]
    """Addresses from the Received headers, newest first."""


class _Reply:
    """A reply being read."""

    __slots__ = ("code", "code_lines", "extensions", "lines", "text")

    def __init__(self, code: int | None, first_text: str) -> None:
        self.code = code
        self.text = first_text
        self.lines = 1
        self.code_lines = 1 if code is not None else 0
        self.extensions: list[str] = []


def _reply_code(line: bytes) -> int | None:
    """The 3-digit code a reply line starts with, if any."""
    head = line[:3]
    if len(head) == 3 and head.isdigit() and line[3:4] in (b"", b" ", b"-"):
        return int(head)
    return None


def _path(arg: bytes) -> str:
    """The address of "FROM:<a@b> SIZE=1" / "TO: <c@d>" (the part in angle brackets, else the word)."""
    _, _, rest = arg.partition(b":")
    rest = rest.strip() or arg.strip()
    if rest.startswith(b"<"):
        close = rest.find(b">")
        return text(rest[1 : close if close > 0 else None])
    return text(rest.split(None, 1)[0] if rest else b"")


def _first_word(arg: bytes) -> str:
    parts = arg.split(None, 1)
    return text(parts[0]) if parts else ""


ARG_KEEPERS = {
    "domain": _first_word,
    "path": _path,
    "mechanism": lambda arg: _first_word(arg).upper(),
    "text": lambda arg: text(arg.strip()),
    "chunk": lambda arg: text(arg.strip()),
}
"""Argument kind -> how the kept part is cut out of the argument bytes."""


class SmtpDissector(LineProtocol):
    """SMTP session: commands, replies, messages; STARTTLS hands the stream to TLS."""

    SERVICE = "smtp"

    def __init__(self, flow: Flow) -> None:
        super().__init__(flow)
        self._pending: deque[str] = deque()
        self._reply: _Reply | None = None
        self._sasl = False
        self._message: HeaderCollector | None = None
        self._size = 0
        self._via = "DATA"
        self._bdat_last = False
        self._actions = {
            "DATA": self._cmd_data,
            "BDAT": self._cmd_bdat,
            "STARTTLS": self._cmd_starttls,
        }
        self._on_reply = {
            "DATA": self._reply_data,
            "STARTTLS": self._reply_starttls,
        }

    # -- client --

    def _line(self, line: bytes, from_client: bool, ts: float, first: bool) -> list[Any]:
        return self._client_line(line, ts) if from_client else self._server_line(line, ts, first)

    def _client_line(self, line: bytes, ts: float) -> list[Any]:
        if self._sasl:
            self._sasl = False
            return [AuthContinuation(ts, self.uid, self.SERVICE)]
        parts = line.split(None, 1)
        if not parts:
            return [MailOddLine(ts, self.uid, self.SERVICE, True, "empty_command")]
        verb = word_key(parts[0].upper())
        arg = parts[1] if len(parts) > 1 else b""
        kind = COMMAND_ARGS.get(verb, "none")
        keeper = ARG_KEEPERS.get(kind)
        kept = keeper(arg) if keeper is not None and arg else None
        if len(self._pending) >= MAX_PENDING:
            self._pending.popleft()
        self._pending.append(verb)
        events: list[Any] = [SmtpCommand(ts, self.uid, verb, kept)]
        action = self._actions.get(verb)
        if action is not None:
            events += action(arg, ts)
        return events

    def _cmd_data(self, arg: bytes, ts: float) -> list[Any]:
        self._start_message("DATA")
        self.begin_body(True)
        return []

    def _cmd_bdat(self, arg: bytes, ts: float) -> list[Any]:
        parts = arg.split()
        if (
            not parts
            or not parts[0].isdigit()
            or len(parts[0]) > MAX_BDAT_DIGITS
            or int(parts[0]) > MAX_BDAT_CHUNK
        ):
            return [MailOddLine(ts, self.uid, self.SERVICE, True, "bad_bdat_size")]
        if self._message is None or self._via != "BDAT":
            self._start_message("BDAT")
        size = int(parts[0])
        self._bdat_last = len(parts) > 1 and parts[1].upper() == b"LAST"
        self._size += size
        if size:
            self.expect_raw(True, size)
            return []
        return self._raw_done(True, ts)

    def _cmd_starttls(self, arg: bytes, ts: float) -> list[Any]:
        self.hold(True)
        return []

    def _start_message(self, via: str) -> None:
        self._message = HeaderCollector()
        self._size = 0
        self._via = via

    def _finish_message(self, ts: float, complete: bool) -> list[Any]:
        message, self._message = self._message, None
        if message is None:
            return []
        fields, path = message.fields()
        return [
            SmtpMessage(
                ts=ts,
                uid=self.uid,
                via=self._via,
                size=self._size,
                complete=complete,
                headers=tuple(fields.items()),
                received_path=path,
            )
        ]

    def _body_line(self, line: bytes, size: int, from_client: bool, ts: float, first: bool) -> list[Any]:
        if line == b"." and size <= 3:
            self.end_body(True)
            self._pending.append(DATA_END)
            return self._finish_message(ts, True)
        stuffed = line.startswith(b".")
        if stuffed:
            line = line[1:]
            size -= 1
        self._size += size
        if self._message is not None and not self._message.done:
            self._message.add(line + b"\r\n")
        return []

    def _raw(self, data: bytes, from_client: bool) -> None:
        if self._message is not None:
            self._message.add(data)

    def _raw_done(self, from_client: bool, ts: float) -> list[Any]:
        if self._bdat_last:
            self._bdat_last = False
            return self._finish_message(ts, True)
        return []

    # -- server --

    def _server_line(self, line: bytes, ts: float, first: bool) -> list[Any]:
        code = _reply_code(line)
        reply = self._reply
        if reply is None:
            if code is None:
                return [MailOddLine(ts, self.uid, self.SERVICE, False, "reply_without_code")]
            reply = self._reply = _Reply(code, text(line[4:]))
        else:
            reply.lines += 1
            if first and code is not None:
                reply.code_lines += 1
            if self._pending and self._pending[0] in HELLOS and len(reply.extensions) < MAX_LIST_ITEMS:
                reply.extensions.append(text(line[4:]))
        if line[3:4] == b"-":
            return []
        self._reply = None
        return self._finish_reply(reply, ts)

    def _finish_reply(self, reply: _Reply, ts: float) -> list[Any]:
        command: str | None = GREETING
        if self._pending:
            if self._pending[0] == "AUTH" and reply.code == 334:
                command = "AUTH"
                self._sasl = True
            else:
                command = self._pending.popleft()
                self._sasl = False
        r = reply
        ext = tuple(r.extensions) if command in HELLOS else ()
        events: list[Any] = [SmtpReply(ts, self.uid, r.code, command, r.text, r.lines, r.code_lines, ext)]
        follow = self._on_reply.get(command or "")
        if follow is not None:
            events += follow(reply.code, ts)
        return events

    def _reply_data(self, code: int | None, ts: float) -> list[Any]:
        if code != 354 and self.in_body(True):
            self.end_body(True)  # DATA refused: the client goes on with commands
            self._message = None
        return []

    def _reply_starttls(self, code: int | None, ts: float) -> list[Any]:
        if code is not None and 200 <= code < 300:
            return self.start_tls(ts)
        return self.release(True, ts)

    # -- end --

    def _close(self, ts: float) -> list[Any]:
        if self._message is not None and (self.in_body(True) or self._via == "BDAT"):
            return self._finish_message(ts, False)
        return []
