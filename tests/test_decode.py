"""Tests for analyzer.decode: link layers, tunnels, IP (options, extension headers, fragments),
TCP/UDP/ICMP fields, truncation and lying length fields, ICMP quotes, and a fuzz test."""

import random
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scapy.layers.dns import DNS, DNSQR
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption_RR, fragment
from scapy.layers.inet6 import (
    ICMPv6DestUnreach,
    ICMPv6EchoRequest,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
    fragment6,
)
from scapy.layers.l2 import Dot1AD, Dot1Q, Ether

from analyzer import decode
from analyzer.decode import (
    FRAGMENT_TIMEOUT,
    MAX_ENCAPSULATION_DEPTH,
    MAX_FRAGMENTED_DATAGRAMS,
    MAX_IPV6_EXT_HEADERS,
    MAX_MPLS_LABELS,
    MAX_VLAN_TAGS,
    Decoder,
    FragmentReassembler,
    Packet,
    decode_quoted,
)
from analyzer.errors import Malformed

MAC_A, MAC_B = "02:00:00:00:00:0a", "02:00:00:00:00:0b"
V4_A, V4_B = "192.0.2.1", "198.51.100.2"
V6_A, V6_B = "2001:db8::1", "2001:db8::2"
ETH_HDR = bytes.fromhex("02000000000b02000000000a")  # dst, src (without the EtherType)

LINKTYPES = [0, 1, 9, 12, 14, 50, 101, 108, 113, 228, 229, 276]
"""Every link type the decoder supports (the fuzz test draws from them)."""


def dec(linktype: int, data: bytes, ts: float = 1.0, decoder: Decoder | None = None) -> Packet:
    return (decoder or Decoder()).decode(ts, linktype, data, len(data))


def v4_tcp(payload: bytes = b"hello") -> bytes:
    return bytes(
        IP(src=V4_A, dst=V4_B, ttl=61)
        / TCP(sport=40000, dport=80, seq=1000, ack=2000, flags="PA", window=512)
        / payload
    )


def v4_udp(payload: bytes = b"ping", sport: int = 5353, dport: int = 53) -> bytes:
    return bytes(IP(src=V4_A, dst=V4_B) / UDP(sport=sport, dport=dport) / payload)


def v6_udp(payload: bytes = b"ping6", sport: int = 5353, dport: int = 53) -> bytes:
    return bytes(IPv6(src=V6_A, dst=V6_B, hlim=33) / UDP(sport=sport, dport=dport) / payload)


def eth(ethertype: int, body: bytes) -> bytes:
    return ETH_HDR + struct.pack("!H", ethertype) + body


def assert_v4_tcp(p: Packet) -> None:
    assert p.malformed is None
    assert (p.ip_version, p.src, p.dst, p.ttl, p.proto) == (4, V4_A, V4_B, 61, 6)
    assert (p.sport, p.dport, p.seq, p.ack, p.tcp_flags, p.window) == (40000, 80, 1000, 2000, 0x18, 512)
    assert p.payload == b"hello"


def assert_v4_udp(p: Packet) -> None:
    assert p.malformed is None
    assert (p.ip_version, p.src, p.dst, p.proto, p.sport, p.dport) == (4, V4_A, V4_B, 17, 5353, 53)
    assert p.payload == b"ping"


def assert_v6_udp(p: Packet) -> None:
    assert p.malformed is None
    assert (p.ip_version, p.src, p.dst, p.ttl, p.proto, p.sport, p.dport) == (6, V6_A, V6_B, 33, 17, 5353, 53)
    assert p.payload == b"ping6"


# --- link layers ----------------------------------------------------------------------------------


def test_ethernet_ipv4_tcp() -> None:
    frame = bytes(Ether(src=MAC_A, dst=MAC_B) / IP(v4_tcp()))
    p = dec(1, frame, ts=12.5)
    assert p.layers == ["eth", "ipv4", "tcp"]
    assert (p.l2_src, p.l2_dst) == (bytes.fromhex("02000000000a"), bytes.fromhex("02000000000b"))
    assert (p.ts, p.linktype, p.wirelen, p.caplen) == (12.5, 1, len(frame), len(frame))
    assert_v4_tcp(p)


def test_ethernet_ipv6_udp_and_ethernet_padding_ignored() -> None:
    frame = eth(0x86DD, v6_udp()) + b"\x00" * 10  # trailer after the IPv6 payload
    p = dec(1, frame)
    assert p.layers == ["eth", "ipv6", "udp"]
    assert_v6_udp(p)


def test_ethernet_ipv4_padding_cut_by_total_length() -> None:
    p = dec(1, eth(0x0800, v4_udp()) + b"\xee" * 18)
    assert_v4_udp(p)


def test_dot1q() -> None:
    p = dec(1, bytes(Ether(src=MAC_A, dst=MAC_B) / Dot1Q(vlan=10) / IP(v4_tcp())))
    assert p.layers == ["eth", "vlan", "ipv4", "tcp"]
    assert p.vlans == (10,)
    assert_v4_tcp(p)


def test_qinq() -> None:
    frame = bytes(Ether(src=MAC_A, dst=MAC_B) / Dot1AD(vlan=100) / Dot1Q(vlan=20) / IPv6(v6_udp()))
    assert frame[12:14] == b"\x88\xa8"
    p = dec(1, frame)
    assert p.layers == ["eth", "vlan", "vlan", "ipv6", "udp"]
    assert p.vlans == (100, 20)
    assert_v6_udp(p)


def test_too_many_vlan_tags() -> None:
    frame = ETH_HDR + b"\x81\x00" + b"\x00\x05\x81\x00" * 300 + b"\x00\x05\x08\x00" + v4_tcp()
    p = dec(1, frame)
    assert p.malformed == "vlan.too_many_tags"
    assert len(p.vlans) == MAX_VLAN_TAGS
    assert p.layers == ["eth"] + ["vlan"] * MAX_VLAN_TAGS


