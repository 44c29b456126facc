"""IMAP4rev1/rev2 (RFC 3501, RFC 9051; LITERAL+ RFC 7888, IDLE RFC 2177, STARTTLS, SASL-IR).

Theory of operation
-------------------
The client sends tagged commands ("a1 SELECT INBOX"); the server sends untagged data ("* 2 EXISTS"),
continuation requests ("+ ...") and finally the tagged status ("a1 OK ...", NO or BAD), paired with
its command by tag (`_pending`, bounded). Either side may end a line with a literal "{n}" (client:
also "{n+}"): the next n bytes are data, skipped by count (raw mode, never buffered, at most
MAX_LITERAL), and the logical line goes on after them until a line without a literal ends it.
Events are emitted when a logical line ends, with the literal bytes it carried.

Client lines are commands except:
    after AUTHENTICATE, each line answering a "+ <challenge>" is SASL data (never kept), until the
        tagged status;
    after IDLE and the server's "+ idling", the client's "DONE" ends the idle (not a command);
    after STARTTLS the client's bytes are held until the tagged answer: OK -> TLS (see textproto),
        NO/BAD -> parsed as commands after all.
A synchronising literal that the server refuses (tagged NO/BAD instead of "+") is not sent: the
announced raw count is cancelled. LOGIN keeps the user name (even from a literal), never the
password; an AUTHENTICATE initial response (SASL-IR) is dropped, the mechanism kept.

Counting as tshark 4.0 does: a command is the second word of a client line as sent (case kept);
for "UID FETCH ..." it is the word after UID. `response_status` counts the status word of tagged
lines as sent. Known tshark 4.0 differences we do not copy: it does not skip client literals, so it
reports words inside them as commands ("LOGIN {3}" then "bob {6}" gives a command "{6}", and the
lines of an APPENDed message become commands), and it reports the text of "+ ..." continuation
requests as a response status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from analyzer.dissectors.textproto import (
    MAX_TEXT,
    AuthContinuation,
    LineProtocol,
    MailOddLine,
    text,
    word_key,
)
from analyzer.errors import Malformed

if TYPE_CHECKING:
    from analyzer.flows import Flow

MAX_PENDING = 256
"""Tagged commands awaiting their status; clients pipeline a handful, a few hundred is abuse and the
oldest are forgotten."""
MAX_LITERAL = 1 << 30
"""Largest literal skipped by count (1 GiB): a message with attachments is tens of MB; a larger
count is garbage, and skipping it would blind the rest of the stream."""

COMMAND_ARGS: dict[str, str] = {
    "LOGIN": "user",
    "AUTHENTICATE": "mechanism",
    "SELECT": "mailbox",
    "EXAMINE": "mailbox",
    "CREATE": "mailbox",
    "DELETE": "mailbox",
    "RENAME": "mailbox",
    "SUBSCRIBE": "mailbox",
    "UNSUBSCRIBE": "mailbox",
    "STATUS": "mailbox",
    "APPEND": "mailbox",
    "FETCH": "set",
    "STORE": "set",
    "COPY": "set",
    "MOVE": "set",
}
"""Command -> argument kind kept: the user name (LOGIN's second argument, the password, never), the
SASL mechanism, the mailbox name, the message set. Others keep nothing (SEARCH text, for one, may be
anything)."""

STATUS_UNTAGGED = frozenset({"OK", "NO", "BAD", "PREAUTH", "BYE"})
"""Untagged responses whose text is kept (greeting, alerts, BYE); data responses keep only counts."""

_LITERAL = re.compile(rb"\{(\d{1,12})\+?\}$")


def _literal(line: bytes) -> int | None:
    m = _LITERAL.search(line)
    if m is None:
        return None
    size = int(m.group(1))
    if size > MAX_LITERAL:
        raise Malformed("imap.literal_too_large", f"{size} bytes")
    return size


def _astring(data: bytes) -> bytes | None:
    """The first IMAP astring (atom or quoted string) of `data`; None for a literal or nothing."""
    data = data.lstrip()
    if not data or data[:1] == b"{":
        return None
    if data[:1] == b'"':
        out = bytearray()
        i = 1
        while i < len(data) and data[i : i + 1] != b'"':
            if data[i : i + 1] == b"\\":
                i += 1
            out += data[i : i + 1]
            i += 1
        return bytes(out)
    return data.split(None, 1)[0]


def _first_word(data: bytes) -> bytes | None:
    parts = data.split(None, 1)
    return parts[0] if parts else None


ARG_KEEPERS = {
    "user": _astring,
    "mailbox": _astring,
    "mechanism": lambda data: (_first_word(data) or b"").upper() or None,
    "set": _first_word,
}
"""Argument kind -> how the kept part is cut out of the arguments."""


@dataclass(frozen=True, slots=True)
class ImapCommand:
    """One tagged client command (its whole logical line, literals included)."""

    ts: float
    """Time its line ended."""
    uid: str
    """Connection uid."""
    tag: str
    """Client tag."""
    command: str
    """Command word as sent (after UID for UID commands), as tshark's imap.request.command."""
    uid_prefix: bool
    """Sent as "UID <command>"."""
    arg: str | None
    """What COMMAND_ARGS allows to keep: user name, mechanism, mailbox, message set."""
    literal_bytes: int
    """Bytes of literals the command carried (APPEND message, LOGIN literals: counted, not kept)."""


@dataclass(frozen=True, slots=True)
class ImapResponse:
    """A tagged status line ending a command."""

    ts: float
    """Time of the line."""
    uid: str
    """Connection uid."""
    tag: str
    """Tag of the command it ends."""
    status: str
    """OK, NO or BAD as sent."""
    command: str | None
    """Command it ends, upper-cased (None when the tag was never seen)."""
    text: str
    """Text after the status (bounded)."""


@dataclass(frozen=True, slots=True)
class ImapUntagged:
    """An untagged response ("* ...")."""

    ts: float
    """Time its line ended."""
    uid: str
    """Connection uid."""
    keyword: str
    """Response name upper-cased: OK, CAPABILITY, EXISTS, FETCH, BYE, ..."""
    text: str | None
    """Text of status responses (OK/NO/BAD/PREAUTH/BYE), bounded; None for data responses."""
    literal_bytes: int
    """Bytes of literals it carried (FETCH bodies)."""


class _Line:
    """A logical line continuing after a literal."""

    __slots__ = ("capture", "event", "literal_bytes")

    def __init__(self, event: Any) -> None:
        self.event = event
        self.literal_bytes = 0
        self.capture: bytearray | None = None


class ImapDissector(LineProtocol):
    """IMAP session: tagged commands and statuses, untagged responses, literals; STARTTLS -> TLS."""

    SERVICE = "imap"

    def __init__(self, flow: Flow) -> None:
        super().__init__(flow)
        self._pending: dict[str, str] = {}
        self._cmd: _Line | None = None
        self._resp: _Line | None = None
        self._sasl_tag: str | None = None
        self._sasl_go = False
        self._idle_tag: str | None = None
        self._starttls_tag: str | None = None
        self._after_command = {
            "STARTTLS": self._cmd_starttls,
            "AUTHENTICATE": self._cmd_authenticate,
            "IDLE": self._cmd_idle,
        }

    def _line(self, line: bytes, from_client: bool, ts: float, first: bool) -> list[Any]:
        return self._client_line(line, ts) if from_client else self._server_line(line, ts)

    # -- client --

    def _client_line(self, line: bytes, ts: float) -> list[Any]:
        if self._cmd is not None:
            return self._continue(self._cmd, line, True, ts)
        if self._sasl_go:
            self._sasl_go = False
            return [AuthContinuation(ts, self.uid, self.SERVICE)]
        if self._idle_tag is not None and line.strip().upper() == b"DONE":
            return []
        parts = line.split(None, 2)
        if len(parts) < 2:
            return [MailOddLine(ts, self.uid, self.SERVICE, True, "no_command" if parts else "empty_command")]
        tag, command = parts[0], parts[1]
        rest = parts[2] if len(parts) > 2 else b""
        uid_prefix = command.upper() == b"UID" and bool(rest.strip())
        if uid_prefix:
            sub = rest.split(None, 1)
            command, rest = sub[0], (sub[1] if len(sub) > 1 else b"")
        upper = word_key(command.upper())
        keeper = ARG_KEEPERS.get(COMMAND_ARGS.get(upper, ""))
        kept = keeper(rest) if keeper is not None else None
        arg = text(kept) if kept is not None else None
        event = ImapCommand(ts, self.uid, word_key(tag), word_key(command), uid_prefix, arg, 0)
        size = _literal(line)
        if size is None:
            return self._command_done(event)
        self._cmd = pending = _Line(event)
        if upper == "LOGIN" and kept is None:
            pending.capture = bytearray()  # the user name is this literal
        self.expect_raw(True, size)
        return []

    def _command_done(self, event: ImapCommand) -> list[Any]:
        if len(self._pending) >= MAX_PENDING:
            del self._pending[next(iter(self._pending))]
        upper = event.command.upper()
        self._pending[event.tag] = upper
        after = self._after_command.get(upper)
        if after is not None:
            after(event.tag)
        return [event]

    def _cmd_starttls(self, tag: str) -> None:
        self._starttls_tag = tag
        self.hold(True)

    def _cmd_authenticate(self, tag: str) -> None:
        self._sasl_tag = tag

    def _cmd_idle(self, tag: str) -> None:
        self._idle_tag = tag

    # -- server --

    def _server_line(self, line: bytes, ts: float) -> list[Any]:
        if self._resp is not None:
            return self._continue(self._resp, line, False, ts)
        parts = line.split(None, 2)
        if not parts:
            return [MailOddLine(ts, self.uid, self.SERVICE, False, "empty_response")]
        tag = parts[0]
        event: ImapUntagged | ImapResponse
        if tag == b"*":
            keyword = parts[1] if len(parts) > 1 else b""
            if keyword.isdigit() and len(parts) > 2:
                keyword = parts[2].split(None, 1)[0]
            name = word_key(keyword.upper())
            shown = text(parts[2]) if name in STATUS_UNTAGGED and len(parts) > 2 else None
            event = ImapUntagged(ts, self.uid, name, shown, 0)
        elif tag[:1] == b"+":
            if self._sasl_tag is not None:
                self._sasl_go = True
            return []
        else:
            if len(parts) < 2:
                return [MailOddLine(ts, self.uid, self.SERVICE, False, "no_status")]
            tag_text = word_key(tag)
            event = ImapResponse(
                ts,
                self.uid,
                tag_text,
                word_key(parts[1]),
                self._pending.pop(tag_text, None),
                text(parts[2]) if len(parts) > 2 else "",
            )
        size = _literal(line)
        if size is None:
            return self._response_done(event, ts)
        self._resp = _Line(event)
        self.expect_raw(False, size)
        return []

    def _response_done(self, event: ImapUntagged | ImapResponse, ts: float) -> list[Any]:
        events: list[Any] = []
        if isinstance(event, ImapResponse):
            tag = event.tag
            if self._cmd is not None and self._cmd.event.tag == tag:
                self.cancel_raw(True)  # a refused synchronising literal is never sent
                done, self._cmd = self._cmd, None
                events += self._command_done(_replace(done.event, literal_bytes=done.literal_bytes))
                self._pending.pop(tag, None)
            if tag == self._sasl_tag:
                self._sasl_tag, self._sasl_go = None, False
            if tag == self._idle_tag:
                self._idle_tag = None
            events.append(event)
            if tag == self._starttls_tag:
                self._starttls_tag = None
                events += self.start_tls(ts) if event.status.upper() == "OK" else self.release(True, ts)
            return events
        return [event]

    # -- literals --

    def _raw(self, data: bytes, from_client: bool) -> None:
        pending = self._cmd if from_client else self._resp
        if pending is None:
            return
        pending.literal_bytes += len(data)
        if pending.capture is not None and len(pending.capture) < MAX_TEXT:
            pending.capture += data[: MAX_TEXT - len(pending.capture)]

    def _raw_done(self, from_client: bool, ts: float) -> list[Any]:
        pending = self._cmd if from_client else self._resp
        if pending is not None and pending.capture is not None:
            pending.event = _replace(pending.event, arg=text(bytes(pending.capture)))
            pending.capture = None  # only the first literal (the user name) is ever captured
        return []

    def _continue(self, pending: _Line, line: bytes, from_client: bool, ts: float) -> list[Any]:
        """A line after a literal: another literal, or the end of the logical line."""
        size = _literal(line)
        if size is not None:
            self.expect_raw(from_client, size)
            return []
        event = _replace(pending.event, literal_bytes=pending.literal_bytes)
        if from_client:
            self._cmd = None
            return self._command_done(event)
        self._resp = None
        return self._response_done(event, ts)

    def _gap(self, size: int, from_client: bool, ts: float) -> list[Any]:
        # a gap inside a logical line loses its end: emit what is known and start afresh
        if from_client and self._cmd is not None:
            done, self._cmd = self._cmd, None
            return self._command_done(_replace(done.event, literal_bytes=done.literal_bytes))
        if not from_client and self._resp is not None:
            resp, self._resp = self._resp, None
            return self._response_done(_replace(resp.event, literal_bytes=resp.literal_bytes), ts)
        return []

    def _close(self, ts: float) -> list[Any]:
        return self._gap(0, True, ts) + self._gap(0, False, ts)


def _replace(event: Any, **changes: Any) -> Any:
    """A copy of a frozen event with some fields changed (ImapResponse has no literal_bytes)."""
    names = {f.name for f in fields(event)}
    return replace(event, **{k: v for k, v in changes.items() if k in names})
