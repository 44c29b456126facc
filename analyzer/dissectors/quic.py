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
dissector itself raises nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from analyzer.dissectors import quic_crypto as qc
from analyzer.dissectors import tls_fingerprints as fp
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
MAX_CID_LEN = 20
"""Connection ID length limit of QUIC v1/v2 (RFC 9000 §17.2)."""
MIN_CLIENT_INITIAL = 1200
"""Smallest datagram carrying a client Initial (RFC 9000 §14.1): the payload signature wants it."""
TLS13_VERSION = 0x0304

FORM_LONG = 0x80
FIXED_BIT = 0x40

INITIAL = "initial"
ZERO_RTT = "0rtt"
HANDSHAKE = "handshake"
RETRY = "retry"
VERSION_NEGOTIATION = "version_negotiation"
SHORT = "1rtt"

V1_TYPES = (INITIAL, ZERO_RTT, HANDSHAKE, RETRY)
"""Packet type names by the two long-header type bits, QUIC v1 and the drafts (RFC 9000 §17.2)."""
V2_TYPES = (RETRY, INITIAL, ZERO_RTT, HANDSHAKE)
"""The same for QUIC v2, which remaps them (RFC 9369 §3.2)."""


def packet_types(version: int) -> tuple[str, str, str, str] | None:
    """The type table of a version whose Initials we can open; None for the others."""
    if qc.initial_salt(version) is None:
        return None
    return V2_TYPES if version in qc.V2_VERSIONS else V1_TYPES


VERSION_NAMES: dict[int, str] = {
    qc.QUIC_V1: "v1",
    qc.QUIC_V2: "v2",
    0: "negotiation",
    0xFACEB001: "mvfst-22",
    0xFACEB002: "mvfst-27",
    0xFACEB00E: "mvfst-exp",
    0x54303531: "T051",
}
"""QUIC version -> name; drafts show as draft-NN, others as hex."""

HISTORY_LETTERS: dict[str, str] = {
    INITIAL: "i",
    HANDSHAKE: "h",
    ZERO_RTT: "z",
    RETRY: "r",
    VERSION_NEGOTIATION: "v",
}
"""Packet type -> history letter; upper-case when the client sent it (as Zeek's quic.log)."""

FRAME_PADDING = 0x00
FRAME_PING = 0x01
FRAME_ACK = 0x02
FRAME_ACK_ECN = 0x03
FRAME_CRYPTO = 0x06
GQUIC_CRYPTO = 0x08
"""Google's T051 (gQUIC carrying TLS) numbers its CRYPTO frame 0x08."""
CRYPTO_FRAME_TYPES: dict[int, int] = {0x54303531: GQUIC_CRYPTO}
"""Versions whose CRYPTO frame type is not 0x06."""
FRAME_CLOSE = 0x1C
FRAME_CLOSE_APP = 0x1D
HS_CLIENT_HELLO = 1
HS_SERVER_HELLO = 2
HRR_RANDOM = bytes.fromhex("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C")


def version_name(version: int) -> str:
    """v1, v2, draft-29, or the hex value."""
    name = VERSION_NAMES.get(version)
    if name is not None:
        return name
    if version >> 8 == 0xFF0000:
        return f"draft-{version & 0xFF}"
    if version & 0x0F0F0F0F == 0x0A0A0A0A:
        return "reserved"
    return f"{version:#010x}"


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


# -- pure parsers -------------------------------------------------------------------------------------