def mpls_stack(labels: list[int]) -> bytes:
    out = b""
    for i, label in enumerate(labels):
        bottom = 1 if i == len(labels) - 1 else 0
        out += struct.pack("!I", (label << 12) | (bottom << 8) | 64)
    return out


@pytest.mark.parametrize(
    ("inner", "check"), [(v4_tcp(), assert_v4_tcp), (v6_udp(), assert_v6_udp)], ids=["ipv4", "ipv6"]
)
def test_mpls_label_stack(inner: bytes, check: object) -> None:
    p = dec(1, eth(0x8847, mpls_stack([100, 200, 300]) + inner))
    assert p.layers[:2] == ["eth", "mpls"]
    assert p.layers[2] == ("ipv4" if inner[0] >> 4 == 4 else "ipv6")
    check(p)  # type: ignore[operator]


def test_mpls_too_many_labels_and_truncated() -> None:
    p = dec(1, eth(0x8847, mpls_stack(list(range(1, MAX_MPLS_LABELS + 3))) + v4_tcp()))
    assert p.malformed == "mpls.too_many_labels"
    p = dec(1, eth(0x8847, mpls_stack([5])[:3]))
    assert p.malformed == "mpls.truncated"


def test_mpls_ethernet_pseudowire() -> None:
    inner = eth(0x0800, v4_tcp())
    p = dec(1, eth(0x8847, mpls_stack([16]) + b"\x00\x00\x00\x00" + inner))
    assert p.layers == ["eth", "mpls", "pwethheuristic", "pwethcw", "eth", "ipv4", "tcp"]
    assert_v4_tcp(p)


def test_mpls_pseudowire_loop_is_bounded() -> None:
    """Ethernet over MPLS over Ethernet ... thousands deep: a bounded malformed, not a RecursionError."""
    level = mpls_stack([16]) + b"\x00\x00\x00\x00" + ETH_HDR + b"\x88\x47"
    p = dec(1, ETH_HDR + b"\x88\x47" + level * 2000)
    assert p.malformed == "ip.too_deep"
    assert p.layers.count("eth") == MAX_ENCAPSULATION_DEPTH + 1


def test_pppoe_session() -> None:
    ip = v4_tcp()
    pppoe = struct.pack("!BBHH", 0x11, 0x00, 0x1234, len(ip) + 2) + b"\x00\x21" + ip
    p = dec(1, eth(0x8864, pppoe))
    assert p.layers == ["eth", "pppoes", "ppp", "ipv4", "tcp"]
    assert_v4_tcp(p)
    p = dec(1, eth(0x8864, struct.pack("!BBHH", 0x11, 0, 1, 2) + b"\x00\x57" + v6_udp()))
    assert p.layers == ["eth", "pppoes", "ppp", "ipv6", "udp"]
    assert_v6_udp(p)
    assert dec(1, eth(0x8864, b"\x11\x00\x00")).malformed == "pppoe.truncated"


@pytest.mark.parametrize("family", [24, 28, 30])
def test_null_ipv6_families(family: int) -> None:
    p = dec(0, struct.pack("<I", family) + v6_udp())
    assert p.layers == ["null", "ipv6", "udp"]
    assert_v6_udp(p)


def test_null_ipv4_little_endian_and_swapped() -> None:
    p = dec(0, struct.pack("<I", 2) + v4_tcp())
    assert p.layers == ["null", "ipv4", "tcp"]
    assert_v4_tcp(p)
    # A writer that stored the family in network order: still recognised.
    assert_v4_tcp(dec(0, struct.pack(">I", 2) + v4_tcp()))


def test_null_unknown_family_and_truncated() -> None:
    p = dec(0, struct.pack("<I", 99) + v4_tcp())
    assert p.layers == ["null"]
    assert p.malformed is None and p.proto == -1
    p = dec(0, b"\x02\x00")
    assert (p.layers, p.malformed) == (["null"], "null.truncated")


@pytest.mark.parametrize(("family", "inner"), [(2, "v4"), (24, "v6"), (28, "v6"), (30, "v6")])
def test_loop_big_endian(family: int, inner: str) -> None:
    body = v4_tcp() if inner == "v4" else v6_udp()
    p = dec(108, struct.pack(">I", family) + body)
    assert p.layers[:2] == ["null", "ipv4" if inner == "v4" else "ipv6"]
    if inner == "v4":
        assert_v4_tcp(p)
    else:
        assert_v6_udp(p)


@pytest.mark.parametrize("linktype", [101, 12, 14])
def test_raw_ip(linktype: int) -> None:
    p = dec(linktype, v4_tcp())
    assert p.layers == ["ipv4", "tcp"]
    assert_v4_tcp(p)
    p = dec(linktype, v6_udp())
    assert p.layers == ["ipv6", "udp"]
    assert_v6_udp(p)
    assert dec(linktype, b"").malformed == "raw.empty"
    assert dec(linktype, b"\x50" + v4_tcp()[1:]).malformed == "raw.bad_ip_version"


def test_ipv4_and_ipv6_link_types() -> None:
    p = dec(228, v4_tcp())
    assert p.layers == ["ipv4", "tcp"]
    assert_v4_tcp(p)
    p = dec(229, v6_udp())
    assert p.layers == ["ipv6", "udp"]
    assert_v6_udp(p)
    assert dec(228, v6_udp()).malformed == "ipv4.bad_version"
    assert dec(229, v4_tcp() + bytes(40)).malformed == "ipv6.bad_version"


