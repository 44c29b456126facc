"""QUIC wire format (RFC 9000 §16-17, RFC 9369 §3.2): variable-length integers, long headers,
versions and their packet-type bits, header protection removal and the frames of an Initial packet.

Pure functions: bytes in, values out, `Malformed` when the bytes break the rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from analyzer.dissectors import quic_crypto as qc
from analyzer.errors import Malformed

MAX_CID_LEN = 20
"""Connection ID length limit of QUIC v1/v2 (RFC 9000 §17.2)."""
MIN_CLIENT_INITIAL = 1200
"""Smallest datagram carrying a client Initial (RFC 9000 §14.1): the payload signature wants it."""

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


__all__ = [
    "CRYPTO_FRAME_TYPES",
    "FIXED_BIT",
    "FORM_LONG",
    "FRAME_ACK",
    "FRAME_ACK_ECN",
    "FRAME_CLOSE",
    "FRAME_CLOSE_APP",
    "FRAME_CRYPTO",
    "FRAME_PADDING",
    "FRAME_PING",
    "GQUIC_CRYPTO",
    "HANDSHAKE",
    "INITIAL",
    "MAX_CID_LEN",
    "MIN_CLIENT_INITIAL",
    "RETRY",
    "SHORT",
    "V1_TYPES",
    "V2_TYPES",
    "VERSION_NAMES",
    "VERSION_NEGOTIATION",
    "ZERO_RTT",
    "LongHeader",
    "initial_frames",
    "looks_like_quic",
    "packet_types",
    "parse_long_header",
    "read_varint",
    "unprotect",
    "version_name",
]
