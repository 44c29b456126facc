"""Tunnel headers: VXLAN (and VXLAN-GPE), Geneve, GTP, ERSPAN and NSH.

Each parser takes the frame bytes and the offset of its header and returns `(inner, offset)`: what
follows the header (one of the INNER_* kinds, or an EtherType for Geneve) and where it starts. The
parsers are pure: they never touch the Packet, so the decoder can try a header on a guess (a UDP
source port that happens to be a tunnel port) and drop the guess when the header does not parse. A
header cut short or with impossible fields raises `Malformed`.
"""

from __future__ import annotations

from analyzer.errors import Malformed

INNER_NONE = 0
"""Nothing to decode after the header (GTP signalling, an echo, an unknown next protocol)."""
INNER_ETHERNET = 1
"""An Ethernet frame follows."""
INNER_IP = 2
"""An IPv4 or IPv6 packet follows (its version nibble tells which)."""
INNER_NSH = 3
"""A Network Service Header follows."""
INNER_MPLS = 4
"""An MPLS label stack follows."""
INNER_ETHERTYPE = 5
"""The header names the inner protocol by EtherType (Geneve): the caller dispatches on it."""

VXLAN_PORT = 4789
"""IANA VXLAN (RFC 7348)."""
VXLAN_GPE_PORT = 4790
"""VXLAN Generic Protocol Extension (draft-ietf-nvo3-vxlan-gpe): a next-protocol byte."""
GENEVE_PORT = 6081
"""Geneve (RFC 8926)."""
GTPU_PORT = 2152
"""GTP-U, GPRS Tunnelling Protocol user plane (3GPP TS 29.281)."""
GTPC_PORT = 2123
"""GTP-C, the control plane: counted as gtp (v1) or gtpv2, never decapsulated."""
MPLS_UDP_PORT = 6635
"""MPLS in UDP (RFC 7510)."""
IPSEC_NAT_T_PORT = 4500
"""IKE and UDP-encapsulated ESP behind NAT (RFC 3948)."""
UDP_TUNNEL_PORTS = frozenset({VXLAN_PORT, VXLAN_GPE_PORT, GENEVE_PORT, GTPU_PORT, MPLS_UDP_PORT})
"""UDP ports whose datagrams carry another packet (Teredo aside, which has its own check)."""

MAX_GTP_EXTENSIONS = 8
"""GTP-U extension headers followed (real ones carry one or two: PDU session container, UDP port)."""
GTP_GPDU = 0xFF
"""GTP message type of a G-PDU, the only one that carries a user packet."""
VXLAN_GPE_NEXT = {1: INNER_IP, 2: INNER_IP, 3: INNER_ETHERNET, 4: INNER_NSH, 5: INNER_MPLS}
"""VXLAN-GPE next protocol -> inner kind (IPv4, IPv6, Ethernet, NSH, MPLS)."""
NSH_NEXT = {1: INNER_IP, 2: INNER_IP, 3: INNER_ETHERNET, 4: INNER_NSH, 5: INNER_MPLS}
"""NSH next protocol (RFC 8300 section 2.2) -> inner kind."""
ETHERTYPE_TEB = 0x6558
"""Transparent Ethernet Bridging: an Ethernet frame (GRE, Geneve)."""
ETHERTYPE_ERSPAN_II = 0x88BE
"""ERSPAN type II (GRE with a sequence number) or type I (GRE without one: no ERSPAN header)."""
ETHERTYPE_ERSPAN_III = 0x22EB
"""ERSPAN type III."""
ETHERTYPE_NSH = 0x894F
"""Network Service Header over Ethernet or GRE."""


def _need(data: bytes, end: int, name: str) -> None:
    if len(data) < end:
        raise Malformed(f"{name}.truncated", f"{len(data)} of {end} bytes")


def vxlan(data: bytes, off: int) -> tuple[int, int]:
    """VXLAN (RFC 7348): 8 bytes, flags with the I bit (VNI valid), then an Ethernet frame."""
    _need(data, off + 8, "vxlan")
    if not data[off] & 0x08:
        raise Malformed("vxlan.no_vni_flag", f"flags 0x{data[off]:02x}")
    return INNER_ETHERNET, off + 8