def test_linux_sll() -> None:
    mac = bytes.fromhex("02000000000a")
    hdr = struct.pack("!HHH8sH", 0, 1, 6, mac + b"\x00\x00", 0x0800)
    p = dec(113, hdr + v4_tcp())
    assert p.layers == ["sll", "ipv4", "tcp"]
    assert p.l2_src == mac
    assert_v4_tcp(p)
    hdr6 = struct.pack("!HHH8sH", 4, 1, 6, mac + b"\x00\x00", 0x86DD)
    assert_v6_udp(dec(113, hdr6 + v6_udp()))
    assert dec(113, hdr[:10]).malformed == "sll.truncated"


def test_linux_sll2() -> None:
    mac = bytes.fromhex("02000000000b")
    hdr = struct.pack("!HHIHBB8s", 0x86DD, 0, 3, 1, 0, 6, mac + b"\x00\x00")
    assert len(hdr) == 20
    p = dec(276, hdr + v6_udp())
    assert p.layers == ["sll", "ipv6", "udp"]
    assert p.l2_src == mac
    assert_v6_udp(p)
    hdr4 = struct.pack("!HHIHBB8s", 0x0800, 0, 3, 1, 4, 6, mac + b"\x00\x00")
    assert_v4_tcp(dec(276, hdr4 + v4_tcp()))
    assert dec(276, hdr[:19]).malformed == "sll2.truncated"


@pytest.mark.parametrize(
    "prefix",
    [b"\xff\x03\x00\x21", b"\x00\x21", b"\xff\x03\x21", b"\x21"],
    ids=["ff03", "bare", "pfc", "pfc1"],
)
@pytest.mark.parametrize("linktype", [9, 50])
def test_ppp(linktype: int, prefix: bytes) -> None:
    p = dec(linktype, prefix + v4_tcp())
    assert p.layers == ["ppp", "ipv4", "tcp"]
    assert_v4_tcp(p)


def test_ppp_ipv6_and_truncated() -> None:
    p = dec(9, b"\xff\x03\x00\x57" + v6_udp())
    assert p.layers == ["ppp", "ipv6", "udp"]
    assert_v6_udp(p)
    assert dec(9, b"\xff\x03").malformed == "ppp.truncated"
    assert dec(9, b"\xff\x03\x00").malformed == "ppp.truncated"


def test_unknown_linktype() -> None:
    p = dec(147, v4_tcp())
    assert p.layers == ["linktype-147"]
    assert p.malformed == "link.unsupported_linktype"
    assert p.proto == -1


def test_ethernet_other_ethertypes() -> None:
    assert dec(1, eth(0x0806, bytes(28))).layers == ["eth", "arp"]
    assert dec(1, eth(0x88CC, bytes(10))).layers == ["eth", "lldp"]
    assert dec(1, eth(0x0030, bytes(48))).layers == ["eth", "llc"]  # 802.3 length field
    p = dec(1, eth(0x1234, bytes(48)))  # unknown EtherType: just Ethernet
    assert (p.layers, p.malformed) == (["eth"], None)


# --- tunnels ---------------------------------------------------------------------------------------


def gre_ip(gre: bytes) -> bytes:
    return bytes(IP(src="203.0.113.1", dst="203.0.113.2", proto=47) / gre)


def test_gre_plain_and_with_key_and_sequence() -> None:
    p = dec(101, gre_ip(struct.pack("!HH", 0, 0x0800) + v4_tcp()))
    assert p.layers == ["ipv4", "gre", "ipv4", "tcp"]
    assert_v4_tcp(p)
    gre = struct.pack("!HH", 0x8000 | 0x2000 | 0x1000, 0x86DD) + bytes(12)  # checksum, key, sequence
    p = dec(101, gre_ip(gre + v6_udp()))
    assert p.layers == ["ipv4", "gre", "ipv6", "udp"]
    assert_v6_udp(p)
    cut = gre_ip(gre[:10])
    assert dec(101, cut).malformed == "gre.truncated"


@pytest.mark.parametrize("with_ack", [False, True])
def test_pptp_enhanced_gre(with_ack: bool) -> None:
    ppp = b"\xff\x03\x00\x21" + v4_tcp()
    flags = 0x2000 | 0x1000 | 0x0001 | (0x0080 if with_ack else 0)  # K, S, version 1, optional A
    gre = struct.pack("!HHHHI", flags, 0x880B, len(ppp), 7, 42) + (struct.pack("!I", 41) if with_ack else b"")
    p = dec(101, gre_ip(gre + ppp))
    assert p.layers == ["ipv4", "gre", "ppp", "ipv4", "tcp"]
    assert_v4_tcp(p)
    ack_only = struct.pack("!HHHHI", 0x2001 | 0x0080, 0x880B, 0, 7, 41)  # no payload at all
    p = dec(101, gre_ip(ack_only))
    assert (p.layers, p.malformed) == (["ipv4", "gre"], None)


def test_ip_in_ip_and_6in4() -> None:
    p = dec(101, bytes(IP(src="203.0.113.1", dst="203.0.113.2", proto=4) / v4_tcp()))
    assert p.layers == ["ipv4", "ipv4", "tcp"]
    assert_v4_tcp(p)
    p = dec(1, eth(0x0800, bytes(IP(src="203.0.113.1", dst="203.0.113.2", proto=41) / v6_udp())))
    assert p.layers == ["eth", "ipv4", "ipv6", "udp"]
    assert_v6_udp(p)


@pytest.mark.parametrize("origin", [b"", b"\x00\x00\x12\x34\x01\x02\x03\x04"], ids=["plain", "origin"])
def test_teredo(origin: bytes) -> None:
    outer = IP(src="203.0.113.1", dst="203.0.113.2") / UDP(sport=3544, dport=40000)
    p = dec(101, bytes(outer / (origin + v6_udp())))
    assert p.layers == ["ipv4", "udp", "teredo", "ipv6", "udp"]
    assert_v6_udp(p)


