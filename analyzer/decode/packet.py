"""The decoded-packet view, shared limits and protocol constants of the decoder."""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from typing import Final

# --- limits -------------------------------------------------------------------------------------

MAX_VLAN_TAGS: Final = 8
"""802.1Q/802.1ad tags followed on one frame; real networks stack two or three, more is hostile."""
MAX_MPLS_LABELS: Final = 16
"""MPLS label stack depth followed; deeper stacks are an attack or garbage."""
MAX_ENCAPSULATION_DEPTH: Final = 6
"""Tunnel nesting followed before giving up (IP in IP, GRE, Teredo, VXLAN, Geneve, GTP-U, NSH, MPLS
pseudowires): real tunnels nest two or three deep, more is garbage or a decoder bomb."""
MAX_IPV6_EXT_HEADERS: Final = 12
"""IPv6 extension headers followed in one chain; RFC 8200 order has at most ~8 distinct ones."""
MAX_FRAGMENTED_DATAGRAMS: Final = 4096
"""Datagrams whose fragments are held at once; bounds memory under a fragment flood."""
MAX_FRAGMENT_BYTES = 16 * 1024 * 1024
"""Bytes of fragments held across all datagrams (16 MiB)."""
FRAGMENT_TIMEOUT: Final = 60.0
"""Seconds of packet time after which an incomplete datagram is dropped (Linux ipfrag_time is 30 s)."""
MAX_IP_DATAGRAM: Final = 65535 + 40
"""Largest reassembled datagram (IPv4 total length limit, IPv6 payload limit plus header)."""

# --- constants ----------------------------------------------------------------------------------

TCP: Final = 6
UDP: Final = 17
ICMP: Final = 1
ICMPV6: Final = 58
FIN: Final = 0x01
SYN: Final = 0x02
RST: Final = 0x04
PSH: Final = 0x08
ACK: Final = 0x10

_U16: Final = struct.Struct("!H")
_ETH: Final = struct.Struct("!6s6sH")
_IPV4: Final = struct.Struct("!BBHHHBBH4s4s")
_IPV6: Final = struct.Struct("!IHBB16s16s")
_PORTS: Final = struct.Struct("!HH")
_TCP: Final = struct.Struct("!HHIIBBH")
_UDP: Final = struct.Struct("!HHHH")

ETHERTYPE_IPV4: Final = 0x0800
ETHERTYPE_IPV6: Final = 0x86DD
TEREDO_PORT: Final = 3544
NDP_REDIRECT: Final = 137
MAX_NDP_OPTIONS: Final = 32
"""Options walked in one NDP message by the decoder (real ones carry two to five)."""
ICMPV4_ERROR_TYPES: Final = frozenset({3, 4, 5, 11, 12})
"""ICMPv4 types that quote the offending datagram (unreachable, source quench, redirect, time
exceeded, parameter problem)."""
ICMPV4_COUNTERPARTS: Final = {8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 17: 18, 18: 17}
"""ICMPv4 request/reply type pairs (echo, timestamp, information, address mask)."""
ICMPV6_COUNTERPARTS: Final = {128: 129, 129: 128, 133: 134, 134: 133, 135: 136, 136: 135}
"""ICMPv6 request/reply type pairs (echo, router and neighbor solicitation/advertisement)."""
ICMPV6_ERROR_TYPES: Final = frozenset({1, 2, 3, 4})
"""ICMPv6 error types (RFC 4443): unreachable, packet too big, time exceeded, parameter problem."""


@dataclass(frozen=True, slots=True)
class TunnelHop:
    """One tunnel a packet was carried through, with the outer endpoints (Zeek's tunnel.log `id`)."""

    kind: str
    """Zeek's Tunnel::Type name: IP, GRE, TEREDO, VXLAN, GENEVE, GTPv1 (and MPLS, for MPLS in UDP)."""
    src_ip: bytes
    """Outer source address (as in the frame)."""
    dst_ip: bytes
    """Outer destination address."""
    sport: int
    """Outer UDP source port (0 for IP and GRE tunnels)."""
    dport: int
    """Outer UDP destination port (0 for IP and GRE tunnels)."""