def vxlan_gpe(data: bytes, off: int) -> tuple[int, int]:
    """VXLAN-GPE: like VXLAN, with the P bit and a next-protocol byte; without P it is plain VXLAN."""
    _need(data, off + 8, "vxlan")
    flags = data[off]
    if not flags & 0x04:
        return vxlan(data, off)
    return VXLAN_GPE_NEXT.get(data[off + 3], INNER_NONE), off + 8


def geneve(data: bytes, off: int) -> tuple[int, int, int]:
    """Geneve (RFC 8926): version 0, options of 4-byte words; returns (kind, offset, EtherType)."""
    _need(data, off + 8, "geneve")
    if data[off] >> 6:
        raise Malformed("geneve.bad_version", str(data[off] >> 6))
    start = off + 8 + (data[off] & 0x3F) * 4
    _need(data, start, "geneve")
    return INNER_ETHERTYPE, start, (data[off + 2] << 8) | data[off + 3]


def gtp_u(data: bytes, off: int) -> tuple[int, int]:
    """GTPv1-U (TS 29.281): 8 bytes, 4 more when E, S or PN is set, then extension headers; only a
    G-PDU carries a user IP packet."""
    _need(data, off + 8, "gtp")
    flags = data[off]
    if flags >> 5 != 1 or not flags & 0x10:
        raise Malformed("gtp.bad_version", f"flags 0x{flags:02x}")
    msg_type = data[off + 1]
    start = off + 8
    if flags & 0x07:
        _need(data, start + 4, "gtp")
        next_ext = data[start + 3]
        start += 4
        for _ in range(MAX_GTP_EXTENSIONS):
            if not flags & 0x04 or next_ext == 0:
                break
            _need(data, start + 1, "gtp")
            size = data[start] * 4
            if size == 0:
                raise Malformed("gtp.bad_extension_length", "0")
            _need(data, start + size, "gtp")
            next_ext = data[start + size - 1]
            start += size
        else:
            raise Malformed("gtp.too_many_extensions", f"more than {MAX_GTP_EXTENSIONS}")
    if msg_type != GTP_GPDU or len(data) <= start:
        return INNER_NONE, start
    return INNER_IP, start


def gtp_c_name(data: bytes, off: int) -> str:
    """The tshark name of a GTP-C message: gtp (version 1) or gtpv2."""
    return "gtpv2" if len(data) > off and data[off] >> 5 == 2 else "gtp"


ERSPAN3_FRAME_TYPES = {0: INNER_ETHERNET, 2: INNER_IP}
"""ERSPAN type III frame type (FT) -> inner kind: 0 Ethernet, 2 IP; others are not decoded."""


def erspan(data: bytes, off: int, version3: bool, gre_sequenced: bool) -> tuple[int, int]:
    """ERSPAN: type III (12 bytes, 8 more with the O bit; its FT field names the frame type), type II
    (8 bytes), or type I (a GRE header without sequence number, no ERSPAN header)."""
    if version3:
        _need(data, off + 12, "erspan")
        kind = ERSPAN3_FRAME_TYPES.get((data[off + 10] >> 2) & 0x1F, INNER_NONE)
        return kind, off + 12 + (8 if data[off + 11] & 0x01 else 0)
    if not gre_sequenced:
        return INNER_ETHERNET, off  # type I
    _need(data, off + 8, "erspan")
    return INNER_ETHERNET, off + 8


def nsh(data: bytes, off: int) -> tuple[int, int]:
    """NSH (RFC 8300): version 0, length in 4-byte words (at least the 8-byte base + service path)."""
    _need(data, off + 8, "nsh")
    if data[off] >> 6:
        raise Malformed("nsh.bad_version", str(data[off] >> 6))
    length = (data[off + 1] & 0x3F) * 4
    if length < 8:
        raise Malformed("nsh.bad_length", str(length))
    _need(data, off + length, "nsh")
    return NSH_NEXT.get(data[off + 3], INNER_NONE), off + length