def test_teredo_bubble_and_non_ipv6_payload_stay_udp() -> None:
    outer = IP(src="203.0.113.1", dst="203.0.113.2") / UDP(sport=40000, dport=3544)
    p = dec(101, bytes(outer / (b"\x00\x00\x12\x34\x01\x02\x03\x04" + b"x" * 50)))
    assert p.layers == ["ipv4", "udp"]
    assert (p.sport, p.dport, p.malformed) == (40000, 3544, None)


def nest(kind: str, levels: int) -> bytes:
    """`levels` tunnels of one kind around an IPv4/TCP (or IPv6/UDP for teredo) datagram."""
    inner = v6_udp() if kind in ("6in4", "teredo") else v4_tcp()
    for _ in range(levels):
        if kind == "ipip":
            inner = bytes(IP(src="203.0.113.1", dst="203.0.113.2", proto=4) / inner)
        elif kind == "gre":
            inner = gre_ip(b"\x00\x00\x08\x00" + inner)
        elif kind == "6in4":  # IPv6 in IPv4 in IPv6 ...: alternate the outer header
            ip4 = bytes(IP(src="203.0.113.1", dst="203.0.113.2", proto=41) / inner)
            inner = bytes(IPv6(src=V6_A, dst=V6_B, nh=4) / ip4)
        elif kind == "teredo":
            inner = bytes(IPv6(src=V6_A, dst=V6_B) / UDP(sport=3544, dport=40000) / inner)
    return inner


@pytest.mark.parametrize("kind", ["ipip", "gre", "6in4", "teredo"])
def test_tunnels_nested_too_deep(kind: str) -> None:
    ok = dec(101, nest(kind, 2))
    assert ok.malformed is None
    assert ok.proto in (6, 17)
    p = dec(101, nest(kind, MAX_ENCAPSULATION_DEPTH + 3))
    assert p.malformed == "ip.too_deep"


# --- IP ------------------------------------------------------------------------------------------


def test_ipv4_options() -> None:
    ip = bytes(
        IP(src=V4_A, dst=V4_B, ttl=61, options=[IPOption_RR()])
        / TCP(sport=40000, dport=80, seq=1000, ack=2000, flags="PA", window=512)
        / b"hello"
    )
    assert ip[0] & 0x0F > 5
    p = dec(101, ip)
    assert p.layers == ["ipv4", "tcp"]
    assert_v4_tcp(p)


def test_ipv4_bad_header_length_and_total_length() -> None:
    ip = bytearray(v4_tcp())
    ip[0] = 0x44  # ihl 4 (16 bytes)
    assert dec(101, bytes(ip)).malformed == "ipv4.bad_header_length"
    ip = bytearray(v4_tcp())
    ip[2:4] = struct.pack("!H", 12)  # total length smaller than the header
    assert dec(101, bytes(ip)).malformed == "ipv4.bad_total_length"
    ip = bytearray(v4_tcp())
    ip[2:4] = struct.pack("!H", 1400)  # total length larger than what was captured
    p = dec(101, bytes(ip))
    assert p.malformed is None
    assert p.payload == b"hello"
    ip = bytearray(v4_tcp(b"hello world"))
    ip[2:4] = struct.pack("!H", 20 + 20 + 5)  # total length shorter than captured: rest is padding
    assert dec(101, bytes(ip)).payload == b"hello"
    ip = bytearray(v4_tcp())
    ip[0], ip[2:4] = 0x4F, struct.pack("!H", 100)  # ihl 15 (60 bytes): options cut at 45 captured
    assert dec(101, bytes(ip)[:45]).malformed == "ipv4.truncated"


def test_ipv4_tso_zero_total_length() -> None:
    ip = bytearray(v4_tcp())
    ip[2:4] = b"\x00\x00"
    p = dec(101, bytes(ip))
    assert_v4_tcp(p)


def test_ipv6_extension_chain() -> None:
    chain = (
        IPv6(src=V6_A, dst=V6_B, hlim=33)
        / IPv6ExtHdrHopByHop()
        / IPv6ExtHdrRouting()
        / IPv6ExtHdrDestOpt()
        / IPv6ExtHdrFragment(offset=0, m=0, id=9)  # atomic fragment
        / UDP(sport=5353, dport=53)
        / b"ping6"
    )
    p = dec(229, bytes(chain))
    assert p.layers == ["ipv6", "ipv6.hopopts", "ipv6.fraghdr", "udp"]
    assert_v6_udp(p)


def ext_chain(count: int) -> bytes:
    pkt = IPv6(src=V6_A, dst=V6_B, hlim=33)
    for _ in range(count):
        pkt = pkt / IPv6ExtHdrDestOpt()
    return bytes(pkt / UDP(sport=5353, dport=53) / b"ping6")


def test_ipv6_extension_chain_limit() -> None:
    assert_v6_udp(dec(229, ext_chain(MAX_IPV6_EXT_HEADERS)))  # exactly the limit is followed
    p = dec(229, ext_chain(MAX_IPV6_EXT_HEADERS + 1))
    assert p.malformed == "ipv6.too_many_ext_headers"
    assert dec(229, ext_chain(200)).malformed == "ipv6.too_many_ext_headers"


def test_ipv6_extension_header_overruns() -> None:
    raw = bytearray(ext_chain(1))
    raw[41] = 20  # destination options claims 168 bytes
    assert dec(229, bytes(raw)).malformed == "ipv6.ext_overrun"
    assert dec(229, ext_chain(1)[:44]).malformed == "ipv6.ext_truncated"


def test_ipv6_payload_length_larger_than_captured_and_jumbo_zero() -> None:
    raw = bytearray(v6_udp())
    raw[4:6] = struct.pack("!H", 1000)
    assert dec(229, bytes(raw)).payload == b"ping6"
    raw[4:6] = b"\x00\x00"
    assert_v6_udp(dec(229, bytes(raw)))