def read_varint(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """(value, next position) of a QUIC variable-length integer (RFC 9000 §16)."""
    if pos >= end:
        raise Malformed("quic.truncated", "varint")
    first = data[pos]
    size = 1 << (first >> 6)
    if pos + size > end:
        raise Malformed("quic.truncated", "varint")
    value = first & 0x3F
    for i in range(1, size):
        value = (value << 8) | data[pos + i]
    return value, pos + size


@dataclass(frozen=True, slots=True)
class LongHeader:
    """A long-header packet's cleartext fields and where it sits in its datagram."""

    first: int
    """First byte (still header-protected for Initial/0-RTT/Handshake)."""
    version: int
    """Version field."""
    kind: str
    """Packet type name (initial, handshake, 0rtt, retry, version_negotiation, or unknown)."""
    dcid: bytes
    """Destination Connection ID."""
    scid: bytes
    """Source Connection ID."""
    pn_offset: int
    """Offset of the packet number in the datagram (0 for Retry / Version Negotiation)."""
    end: int
    """Offset just past this packet (start of the next coalesced one)."""
    start: int
    """Offset of the first byte."""
    versions: tuple[int, ...] = ()
    """Version Negotiation: the versions the server supports."""


def parse_long_header(data: bytes, start: int) -> LongHeader:
    """Parse the long header at `start` (RFC 9000 §17.2); raises Malformed."""
    end = len(data)
    if end - start < 7:
        raise Malformed("quic.truncated", "long header")
    first = data[start]
    version = int.from_bytes(data[start + 1 : start + 5], "big")
    types = packet_types(version)
    if types is None and version != 0:  # a version we cannot open (gQUIC Q046, ...): opaque to the end
        return LongHeader(first, version, "unknown", b"", b"", 0, end, start)
    pos = start + 5
    dcid_len = data[pos]
    pos += 1
    if version != 0 and dcid_len > MAX_CID_LEN:
        raise Malformed("quic.bad_cid_length", f"dcid {dcid_len}")
    if pos + dcid_len + 1 > end:
        raise Malformed("quic.truncated", "dcid")
    dcid = data[pos : pos + dcid_len]
    pos += dcid_len
    scid_len = data[pos]
    pos += 1
    if version != 0 and scid_len > MAX_CID_LEN:
        raise Malformed("quic.bad_cid_length", f"scid {scid_len}")
    if pos + scid_len > end:
        raise Malformed("quic.truncated", "scid")
    scid = data[pos : pos + scid_len]
    pos += scid_len
    if version == 0:
        if (end - pos) % 4:
            raise Malformed("quic.bad_version_negotiation", f"{end - pos} bytes of versions")
        versions = tuple(int.from_bytes(data[i : i + 4], "big") for i in range(pos, end, 4))
        return LongHeader(first, 0, VERSION_NEGOTIATION, dcid, scid, 0, end, start, versions)
    if types is None:
        raise Malformed("quic.truncated", "version")  # unreachable: version 0 returned above
    kind = types[(first >> 4) & 0x03]
    if kind == RETRY:
        if end - pos < qc.AEAD_TAG_LEN:
            raise Malformed("quic.truncated", "retry")
        return LongHeader(first, version, kind, dcid, scid, 0, end, start)
    if kind == INITIAL:
        token_len, pos = read_varint(data, pos, end)
        if pos + token_len > end:
            raise Malformed("quic.truncated", "token")
        pos += token_len
    length, pos = read_varint(data, pos, end)
    if pos + length > end:
        raise Malformed("quic.truncated", f"{kind} length {length} > {end - pos}")
    if length < 4 + qc.HP_SAMPLE_LEN:
        raise Malformed("quic.truncated", f"{kind} length {length}")
    return LongHeader(first, version, kind, dcid, scid, pos, pos + length, start)


def unprotect(data: bytes, hdr: LongHeader, keys: qc.InitialKeys, largest_pn: int) -> tuple[int, bytes]:
    """Remove header protection and open the payload: (packet number, plaintext frames)."""
    sample = data[hdr.pn_offset + 4 : hdr.pn_offset + 4 + qc.HP_SAMPLE_LEN]
    mask = qc.hp_mask(keys.hp, sample)
    first = hdr.first ^ (mask[0] & 0x0F)
    pn_len = (first & 0x03) + 1
    truncated = 0
    for i in range(pn_len):
        truncated = (truncated << 8) | (data[hdr.pn_offset + i] ^ mask[1 + i])
    header = bytearray(data[hdr.start : hdr.pn_offset + pn_len])
    header[0] = first
    header[-pn_len:] = truncated.to_bytes(pn_len, "big")
    pn = qc.decode_packet_number(truncated, pn_len, largest_pn)
    plain = qc.open_payload(keys, pn, bytes(header), data[hdr.pn_offset + pn_len : hdr.end])
    return pn, plain


def initial_frames(plain: bytes, crypto_type: int = FRAME_CRYPTO) -> list[tuple[int, bytes]]:
    """The CRYPTO frames of a decrypted Initial payload as (offset, data), in packet order; PADDING,
    PING, ACK and CONNECTION_CLOSE are read past, any other frame is not allowed there."""
    out: list[tuple[int, bytes]] = []
    pos, end = 0, len(plain)
    if end == 0:
        raise Malformed("quic.empty_payload", "")
    while pos < end:
        ftype, pos = read_varint(plain, pos, end)
        if ftype in (FRAME_PADDING, FRAME_PING):
            continue
        if ftype == crypto_type:
            offset, pos = read_varint(plain, pos, end)
            length, pos = read_varint(plain, pos, end)
            if pos + length > end:
                raise Malformed("quic.truncated", "crypto frame")
            out.append((offset, plain[pos : pos + length]))
            pos += length
        elif ftype in (FRAME_ACK, FRAME_ACK_ECN):
            _, pos = read_varint(plain, pos, end)  # largest acknowledged
            _, pos = read_varint(plain, pos, end)  # ack delay
            ranges, pos = read_varint(plain, pos, end)
            _, pos = read_varint(plain, pos, end)  # first range
            if ranges > end:
                raise Malformed("quic.truncated", "ack ranges")
            for _ in range(2 * ranges + (3 if ftype == FRAME_ACK_ECN else 0)):
                _, pos = read_varint(plain, pos, end)
        elif ftype in (FRAME_CLOSE, FRAME_CLOSE_APP):
            _, pos = read_varint(plain, pos, end)  # error code
            if ftype == FRAME_CLOSE:
                _, pos = read_varint(plain, pos, end)  # frame type
            reason_len, pos = read_varint(plain, pos, end)
            if pos + reason_len > end:
                raise Malformed("quic.truncated", "connection_close")
            pos += reason_len
        else:
            raise Malformed("quic.frame_not_allowed", f"frame type {ftype:#x} in Initial")
    return out


def looks_like_quic(payload: bytes) -> bool:
    """Payload signature for UDP flows on any port: a client Initial of QUIC v1 or v2."""
    if len(payload) < MIN_CLIENT_INITIAL or payload[0] & 0xC0 != 0xC0:
        return False
    types = packet_types(int.from_bytes(payload[1:5], "big"))
    return types is not None and types[(payload[0] >> 4) & 0x03] == INITIAL and payload[5] <= MAX_CID_LEN


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
