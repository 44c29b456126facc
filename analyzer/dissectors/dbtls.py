"""MySQL and PostgreSQL up to their switch to TLS, then the TLS dissector on the same stream.

Theory of operation
-------------------
Both protocols upgrade a clear-text connection to TLS inside the same TCP stream, as SMTP does with
STARTTLS, but in binary and before any login:

PostgreSQL (frontend/backend protocol 3, "SSL session encryption"):

    client SSLRequest (8 bytes: length 8, code 80877103) --> server answers one byte
        'S' --> TLS from the next byte of both directions
        'N' (or an old server's 'E' error) --> clear text goes on (StartupMessage, ...)

  Any other first client message (StartupMessage, CancelRequest, GSSENCRequest) is clear text.

MySQL (client/server protocol, capability CLIENT_SSL):

    server greeting (HandshakeV10: protocol 10) --> client "SSL request": packet 1 holding only the
    capability flags (32 bytes with CLIENT_PROTOCOL_41, 5 in the 3.20 protocol) with CLIENT_SSL set
        --> TLS from the client's next byte, and from the server's next byte

  A longer packet 1 is a HandshakeResponse (a login): the session stays in clear text.

Each dissector keeps the few clear-text bytes of its preface (at most MAX_PREFACE_BYTES per direction),
emits a `TlsUpgrade` (protocol `mysql` / `postgresql`) on the switch, and from then on feeds every
byte of both directions, starting with what followed the preface, to a `TlsDissector` of the same
flow, whose events follow, exactly as the mail dissectors do after STARTTLS. A session that stays in
clear text (or loses bytes in its preface) is not read further and keeps nothing. A MySQL greeting
that is not one raises Malformed (the pipeline counts it and detaches the dissector).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from analyzer.dissectors.base import TlsUpgrade
from analyzer.dissectors.tls import TlsDissector
from analyzer.errors import Malformed

if TYPE_CHECKING:
    from analyzer.flows import Flow

# -- limits -------------------------------------------------------------------------------------------

MAX_PREFACE_BYTES = 4096
"""Clear-text bytes kept per direction before the switch: a MySQL greeting is ~80-120 bytes (version
string, 20-byte scramble, plugin name), PostgreSQL's SSLRequest 8 and its answer 1; beyond this the
peer is not speaking the preface and is Malformed."""
MAX_GREETING_LENGTH = 1024
"""Largest MySQL greeting payload accepted (real ones stay under 150 bytes)."""

# -- wire constants -----------------------------------------------------------------------------------

PG_SSL_REQUEST = (8).to_bytes(4, "big") + (80877103).to_bytes(4, "big")
"""PostgreSQL SSLRequest: length 8, request code 1234.5679."""
PG_ACCEPT = ord("S")
"""The server's one-byte answer to SSLRequest that starts TLS ('N' refuses, 'E' is an old server's error)."""

MYSQL_HEADER = 4
"""MySQL packet header: 3-byte little-endian payload length, 1-byte sequence id."""
MYSQL_PROTOCOL_10 = 10
"""Protocol version byte of a HandshakeV10 greeting."""
MYSQL_ERR = 0xFF
"""First payload byte of an ERR packet (a server refusing the host sends it instead of a greeting)."""
MYSQL_CLIENT_SSL = 0x0800
"""Capability flag CLIENT_SSL: the client switches to TLS after this packet."""
MYSQL_SSL_REQUEST_LENGTHS = (32, 5)
"""Payload lengths of an SSL request: HandshakeResponse41 cut after its filler (4 capability, 4 max
packet, 1 charset, 23 filler bytes), or the 3.20 form (2 capability, 3 max packet bytes)."""

_START = 0
"""Nothing read yet."""
_WAIT = 1
"""PostgreSQL: SSLRequest sent, answer awaited. MySQL: greeting read, the client's packet awaited."""
_PLAIN = 2
"""The session stays in clear text (or lost bytes): nothing more is read."""