# --- transport ----------------------------------------------------------------------------------


def test_tcp_bad_data_offset() -> None:
    raw = bytearray(v4_tcp())
    raw[32] = 0x40  # data offset 4 words
    p = dec(101, bytes(raw))
    assert p.malformed == "tcp.bad_data_offset"
    assert p.layers == ["ipv4", "tcp"]
    raw[32] = 0xF0  # 60 bytes of header in a 25-byte segment
    assert dec(101, bytes(raw)).malformed == "tcp.truncated"


def test_tcp_with_options() -> None:
    ip = IP(src=V4_A, dst=V4_B) / TCP(sport=1, dport=2, flags="S", options=[("MSS", 1460), ("SAckOK", b"")])
    p = dec(101, bytes(ip / b"x"))
    assert (p.tcp_flags, p.payload, p.malformed) == (0x02, b"x", None)


def test_udp_bad_length_and_length_limits_payload() -> None:
    raw = bytearray(v4_udp())
    raw[24:26] = struct.pack("!H", 7)
    assert dec(101, bytes(raw)).malformed == "udp.bad_length"
    raw[24:26] = struct.pack("!H", 0)  # zero only means "jumbo" in IPv6
    assert dec(101, bytes(raw)).malformed == "udp.bad_length"
    raw[24:26] = struct.pack("!H", 10)
    assert dec(101, bytes(raw)).payload == b"pi"
    raw[24:26] = struct.pack("!H", 900)
    assert dec(101, bytes(raw)).payload == b"ping"
    raw6 = bytearray(v6_udp())
    raw6[44:46] = b"\x00\x00"
    assert_v6_udp(dec(229, bytes(raw6)))


def test_icmp_echo_ports_and_payload() -> None:
    req = dec(101, bytes(IP(src=V4_A, dst=V4_B) / ICMP(type=8, id=7, seq=1) / b"abc"))
    assert req.layers == ["ipv4", "icmp"]
    assert (req.proto, req.sport, req.dport) == (1, 8, 0)
    assert req.payload[0] == 8 and req.payload.endswith(b"abc")
    rep = dec(101, bytes(IP(src=V4_B, dst=V4_A) / ICMP(type=0, id=7, seq=1)))
    assert (rep.sport, rep.dport) == (0, 8)
    p6 = dec(229, bytes(IPv6(src=V6_A, dst=V6_B) / ICMPv6EchoRequest()))
    assert p6.layers == ["ipv6", "icmpv6"]
    assert (p6.proto, p6.sport, p6.dport) == (58, 128, 129)
    assert dec(101, bytes(IP(src=V4_A, dst=V4_B, proto=1) / b"\x08\x00")).malformed == "icmp.truncated"


# --- truncation at every byte ---------------------------------------------------------------------


def test_truncation_ethernet_ipv4_tcp_every_length() -> None:
    frame = bytes(
        Ether(src=MAC_A, dst=MAC_B)
        / IP(src=V4_A, dst=V4_B)
        / TCP(sport=1, dport=2, options=[("MSS", 1460), ("NOP", None), ("NOP", None)])
        / b"payload!"
    )
    header_end = 14 + 20 + 28
    d = Decoder()
    for n in range(len(frame) + 1):
        p = d.decode(0.0, 1, frame[:n], len(frame))
        if n < 14:
            assert p.malformed == "eth.truncated", n
        elif n < 34:
            assert p.malformed == "ipv4.truncated", n
        elif n < header_end:
            assert p.malformed == "tcp.truncated", n
        else:
            assert p.malformed is None, n
            assert p.layers == ["eth", "ipv4", "tcp"]
            assert p.payload == b"payload!"[: n - header_end]


def test_truncation_ethernet_ipv6_udp_every_length() -> None:
    frame = bytes(Ether(src=MAC_A, dst=MAC_B) / IPv6(src=V6_A, dst=V6_B) / UDP(sport=1, dport=2) / b"data")
    d = Decoder()
    for n in range(len(frame) + 1):
        p = d.decode(0.0, 1, frame[:n], len(frame))
        if n < 14:
            assert p.malformed == "eth.truncated", n
        elif n < 54:
            assert p.malformed == "ipv6.truncated", n
        elif n < 62:
            assert p.malformed == "udp.truncated", n
        else:
            assert p.malformed is None, n
            assert (p.sport, p.dport, p.payload) == (1, 2, b"data"[: n - 62])


# --- fragments --------------------------------------------------------------------------------------


def dns_datagram(ident: int = 77) -> tuple[IP, bytes]:
    dns = bytes(DNS(id=0x4242, rd=1, qd=DNSQR(qname="www.example.com")))
    return IP(src=V4_A, dst=V4_B, id=ident) / UDP(sport=5353, dport=53) / dns, dns


def frag_frames(ident: int = 77) -> tuple[list[bytes], bytes]:
    ip, dns = dns_datagram(ident)
    frames = [bytes(Ether(src=MAC_A, dst=MAC_B) / f) for f in fragment(ip, fragsize=16)]
    assert len(frames) == 3
    return frames, dns


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 0, 1), (1, 2, 0), (2, 1, 0)])
def test_ipv4_fragments_any_order(order: tuple[int, ...]) -> None:
    frames, dns = frag_frames()
    d = Decoder()
    packets = [d.decode(float(i), 1, frames[k], len(frames[k])) for i, k in enumerate(order)]
    for p in packets[:-1]:
        assert p.layers == ["eth", "ipv4"]
        assert (p.proto, p.sport, p.payload_end, p.malformed) == (17, 0, 0, None)
    last = packets[-1]
    assert last.layers == ["eth", "ipv4", "udp"]
    assert (last.src, last.dst, last.sport, last.dport) == (V4_A, V4_B, 5353, 53)
    assert last.payload == dns
    assert d.fragments.reassembled == 1 and d.fragments.pending == 0
    assert struct.unpack_from("!H", last.data, 2)[0] == len(last.data)  # total length fixed up


