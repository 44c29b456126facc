"""POP3 (RFC 1939, RFC 2449 CAPA/PIPELINING, RFC 2595 STLS, RFC 5034 AUTH).

Theory of operation
-------------------
The client sends command lines; the server answers each with a status line, "+OK ..." or
"-ERR ...". Commands may be pipelined, so they wait in a FIFO (`_pending`, bounded) and each status
line answers the oldest. Some positive answers go on with a multi-line body ending in a lone "."
(MULTILINE table: RETR and TOP always, LIST/UIDL/AUTH without an argument, CAPA); the body lines are
dot-unstuffed and counted (lines, bytes), never parsed as statuses. The client side:

    command --AUTH--> server "+ <challenge>" --> the next client line is SASL data (never kept) --> ...
       |                                          until the server's +OK/-ERR ends the exchange
       +--STLS--> held (bytes kept aside) --+OK--> TLS (see textproto); -ERR: command

USER keeps the name; PASS keeps nothing but the fact that a clear-text password was sent; APOP keeps
the name, never the digest. DELE is worth noting: POP3 removes mail from the server only on DELE
(and only when QUIT ends the session in the UPDATE state).

Counting as tshark 4.0 does (so `commands` and `responses` match Wireshark): its POP dissector
looks only at the *first line of each TCP segment* - a second pipelined command in the same segment
is not reported - so each event carries `counted` (first line completed in its segment); the tracker
counts the others separately. Status indicators are case-sensitive ("+OK", "-ERR") as in tshark.
Decision on SASL: tshark reports the client's AUTH continuation lines (base64 credentials) as
commands named by the blob itself; we never keep credentials, so they are counted apart as
`sasl_lines`, not in `commands` (no capture in the truth set has a POP3 AUTH exchange).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from analyzer.dissectors.textproto import AuthContinuation, LineProtocol, MailOddLine, text, word_key

if TYPE_CHECKING:
    from analyzer.flows import Flow

MAX_PENDING = 128
"""Commands awaiting an answer; a pipelining client sends a window of a few dozen at most."""

MULTILINE: dict[str, str] = {
    "RETR": "always",
    "TOP": "always",
    "CAPA": "always",
    "LIST": "without_arg",
    "UIDL": "without_arg",
    "AUTH": "without_arg",
}
"""Command -> when a +OK answer to it goes on with a dot-terminated body."""

COMMAND_ARGS: dict[str, str] = {
    "USER": "name",
    "APOP": "name",
    "PASS": "secret",
    "AUTH": "mechanism",
    "RETR": "msg",
    "DELE": "msg",
    "LIST": "msg",
    "UIDL": "msg",
    "TOP": "msg",
}
"""Command -> argument kind: a user name (APOP: the name, not the digest), a secret (never kept), a
SASL mechanism (an initial response after it is dropped), message numbers. Others keep nothing."""

INDICATORS: dict[bytes, str] = {b"+OK": "+OK", b"-ERR": "-ERR"}
"""Status line prefix -> indicator (case-sensitive, as RFC 1939 writes them and tshark matches)."""


@dataclass(frozen=True, slots=True)
class Pop3Command:
    """One client command line."""

    ts: float
    """Time of the line."""
    uid: str
    """Connection uid."""
    command: str
    """First word as sent (tshark's pop.request.command keeps the case)."""
    arg: str | None
    """What COMMAND_ARGS allows to keep (USER name, message number, AUTH mechanism)."""
    counted: bool
    """First line of its TCP segment, hence reported by tshark 4.0."""


@dataclass(frozen=True, slots=True)
class Pop3Reply:
    """One status line (+OK / -ERR)."""

    ts: float
    """Time of the line."""
    uid: str
    """Connection uid."""
    indicator: str
    """+OK or -ERR."""
    command: str | None
    """Command answered, upper-cased (None: greeting or unsolicited)."""
    text: str
    """Text after the indicator (bounded)."""
    counted: bool
    """First line of its TCP segment, hence reported by tshark 4.0."""


@dataclass(frozen=True, slots=True)
class Pop3Data:
    """The dot-terminated body of a multi-line answer (RETR, TOP, LIST, UIDL, CAPA)."""

    ts: float
    """Time its end was seen."""
    uid: str
    """Connection uid."""
    command: str
    """Command answered, upper-cased."""
    lines: int
    """Body lines (the final "." excluded)."""
    size: int
    """Body bytes, dot-unstuffed, line ends included."""
    complete: bool
    """The final "." was seen."""


class Pop3Dissector(LineProtocol):
    """POP3 session: commands, statuses, multi-line bodies; STLS hands the stream to TLS."""

    SERVICE = "pop3"
    UPGRADE_COMMAND = "STLS"

    def __init__(self, flow: Flow) -> None:
        super().__init__(flow)
        self._pending: deque[tuple[str, bool]] = deque()
        self._sasl = False
        self._body_cmd = ""
        self._body_lines = 0
        self._body_size = 0

    def _line(self, line: bytes, from_client: bool, ts: float, first: bool) -> list[Any]:
        return self._client_line(line, ts, first) if from_client else self._server_line(line, ts, first)

    # -- client --

    def _client_line(self, line: bytes, ts: float, first: bool) -> list[Any]:
        if self._sasl:
            self._sasl = False
            return [AuthContinuation(ts, self.uid, self.SERVICE)]
        parts = line.split(None, 1)
        if not parts:
            return [MailOddLine(ts, self.uid, self.SERVICE, True, "empty_command")]
        verb = word_key(parts[0])
        upper = verb.upper()
        arg = parts[1].strip() if len(parts) > 1 else b""
        kind = COMMAND_ARGS.get(upper)
        kept: str | None = None
        if arg and kind in ("name", "mechanism"):
            kept = text(arg.split(None, 1)[0])
            kept = kept.upper() if kind == "mechanism" else kept
        elif arg and kind == "msg":
            kept = text(arg)
        if len(self._pending) >= MAX_PENDING:
            self._pending.popleft()
        self._pending.append((upper, bool(arg)))
        if upper == "STLS":
            self.hold(True)
        return [Pop3Command(ts, self.uid, verb, kept, first)]

    # -- server --

    def _server_line(self, line: bytes, ts: float, first: bool) -> list[Any]:
        indicator = INDICATORS.get(line[:3]) or INDICATORS.get(line[:4])
        if indicator is None:
            challenge = line[:1] == b"+" and line[1:2] in (b"", b" ")
            if challenge and self._pending and self._pending[0][0] == "AUTH":
                self._sasl = True  # a SASL challenge: the client's next line is its response
                return []
            return [MailOddLine(ts, self.uid, self.SERVICE, False, "not_a_status_line")]
        command: str | None = None
        has_arg = False
        if self._pending:
            command, has_arg = self._pending.popleft()
        self._sasl = False
        events: list[Any] = [
            Pop3Reply(ts, self.uid, indicator, command, text(line[len(indicator) :].strip()), first)
        ]
        if command is None:
            return events
        if indicator == "+OK":
            rule = MULTILINE.get(command)
            if rule == "always" or (rule == "without_arg" and not has_arg):
                self.begin_body(False)
                self._body_cmd, self._body_lines, self._body_size = command, 0, 0
        if command == "STLS":
            events += self.start_tls(ts) if indicator == "+OK" else self.release(True, ts)
        return events

    def _body_line(self, line: bytes, size: int, from_client: bool, ts: float, first: bool) -> list[Any]:
        if line == b"." and size <= 3:
            self.end_body(False)
            return [Pop3Data(ts, self.uid, self._body_cmd, self._body_lines, self._body_size, True)]
        self._body_lines += 1
        self._body_size += size - 1 if line.startswith(b".") else size
        return []

    def _close(self, ts: float) -> list[Any]:
        if self.in_body(False):
            self.end_body(False)
            return [Pop3Data(ts, self.uid, self._body_cmd, self._body_lines, self._body_size, False)]
        return []
