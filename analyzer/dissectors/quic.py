"""QUIC (RFC 9000, v2: RFC 9369): long headers, Initial decryption, the TLS hellos inside.

Theory of operation
-------------------
QUIC runs over UDP, so the pipeline gives each QUIC flow one `QuicDissector` and feeds it every
datagram whole (`feed(datagram, from_client, ts)`). A datagram holds one or more coalesced
long-header packets, possibly followed by one short-header packet (which runs to the end and, being
1-RTT, cannot be opened: it is only counted).

Initial packets are protected with keys derived from the client's Destination Connection ID
(`quic_crypto`). Per flow the dissector keeps a bounded table of connections keyed by that DCID:

    client Initial (DCID d)  -> connection d (new, or after a Retry the one whose Retry SCID is d);
                                 client keys from d; its CRYPTO frames go to the client stream
    server Initial (DCID c)  -> the connection whose client SCID is c; server keys from its DCID;
                                 its CRYPTO frames go to the server stream
    Retry (SCID r)           -> the client's next Initials use DCID r: new keys, streams restart
    Version Negotiation      -> counted, and noted in the connection's history

A CRYPTO stream puts frames back in offset order (they arrive out of order inside one packet and
across packets), and each complete TLS handshake message in its prefix is parsed by the TLS hello
parsers of `analyzer.dissectors.tls`: a ClientHello becomes a `QuicClientHello` event at the packet
that completed it (so a hello spread over three Initials counts once), a ServerHello a
`QuicServerHello`. When the flow closes, one `QuicConnection` record per connection and one
`QuicPackets` tally per flow come out. A packet that breaks the rules becomes a `QuicWeird` event
(reason, detail) and the flow goes on: nothing but `Malformed` leaves the pure parsers, and the
dissector itself raises nothing. The wire format (headers, frames, versions) is `quic_wire`, the
packet protection `quic_crypto`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from analyzer.dissectors import quic_crypto as qc
from analyzer.dissectors import tls_fingerprints as fp
from analyzer.dissectors.quic_wire import (
    CRYPTO_FRAME_TYPES,
    FIXED_BIT,
    FORM_LONG,
    FRAME_CRYPTO,
    HANDSHAKE,
    INITIAL,
    RETRY,
    SHORT,
    VERSION_NEGOTIATION,
    ZERO_RTT,
    LongHeader,
    initial_frames,
    looks_like_quic,
    parse_long_header,
    read_varint,
    unprotect,
    version_name,
)
from analyzer.dissectors.tls import (
    ClientHelloFields,
    cipher_name,
    parse_client_hello,
    parse_server_hello,
)
from analyzer.errors import Malformed

if TYPE_CHECKING:
    from analyzer.flows import Flow

MAX_CONNECTIONS_PER_FLOW = 64
"""QUIC connections (client DCIDs) tracked on one UDP flow; a 5-tuple rarely carries more than a
few, so beyond this new ones are counted as weird and not decrypted."""
MAX_CRYPTO_BYTES = 64 * 1024
"""CRYPTO bytes accepted per direction of a connection's Initial space: a ClientHello with large
post-quantum key shares stays under 16 KiB; data beyond this offset is dropped and counted."""
MAX_CRYPTO_FRAGMENTS = 256
"""Out-of-order CRYPTO fragments buffered per stream (Chromium sends about ten per hello)."""
MAX_PACKETS_PER_DATAGRAM = 16
"""Coalesced long-header packets read from one datagram (real ones hold two or three)."""
MAX_HISTORY = 32
"""Letters kept in a connection's history."""
MAX_HANDSHAKE_MESSAGE = 64 * 1024
"""Largest TLS handshake message taken from a CRYPTO stream."""
HISTORY_LETTERS: dict[str, str] = {
    INITIAL: "i",
    HANDSHAKE: "h",
    ZERO_RTT: "z",
    RETRY: "r",
    VERSION_NEGOTIATION: "v",
}
"""Packet type -> history letter; upper-case when the client sent it (as Zeek's quic.log)."""