def test_ipv4_fragments_duplicated() -> None:
    frames, dns = frag_frames()
    d = Decoder()
    for f in (frames[0], frames[0], frames[1], frames[1]):
        assert d.decode(1.0, 1, f, len(f)).layers == ["eth", "ipv4"]
    last = d.decode(1.0, 1, frames[2], len(frames[2]))
    assert last.payload == dns
    assert (d.fragments.reassembled, d.fragments.overlaps) == (1, 0)


def raw_frag(ident: int, offset: int, more: bool, data: bytes, proto: int = 17) -> bytes:
    return bytes(
        IP(src=V4_A, dst=V4_B, id=ident, proto=proto, frag=offset // 8, flags="MF" if more else 0) / data
    )


def test_ipv4_overlapping_fragments_first_wins() -> None:
    udp = struct.pack("!HHHH", 5353, 53, 8 + 24, 0)
    d = Decoder()
    assert d.decode(1.0, 101, raw_frag(5, 8, True, b"B" * 16), 0).payload_end == 0
    # Overlaps bytes 16..24 with different data: counted, and the earlier B bytes are kept.
    d.decode(1.0, 101, raw_frag(5, 16, True, b"C" * 16), 0)
    assert d.fragments.overlaps == 1
    d.decode(1.0, 101, raw_frag(5, 0, True, udp), 0)  # 0..8: no overlap
    d.decode(1.0, 101, raw_frag(5, 8, True, b"B" * 8), 0)  # overlap with the same data: not counted
    assert d.fragments.overlaps == 1
    p = d.decode(1.0, 101, raw_frag(5, 24, False, b"D" * 8), 0)  # conflicts with C at 24..32
    assert d.fragments.overlaps == 2
    assert p.layers == ["ipv4", "udp"]
    assert p.payload == b"B" * 16 + b"C" * 8
    assert d.fragments.reassembled == 1


def test_fragment_earlier_arrival_wins_over_lower_offset() -> None:
    r = FragmentReassembler()
    assert r.add(("k",), 1.0, b"H", 8, False, b"late") is None
    assert r.add(("k",), 1.0, b"H", 0, True, b"01234567WXYZ") == b"H01234567late"
    assert r.overlaps == 1


def test_fragment_last_fragment_cuts_longer_pieces() -> None:
    r = FragmentReassembler()
    assert r.add(("k",), 1.0, b"H", 8, True, b"x" * 24) is None  # reaches past the real end
    assert r.add(("k",), 1.0, b"H", 16, False, b"yyyy") is None  # the end is 20 (overlap counted)
    assert r.overlaps == 1
    assert r.add(("k",), 1.0, b"H", 0, True, b"z" * 8) == b"H" + b"z" * 8 + b"x" * 12


def test_ipv4_overlap_counted_once_while_a_hole_remains() -> None:
    d = Decoder()
    d.decode(1.0, 101, raw_frag(6, 0, True, struct.pack("!HHHH", 1, 2, 48, 0) + b"a" * 8), 0)
    d.decode(1.0, 101, raw_frag(6, 8, True, b"b" * 16), 0)  # overlaps 8..16 with different data
    for off in (40, 32):  # last fragment, then one more; the hole at 24..32 stays open
        d.decode(1.0, 101, raw_frag(6, off, off == 32, b"x" * 8), 0)
    assert (d.fragments.overlaps, d.fragments.reassembled) == (1, 0)
    p = d.decode(1.0, 101, raw_frag(6, 24, True, b"y" * 8), 0)
    assert p.payload == b"a" * 8 + b"b" * 8 + b"y" * 8 + b"x" * 16
    assert d.fragments.overlaps == 1


def test_ipv4_first_fragment_options_not_copied() -> None:
    """RFC 791: options without the copy flag are only in the first fragment; the reassembled
    datagram has the first fragment's longer header."""
    ip = IP(src=V4_A, dst=V4_B, id=9, options=[IPOption_RR()]) / UDP(sport=5, dport=53) / (b"Q" * 40)
    frags = fragment(ip, fragsize=24)
    d = Decoder()
    p = d.decode(1.0, 101, bytes(frags[0]), 0)
    for f in frags[1:]:
        later = IP(bytes(f))
        later.options, later.ihl, later.len, later.chksum = [], None, None, None
        p = d.decode(1.0, 101, bytes(later), 0)
    assert p.layers == ["ipv4", "udp"]
    assert (p.sport, p.dport, p.payload) == (5, 53, b"Q" * 40)


def test_ipv4_fragments_expire_by_packet_time() -> None:
    frames, _ = frag_frames()
    d = Decoder()
    d.decode(100.0, 1, frames[0], 0)
    d.decode(100.0 + FRAGMENT_TIMEOUT, 1, frames[1], 0)  # not yet expired (timeout is "longer than")
    assert (d.fragments.pending, d.fragments.expired) == (1, 0)
    p = d.decode(100.0 + FRAGMENT_TIMEOUT + 1, 1, frames[2], 0)
    assert d.fragments.expired == 1
    assert p.layers == ["eth", "ipv4"]  # the completing fragment came too late
    assert (d.fragments.reassembled, d.fragments.pending) == (0, 1)


def test_ipv4_fragment_flood_evicts_oldest() -> None:
    template = bytearray(raw_frag(0, 0, True, b"z" * 16))
    d = Decoder()
    extra = 10
    for ident in range(MAX_FRAGMENTED_DATAGRAMS + extra):
        template[4:6] = struct.pack("!H", ident)
        d.decode(1.0, 101, bytes(template), 0)
    assert d.fragments.pending == MAX_FRAGMENTED_DATAGRAMS
    assert d.fragments.evicted == extra
    # The oldest (id 0) is gone: its last fragment no longer completes it; the newest still does.
    assert d.decode(1.0, 101, raw_frag(0, 16, False, b"z" * 8), 0).payload_end == 0
    newest = MAX_FRAGMENTED_DATAGRAMS + extra - 1
    assert d.decode(1.0, 101, raw_frag(newest, 16, False, b"z" * 8), 0).layers == ["ipv4", "udp"]


def test_fragment_bytes_bound_holds_for_growing_datagrams(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decode.fragments, "MAX_FRAGMENT_BYTES", 1000)
    r = FragmentReassembler()
    for ident in range(20):  # twenty datagrams start small ...
        r.add((ident,), 1.0, b"H" * 20, 0, True, b"a" * 8)
    assert (r.pending, r.evicted) == (20, 0)
    for ident in range(20):  # ... then each grows: the oldest others make room
        for off in range(8, 400, 8):
            r.add((ident,), 1.0, b"H" * 20, off, True, b"b" * 8)
            assert r._held <= 1000
    assert r.evicted > 0
    assert r.pending < 20


def test_fragment_overlapping_pieces_hold_bounded_bytes() -> None:
    r = FragmentReassembler()
    for off in range(8, 8000, 8):  # each fragment covers nearly the whole datagram again
        r.add(("k",), 1.0, b"H" * 20, off, True, b"x" * (60000 - off))
    assert r._held < 60000
    assert r.overlaps == 0


@given(
    payload=st.binary(min_size=1, max_size=120),
    extra=st.lists(st.tuples(st.integers(0, 15), st.integers(1, 120), st.booleans()), max_size=6),
    step=st.sampled_from([8, 16, 24, 64]),
    rnd=st.randoms(use_true_random=False),
)
def test_fragments_any_order_first_arrival_wins(
    payload: bytes, extra: list[tuple[int, int, bool]], step: int, rnd: random.Random
) -> None:
    """Model check: pieces (a partition plus overlapping extras, some with other bytes) in any order
    give, at completion, each byte from the first piece that brought it; conflicts counted per piece."""
    pieces = [(o, payload[o : o + step]) for o in range(0, len(payload), step)]
    for start, length, garbled in extra:
        chunk = payload[8 * start : 8 * start + length]
        if chunk:
            pieces.append((8 * start, bytes(b ^ 0xFF for b in chunk) if garbled else chunk))
    rnd.shuffle(pieces)
    r = FragmentReassembler()
    model: list[int | None] = [None] * len(payload)
    conflicts = 0
    for off, chunk in pieces:
        old = model[off : off + len(chunk)]
        conflicts += any(b is not None and b != c for b, c in zip(old, chunk, strict=True))
        model[off : off + len(chunk)] = [c if b is None else b for b, c in zip(old, chunk, strict=True)]
        out = r.add(("k",), 0.0, b"HDR", off, off + len(chunk) < len(payload), chunk)
        if out is not None:
            assert None not in model
            assert out == b"HDR" + bytes(b for b in model if b is not None)
            assert r.overlaps == conflicts
            assert (r.reassembled, r.pending) == (1, 0)
            return
        assert None in model
    raise AssertionError("never completed")


def test_fragment_too_large() -> None:
    p = dec(101, raw_frag(3, 8191 * 8, False, b"x" * 100))
    assert p.malformed == "ip.fragment_too_large"


def v6_frags(ident: int = 5) -> tuple[list[bytes], bytes]:
    body = b"0123456789" * 20
    pkt = IPv6(src=V6_A, dst=V6_B) / IPv6ExtHdrFragment(id=ident) / UDP(sport=5353, dport=53) / body
    frames = [bytes(f) for f in fragment6(pkt, 120)]
    assert len(frames) >= 3
    return frames, body


@pytest.mark.parametrize("reverse", [False, True])
def test_ipv6_fragments_in_and_out_of_order(reverse: bool) -> None:
    frames, body = v6_frags()
    if reverse:
        frames = frames[::-1]
    d = Decoder()
    for f in frames[:-1]:
        p = d.decode(1.0, 229, f, len(f))
        assert p.layers == ["ipv6", "ipv6.fraghdr"]
        assert (p.proto, p.payload_end, p.malformed) == (17, 0, None)
    p = d.decode(1.0, 229, frames[-1], len(frames[-1]))
    assert p.layers == ["ipv6", "ipv6.fraghdr", "udp"]
    assert (p.src, p.dst, p.sport, p.dport, p.payload) == (V6_A, V6_B, 5353, 53, body)
    assert d.fragments.reassembled == 1


def test_ipv6_fragments_never_completed_expire() -> None:
    frames, _ = v6_frags()
    d = Decoder()
    d.decode(0.0, 229, frames[0], 0)
    assert d.fragments.pending == 1
    other, _ = v6_frags(ident=6)
    d.decode(FRAGMENT_TIMEOUT + 5, 229, other[0], 0)
    assert (d.fragments.expired, d.fragments.pending) == (1, 1)


# --- ICMP errors and quotes ----------------------------------------------------------------------


def test_icmp_error_appends_quoted_layers() -> None:
    quoted = IP(src=V4_B, dst=V4_A) / UDP(sport=5353, dport=53) / b"q"
    p = dec(1, bytes(Ether() / IP(src="203.0.113.9", dst=V4_B) / ICMP(type=3, code=3) / quoted))
    assert p.layers == ["eth", "ipv4", "icmp", "ipv4", "udp"]
    assert (p.src, p.proto, p.sport, p.dport) == ("203.0.113.9", 1, 3, 3)
    assert p.payload[:2] == b"\x03\x03"
    assert decode_quoted(p.payload[8:]).dport == 53


def test_icmp_error_with_cut_quote_keeps_outer_layers() -> None:
    p = dec(101, bytes(IP(src=V4_A, dst=V4_B) / ICMP(type=11, code=0) / v4_tcp()[:10]))
    assert (p.layers, p.malformed) == (["ipv4", "icmp"], None)


def test_icmpv6_error_appends_quoted_layers() -> None:
    quoted = IPv6(src=V6_B, dst=V6_A) / TCP(sport=443, dport=50000)
    p = dec(229, bytes(IPv6(src=V6_A, dst=V6_B) / ICMPv6DestUnreach(code=4) / quoted))
    assert p.layers == ["ipv6", "icmpv6", "ipv6", "tcp"]
    assert (p.proto, p.sport, p.dport) == (58, 1, 4)


def test_decode_quoted_ipv4() -> None:
    full = bytes(IP(src=V4_B, dst=V4_A) / UDP(sport=5353, dport=53) / b"question")
    q = decode_quoted(full[:28])  # the RFC 792 minimum: header + 8 bytes
    assert (q.ip_version, q.src, q.dst, q.proto, q.sport, q.dport) == (4, V4_B, V4_A, 17, 5353, 53)
    assert q.layers == ("ipv4", "udp")
    q = decode_quoted(full[:22])  # cut after 2 transport bytes: no ports
    assert (q.proto, q.sport, q.dport, q.layers) == (17, None, None, ("ipv4", "udp"))
    q = decode_quoted(full[:20])
    assert (q.sport, q.layers) == (None, ("ipv4",))
    with pytest.raises(Malformed) as exc:
        decode_quoted(full[:15])
    assert exc.value.reason == "icmp.quote_truncated"


def test_decode_quoted_ipv4_non_first_fragment_and_bad_inputs() -> None:
    frag = bytes(IP(src=V4_B, dst=V4_A, proto=17, frag=3) / b"\x13\x88\x00\x35abcd")
    q = decode_quoted(frag)
    assert (q.proto, q.sport, q.dport, q.layers) == (17, None, None, ("ipv4",))
    for data, reason in [(b"", "icmp.quote_empty"), (b"\x50" + bytes(30), "icmp.quote_bad_version")]:
        with pytest.raises(Malformed) as exc:
            decode_quoted(data)
        assert exc.value.reason == reason
    bad_ihl = bytearray(frag)
    bad_ihl[0] = 0x43
    with pytest.raises(Malformed) as exc:
        decode_quoted(bytes(bad_ihl))
    assert exc.value.reason == "icmp.quote_bad_header_length"


def test_decode_quoted_ipv6() -> None:
    full = bytes(IPv6(src=V6_B, dst=V6_A) / TCP(sport=443, dport=50000))
    q = decode_quoted(full[:48])
    assert (q.ip_version, q.src, q.dst, q.proto, q.sport, q.dport) == (6, V6_B, V6_A, 6, 443, 50000)
    assert q.layers == ("ipv6", "tcp")
    q = decode_quoted(full[:42])
    assert (q.sport, q.dport, q.layers) == (None, None, ("ipv6", "tcp"))
    with pytest.raises(Malformed) as exc:
        decode_quoted(full[:39])
    assert exc.value.reason == "icmp.quote_truncated"
    ext = bytes(IPv6(src=V6_B, dst=V6_A) / IPv6ExtHdrHopByHop() / UDP(sport=7, dport=8))
    q = decode_quoted(ext)
    assert (q.proto, q.sport, q.dport) == (17, 7, 8)


def test_decode_quoted_ipv6_non_first_fragment() -> None:
    frag = bytes(IPv6(src=V6_B, dst=V6_A) / IPv6ExtHdrFragment(offset=10, nh=17) / b"\x00\x07\x00\x08")
    q = decode_quoted(frag)
    assert (q.proto, q.sport, q.dport, q.layers) == (17, None, None, ("ipv6",))
    first = bytes(IPv6(src=V6_B, dst=V6_A) / IPv6ExtHdrFragment(offset=0, m=1, nh=17) / b"\x00\x07\x00\x08")
    assert (decode_quoted(first).sport, decode_quoted(first).dport) == (7, 8)


# --- fuzz -----------------------------------------------------------------------------------------

SEEDS = [
    bytes(Ether() / IP(v4_tcp())),
    eth(0x86DD, v6_udp()),
    eth(0x8100, b"\x00\x05\x88\x47" + mpls_stack([1, 2]) + v4_tcp()),
    bytes(IP(proto=47) / (b"\x30\x01\x88\x0b\x00\x10\x00\x07\x00\x00\x00\x01\xff\x03\x00\x21" + v4_tcp())),
    bytes(IP() / UDP(sport=3544, dport=3544) / v6_udp()),
    bytes(IP() / ICMP(type=3) / v4_udp()),
    bytes(IPv6() / ICMPv6DestUnreach() / v6_udp()),
]


@given(linktype=st.sampled_from(LINKTYPES), data=st.binary(max_size=400))
def test_fuzz_any_bytes_decode_without_raising(linktype: int, data: bytes) -> None:
    p = Decoder().decode(0.0, linktype, data, len(data))
    assert p.malformed is None or isinstance(p.malformed, str)
    assert p.payload_offset <= p.payload_end <= len(p.data) or p.payload_end == 0


@given(
    linktype=st.sampled_from(LINKTYPES),
    seed=st.sampled_from(SEEDS),
    edits=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=8),
    cut=st.integers(0, 300),
)
def test_fuzz_mutated_frames_decode_without_raising(
    linktype: int, seed: bytes, edits: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(seed)
    for pos, value in edits:
        if pos < len(data):
            data[pos] = value
    frame = bytes(data[: max(cut, 1)])
    d = Decoder()
    for ts in (0.0, 1.0):  # twice: a fragment may complete against itself
        p = d.decode(ts, linktype, frame, len(frame))
        assert isinstance(p.layers, list)
