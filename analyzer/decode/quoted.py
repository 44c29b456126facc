"""The start of a datagram quoted inside an ICMP error, decoded leniently."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from analyzer.decode.packet import _PORTS, ICMP, ICMPV6, MAX_IPV6_EXT_HEADERS, TCP, UDP, ip_text
from analyzer.errors import Malformed
from analyzer.frozen import interpreted_inits


@dataclass(frozen=True, slots=True, init=False)
class QuotedDatagram:
    """The start of a datagram quoted inside an ICMP error (RFC 792 / RFC 4443)."""

    ip_version: int
    """4 or 6."""
    src: str
    """Source address of the quoted (refused) datagram: the original sender."""
    dst: str
    """Destination address the quoted datagram was sent to."""
    proto: int
    """Transport protocol number of the quoted datagram."""
    sport: int | None
    """Source port (None when the quote is cut before the ports or the protocol has none)."""
    dport: int | None
    """Destination port (None as above)."""
    layers: tuple[str, ...]
    """Layer names of the quote, for the protocol hierarchy (ipv4, udp, ...)."""

    def __init__(
        self,
        ip_version: int,
        src: str,
        dst: str,
        proto: int,
        sport: int | None,
        dport: int | None,
        layers: tuple[str, ...],
    ) -> None:
        self.ip_version = ip_version  # type: ignore[misc]
        self.src = src  # type: ignore[misc]
        self.dst = dst  # type: ignore[misc]
        self.proto = proto  # type: ignore[misc]
        self.sport = sport  # type: ignore[misc]
        self.dport = dport  # type: ignore[misc]
        self.layers = layers  # type: ignore[misc]


def decode_quoted(data: bytes) -> QuotedDatagram:
    """Decode an IP header and the first transport bytes quoted in an ICMP error, tolerating a cut quote."""
    if not data:
        raise Malformed("icmp.quote_empty")
    version = data[0] >> 4
    if version == 4:
        if len(data) < 20:
            raise Malformed("icmp.quote_truncated", f"{len(data)} bytes of quoted IPv4 header")
        ihl = (data[0] & 0x0F) * 4
        if ihl < 20:
            raise Malformed("icmp.quote_bad_header_length", str(ihl))
        proto = data[9]
        src, dst = data[12:16], data[16:20]
        off = ihl
        layers: list[str] = ["ipv4"]
        frag_off = struct.unpack_from("!H", data, 6)[0] & 0x1FFF
        if frag_off:
            return QuotedDatagram(4, ip_text(src), ip_text(dst), proto, None, None, tuple(layers))
    elif version == 6:
        if len(data) < 40:
            raise Malformed("icmp.quote_truncated", f"{len(data)} bytes of quoted IPv6 header")
        proto = data[6]
        src, dst = data[8:24], data[24:40]
        off = 40
        layers = ["ipv6"]
        for _ in range(MAX_IPV6_EXT_HEADERS):
            if proto in (0, 43, 60) and len(data) >= off + 8:
                proto, off = data[off], off + (data[off + 1] + 1) * 8
            elif proto == 44 and len(data) >= off + 8:
                if struct.unpack_from("!H", data, off + 2)[0] & 0xFFF8:
                    return QuotedDatagram(6, ip_text(src), ip_text(dst), data[off], None, None, tuple(layers))
                proto, off = data[off], off + 8
            else:
                break
    else:
        raise Malformed("icmp.quote_bad_version", str(version))
    sport = dport = None
    name = {TCP: "tcp", UDP: "udp", ICMP: "icmp", ICMPV6: "icmpv6"}.get(proto)
    if proto in (TCP, UDP, 132) and len(data) >= off + 4:
        sport, dport = _PORTS.unpack_from(data, off)
    if name and len(data) > off:
        layers.append(name)
    return QuotedDatagram(version, ip_text(src), ip_text(dst), proto, sport, dport, tuple(layers))


interpreted_inits(QuotedDatagram)