HS_CLIENT_HELLO = 1
HS_SERVER_HELLO = 2
HRR_RANDOM = bytes.fromhex("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C")


# -- events -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuicClientHello:
    """A ClientHello carried in a client's Initial packets (reassembled from its CRYPTO frames)."""

    ts: float
    """Time of the packet that completed the ClientHello."""
    uid: str
    """Flow uid."""
    orig_h: str
    """Originator address."""
    orig_p: int
    """Originator port."""
    resp_h: str
    """Responder address."""
    resp_p: int
    """Responder port."""
    version: str
    """QUIC version of the Initial (v1, v2, ...)."""
    client_initial_dcid: str
    """Destination Connection ID of the client's Initial, hex (the key of the connection)."""
    server_name: str | None
    """SNI."""
    alpn: tuple[str, ...]
    """ALPN protocols offered, in order."""
    tls_version: int
    """legacy_version of the ClientHello."""
    supported_versions: tuple[int, ...]
    """supported_versions extension values."""
    ciphers: tuple[int, ...]
    """Cipher suites offered."""
    extensions: tuple[int, ...]
    """Extension types in order."""
    ja4: str
    """JA4 with the QUIC prefix `q`."""


@dataclass(frozen=True, slots=True)
class QuicServerHello:
    """A ServerHello carried in a server's Initial packets."""

    ts: float
    """Time of the packet that completed the ServerHello."""
    uid: str
    """Flow uid."""
    version: str
    """QUIC version of the server's Initial."""
    client_initial_dcid: str
    """The connection's client DCID, hex."""
    tls_version: int
    """Negotiated TLS version (supported_versions, else legacy_version)."""
    cipher: int
    """Cipher suite chosen."""
    cipher_name: str
    """Its name."""
    hello_retry_request: bool
    """A HelloRetryRequest."""
    ja4s: str
    """JA4S with the QUIC prefix `q`."""


@dataclass(frozen=True, slots=True)
class QuicConnection:
    """One QUIC connection as its Initial packets showed it, emitted when the flow ends (quic.log)."""

    ts: float
    """Time of its first Initial."""
    uid: str
    """Flow uid."""
    orig_h: str
    """Originator address."""
    orig_p: int
    """Originator port."""
    resp_h: str
    """Responder address."""
    resp_p: int
    """Responder port."""
    version: str
    """QUIC version of the client's first Initial."""
    server_version: str | None
    """QUIC version of the server's first Initial (None: no server Initial seen)."""
    client_initial_dcid: str
    """Client's first Destination Connection ID, hex."""
    client_scid: str
    """Client's Source Connection ID, hex."""
    server_scid: str | None
    """Server's Source Connection ID, hex."""
    server_name: str | None
    """SNI of the ClientHello."""
    client_protocol: str | None
    """First ALPN protocol offered."""
    cipher: str | None
    """Cipher suite the ServerHello chose."""
    history: str
    """One letter per packet-type change: I/i Initial, H/h Handshake, Z 0-RTT, r Retry,
    v Version Negotiation, S/s short header; client's upper-case."""
    retry: bool
    """The server sent a Retry (the client's DCID changed)."""
    client_hello_seen: bool
    """A complete ClientHello was decrypted."""


@dataclass(frozen=True, slots=True)
class QuicPackets:
    """Per-flow tally of QUIC packets by type, emitted when the flow ends."""

    uid: str
    """Flow uid."""
    by_type: tuple[tuple[str, int], ...]
    """(packet type, count): initial, 0rtt, handshake, retry, version_negotiation, 1rtt, ..."""
    decrypted_initials: int
    """Initial packets whose payload was opened."""


@dataclass(frozen=True, slots=True)
class QuicWeird:
    """A QUIC packet that broke the rules (or hit a limit); the flow goes on."""

    ts: float
    """Time of the datagram."""
    uid: str
    """Flow uid."""
    reason: str
    """Short stable key (quic.decrypt_failed, quic_truncated, ...)."""
    detail: str
    """What was wrong."""