class Packet:
    """A decoded frame: a light view with the fields dissectors and flows need."""

    __slots__ = (
        "ack",
        "caplen",
        "carrier",
        "data",
        "dport",
        "dst_ip",
        "flow",
        "interface",
        "ip_version",
        "l2_dst",
        "l2_src",
        "layers",
        "linktype",
        "malformed",
        "payload_end",
        "payload_offset",
        "proto",
        "seq",
        "sport",
        "src_ip",
        "tcp_flags",
        "ts",
        "ttl",
        "tunnels",
        "vlans",
        "window",
        "wirelen",
    )

    def __init__(self, ts: float, linktype: int, data: bytes, wirelen: int, interface: int = 0) -> None:
        self.ts = ts
        self.linktype = linktype
        self.data = data
        """The frame's bytes; after IP reassembly, the reassembled datagram."""
        self.wirelen = wirelen
        self.caplen = len(data)
        self.interface = interface
        self.layers: list[str] = []
        """Protocol names crossed, outermost first (tshark-like names: eth, vlan, ipv4, tcp, ...)."""
        self.malformed: str | None = None
        """Reason decoding stopped early, or None."""
        self.l2_src: bytes = b""
        self.l2_dst: bytes = b""
        self.vlans: tuple[int, ...] = ()
        self.ip_version = 0
        self.src_ip: bytes = b""
        self.dst_ip: bytes = b""
        self.ttl = 0
        self.proto = -1
        """Innermost IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6), -1 without IP."""
        self.sport = 0
        self.dport = 0
        self.seq = 0
        self.ack = 0
        self.tcp_flags = 0
        self.window = 0
        self.payload_offset = 0
        """Start of the transport payload in `data` (for ICMP: the ICMP header itself)."""
        self.payload_end = 0
        self.flow: object | None = None
        self.tunnels: tuple[TunnelHop, ...] = ()
        """Tunnels crossed to reach the innermost IP packet, outermost first (empty when none)."""
        self.carrier = ""
        """For a frame without IP: the non-IP transport whose payload (SMB) payload_offset/payload_end
        delimit ("nbf" NetBIOS Frames, "ipx"), else ""."""
        """The Flow this packet belongs to, set by the pipeline before dissectors run."""

    @property
    def payload(self) -> bytes:
        """Transport payload (UDP/TCP data; for ICMP and ICMPv6 the whole ICMP message)."""
        return self.data[self.payload_offset : self.payload_end]

    @property
    def payload_len(self) -> int:
        return self.payload_end - self.payload_offset

    @property
    def src(self) -> str:
        return ip_text(self.src_ip)

    @property
    def dst(self) -> str:
        return ip_text(self.dst_ip)

    def __repr__(self) -> str:
        return (
            f"Packet({'/'.join(self.layers)} {self.src}:{self.sport} -> {self.dst}:{self.dport}"
            f" proto={self.proto} len={self.payload_len} malformed={self.malformed})"
        )


MAX_IP_TEXTS: Final = 1 << 16
"""Addresses whose text form is remembered (`ip_text`): every event names its flow's addresses, and
formatting one costs more than looking it up; emptied when full, so it stays bounded."""
_ip_texts: Final[dict[bytes, str]] = {}


def ip_text(raw: bytes) -> str:
    """Text form of a 4- or 16-byte address ('' for none)."""
    text = _ip_texts.get(raw)
    if text is not None:
        return text
    if len(raw) == 4:
        text = socket.inet_ntop(socket.AF_INET, raw)
    elif len(raw) == 16:
        text = socket.inet_ntop(socket.AF_INET6, raw)
    else:
        return ""
    if len(_ip_texts) >= MAX_IP_TEXTS:
        _ip_texts.clear()
    _ip_texts[raw] = text
    return text


def mac_text(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)