class _TlsPreface:
    """What both dissectors share: bounded preface buffers, the switch, the TLS dissector after it."""

    SERVICE: ClassVar[str] = ""
    """Protocol name in the TlsUpgrade event and the flow's service."""
    COMMAND: ClassVar[str] = ""
    """The request that asks for TLS, as the upgrades section shows it."""

    __slots__ = ("_client", "_server", "_state", "_tls", "flow")

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self._state = _START
        self._client = bytearray()
        """Client bytes not consumed yet (bounded by MAX_PREFACE_BYTES)."""
        self._server = bytearray()
        """Server bytes not consumed yet (bounded by MAX_PREFACE_BYTES)."""
        self._tls: TlsDissector | None = None

    def feed(self, data: bytes, from_client: bool, ts: float) -> list[object]:
        if self._tls is not None:
            return self._tls.feed(data, from_client, ts)
        if self._state == _PLAIN or not data:
            return []
        buf = self._client if from_client else self._server
        if len(buf) + len(data) > MAX_PREFACE_BYTES:
            self._plain()
            raise Malformed(f"{self.SERVICE}.preface_too_long", f"{MAX_PREFACE_BYTES} bytes without a switch")
        buf += data
        return self._advance(from_client, ts)

    def opaque(self, from_client: bool) -> int:
        """After the switch, what the TLS dissector will not read; the preface is read whole."""
        return self._tls.opaque(from_client) if self._tls is not None else 0

    def skipped(self, size: int, from_client: bool, ts: float) -> list[object]:
        return self._tls.skipped(size, from_client, ts) if self._tls is not None else []

    def gap(self, size: int, from_client: bool, ts: float) -> list[object]:
        if self._tls is not None:
            return self._tls.gap(size, from_client, ts)
        self._plain()  # the preface lost bytes: its framing cannot be trusted
        return []

    def close(self, ts: float) -> list[object]:
        return self._tls.close(ts) if self._tls is not None else []

    def _advance(self, from_client: bool, ts: float) -> list[object]:
        raise NotImplementedError

    def _plain(self) -> None:
        self._state = _PLAIN
        self._client.clear()
        self._server.clear()

    def _upgrade(self, ts: float) -> list[object]:
        """The switch: every later byte, starting with what each side sent after its preface, is TLS."""
        tls = self._tls = TlsDissector(self.flow)
        self.flow.service = self.SERVICE
        events: list[object] = [TlsUpgrade(ts, self.flow.uid, self.SERVICE, self.COMMAND)]
        client, server = bytes(self._client), bytes(self._server)
        self._client.clear()
        self._server.clear()
        if client:
            events += tls.feed(client, True, ts)
        if server:
            events += tls.feed(server, False, ts)
        return events


class PostgresqlDissector(_TlsPreface):
    """PostgreSQL on a TCP stream: the SSLRequest / 'S' switch to TLS (clear text is skipped)."""

    SERVICE: ClassVar[str] = "postgresql"
    COMMAND: ClassVar[str] = "SSLRequest"

    __slots__ = ()

    def _advance(self, from_client: bool, ts: float) -> list[object]:
        if from_client:
            if self._state == _START and len(self._client) >= len(PG_SSL_REQUEST):
                if self._client[: len(PG_SSL_REQUEST)] != PG_SSL_REQUEST:
                    self._plain()  # StartupMessage, CancelRequest, GSSENCRequest: no TLS
                    return []
                del self._client[: len(PG_SSL_REQUEST)]
                self._state = _WAIT  # later client bytes wait here for the answer
            return []
        if self._state != _WAIT:
            self._plain()  # the server spoke before any request: not a session start we can follow
            return []
        answer = self._server[0]
        del self._server[:1]
        if answer != PG_ACCEPT:
            self._plain()
            return []
        return self._upgrade(ts)


class MysqlDissector(_TlsPreface):
    """MySQL on a TCP stream: greeting, then an SSL request switches to TLS (clear text is skipped)."""

    SERVICE: ClassVar[str] = "mysql"
    COMMAND: ClassVar[str] = "SSL Request"

    __slots__ = ()

    def _advance(self, from_client: bool, ts: float) -> list[object]:
        if not from_client:
            if self._state == _START:
                self._greeting()
            return []  # after the greeting the server waits for the client: its bytes wait here
        if self._state != _WAIT:
            if self._state == _START:
                self._plain()  # the client spoke first: not a session start we can follow
            return []
        buf = self._client
        if len(buf) < MYSQL_HEADER:
            return []
        length = int.from_bytes(buf[:3], "little")
        if buf[3] != 1 or length not in MYSQL_SSL_REQUEST_LENGTHS:
            self._plain()  # a HandshakeResponse (a login in clear text) or something else
            return []
        if len(buf) < MYSQL_HEADER + length:
            return []
        if not int.from_bytes(buf[MYSQL_HEADER : MYSQL_HEADER + 2], "little") & MYSQL_CLIENT_SSL:
            self._plain()
            return []
        del buf[: MYSQL_HEADER + length]
        return self._upgrade(ts)

    def _greeting(self) -> None:
        packet = _mysql_packet(self._server)
        if packet is None:
            return
        seq, payload = packet
        if payload[:1] == bytes([MYSQL_ERR]):
            self._plain()  # the server refused the connection (e.g. "Host ... is blocked")
            return
        if seq != 0 or payload[0] != MYSQL_PROTOCOL_10:
            self._plain()
            raise Malformed("mysql.bad_greeting", f"sequence {seq}, protocol {payload[0]}")
        del self._server[: MYSQL_HEADER + len(payload)]
        self._state = _WAIT


def _mysql_packet(buf: bytearray) -> tuple[int, bytes] | None:
    """(sequence id, payload) of the whole greeting packet at the start of `buf`, None while incomplete."""
    if len(buf) < MYSQL_HEADER:
        return None
    length = int.from_bytes(buf[:3], "little")
    if length == 0 or length > MAX_GREETING_LENGTH:
        raise Malformed("mysql.bad_length", f"packet of {length} bytes in the preface")
    if len(buf) < MYSQL_HEADER + length:
        return None
    return buf[3], bytes(buf[MYSQL_HEADER : MYSQL_HEADER + length])