def quic_ja4(hello: ClientHelloFields) -> str:
    """JA4 of a ClientHello carried by QUIC: the same fingerprint with the transport letter `q`."""
    return fp.ja4(
        hello.version,
        hello.supported_versions or None,
        [c for c in hello.ciphers if c <= 0xFFFF],
        hello.extensions,
        hello.signature_algorithms,
        hello.alpn[0] if hello.alpn else None,
        transport="q",
    )


def _text(raw: bytes) -> str:
    return raw[:255].decode("utf-8", "backslashreplace")


# -- per-flow state -----------------------------------------------------------------------------------


class CryptoStream:
    """One direction's Initial CRYPTO stream: fragments put back in offset order, complete handshake
    messages taken off the front. Bounded by MAX_CRYPTO_BYTES and MAX_CRYPTO_FRAGMENTS."""

    __slots__ = ("buffer", "consumed", "fragments", "largest_pn", "messages")

    def __init__(self) -> None:
        self.fragments: dict[int, bytes] = {}
        self.buffer = b""
        """Contiguous bytes from offset `consumed` on, not yet a whole message."""
        self.consumed = 0
        """Stream offset where `buffer` starts."""
        self.largest_pn = -1
        """Largest Initial packet number opened in this direction."""
        self.messages = 0
        """Handshake messages taken off so far."""

    def add(self, offset: int, data: bytes) -> str | None:
        """Buffer one CRYPTO frame; a reason string when a limit dropped it."""
        end = offset + len(data)
        have = self.consumed + len(self.buffer)
        if end <= have:
            return None  # retransmitted bytes already taken
        if end > MAX_CRYPTO_BYTES:
            return "quic.crypto_overflow"
        if offset < have:
            data, offset = data[have - offset :], have
        old = self.fragments.get(offset)
        if old is None and len(self.fragments) >= MAX_CRYPTO_FRAGMENTS:
            return "quic.crypto_fragments"
        if old is None or len(data) > len(old):
            self.fragments[offset] = data
        return None

    def take(self) -> list[tuple[int, bytes]]:
        """Fold the fragments that now touch the buffer's end; return the complete handshake
        messages at its front as (type, body)."""
        have = self.consumed + len(self.buffer)
        while self.fragments:
            nxt = min(self.fragments)
            if nxt > have:
                break
            data = self.fragments.pop(nxt)
            if nxt + len(data) > have:
                self.buffer += data[have - nxt :]
                have = nxt + len(data)
        out: list[tuple[int, bytes]] = []
        while len(self.buffer) >= 4:
            length = int.from_bytes(self.buffer[1:4], "big")
            if length > MAX_HANDSHAKE_MESSAGE:
                raise Malformed("quic.handshake_too_long", f"{length} bytes")
            if len(self.buffer) < 4 + length:
                break
            out.append((self.buffer[0], self.buffer[4 : 4 + length]))
            self.buffer = self.buffer[4 + length :]
            self.consumed += 4 + length
            self.messages += 1
        return out


class _Connection:
    """What one QUIC connection's Initials showed so far."""

    __slots__ = (
        "cipher",
        "client",
        "client_scid",
        "dcid",
        "first_dcid",
        "hello",
        "history",
        "hrr",
        "keys",
        "retry",
        "server",
        "server_done",
        "server_keys",
        "server_scid",
        "server_version",
        "ts",
        "version",
    )

    def __init__(self, ts: float, version: int, dcid: bytes, scid: bytes) -> None:
        self.ts = ts
        self.version = version
        self.first_dcid = dcid
        self.client_scid = scid
        self.server_scid: bytes | None = None
        self.server_version: int | None = None
        self.hello: ClientHelloFields | None = None
        self.cipher: str | None = None
        self.history = ""
        self.retry = False
        self.hrr = False
        """The server sent a HelloRetryRequest: the next ClientHello is a new one."""
        self.server_done = False
        self.dcid = b""
        self.client = CryptoStream()
        self.server = CryptoStream()
        self.keys: qc.InitialKeys | None = None
        self.server_keys: qc.InitialKeys | None = None
        self.rekey(version, dcid)

    def rekey(self, version: int, dcid: bytes) -> None:
        """New Initial keys (first packet, or after a Retry): both CRYPTO streams start again."""
        self.dcid = dcid
        self.keys = qc.initial_keys(version, dcid, server=False)
        self.server_keys = qc.initial_keys(version, dcid, server=True)
        self.client = CryptoStream()
        self.server = CryptoStream()

    def note(self, kind: str, from_client: bool) -> None:
        letter = HISTORY_LETTERS.get(kind, "s" if kind == SHORT else "?")
        if from_client:
            letter = letter.upper()
        if not self.history.endswith(letter) and len(self.history) < MAX_HISTORY:
            self.history += letter


class QuicDissector:
    """One per UDP flow carrying QUIC; every datagram is fed whole (see the module docstring)."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self._conns: dict[bytes, _Connection] = {}
        """Connections by the client DCID its Initials carry now."""
        self._by_scid: dict[bytes, _Connection] = {}
        """Connections by the client's SCID (the DCID of server packets)."""
        self._retry_dcids: dict[bytes, _Connection] = {}
        """Retry SCID -> connection whose client will use it as its next DCID."""
        self._by_server_scid: dict[bytes, _Connection] = {}
        """Server's SCID -> connection (the client's DCID once it heard the server)."""
        self._packets: Counter[str] = Counter()
        self._decrypted = 0
        self._count = 0
        """Connections opened on this flow (at most MAX_CONNECTIONS_PER_FLOW)."""
        self._last: _Connection | None = None

    # -- StreamDissector contract --

    def feed(self, data: bytes, from_client: bool, ts: float) -> list[object]:
        events: list[object] = []
        pos = 0
        for _ in range(MAX_PACKETS_PER_DATAGRAM):
            if pos >= len(data):
                break
            if data[pos] & FORM_LONG == 0:
                if data[pos] & FIXED_BIT and pos + 1 + qc.HP_SAMPLE_LEN <= len(data):
                    self._packets[SHORT] += 1
                    if self._last is not None:
                        self._last.note(SHORT, from_client)
                elif pos == 0:
                    self._packets["not_quic"] += 1
                break  # a short header runs to the end; zero bytes after a packet are padding
            try:
                hdr = parse_long_header(data, pos)
            except Malformed as exc:
                events.append(QuicWeird(ts, self.flow.uid, exc.reason, exc.detail))
                break
            try:
                self._packet(data, hdr, from_client, ts, events)
            except Malformed as exc:  # this packet is lost; the coalesced ones after it are not
                events.append(QuicWeird(ts, self.flow.uid, exc.reason, exc.detail))
            pos = hdr.end
        return events

    def gap(self, size: int, from_client: bool, ts: float) -> list[object]:
        return []

    def close(self, ts: float) -> list[object]:
        flow = self.flow
        out: list[object] = []
        for conn in dict.fromkeys(self._conns.values()):
            hello = conn.hello
            out.append(
                QuicConnection(
                    ts=conn.ts,
                    uid=flow.uid,
                    orig_h=flow.orig_h,
                    orig_p=flow.orig_port,
                    resp_h=flow.resp_h,
                    resp_p=flow.resp_port,
                    version=version_name(conn.version),
                    server_version=version_name(conn.server_version)
                    if conn.server_version is not None
                    else None,
                    client_initial_dcid=conn.first_dcid.hex(),
                    client_scid=conn.client_scid.hex(),
                    server_scid=conn.server_scid.hex() if conn.server_scid is not None else None,
                    server_name=hello.server_name if hello else None,
                    client_protocol=_text(hello.alpn[0]) if hello and hello.alpn else None,
                    cipher=conn.cipher,
                    history=conn.history,
                    retry=conn.retry,
                    client_hello_seen=hello is not None,
                )
            )
        if self._packets:
            out.append(QuicPackets(flow.uid, tuple(sorted(self._packets.items())), self._decrypted))
        self._conns.clear()
        self._by_scid.clear()
        self._retry_dcids.clear()
        self._by_server_scid.clear()
        return out

    # -- packets --

    def _packet(
        self, data: bytes, hdr: LongHeader, from_client: bool, ts: float, events: list[object]
    ) -> None:
        self._packets[hdr.kind] += 1
        if hdr.kind == INITIAL:
            if from_client:
                self._client_initial(data, hdr, ts, events)
            else:
                self._server_initial(data, hdr, ts, events)
            return
        conn = self._conns.get(hdr.dcid) if from_client else self._by_scid.get(hdr.dcid)
        if conn is None and hdr.kind in (VERSION_NEGOTIATION, RETRY):
            conn = self._by_scid.get(hdr.dcid)
        if conn is not None:
            conn.note(hdr.kind, from_client)
            self._last = conn
            if hdr.kind == RETRY and not from_client and len(self._retry_dcids) < MAX_CONNECTIONS_PER_FLOW:
                conn.retry = True
                self._retry_dcids[hdr.scid] = conn

    def _client_initial(self, data: bytes, hdr: LongHeader, ts: float, events: list[object]) -> None:
        conn = self._conns.get(hdr.dcid)
        if conn is not None:
            conn.note(INITIAL, True)
            self._last = conn
            if (conn.hello is not None and conn.server_done) or conn.keys is None:
                return  # both hellos read: later Initials carry only ACKs
            pn, plain = unprotect(data, hdr, conn.keys, conn.client.largest_pn)
        else:
            conn, pn, plain = self._new_client_dcid(data, hdr, ts)
            conn.note(INITIAL, True)
            self._last = conn
        self._decrypted += 1
        self._frames(conn, conn.client, pn, plain, True, hdr, ts, events)

    def _new_client_dcid(self, data: bytes, hdr: LongHeader, ts: float) -> tuple[_Connection, int, bytes]:
        """A client Initial with a DCID not seen yet: the client's first one (a new connection), the
        token of a Retry (new keys), or the server's SCID (the client switched DCID after the
        server's first Initial; the keys stay those of its first DCID). Opened packet included."""
        conn = self._retry_dcids.pop(hdr.dcid, None)
        if conn is not None:
            conn.rekey(hdr.version, hdr.dcid)
        else:
            conn = self._by_server_scid.get(hdr.dcid)
        if conn is not None and conn.keys is not None:
            pn, plain = unprotect(data, hdr, conn.keys, conn.client.largest_pn)
        else:
            keys = qc.initial_keys(hdr.version, hdr.dcid, server=False)
            try:
                pn, plain = unprotect(data, hdr, keys, -1)
            except Malformed:
                last = self._last  # switched to a server SCID whose Initial was not captured
                if last is None or last.keys is None:
                    raise
                pn, plain = unprotect(data, hdr, last.keys, last.client.largest_pn)
                conn = last
            if conn is None:
                if self._count >= MAX_CONNECTIONS_PER_FLOW:
                    raise Malformed("quic.too_many_connections", f"> {MAX_CONNECTIONS_PER_FLOW} on one flow")
                conn = _Connection(ts, hdr.version, hdr.dcid, hdr.scid)
                self._count += 1
                self._by_scid[hdr.scid] = conn
        if len(self._conns) < 2 * MAX_CONNECTIONS_PER_FLOW:
            self._conns[hdr.dcid] = conn
        return conn, pn, plain

    def _server_initial(self, data: bytes, hdr: LongHeader, ts: float, events: list[object]) -> None:
        conn = self._by_scid.get(hdr.dcid) or self._last
        if conn is None:
            try:  # the flow's first packet came from the server side: perhaps roles were guessed wrong
                self._client_initial(data, hdr, ts, events)
            except Malformed:
                self._packets["initial_without_client"] += 1
            return
        conn.note(INITIAL, False)
        self._last = conn
        if conn.server_scid is None:
            conn.server_scid = hdr.scid
            conn.server_version = hdr.version
            if len(self._by_server_scid) < MAX_CONNECTIONS_PER_FLOW:
                self._by_server_scid[hdr.scid] = conn
        if conn.server_done or conn.server_keys is None:
            return
        if hdr.version != conn.version:  # compatible version negotiation (RFC 9368)
            conn.version = hdr.version
            conn.server_keys = qc.initial_keys(hdr.version, conn.dcid, server=True)
        pn, plain = unprotect(data, hdr, conn.server_keys, conn.server.largest_pn)
        self._decrypted += 1
        self._frames(conn, conn.server, pn, plain, False, hdr, ts, events)

    def _frames(
        self,
        conn: _Connection,
        stream: CryptoStream,
        pn: int,
        plain: bytes,
        client: bool,
        hdr: LongHeader,
        ts: float,
        events: list[object],
    ) -> None:
        stream.largest_pn = max(stream.largest_pn, pn)
        if self.flow.service_how == "port":
            self.flow.service_how = "both"  # an Initial opened: the payload confirms the port
        for offset, chunk in initial_frames(plain, CRYPTO_FRAME_TYPES.get(hdr.version, FRAME_CRYPTO)):
            problem = stream.add(offset, chunk)
            if problem is not None:
                events.append(QuicWeird(ts, self.flow.uid, problem, f"offset {offset}"))
        for mtype, body in stream.take():
            if client and mtype == HS_CLIENT_HELLO:
                self._client_hello(conn, hdr, body, ts, events)
            elif not client and mtype == HS_SERVER_HELLO:
                self._server_hello(conn, hdr, body, ts, events)

    def _client_hello(
        self, conn: _Connection, hdr: LongHeader, body: bytes, ts: float, events: list[object]
    ) -> None:
        hello = parse_client_hello(body)
        if conn.hello is not None and not conn.hrr:
            return  # the same ClientHello sent again after a Retry: one per connection, as tshark
        for problem in hello.problems:
            events.append(QuicWeird(ts, self.flow.uid, problem.split(":")[0], problem))
        conn.hello = hello
        flow = self.flow
        events.append(
            QuicClientHello(
                ts=ts,
                uid=flow.uid,
                orig_h=flow.orig_h,
                orig_p=flow.orig_port,
                resp_h=flow.resp_h,
                resp_p=flow.resp_port,
                version=version_name(hdr.version),
                client_initial_dcid=conn.first_dcid.hex(),
                server_name=hello.server_name,
                alpn=tuple(_text(a) for a in hello.alpn),
                tls_version=hello.version,
                supported_versions=hello.supported_versions,
                ciphers=hello.ciphers,
                extensions=hello.extensions,
                ja4=quic_ja4(hello),
            )
        )

    def _server_hello(
        self, conn: _Connection, hdr: LongHeader, body: bytes, ts: float, events: list[object]
    ) -> None:
        sh = parse_server_hello(body)
        hrr = sh.random == HRR_RANDOM
        conn.cipher = cipher_name(sh.cipher)
        conn.server_done = not hrr
        conn.hrr = conn.hrr or hrr
        events.append(
            QuicServerHello(
                ts=ts,
                uid=self.flow.uid,
                version=version_name(hdr.version),
                client_initial_dcid=conn.first_dcid.hex(),
                tls_version=sh.version,
                cipher=sh.cipher,
                cipher_name=conn.cipher,
                hello_retry_request=hrr,
                ja4s=fp.ja4s(sh.legacy_version, sh.selected_version, sh.cipher, sh.extensions, sh.alpn, "q"),
            )
        )


__all__ = [
    "MAX_CONNECTIONS_PER_FLOW",
    "MAX_CRYPTO_BYTES",
    "MAX_CRYPTO_FRAGMENTS",
    "MAX_PACKETS_PER_DATAGRAM",
    "CryptoStream",
    "LongHeader",
    "QuicClientHello",
    "QuicConnection",
    "QuicDissector",
    "QuicPackets",
    "QuicServerHello",
    "QuicWeird",
    "initial_frames",
    "looks_like_quic",
    "parse_long_header",
    "quic_ja4",
    "read_varint",
    "unprotect",
    "version_name",
]
