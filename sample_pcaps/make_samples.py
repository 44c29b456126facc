"""Build the project's sample captures, deterministically, byte for byte.

Run from the repository root::

    python sample_pcaps/make_samples.py            # rewrites sample_pcaps/*.pcap, *.pcapng
    python sample_pcaps/make_samples.py --out DIR  # writes the same files into DIR

Nothing here is random and nothing reads the clock: timestamps start at 2024-03-01 10:00:00 UTC and
each area gets its own one-hour window; MACs, addresses, ports, IP ids, TCP initial sequence numbers,
DNS ids, DHCP xids and every "random" protocol field are fixed or derived from a label with SHA-256.
TLS certificates are real DER X.509 certificates signed with Ed25519 keys made from fixed 32-byte
seeds (Ed25519 signatures are deterministic). Addresses come from the documentation ranges
(192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, fe80::/10, MAC 00:00:5e:00:53:xx)
and names from example.com/.net/.org and *.test.

Theory of operation: every area function gets a `Capture` (a clock plus a frame list). Datagrams are
emitted directly; TCP conversations go through `TcpConv`, which keeps per-direction sequence numbers
so every segment carries a correct seq/ack, and which cuts application messages at the given offsets
(our dissectors reassemble, so messages are deliberately split mid-line and mid-record). Application
bytes (DNS, DHCP, TLS, HTTP, mail, FTP, SMB) are written by hand with `struct`; scapy builds the
Ethernet/IP/TCP/UDP/ICMPv6 layers and their checksums. Files are written by a tiny pcap/pcapng writer
so the output depends on nothing but this script.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import ipaddress
import itertools
import struct
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import NameOID
from scapy.contrib.erspan import ERSPAN_II, ERSPAN_III
from scapy.contrib.geneve import GENEVE, GeneveOptions
from scapy.contrib.gtp import GTP_U_Header, GTPPDUSessionContainer
from scapy.contrib.mpls import MPLS
from scapy.contrib.nsh import NSH
from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.dot11 import Dot11, Dot11Beacon, Dot11Elt, Dot11QoS, RadioTap
from scapy.layers.inet import IP, TCP, UDP, fragment
from scapy.layers.inet6 import (
    ICMPv6DestUnreach,
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    ICMPv6ND_NA,
    ICMPv6ND_NS,
    ICMPv6ND_RA,
    ICMPv6ND_Redirect,
    ICMPv6ND_RS,
    ICMPv6NDOptDstLLAddr,
    ICMPv6NDOptMTU,
    ICMPv6NDOptPrefixInfo,
    ICMPv6NDOptRDNSS,
    ICMPv6NDOptRedirectedHdr,
    ICMPv6NDOptSrcLLAddr,
    ICMPv6PacketTooBig,
    ICMPv6TimeExceeded,
    IPv6,
)
from scapy.layers.l2 import ARP, GRE, LLC, SNAP, Dot1AD, Dot1Q, Ether
from scapy.layers.vxlan import VXLAN
from scapy.packet import Packet, Raw

# ---------------------------------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------------------------------

# 2024-03-01 10:00:00 UTC: a fixed origin so the files never depend on when they were built.
BASE_EPOCH_S = int(datetime(2024, 3, 1, 10, 0, 0, tzinfo=UTC).timestamp())
# Each area owns one hour, so the merged capture keeps areas apart (the DHCP area needs ~35 min).
AREA_WINDOW_S = 3600
# Ethernet MSS of a 1500-byte MTU path with 20-byte IPv4 and TCP headers.
MSS = 1460
# Gap between two back-to-back segments sent by the same side (a fast LAN host).
SAME_SIDE_GAP_US = 180
# Gap when the other side answers: roughly half of a 24 ms round trip.
TURN_GAP_US = 12_000
# Classic pcap snap length written in the headers; every frame here is far shorter.
SNAPLEN = 65535
# pcap/pcapng link type for Ethernet.
LINKTYPE_ETHERNET = 1
# Offset between the FILETIME epoch (1601) and the Unix epoch, in seconds (SMB timestamps).
FILETIME_EPOCH_DELTA_S = 11_644_473_600
# BOOTP messages are padded to this size, as real clients do (RFC 1542 minimum).
BOOTP_MIN_LEN = 300

SAMPLE_DIR = Path(__file__).resolve().parent

# ---------------------------------------------------------------------------------------------------
# Deterministic helpers
# ---------------------------------------------------------------------------------------------------


def blob(label: str, n: int) -> bytes:
    """Return `n` pseudo-random but fixed bytes derived from `label` (SHA-256 in counter mode)."""
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}/{counter}".encode()).digest()
        counter += 1
    return bytes(out[:n])


def seed32(label: str) -> bytes:
    """A fixed 32-byte key seed for `label`."""
    return hashlib.sha256(b"pcap-analyzer sample key: " + label.encode()).digest()


def ts_s(area_index: int, offset_s: float = 0.0) -> int:
    """Microsecond timestamp `offset_s` seconds into area window `area_index`."""
    return (BASE_EPOCH_S + area_index * AREA_WINDOW_S) * 1_000_000 + round(offset_s * 1_000_000)


def filetime(unix_us: int) -> int:
    """Windows FILETIME (100 ns ticks since 1601) for a microsecond Unix timestamp."""
    return (unix_us + FILETIME_EPOCH_DELTA_S * 1_000_000) * 10


# ---------------------------------------------------------------------------------------------------
# Hosts and the capture clock
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Host:
    """An address as seen on the capture link."""

    mac: str
    """MAC address on the wire for this host (the router's MAC for hosts beyond the router)."""
    ip: str
    """IPv4 or IPv6 address."""
    ttl: int = 64
    """TTL / hop limit its packets carry when they reach the capture point."""


ROUTER_MAC = "00:00:5e:00:53:01"
ROUTER = Host(ROUTER_MAC, "192.0.2.1", 64)
ROUTER2 = Host("00:00:5e:00:53:02", "192.0.2.2", 64)
CLIENT = Host("00:00:5e:00:53:10", "192.0.2.10")
CLIENT2 = Host("00:00:5e:00:53:11", "192.0.2.11")
LAN_DNS = Host("00:00:5e:00:53:35", "192.0.2.53")
LAN_DNS2 = Host("00:00:5e:00:53:36", "192.0.2.54")
LAN_SMB = Host("00:00:5e:00:53:45", "192.0.2.45")
LAN_NAS = Host("00:00:5e:00:53:46", "192.0.2.46")
BCAST = Host("ff:ff:ff:ff:ff:ff", "255.255.255.255")
ZERO = Host("00:00:00:00:00:00", "0.0.0.0")


def remote(ip: str, ttl: int = 54) -> Host:
    """A host beyond the router: frames to and from it carry the router's MAC."""
    return Host(ROUTER_MAC, ip, ttl)


# IPv6 hosts (fe80:: link-local, 2001:db8::/32 global).
R6_LL = Host(ROUTER_MAC, "fe80::1", 255)
R6_GLOBAL = Host(ROUTER_MAC, "2001:db8:1::1", 64)
C6 = Host(CLIENT.mac, "2001:db8:1::10")
C6_LL = Host(CLIENT.mac, "fe80::200:5eff:fe00:5310", 255)


class Capture:
    """A list of (timestamp_us, frame bytes) with a clock that only moves forward."""

    def __init__(self, start_us: int) -> None:
        self.now_us = start_us
        self.frames: list[tuple[int, bytes]] = []
        self._ipid: dict[str, int] = {}

    def at(self, ts_us: int) -> None:
        """Move the clock to `ts_us` (never backwards)."""
        self.now_us = max(self.now_us, ts_us)

    def emit(self, frame: Packet | bytes, gap_us: int = 0) -> bytes:
        """Append a frame `gap_us` after the previous one (the first opens the window); return its bytes."""
        if self.frames:
            self.now_us += gap_us
        if self.frames and self.now_us <= self.frames[-1][0]:
            self.now_us = self.frames[-1][0] + 1
        data = bytes(frame)
        self.frames.append((self.now_us, data))
        return data

    def ipid(self, host: Host) -> int:
        """Next IPv4 identification of `host` (a per-host counter with a fixed start)."""
        value = self._ipid.get(host.ip, zlib.crc32(host.ip.encode()) & 0xFFFF)
        self._ipid[host.ip] = (value + 1) & 0xFFFF
        return value


def l3(cap: Capture, src: Host, dst: Host, *, df: bool = True, ttl: int | None = None) -> Packet:
    """IPv4 or IPv6 header from `src` to `dst` with fixed id/flow label."""
    hop = src.ttl if ttl is None else ttl
    if ":" in src.ip:
        return IPv6(src=src.ip, dst=dst.ip, hlim=hop, fl=0, tc=0)
    return IP(src=src.ip, dst=dst.ip, ttl=hop, id=cap.ipid(src), flags="DF" if df else 0, tos=0)


def udp(
    cap: Capture,
    src: Host,
    dst: Host,
    sport: int,
    dport: int,
    payload: bytes,
    gap_us: int = TURN_GAP_US,
    *,
    ttl: int | None = None,
    vlan: Sequence[int] = (),
) -> bytes:
    """Emit one UDP datagram (optionally 802.1Q tagged; two tags make 802.1ad QinQ)."""
    ip = l3(cap, src, dst, df=False, ttl=ttl)
    return cap.emit(link(src.mac, dst.mac, vlan) / ip / UDP(sport=sport, dport=dport) / Raw(payload), gap_us)


def link(src_mac: str, dst_mac: str, vlan: Sequence[int] = ()) -> Packet:
    """Ethernet header, with 802.1Q (one tag) or 802.1ad+802.1Q (two tags)."""
    eth = Ether(src=src_mac, dst=dst_mac)
    if len(vlan) == 1:
        return eth / Dot1Q(vlan=vlan[0], prio=0)
    if len(vlan) == 2:
        return eth / Dot1AD(vlan=vlan[0], prio=0) / Dot1Q(vlan=vlan[1], prio=0)
    return eth


# ---------------------------------------------------------------------------------------------------
# TCP conversations
# ---------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Side:
    """One direction of a TCP conversation."""

    host: Host
    """Sender of this direction."""
    port: int
    """Its TCP port."""
    seq: int
    """Next sequence number it will send."""
    window: int
    """Advertised window (already scaled down by its window scale)."""


SYN_OPTIONS = [("MSS", MSS), ("NOP", None), ("WScale", 7), ("NOP", None), ("NOP", None), ("SAckOK", b"")]
SYN_OPTIONS_V6 = [
    ("MSS", MSS - 20),
    ("NOP", None),
    ("WScale", 7),
    ("NOP", None),
    ("NOP", None),
    ("SAckOK", b""),
]


class TcpConv:
    """A TCP conversation with correct seq/ack numbers; data is cut at the requested offsets."""

    def __init__(
        self, cap: Capture, client: Host, cport: int, server: Host, sport: int, isn_c: int, isn_s: int
    ):
        self.cap = cap
        self.c = _Side(client, cport, isn_c, 502)
        self.s = _Side(server, sport, isn_s, 509)
        self._last_from_client: bool | None = None
        self.v6 = ":" in client.ip

    def _sides(self, from_client: bool) -> tuple[_Side, _Side]:
        return (self.c, self.s) if from_client else (self.s, self.c)

    def seg(
        self,
        from_client: bool,
        flags: str,
        payload: bytes = b"",
        *,
        gap_us: int | None = None,
        window: int | None = None,
        options: list[tuple[str, Any]] | None = None,
    ) -> bytes:
        """Emit one segment; advance the sender's sequence number."""
        me, peer = self._sides(from_client)
        if gap_us is None:
            gap_us = SAME_SIDE_GAP_US if self._last_from_client == from_client else TURN_GAP_US
        self._last_from_client = from_client
        tcp = TCP(
            sport=me.port,
            dport=peer.port,
            seq=me.seq & 0xFFFFFFFF,
            ack=(peer.seq & 0xFFFFFFFF) if "A" in flags else 0,
            flags=flags,
            window=me.window if window is None else window,
            options=options or [],
            urgptr=0,
        )
        frame = Ether(src=me.host.mac, dst=peer.host.mac) / l3(self.cap, me.host, peer.host) / tcp
        if payload:
            frame = frame / Raw(payload)
        me.seq += len(payload) + (1 if ("S" in flags or "F" in flags) else 0)
        return self.cap.emit(frame, gap_us)

    def open(self) -> None:
        """Three-way handshake."""
        opts = SYN_OPTIONS_V6 if self.v6 else SYN_OPTIONS
        self.seg(True, "S", window=64240, options=opts)
        self.seg(False, "SA", window=65160, options=opts)
        self.seg(True, "A")

    def send(
        self,
        from_client: bool,
        data: bytes,
        cuts: Sequence[int] = (),
        *,
        gap_us: int | None = None,
        mss: int | None = None,
        ack: bool = False,
    ) -> list[bytes]:
        """Send `data` cut at offsets `cuts` (and at the MSS); optionally a pure ACK follows."""
        limit = mss or (MSS - 20 if self.v6 else MSS)
        bounds = sorted({0, len(data), *[c for c in cuts if 0 < c < len(data)]})
        pieces: list[bytes] = []
        for lo, hi in itertools.pairwise(bounds):
            for start in range(lo, hi, limit):
                pieces.append(data[start : min(hi, start + limit)])
        frames = []
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            frames.append(
                self.seg(from_client, "PA" if last else "A", piece, gap_us=gap_us if i == 0 else None)
            )
        if ack:
            self.seg(not from_client, "A")
        return frames

    def close(self, client_first: bool = True) -> None:
        """FIN teardown: FIN/ACK, FIN/ACK, ACK."""
        self.seg(client_first, "FA")
        self.seg(not client_first, "FA")
        self.seg(client_first, "A")

    def reset(self, from_client: bool) -> None:
        """Abort with RST/ACK."""
        self.seg(from_client, "RA", window=0)

    def reject(self) -> None:
        """REJ: a SYN answered by RST/ACK."""
        opts = SYN_OPTIONS_V6 if self.v6 else SYN_OPTIONS
        self.seg(True, "S", window=64240, options=opts)
        self.s.seq = 0
        self.seg(False, "RA", window=0)


# ---------------------------------------------------------------------------------------------------
# 1. ICMP (v4 and v6)
# ---------------------------------------------------------------------------------------------------


def inet_checksum(data: bytes) -> int:
    """RFC 1071 Internet checksum."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def icmp4(icmp_type: int, code: int, rest: bytes, payload: bytes) -> bytes:
    """ICMPv4 message bytes with a correct checksum; `rest` is the 4-byte rest-of-header."""
    head = struct.pack("!BBH", icmp_type, code, 0) + rest
    csum = inet_checksum(head + payload)
    return struct.pack("!BBH", icmp_type, code, csum) + rest + payload


def emit_icmp4(cap: Capture, src: Host, dst: Host, message: bytes, gap_us: int = TURN_GAP_US) -> bytes:
    """Emit an IPv4/ICMP frame (protocol 1)."""
    ip = l3(cap, src, dst, df=False)
    ip.proto = 1
    return cap.emit(Ether(src=src.mac, dst=dst.mac) / ip / Raw(message), gap_us)


def ip_part(frame: bytes) -> bytes:
    """The IP packet inside an untagged Ethernet frame."""
    return frame[14:]


def upload_request(host: str, size: int) -> bytes:
    """An HTTP POST of exactly `size` bytes (a one-segment bulk upload that trips path MTU limits)."""
    head = (
        f"POST /upload HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/plain\r\nContent-Length: {{}}\r\n\r\n"
    )
    for body_len in range(size, 0, -1):
        request = head.format(body_len).encode()
        if len(request) + body_len == size:
            lines = b"".join(
                f"upload line {i:03d}: ABCDEFGHIJKLMNOPQRSTUVWXYZ\n".encode() for i in range(size // 30 + 1)
            )
            return request + lines[:body_len]
    raise ValueError(size)


UPLOAD_RESPONSE = b"HTTP/1.1 204 No Content\r\nServer: example-httpd/2.4\r\n\r\n"


def build_icmp(area: int) -> Capture:
    """Echo pairs, Destination Unreachable codes, Time Exceeded, truncated quotes; ICMPv6 likewise."""
    cap = Capture(ts_s(area))
    web = remote("203.0.113.10")
    dns_far = remote("203.0.113.53")
    far = remote("198.51.100.20", 52)
    hop2 = remote("198.51.100.1", 63)

    # Echo request/reply pairs (id 0x1d2e, seq 1..3) and one request nobody answers.
    ping_data = bytes(range(0x10, 0x10 + 32))
    for dst, ident in ((web, 0x1D2E), (far, 0x1D2F)):
        for seq in (1, 2, 3):
            emit_icmp4(cap, CLIENT, dst, icmp4(8, 0, struct.pack("!HH", ident, seq), ping_data), 1_000_000)
            emit_icmp4(cap, dst, CLIENT, icmp4(0, 0, struct.pack("!HH", ident, seq), ping_data), 24_000)
    emit_icmp4(
        cap, CLIENT, remote("203.0.113.99"), icmp4(8, 0, struct.pack("!HH", 0x1D30, 1), ping_data), 1_000_000
    )

    # 3/0 network unreachable from the router, quoting IP header + 8 bytes (RFC 792 minimum).
    probe = udp(
        cap, CLIENT, remote("198.51.100.200"), 40001, 53, dns_query(0x5101, "www.example.net", 1), 900_000
    )
    emit_icmp4(cap, ROUTER, CLIENT, icmp4(3, 0, b"\0\0\0\0", ip_part(probe)[:28]), 400)

    # 3/1 host unreachable, quoting the whole (small) datagram as Linux does.
    probe = udp(cap, CLIENT, remote("203.0.113.77"), 40002, 123, b"\xe3" + b"\0" * 47, 900_000)
    emit_icmp4(cap, ROUTER, CLIENT, icmp4(3, 1, b"\0\0\0\0", ip_part(probe)), 3_000_000)

    # 3/3 port unreachable from the target itself, quoting the UDP datagram (a DNS query).
    probe = udp(cap, CLIENT, dns_far, 40003, 53, dns_query(0x5102, "example.org", 1), 900_000)
    emit_icmp4(cap, dns_far, CLIENT, icmp4(3, 3, b"\0\0\0\0", ip_part(probe)), 24_000)

    # 3/4 fragmentation needed (next-hop MTU 1400) during a TCP bulk upload: path MTU discovery.
    conv = TcpConv(cap, CLIENT, 50410, web, 80, 0x1A2B0000, 0x5C6D0000)
    conv.open()
    upload = upload_request("www.example.com", MSS)
    big = conv.send(True, upload)
    emit_icmp4(cap, ROUTER, CLIENT, icmp4(3, 4, struct.pack("!HH", 0, 1400), ip_part(big[0])[:28]), 300)
    conv.c.seq -= len(upload)
    conv.send(True, upload, mss=1360, gap_us=400)
    conv.send(False, UPLOAD_RESPONSE)
    conv.close()

    # 3/13 communication administratively prohibited: a SYN to port 25 refused by the router's filter.
    mx = remote("198.51.100.25")
    blocked = TcpConv(cap, CLIENT, 50411, mx, 25, 0x2B3C0000, 0)
    syn = blocked.seg(True, "S", window=64240, options=SYN_OPTIONS, gap_us=700_000)
    emit_icmp4(cap, ROUTER, CLIENT, icmp4(3, 13, b"\0\0\0\0", ip_part(syn)[:28]), 350)

    # Traceroute: TTL 1 and 2 expire (11/0), TTL 3 reaches the target (3/3).
    for ttl, responder in ((1, ROUTER), (2, hop2), (3, web)):
        probe_ip = IP(src=CLIENT.ip, dst=web.ip, ttl=ttl, id=cap.ipid(CLIENT), flags=0)
        probe = cap.emit(
            Ether(src=CLIENT.mac, dst=ROUTER_MAC)
            / probe_ip
            / UDP(sport=43210, dport=33433 + ttl)
            / Raw(b"@" * 32),
            500_000,
        )
        quoted = bytearray(ip_part(probe))
        quoted[8] = 1  # the TTL the responder saw: it expired there (or was about to)
        quoted[10:12] = b"\0\0"
        quoted[10:12] = struct.pack("!H", inet_checksum(bytes(quoted[:20])))
        if responder is web:
            emit_icmp4(cap, web, CLIENT, icmp4(3, 3, b"\0\0\0\0", bytes(quoted)), 25_000)
        else:
            emit_icmp4(cap, responder, CLIENT, icmp4(11, 0, b"\0\0\0\0", bytes(quoted[:28])), 2_000 * ttl)

    # 11/1 fragment reassembly time exceeded, quoting a first fragment's header + 8 bytes.
    frag_ip = IP(src=far.ip, dst=CLIENT.ip, ttl=52, id=0x4242, flags="MF", frag=0, proto=17)
    frag = cap.emit(Ether(src=ROUTER_MAC, dst=CLIENT.mac) / frag_ip / Raw(blob("icmp/frag", 256)), 800_000)
    emit_icmp4(cap, CLIENT, far, icmp4(11, 1, b"\0\0\0\0", ip_part(frag)[:28]), 30_000_000)

    # Truncated quotes: IP header + only 4 transport bytes; and only the first 8 bytes of an IP header.
    probe = udp(cap, CLIENT, dns_far, 40004, 514, b"<14>Mar  1 10:00:45 host app: hello", 700_000)
    emit_icmp4(cap, dns_far, CLIENT, icmp4(3, 3, b"\0\0\0\0", ip_part(probe)[:24]), 24_000)
    probe = udp(cap, CLIENT, remote("203.0.113.78"), 40005, 69, b"\x00\x01boot.cfg\x00octet\x00", 700_000)
    emit_icmp4(cap, ROUTER, CLIENT, icmp4(3, 1, b"\0\0\0\0", ip_part(probe)[:8]), 3_000_000)

    build_icmp6(cap)
    return cap


def emit_icmp6(cap: Capture, src: Host, dst: Host, msg: Packet, gap_us: int = TURN_GAP_US) -> bytes:
    """Emit an IPv6 frame carrying an ICMPv6 message (checksum by scapy)."""
    return cap.emit(Ether(src=src.mac, dst=dst.mac) / l3(cap, src, dst) / msg, gap_us)


def build_icmp6(cap: Capture) -> None:
    """ICMPv6 echo, Destination Unreachable 0/1/3/4, Packet Too Big, Time Exceeded."""
    far6 = Host(ROUTER_MAC, "2001:db8:2::20", 60)
    dns6 = Host(ROUTER_MAC, "2001:db8:2::53", 60)
    data = bytes(range(0x20, 0x20 + 32))
    for seq in (1, 2):
        emit_icmp6(cap, C6, far6, ICMPv6EchoRequest(id=0x6E01, seq=seq, data=data), 1_000_000)
        emit_icmp6(cap, far6, C6, ICMPv6EchoReply(id=0x6E01, seq=seq, data=data), 21_000)

    # 1/0 no route to destination (quoting UDP).
    probe = udp(
        cap,
        C6,
        Host(ROUTER_MAC, "2001:db8:ffff::1"),
        41001,
        53,
        dns_query(0x6101, "example.com", 28),
        800_000,
    )
    emit_icmp6(cap, R6_GLOBAL, C6, ICMPv6DestUnreach(code=0) / Raw(ip_part(probe)), 300)

    # 1/1 administratively prohibited (quoting a TCP SYN).
    blocked = TcpConv(cap, C6, 51001, Host(ROUTER_MAC, "2001:db8:2::25", 60), 25, 0x3C4D0000, 0)
    syn = blocked.seg(True, "S", window=64240, options=SYN_OPTIONS_V6, gap_us=800_000)
    emit_icmp6(cap, R6_GLOBAL, C6, ICMPv6DestUnreach(code=1) / Raw(ip_part(syn)), 300)

    # 1/3 address unreachable (neighbour discovery failed on the last hop; quoting a TCP SYN).
    lost = TcpConv(cap, C6, 51002, Host(ROUTER_MAC, "2001:db8:2::99", 60), 443, 0x3C4E0000, 0)
    syn = lost.seg(True, "S", window=64240, options=SYN_OPTIONS_V6, gap_us=800_000)
    emit_icmp6(cap, R6_GLOBAL, C6, ICMPv6DestUnreach(code=3) / Raw(ip_part(syn)), 3_000_000)

    # 1/4 port unreachable from the target (quoting UDP).
    probe = udp(cap, C6, dns6, 41002, 53, dns_query(0x6102, "www.example.org", 28), 800_000)
    emit_icmp6(cap, dns6, C6, ICMPv6DestUnreach(code=4) / Raw(ip_part(probe)), 20_000)

    # 2/0 Packet Too Big (MTU 1280) in a TCP upload; the quote is cut so the error fits in 1280 bytes.
    conv = TcpConv(cap, C6, 51003, far6, 80, 0x3C4F0000, 0x7D8E0000)
    conv.open()
    upload = upload_request("www.example.net", 1300)
    big = conv.send(True, upload)
    emit_icmp6(cap, R6_GLOBAL, C6, ICMPv6PacketTooBig(mtu=1280) / Raw(ip_part(big[0])[: 1280 - 48]), 300)
    conv.c.seq -= len(upload)
    conv.send(True, upload, mss=1280 - 60, gap_us=400)
    conv.send(False, UPLOAD_RESPONSE)
    conv.close()

    # 3/0 hop limit exceeded in transit (traceroute probe with hop limit 1).
    probe = cap.emit(
        Ether(src=C6.mac, dst=ROUTER_MAC)
        / IPv6(src=C6.ip, dst=far6.ip, hlim=1, fl=0)
        / UDP(sport=43211, dport=33434)
        / Raw(b"@" * 24),
        800_000,
    )
    emit_icmp6(cap, R6_GLOBAL, C6, ICMPv6TimeExceeded(code=0) / Raw(ip_part(probe)), 1_500)


# ---------------------------------------------------------------------------------------------------
# 2. NDP
# ---------------------------------------------------------------------------------------------------


def solicited_node(addr: str) -> str:
    """Solicited-node multicast address ff02::1:ffXX:XXXX of `addr`."""
    low = ipaddress.IPv6Address(addr).packed[-3:]
    return str(ipaddress.IPv6Address(bytes.fromhex("ff0200000000000000000001ff") + low))


def multicast_mac(addr: str) -> str:
    """Ethernet multicast MAC 33:33:xx:xx:xx:xx of an IPv6 multicast address."""
    low = ipaddress.IPv6Address(addr).packed[-4:]
    return "33:33:" + ":".join(f"{b:02x}" for b in low)


def mcast6(addr: str) -> Host:
    """An IPv6 multicast group as a destination host."""
    return Host(multicast_mac(addr), addr, 255)


def build_ndp(area: int) -> Capture:
    """RS, two RAs 200 s apart, NS/NA resolution, DAD (quiet and conflicting), unsolicited NA, Redirect."""
    cap = Capture(ts_s(area))
    all_nodes = mcast6("ff02::1")
    all_routers = mcast6("ff02::2")
    host_b_mac = "00:00:5e:00:53:20"
    host_b_ll = Host(host_b_mac, "fe80::200:5eff:fe00:5320", 255)
    host_b = Host(host_b_mac, "2001:db8:1::20", 255)
    host_a = Host(CLIENT.mac, "2001:db8:1::10", 255)

    def ra() -> Packet:
        return (
            ICMPv6ND_RA(
                chlim=64, M=0, O=1, prf=0, routerlifetime=1800, reachabletime=30000, retranstimer=1000
            )
            / ICMPv6NDOptSrcLLAddr(lladdr=ROUTER_MAC)
            / ICMPv6NDOptMTU(mtu=1500)
            / ICMPv6NDOptPrefixInfo(
                prefixlen=64, L=1, A=1, validlifetime=86400, preferredlifetime=14400, prefix="2001:db8:1::"
            )
            / ICMPv6NDOptRDNSS(lifetime=600, dns=["2001:db8:1::53"])
        )

    # A host boots: DAD for its link-local address (no answer, so it keeps it), then RS, then the RA.
    dad_ll = C6_LL.ip
    emit_icmp6(cap, Host(CLIENT.mac, "::", 255), mcast6(solicited_node(dad_ll)), ICMPv6ND_NS(tgt=dad_ll), 0)
    emit_icmp6(cap, C6_LL, all_routers, ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr=CLIENT.mac), 1_000_000)
    emit_icmp6(cap, R6_LL, all_nodes, ra(), 4_000)

    # DAD for its SLAAC global address: no conflict.
    emit_icmp6(
        cap,
        Host(CLIENT.mac, "::", 255),
        mcast6(solicited_node(host_a.ip)),
        ICMPv6ND_NS(tgt=host_a.ip),
        300_000,
    )

    # Address resolution: NS to the solicited-node group, solicited NA with the target LL option.
    emit_icmp6(
        cap,
        host_a,
        mcast6(solicited_node(host_b.ip)),
        ICMPv6ND_NS(tgt=host_b.ip) / ICMPv6NDOptSrcLLAddr(lladdr=CLIENT.mac),
        1_500_000,
    )
    emit_icmp6(
        cap,
        host_b,
        host_a,
        ICMPv6ND_NA(R=0, S=1, O=1, tgt=host_b.ip) / ICMPv6NDOptDstLLAddr(lladdr=host_b_mac),
        400,
    )

    # A third host probes an address already owned by host B: host B defends it (DAD conflict).
    intruder_mac = "00:00:5e:00:53:30"
    emit_icmp6(
        cap,
        Host(intruder_mac, "::", 255),
        mcast6(solicited_node(host_b.ip)),
        ICMPv6ND_NS(tgt=host_b.ip),
        2_000_000,
    )
    emit_icmp6(
        cap,
        host_b,
        all_nodes,
        ICMPv6ND_NA(R=0, S=0, O=1, tgt=host_b.ip) / ICMPv6NDOptDstLLAddr(lladdr=host_b_mac),
        600,
    )

    # Unsolicited NA: host B announces its link-local address after a NIC change.
    new_mac = "00:00:5e:00:53:21"
    emit_icmp6(
        cap,
        Host(new_mac, host_b_ll.ip, 255),
        all_nodes,
        ICMPv6ND_NA(R=0, S=0, O=1, tgt=host_b_ll.ip) / ICMPv6NDOptDstLLAddr(lladdr=new_mac),
        5_000_000,
    )

    # Redirect: the router tells host A that fe80::2 is a better first hop for 2001:db8:2::1.
    second_router_mac = "00:00:5e:00:53:02"
    offending = bytes(
        IPv6(src=host_a.ip, dst="2001:db8:2::1", hlim=63, fl=0)
        / UDP(sport=45000, dport=53)
        / Raw(dns_query(0x6201, "www.example.org", "AAAA"))
    )
    emit_icmp6(
        cap,
        R6_LL,
        Host(CLIENT.mac, C6_LL.ip),
        ICMPv6ND_Redirect(tgt="fe80::2", dst="2001:db8:2::1")
        / ICMPv6NDOptDstLLAddr(lladdr=second_router_mac)
        / ICMPv6NDOptRedirectedHdr(pkt=offending),
        3_000_000,
    )

    # The periodic RA, 200 s after the first one.
    first_ra_ts = cap.frames[2][0]
    cap.at(first_ra_ts + 200_000_000)
    emit_icmp6(cap, R6_LL, all_nodes, ra(), 0)
    return cap


# ---------------------------------------------------------------------------------------------------
# 3. DNS
# ---------------------------------------------------------------------------------------------------

DNS_TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28, "SRV": 33}
DNS_TYPES |= {"OPT": 41, "HTTPS": 65, "ANY": 255}


@dataclass(frozen=True, slots=True)
class RR:
    """One resource record to encode."""

    name: str
    """Owner name."""
    rtype: str
    """Type mnemonic (key of DNS_TYPES)."""
    data: Any
    """Type-specific RDATA value (see RDATA_WRITERS)."""
    ttl: int = 300
    """Time to live in seconds."""


class DnsWriter:
    """Encodes a DNS message with RFC 1035 name compression."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.offsets: dict[str, int] = {}

    def name(self, name: str, compress: bool = True) -> None:
        """Write a domain name, pointing at an earlier copy of its longest known suffix."""
        labels = [label for label in name.rstrip(".").split(".") if label]
        for i in range(len(labels)):
            suffix = ".".join(labels[i:]).lower()
            if compress and suffix in self.offsets:
                self.buf += struct.pack("!H", 0xC000 | self.offsets[suffix])
                return
            if len(self.buf) < 0x3FFF:
                self.offsets.setdefault(suffix, len(self.buf))
            raw = labels[i].encode()
            self.buf += bytes([len(raw)]) + raw
        self.buf.append(0)


def _w_addr(w: DnsWriter, value: str) -> None:
    w.buf += ipaddress.ip_address(value).packed


def _w_name(w: DnsWriter, value: str) -> None:
    w.name(value)


def _w_mx(w: DnsWriter, value: tuple[int, str]) -> None:
    w.buf += struct.pack("!H", value[0])
    w.name(value[1])


def _w_soa(w: DnsWriter, value: tuple[str, str, int, int, int, int, int]) -> None:
    w.name(value[0])
    w.name(value[1])
    w.buf += struct.pack("!IIIII", *value[2:])


def _w_txt(w: DnsWriter, value: Sequence[str]) -> None:
    for text in value:
        raw = text.encode()
        w.buf += bytes([len(raw)]) + raw


def _w_srv(w: DnsWriter, value: tuple[int, int, int, str]) -> None:
    w.buf += struct.pack("!HHH", *value[:3])
    w.name(value[3], compress=False)  # RFC 2782: the target is never compressed


def _w_svcb(w: DnsWriter, value: tuple[int, str, bytes]) -> None:
    w.buf += struct.pack("!H", value[0])
    w.name(value[1], compress=False)  # RFC 9460: no compression in SVCB/HTTPS
    w.buf += value[2]


RDATA_WRITERS: dict[str, Callable[[DnsWriter, Any], None]] = {
    "A": _w_addr,
    "AAAA": _w_addr,
    "NS": _w_name,
    "CNAME": _w_name,
    "PTR": _w_name,
    "MX": _w_mx,
    "SOA": _w_soa,
    "TXT": _w_txt,
    "SRV": _w_srv,
    "HTTPS": _w_svcb,
}


def dns_flags(
    *, qr: bool, aa: bool = False, tc: bool = False, rd: bool = True, ra: bool = False, rcode: int = 0
) -> int:
    """DNS header flags word (opcode QUERY)."""
    return (qr << 15) | (aa << 10) | (tc << 9) | (rd << 8) | (ra << 7) | rcode


def dns_message(
    ident: int,
    flags: int,
    questions: Sequence[tuple[str, str]],
    answers: Sequence[RR] = (),
    authority: Sequence[RR] = (),
    additional: Sequence[RR] = (),
    edns_size: int = 0,
    qclass: int = 1,
) -> bytes:
    """Encode a whole DNS message; `edns_size` > 0 appends an OPT record."""
    w = DnsWriter()
    extra = 1 if edns_size else 0
    w.buf += struct.pack(
        "!HHHHHH", ident, flags, len(questions), len(answers), len(authority), len(additional) + extra
    )
    for qname, qtype in questions:
        w.name(qname)
        w.buf += struct.pack("!HH", DNS_TYPES[qtype], qclass)
    for rr in (*answers, *authority, *additional):
        w.name(rr.name)
        w.buf += struct.pack("!HHIH", DNS_TYPES[rr.rtype], 1, rr.ttl, 0)
        start = len(w.buf)
        RDATA_WRITERS[rr.rtype](w, rr.data)
        struct.pack_into("!H", w.buf, start - 2, len(w.buf) - start)
    if edns_size:
        w.buf += b"\0" + struct.pack("!HHIH", 41, edns_size, 0, 0)
    return bytes(w.buf)


def dns_query(ident: int, name: str, qtype: int | str, *, rd: bool = True, edns_size: int = 0) -> bytes:
    """A one-question query."""
    tname = qtype if isinstance(qtype, str) else {v: k for k, v in DNS_TYPES.items()}[qtype]
    return dns_message(ident, dns_flags(qr=False, rd=rd), [(name, tname)], edns_size=edns_size)


def svc_params() -> bytes:
    """HTTPS RR SvcParams: alpn=h2,h3; ipv4hint; ipv6hint (keys ascending)."""
    alpn = b"\x02h2\x02h3"
    v4 = ipaddress.IPv4Address("203.0.113.10").packed
    v6 = ipaddress.IPv6Address("2001:db8::10").packed
    return (
        struct.pack("!HH", 1, len(alpn))
        + alpn
        + struct.pack("!HH", 4, len(v4))
        + v4
        + struct.pack("!HH", 6, 16)
        + v6
    )


SOA_EXAMPLE_COM = ("ns1.example.com", "hostmaster.example.com", 2024030101, 7200, 3600, 1209600, 300)


def build_dns(area: int) -> Capture:
    """Queries and answers of many types over UDP, TCP/53 framing, rcodes, AA, referral, mDNS, LLMNR."""
    cap = Capture(ts_s(area))
    rd_ra = dns_flags(qr=True, rd=True, ra=True)
    port = iter(range(53001, 53100))

    def exchange(
        ident: int,
        qname: str,
        qtype: str,
        answers: Sequence[RR] = (),
        authority: Sequence[RR] = (),
        additional: Sequence[RR] = (),
        *,
        rcode: int = 0,
        server: Host = LAN_DNS,
        flags: int | None = None,
        rd: bool = True,
    ) -> None:
        sport = next(port)
        udp(cap, CLIENT, server, sport, 53, dns_query(ident, qname, qtype, rd=rd), 700_000)
        reply = dns_message(
            ident,
            (rd_ra | rcode) if flags is None else flags,
            [(qname, qtype)],
            answers,
            authority,
            additional,
        )
        udp(cap, server, CLIENT, 53, sport, reply, 1_800)

    www = "www.example.com"
    exchange(0x1001, www, "A", [RR(www, "A", "203.0.113.10")])
    exchange(0x1002, www, "AAAA", [RR(www, "AAAA", "2001:db8::10")])
    exchange(
        0x1003,
        "example.com",
        "NS",
        [
            RR("example.com", "NS", "ns1.example.com", 86400),
            RR("example.com", "NS", "ns2.example.net", 86400),
        ],
        additional=[RR("ns1.example.com", "A", "198.51.100.53", 86400)],
    )
    exchange(
        0x1004,
        "shop.example.com",
        "A",
        [
            RR("shop.example.com", "CNAME", "shop.cdn.example.net", 3600),
            RR("shop.cdn.example.net", "CNAME", "edge7.cdn.example.net", 60),
            RR("edge7.cdn.example.net", "A", "198.51.100.7", 20),
            RR("edge7.cdn.example.net", "A", "198.51.100.8", 20),
        ],
    )
    exchange(0x1005, "example.com", "SOA", [RR("example.com", "SOA", SOA_EXAMPLE_COM, 3600)])
    exchange(0x1006, "10.113.0.203.in-addr.arpa", "PTR", [RR("10.113.0.203.in-addr.arpa", "PTR", www, 3600)])
    exchange(
        0x1007,
        "example.com",
        "MX",
        [
            RR("example.com", "MX", (10, "mail.example.com")),
            RR("example.com", "MX", (20, "mail2.example.com")),
        ],
        additional=[
            RR("mail.example.com", "A", "203.0.113.25"),
            RR("mail2.example.com", "A", "198.51.100.25"),
        ],
    )
    exchange(
        0x1008,
        "example.com",
        "TXT",
        [
            RR("example.com", "TXT", ["v=spf1 ip4:203.0.113.0/24 -all"]),
            RR("example.com", "TXT", ["part one of a long record; ", "part two"]),
        ],
    )
    exchange(
        0x1009,
        "_sip._tcp.example.com",
        "SRV",
        [RR("_sip._tcp.example.com", "SRV", (10, 60, 5060, "sip.example.com"))],
        additional=[RR("sip.example.com", "A", "203.0.113.60")],
    )
    exchange(0x100A, www, "HTTPS", [RR(www, "HTTPS", (1, ".", svc_params()))])
    exchange(
        0x100B,
        "example.org",
        "ANY",
        [
            RR("example.org", "A", "198.51.100.80"),
            RR("example.org", "AAAA", "2001:db8:80::80"),
            RR("example.org", "MX", (0, "example.org")),
            RR("example.org", "NS", "ns.example.org"),
            RR("example.org", "TXT", ["hello from example.org"]),
        ],
    )
    nx_soa = RR("example.com", "SOA", SOA_EXAMPLE_COM, 300)
    exchange(0x100C, "nosuch.example.com", "A", authority=[nx_soa], rcode=3)
    exchange(0x100D, "broken.example.net", "A", rcode=2)
    exchange(0x100E, "example.org", "A", server=LAN_DNS2, flags=dns_flags(qr=True, rd=True, rcode=5))

    # A query nobody ever answers.
    udp(
        cap,
        CLIENT,
        remote("198.51.100.54"),
        next(port),
        53,
        dns_query(0x100F, "lost.example.test", "A"),
        700_000,
    )

    # A retransmitted query: same id and port one second later, then one answer.
    sport = next(port)
    query = dns_query(0x1010, "slow.example.net", "A")
    udp(cap, CLIENT, LAN_DNS, sport, 53, query, 900_000)
    udp(cap, CLIENT, LAN_DNS, sport, 53, query, 1_000_000)
    answer = dns_message(
        0x1010, rd_ra, [("slow.example.net", "A")], [RR("slow.example.net", "A", "198.51.100.99")]
    )
    udp(cap, LAN_DNS, CLIENT, 53, sport, answer, 40_000)

    # Iterative resolution: a referral (NS in authority + glue), then an authoritative answer (AA).
    tld = remote("198.51.100.1")
    auth = remote("203.0.113.53")
    exchange(
        0x2001,
        "www.example.test",
        "A",
        authority=[
            RR("example.test", "NS", "ns1.example.test", 172800),
            RR("example.test", "NS", "ns2.example.test", 172800),
        ],
        additional=[
            RR("ns1.example.test", "A", "203.0.113.53", 172800),
            RR("ns2.example.test", "AAAA", "2001:db8:53::53", 172800),
        ],
        server=tld,
        flags=dns_flags(qr=True, rd=False),
        rd=False,
    )
    exchange(
        0x2002,
        "www.example.test",
        "A",
        [RR("www.example.test", "A", "203.0.113.80", 600)],
        authority=[RR("example.test", "NS", "ns1.example.test", 172800)],
        server=auth,
        flags=dns_flags(qr=True, aa=True, rd=False),
        rd=False,
    )

    # DNS over IPv6 transport.
    dns6 = Host(LAN_DNS.mac, "2001:db8:1::53")
    udp(cap, C6, dns6, 53100, 53, dns_query(0x2003, "www.example.net", "AAAA"), 600_000)
    reply = dns_message(
        0x2003, rd_ra, [("www.example.net", "AAAA")], [RR("www.example.net", "AAAA", "2001:db8:2::80")]
    )
    udp(cap, dns6, C6, 53, 53100, reply, 1_500)

    # DNS over TCP: a large answer split over two segments, then two queries in one segment and
    # two answers in one segment (RFC 7766 pipelining).
    def framed(msg: bytes) -> bytes:
        return struct.pack("!H", len(msg)) + msg

    conv = TcpConv(cap, CLIENT, 53200, LAN_DNS, 53, 0x44550000, 0x66770000)
    cap.now_us += 500_000
    conv.open()
    conv.send(True, framed(dns_query(0x3001, "example.com", "TXT")))
    txt = [RR("example.com", "TXT", [f"record {i:02d}: " + "x" * 80]) for i in range(8)]
    big = framed(dns_message(0x3001, rd_ra, [("example.com", "TXT")], txt))
    conv.send(False, big, cuts=[301])
    conv.seg(True, "A")
    two_queries = framed(dns_query(0x3002, "example.net", "A")) + framed(
        dns_query(0x3003, "example.net", "AAAA")
    )
    conv.send(True, two_queries, gap_us=2_000)
    two_answers = framed(
        dns_message(0x3002, rd_ra, [("example.net", "A")], [RR("example.net", "A", "198.51.100.80")])
    ) + framed(
        dns_message(0x3003, rd_ra, [("example.net", "AAAA")], [RR("example.net", "AAAA", "2001:db8:2::80")])
    )
    conv.send(False, two_answers)
    conv.close()

    # mDNS (one-shot query to 224.0.0.251:5353) and LLMNR (224.0.0.252:5355).
    mdns = Host("01:00:5e:00:00:fb", "224.0.0.251")
    udp(cap, CLIENT, mdns, 5353, 5353, dns_message(0, 0, [("_ipp._tcp.local", "PTR")]), 1_000_000, ttl=255)
    llmnr = Host("01:00:5e:00:00:fc", "224.0.0.252")
    udp(cap, CLIENT, llmnr, 53300, 5355, dns_message(0x4001, 0, [("fileserver", "A")]), 500_000, ttl=1)
    return cap


# ---------------------------------------------------------------------------------------------------
# 4. DHCP
# ---------------------------------------------------------------------------------------------------

DHCP_MSG = {
    "DISCOVER": 1,
    "OFFER": 2,
    "REQUEST": 3,
    "DECLINE": 4,
    "ACK": 5,
    "NAK": 6,
    "RELEASE": 7,
    "INFORM": 8,
}
DHCP_PARAM_LIST = bytes([1, 3, 6, 15, 28, 42, 51, 54, 58, 59, 119])


def dhcp_opt(code: int, value: bytes) -> bytes:
    """One DHCP option TLV."""
    return bytes([code, len(value)]) + value


def ip4(addr: str) -> bytes:
    """Packed IPv4 address."""
    return ipaddress.IPv4Address(addr).packed


def mac_bytes(mac: str) -> bytes:
    """Packed MAC address."""
    return bytes.fromhex(mac.replace(":", ""))


@dataclass(frozen=True, slots=True)
class DhcpClient:
    """A DHCP client's fixed identity."""

    mac: str
    """Hardware address (chaddr)."""
    hostname: str
    """Option 12 value."""
    vendor: str
    """Option 60 value."""


def bootp(
    msg: str,
    xid: int,
    client: DhcpClient,
    options: Sequence[bytes],
    *,
    ciaddr: str = "0.0.0.0",
    yiaddr: str = "0.0.0.0",
    siaddr: str = "0.0.0.0",
    broadcast: bool = False,
    secs: int = 0,
) -> bytes:
    """A BOOTP/DHCP message; the message type option comes first, end + zero padding last."""
    op = 1 if msg in ("DISCOVER", "REQUEST", "DECLINE", "RELEASE", "INFORM") else 2
    head = struct.pack(
        "!BBBBIHH4s4s4s4s16s64s128s",
        op,
        1,
        6,
        0,
        xid,
        secs,
        0x8000 if broadcast else 0,
        ip4(ciaddr),
        ip4(yiaddr),
        ip4(siaddr),
        ip4("0.0.0.0"),
        mac_bytes(client.mac),
        b"",
        b"",
    )
    body = head + b"\x63\x82\x53\x63" + dhcp_opt(53, bytes([DHCP_MSG[msg]])) + b"".join(options) + b"\xff"
    return body.ljust(BOOTP_MIN_LEN, b"\0")


def client_opts(client: DhcpClient, *extra: bytes) -> list[bytes]:
    """Options a client sends: client id (61), extras, hostname (12), vendor class (60), param list (55)."""
    return [
        dhcp_opt(61, b"\x01" + mac_bytes(client.mac)),
        *extra,
        dhcp_opt(12, client.hostname.encode()),
        dhcp_opt(60, client.vendor.encode()),
        dhcp_opt(55, DHCP_PARAM_LIST),
    ]


def server_opts(server: Host, lease: int | None) -> list[bytes]:
    """Options a server sends: server id, lease/T1/T2 (when leasing), mask, router, DNS, domain."""
    opts = [dhcp_opt(54, ip4(server.ip))]
    if lease is not None:
        opts += [
            dhcp_opt(51, struct.pack("!I", lease)),
            dhcp_opt(58, struct.pack("!I", lease // 2)),
            dhcp_opt(59, struct.pack("!I", lease * 7 // 8)),
        ]
    return [
        *opts,
        dhcp_opt(1, ip4("255.255.255.0")),
        dhcp_opt(3, ip4("192.0.2.1")),
        dhcp_opt(6, ip4("192.0.2.53") + ip4("192.0.2.54")),
        dhcp_opt(15, b"example.test"),
    ]


def build_dhcp(area: int) -> Capture:
    """DORA + renewal + release; competing offers, NAK, a 60 s lease that expires; INFORM; DECLINE."""
    cap = Capture(ts_s(area))
    srv1 = ROUTER
    srv2 = Host("00:00:5e:00:53:67", "192.0.2.3")
    a = DhcpClient("00:00:5e:00:53:a1", "laptop-a", "MSFT 5.0")
    b = DhcpClient("00:00:5e:00:53:b2", "phone-b", "android-dhcp-14")
    c = DhcpClient("00:00:5e:00:53:c3", "printer-c", "HP LaserJet")
    d = DhcpClient("00:00:5e:00:53:d4", "camera-d", "udhcp 1.36.1")

    def from_client(
        client: DhcpClient, payload: bytes, gap_us: int, src: str = "0.0.0.0", dst: Host = BCAST
    ) -> None:
        udp(cap, Host(client.mac, src), dst, 68, 67, payload, gap_us)

    def from_server(
        server: Host, client: DhcpClient, payload: bytes, gap_us: int, dst: str = "255.255.255.255"
    ) -> None:
        mac = "ff:ff:ff:ff:ff:ff" if dst == "255.255.255.255" else client.mac
        udp(cap, server, Host(mac, dst), 67, 68, payload, gap_us)

    # Client A: full DORA with lease 3600 s (T1 1800, T2 3150).
    a_ip = "192.0.2.101"
    xid = 0xA1A10001
    from_client(a, bootp("DISCOVER", xid, a, client_opts(a), broadcast=True), 0)
    from_server(srv1, a, bootp("OFFER", xid, a, server_opts(srv1, 3600), yiaddr=a_ip, broadcast=True), 3_000)
    req = client_opts(a, dhcp_opt(50, ip4(a_ip)), dhcp_opt(54, ip4(srv1.ip)))
    from_client(a, bootp("REQUEST", xid, a, req, broadcast=True, secs=1), 1_000_000)
    from_server(srv1, a, bootp("ACK", xid, a, server_opts(srv1, 3600), yiaddr=a_ip, broadcast=True), 2_500)
    start_a = cap.now_us

    # Client B: two competing OFFERs, REQUEST naming server 2, NAK; then DORA with a 60 s lease.
    b_ip1, b_ip2 = "192.0.2.150", "192.0.2.102"
    xid = 0xB2B20001
    cap.now_us += 10_000_000
    from_client(b, bootp("DISCOVER", xid, b, client_opts(b), broadcast=True), 0)
    from_server(srv1, b, bootp("OFFER", xid, b, server_opts(srv1, 60), yiaddr=b_ip2, broadcast=True), 2_000)
    from_server(srv2, b, bootp("OFFER", xid, b, server_opts(srv2, 7200), yiaddr=b_ip1, broadcast=True), 1_500)
    req = client_opts(b, dhcp_opt(50, ip4(b_ip1)), dhcp_opt(54, ip4(srv2.ip)))
    from_client(b, bootp("REQUEST", xid, b, req, broadcast=True, secs=1), 1_000_000)
    nak = bootp(
        "NAK", xid, b, [dhcp_opt(54, ip4(srv2.ip)), dhcp_opt(56, b"address pool exhausted")], broadcast=True
    )
    from_server(srv2, b, nak, 2_000)
    xid = 0xB2B20002
    from_client(b, bootp("DISCOVER", xid, b, client_opts(b), broadcast=True), 3_000_000)
    from_server(srv1, b, bootp("OFFER", xid, b, server_opts(srv1, 60), yiaddr=b_ip2, broadcast=True), 2_000)
    req = client_opts(b, dhcp_opt(50, ip4(b_ip2)), dhcp_opt(54, ip4(srv1.ip)))
    from_client(b, bootp("REQUEST", xid, b, req, broadcast=True, secs=4), 1_000_000)
    from_server(srv1, b, bootp("ACK", xid, b, server_opts(srv1, 60), yiaddr=b_ip2, broadcast=True), 2_000)
    b_lease_start = cap.now_us

    # Client C: already configured, asks for other parameters only (INFORM/ACK, no lease time).
    c_ip = "192.0.2.30"
    xid = 0xC3C30001
    inform = bootp("INFORM", xid, c, client_opts(c), ciaddr=c_ip)
    from_client(c, inform, 5_000_000, src=c_ip, dst=srv1)
    from_server(srv1, c, bootp("ACK", xid, c, server_opts(srv1, None), ciaddr=c_ip), 1_500, dst=c_ip)

    # Client D: ACKed, then its ARP probe finds the address in use, so it DECLINEs.
    d_ip = "192.0.2.103"
    xid = 0xD4D40001
    from_client(d, bootp("DISCOVER", xid, d, client_opts(d), broadcast=True), 3_000_000)
    from_server(srv1, d, bootp("OFFER", xid, d, server_opts(srv1, 3600), yiaddr=d_ip, broadcast=True), 2_000)
    req = client_opts(d, dhcp_opt(50, ip4(d_ip)), dhcp_opt(54, ip4(srv1.ip)))
    from_client(d, bootp("REQUEST", xid, d, req, broadcast=True), 1_000_000)
    from_server(srv1, d, bootp("ACK", xid, d, server_opts(srv1, 3600), yiaddr=d_ip, broadcast=True), 2_000)
    squatter = "00:00:5e:00:53:ee"
    probe = ARP(op=1, hwsrc=d.mac, psrc="0.0.0.0", hwdst="00:00:00:00:00:00", pdst=d_ip)
    cap.emit(Ether(src=d.mac, dst="ff:ff:ff:ff:ff:ff") / probe, 200_000)
    reply = ARP(op=2, hwsrc=squatter, psrc=d_ip, hwdst=d.mac, pdst="0.0.0.0")
    cap.emit(Ether(src=squatter, dst=d.mac) / reply, 900)
    decline = bootp(
        "DECLINE",
        xid,
        d,
        [dhcp_opt(61, b"\x01" + mac_bytes(d.mac)), dhcp_opt(50, ip4(d_ip)), dhcp_opt(54, ip4(srv1.ip))],
    )
    from_client(d, decline, 1_000_000)

    # After client B's 60 s lease ran out: unrelated traffic keeps the capture going.
    cap.at(b_lease_start + 95_000_000)
    who_has = ARP(op=1, hwsrc=ROUTER_MAC, psrc=ROUTER.ip, hwdst="00:00:00:00:00:00", pdst=b_ip2)
    cap.emit(Ether(src=ROUTER_MAC, dst="ff:ff:ff:ff:ff:ff") / who_has, 0)
    a_host = Host(a.mac, a_ip)
    udp(cap, a_host, LAN_DNS, 54001, 53, dns_query(0x7001, "time.example.org", "A"), 2_000_000)
    answer = dns_message(
        0x7001,
        dns_flags(qr=True, ra=True),
        [("time.example.org", "A")],
        [RR("time.example.org", "A", "198.51.100.123")],
    )
    udp(cap, LAN_DNS, a_host, 53, 54001, answer, 1_500)

    # Client A renews at T1 (unicast REQUEST with ciaddr, no server id), then releases.
    xid = 0xA1A10002
    cap.at(start_a + 1800_000_000)
    from_client(a, bootp("REQUEST", xid, a, client_opts(a), ciaddr=a_ip), 0, src=a_ip, dst=srv1)
    from_server(
        srv1, a, bootp("ACK", xid, a, server_opts(srv1, 3600), ciaddr=a_ip, yiaddr=a_ip), 1_800, dst=a_ip
    )
    xid = 0xA1A10003
    release = bootp(
        "RELEASE", xid, a, [dhcp_opt(54, ip4(srv1.ip)), dhcp_opt(61, b"\x01" + mac_bytes(a.mac))], ciaddr=a_ip
    )
    from_client(a, release, 300_000_000, src=a_ip, dst=srv1)
    return cap


# ---------------------------------------------------------------------------------------------------
# 5. TLS
# ---------------------------------------------------------------------------------------------------

CERT_NOT_BEFORE = datetime(2024, 1, 1, tzinfo=UTC)
CERT_NOT_AFTER = datetime(2025, 1, 1, tzinfo=UTC)


def ed25519_key(label: str) -> Ed25519PrivateKey:
    """Ed25519 key from a fixed seed."""
    return Ed25519PrivateKey.from_private_bytes(seed32(label))


def x25519_public(label: str) -> bytes:
    """X25519 public key from a fixed seed (a realistic key share)."""
    return (
        X25519PrivateKey.from_private_bytes(seed32(label))
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )


def make_cert(
    cn: str, key: Ed25519PrivateKey, issuer_cn: str, issuer_key: Ed25519PrivateKey, serial: int, *, ca: bool
) -> bytes:
    """DER X.509 v3 certificate, Ed25519-signed, valid 2024-01-01..2025-01-01."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )
    issuer = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example"),
            x509.NameAttribute(NameOID.COMMON_NAME, issuer_cn),
        ]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(CERT_NOT_BEFORE)
        .not_valid_after(CERT_NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
    return builder.sign(issuer_key, None).public_bytes(Encoding.DER)


def u8(data: bytes) -> bytes:
    """1-byte length prefix."""
    return bytes([len(data)]) + data


def u16(data: bytes) -> bytes:
    """2-byte length prefix."""
    return struct.pack("!H", len(data)) + data


def u24(data: bytes) -> bytes:
    """3-byte length prefix."""
    return len(data).to_bytes(3, "big") + data


def h16(values: Sequence[int]) -> bytes:
    """A list of 16-bit values."""
    return b"".join(struct.pack("!H", v) for v in values)


def tls_record(ctype: int, body: bytes, version: int = 0x0303) -> bytes:
    """One TLS record."""
    return struct.pack("!BHH", ctype, version, len(body)) + body


def hs(msg_type: int, body: bytes) -> bytes:
    """One handshake message."""
    return bytes([msg_type]) + u24(body)


def ext(etype: int, data: bytes) -> bytes:
    """One hello extension."""
    return struct.pack("!H", etype) + u16(data)


def ext_sni(name: str) -> bytes:
    """server_name (0)."""
    return ext(0, u16(b"\x00" + u16(name.encode())))


def ext_alpn(protocols: Sequence[str]) -> bytes:
    """application_layer_protocol_negotiation (16)."""
    return ext(16, u16(b"".join(u8(p.encode()) for p in protocols)))


TLS12_CIPHERS = [
    0x0A0A,
    0xC02B,
    0xC02F,
    0xC02C,
    0xC030,
    0xCCA9,
    0xCCA8,
    0xC013,
    0xC014,
    0x009C,
    0x009D,
    0x002F,
    0x0035,
]
TLS13_CIPHERS = [0x1A1A, 0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xCCA9]
GROUPS = [0x2A2A, 0x001D, 0x0017, 0x0018]
SIG_ALGS = [0x0807, 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]


def client_hello(label: str, sni: str, *, tls13: bool, alpn: Sequence[str] = ("h2", "http/1.1")) -> bytes:
    """A browser-like ClientHello record with GREASE, SNI, ALPN, groups, sigalgs, point formats."""
    exts = [
        ext(0x0A0A, b""),  # GREASE
        ext_sni(sni),
        ext(23, b""),  # extended_master_secret
        ext(0xFF01, b"\x00"),  # renegotiation_info
        ext(10, u16(h16(GROUPS))),
        ext(11, u8(b"\x00")),
        ext(35, b""),  # session_ticket
        ext_alpn(alpn),
        ext(5, b"\x01\x00\x00\x00\x00"),  # status_request
        ext(13, u16(h16(SIG_ALGS))),
    ]
    if tls13:
        share = h16([0x001D]) + u16(x25519_public(label + "/client-share"))
        exts += [
            ext(51, u16(h16([0x2A2A]) + u16(b"\x00") + share)),
            ext(45, u8(b"\x01")),  # psk_key_exchange_modes: psk_dhe_ke
            ext(43, u8(h16([0x3A3A, 0x0304, 0x0303]))),
        ]
    exts.append(ext(0x1A1A, b"\x00"))  # trailing GREASE
    body = (
        struct.pack("!H", 0x0303)
        + blob(label + "/client-random", 32)
        + u8(blob(label + "/session-id", 32) if tls13 else b"")
        + u16(h16(TLS13_CIPHERS if tls13 else TLS12_CIPHERS))
        + u8(b"\x00")
        + u16(b"".join(exts))
    )
    return tls_record(22, hs(1, body), version=0x0301)


def server_hello(label: str, cipher: int, exts: Sequence[bytes], session_id: bytes = b"") -> bytes:
    """ServerHello handshake message."""
    body = (
        struct.pack("!H", 0x0303)
        + blob(label + "/server-random", 32)
        + u8(session_id)
        + struct.pack("!HB", cipher, 0)
        + u16(b"".join(exts))
    )
    return hs(2, body)


def tls13_server_hello(label: str) -> bytes:
    """TLS 1.3 ServerHello record: supported_versions 0x0304, x25519 key share, echoed session id."""
    exts = [ext(43, h16([0x0304])), ext(51, h16([0x001D]) + u16(x25519_public(label + "/server-share")))]
    return tls_record(22, server_hello(label, 0x1301, exts, blob(label + "/session-id", 32)))


def tls12_server_flight(
    label: str, chain: Sequence[bytes], key: Ed25519PrivateKey, alpn: str | None
) -> bytes:
    """ServerHello, Certificate, ServerKeyExchange (ECDHE x25519, Ed25519-signed), ServerHelloDone."""
    exts = [ext(0xFF01, b"\x00"), ext(11, u8(b"\x00")), ext(23, b"")]
    if alpn:
        exts.append(ext_alpn([alpn]))
    hello = server_hello(label, 0xC02B, exts)
    certificate = hs(11, u24(b"".join(u24(der) for der in chain)))
    params = b"\x03" + h16([0x001D]) + u8(x25519_public(label + "/server-share"))
    signed = blob(label + "/client-random", 32) + blob(label + "/server-random", 32) + params
    ske = hs(12, params + h16([0x0807]) + u16(key.sign(signed)))
    return tls_record(22, hello + certificate + ske + hs(14, b""))


def tls12_client_finish(label: str) -> bytes:
    """ClientKeyExchange, ChangeCipherSpec, encrypted Finished (AES-GCM sized)."""
    cke = tls_record(22, hs(16, u8(x25519_public(label + "/client-share"))))
    return cke + tls_record(20, b"\x01") + tls_record(22, blob(label + "/client-finished", 40))


def app_data(label: str, n: int) -> bytes:
    """An encrypted application_data record of `n` ciphertext bytes."""
    return tls_record(23, blob(label, n))


def build_tls(area: int) -> Capture:
    """TLS 1.2 (split ClientHello, CA-issued cert), TLS 1.3, TLS on 8443 (self-signed), fatal alert."""
    cap = Capture(ts_s(area))
    ca_key = ed25519_key("ca")
    www_key = ed25519_key("www.example.com")
    dev_key = ed25519_key("dev.example.org")
    ca_cert = make_cert("Example Test CA", ca_key, "Example Test CA", ca_key, 0x1001, ca=True)
    www_cert = make_cert("www.example.com", www_key, "Example Test CA", ca_key, 0x2001, ca=False)
    dev_cert = make_cert("dev.example.org", dev_key, "dev.example.org", dev_key, 0x3001, ca=False)

    # TLS 1.2 to www.example.com:443; the ClientHello and the server flight are split mid-record.
    label = "tls12-www"
    conv = TcpConv(cap, CLIENT, 51500, remote("203.0.113.10"), 443, 0x10000001, 0x20000001)
    conv.open()
    hello = client_hello(label, "www.example.com", tls13=False)
    conv.send(True, hello, cuts=[100])
    flight = tls12_server_flight(label, [www_cert, ca_cert], www_key, "h2")
    conv.send(False, flight, cuts=[3, 250, len(flight) - 20])
    conv.send(True, tls12_client_finish(label))
    conv.send(False, tls_record(20, b"\x01") + tls_record(22, blob(label + "/server-finished", 40)))
    conv.send(True, app_data(label + "/req", 180))
    conv.send(
        False, app_data(label + "/resp1", 600) + app_data(label + "/resp2", 200), cuts=[500], gap_us=40_000
    )
    conv.seg(True, "A")
    conv.send(True, tls_record(21, blob(label + "/close-notify", 26)), gap_us=2_000_000)
    conv.close()

    # TLS 1.3 to api.example.net:443 (supported_versions, key_share; encrypted flight as app data).
    label = "tls13-api"
    conv = TcpConv(cap, CLIENT, 51501, remote("198.51.100.20"), 443, 0x10000002, 0x20000002)
    cap.now_us += 1_000_000
    conv.open()
    conv.send(True, client_hello(label, "api.example.net", tls13=True))
    sh = tls13_server_hello(label)
    encrypted_flight = (
        app_data(label + "/ee", 32) + app_data(label + "/cert", 330) + app_data(label + "/cv", 96)
    )
    conv.send(
        False, sh + tls_record(20, b"\x01") + encrypted_flight + app_data(label + "/fin", 53), cuts=[140]
    )
    conv.send(
        True, tls_record(20, b"\x01") + app_data(label + "/client-fin", 53) + app_data(label + "/req", 120)
    )
    conv.send(False, app_data(label + "/ticket", 200) + app_data(label + "/resp", 400))
    conv.send(True, app_data(label + "/req2", 95), gap_us=500_000)
    conv.send(False, app_data(label + "/resp2", 310))
    conv.close(client_first=False)

    # TLS 1.2 on the non-standard port 8443 with a self-signed certificate for dev.example.org.
    label = "tls12-dev"
    conv = TcpConv(cap, CLIENT, 51502, LAN_NAS, 8443, 0x10000003, 0x20000003)
    cap.now_us += 1_000_000
    conv.open()
    conv.send(True, client_hello(label, "dev.example.org", tls13=False, alpn=["http/1.1"]))
    conv.send(False, tls12_server_flight(label, [dev_cert], dev_key, "http/1.1"), cuts=[77])
    conv.send(True, tls12_client_finish(label))
    conv.send(False, tls_record(20, b"\x01") + tls_record(22, blob(label + "/server-finished", 40)))
    conv.send(True, app_data(label + "/req", 210))
    conv.send(False, app_data(label + "/resp", 320))
    conv.close()

    # A handshake refused with a clear-text fatal alert (handshake_failure); the client then resets.
    label = "tls-alert"
    conv = TcpConv(cap, CLIENT, 51503, remote("203.0.113.30"), 443, 0x10000004, 0x20000004)
    cap.now_us += 1_000_000
    conv.open()
    conv.send(True, client_hello(label, "legacy.example.com", tls13=True))
    conv.send(False, tls_record(21, b"\x02\x28"))
    conv.seg(False, "FA")
    conv.reset(True)
    return cap


# ---------------------------------------------------------------------------------------------------
# 6. HTTP
# ---------------------------------------------------------------------------------------------------


def http_response(
    status: str, headers: Sequence[tuple[str, str]], body: bytes = b"", *, length: bool = True
) -> bytes:
    """An HTTP/1.1 response with a Content-Length header (unless `length` is False)."""
    lines = [f"HTTP/1.1 {status}", "Date: Fri, 01 Mar 2024 15:00:00 GMT", "Server: example-httpd/2.4"]
    lines += [f"{k}: {v}" for k, v in headers]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def http_request(
    method: str, target: str, host: str, headers: Sequence[tuple[str, str]] = (), body: bytes = b""
) -> bytes:
    """An HTTP/1.1 request."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", "User-Agent: sample-client/1.0", "Accept: */*"]
    lines += [f"{k}: {v}" for k, v in headers]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def html_page(title: str, paragraphs: int) -> bytes:
    """A small deterministic HTML document."""
    paras = "".join(
        f"<p>Paragraph {i} of {title}: lorem ipsum dolor sit amet.</p>\n" for i in range(paragraphs)
    )
    head = f"<!doctype html>\n<html><head><title>{title}</title></head>\n"
    return f"{head}<body>\n{paras}</body></html>\n".encode()


def build_http(area: int) -> Capture:
    """GET/POST/PUT/HEAD/DELETE/OPTIONS, chunked, pipelining, split headers, port 8080 (IPv6), REJ."""
    cap = Capture(ts_s(area))
    web = remote("203.0.113.10")
    host = "www.example.com"

    # One keep-alive connection with six methods.
    conv = TcpConv(cap, CLIENT, 52000, web, 80, 0x30000001, 0x40000001)
    conv.open()
    conv.send(True, http_request("GET", "/index.html", host, [("Accept-Encoding", "identity")]))
    page = html_page("Example Domain", 12)
    resp = http_response("200 OK", [("Content-Type", "text/html; charset=utf-8")], page)
    conv.send(False, resp, cuts=[len(resp) - len(page) - 7], gap_us=30_000)
    conv.seg(True, "A")
    body = b'{"name": "widget", "colour": "blue", "size": 7}'
    post = http_request("POST", "/api/items", host, [("Content-Type", "application/json")], body)
    conv.send(True, post, cuts=[len(post) - 10], gap_us=1_000_000)
    created = http_response(
        "201 Created", [("Location", "/api/items/7"), ("Content-Type", "application/json")], b'{"id": 7}'
    )
    conv.send(False, created)
    put = http_request("PUT", "/api/items/7", host, [("Content-Type", "application/json")], b'{"size": 8}')
    conv.send(True, put, gap_us=800_000)
    conv.send(False, http_response("204 No Content", [], length=False))
    conv.send(True, http_request("HEAD", "/index.html", host), gap_us=800_000)
    head = http_response(
        "200 OK",
        [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(page)))],
        length=False,
    )
    conv.send(False, head)
    conv.send(True, http_request("DELETE", "/api/items/99", host), gap_us=800_000)
    conv.send(False, http_response("404 Not Found", [("Content-Type", "text/plain")], b"no such item\n"))
    conv.send(True, http_request("OPTIONS", "*", host), gap_us=800_000)
    conv.send(False, http_response("200 OK", [("Allow", "GET, HEAD, POST, PUT, DELETE, OPTIONS")]))
    conv.close()

    # Chunked transfer coding; segments cut inside a chunk-size line and inside chunk data.
    conv = TcpConv(cap, CLIENT, 52001, web, 80, 0x30000002, 0x40000002)
    cap.now_us += 1_000_000
    conv.open()
    conv.send(True, http_request("GET", "/feed", host))
    chunks = [b'{"event": 1, "text": "first"}\n', b'{"event": 2, "text": "second one"}\n' * 3, b"[done]\n"]
    chunked = b"".join(f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in chunks) + b"0\r\n\r\n"
    head = http_response(
        "200 OK", [("Content-Type", "application/x-ndjson"), ("Transfer-Encoding", "chunked")], length=False
    )
    resp = head + chunked
    conv.send(False, resp, cuts=[len(head) + 1, len(head) + 50, len(resp) - 3], gap_us=25_000)
    conv.close()

    # Two pipelined requests in one segment; the two responses arrive in one segment too.
    conv = TcpConv(cap, CLIENT, 52002, web, 80, 0x30000003, 0x40000003)
    cap.now_us += 1_000_000
    conv.open()
    conv.send(True, http_request("GET", "/style.css", host) + http_request("GET", "/app.js", host))
    css = b"body { font-family: sans-serif; }\n"
    js = b"console.log('hello');\n"
    conv.send(
        False,
        http_response("200 OK", [("Content-Type", "text/css")], css)
        + http_response("200 OK", [("Content-Type", "application/javascript")], js),
    )
    conv.close()

    # A request whose header block is split mid-line over three segments.
    conv = TcpConv(cap, CLIENT, 52003, web, 80, 0x30000004, 0x40000004)
    cap.now_us += 1_000_000
    conv.open()
    cookies = "; ".join(f"pref{i}=value{i:03d}" for i in range(12))
    req = http_request(
        "GET",
        "/account/settings?tab=privacy",
        host,
        [("Cookie", cookies), ("Accept-Language", "en-GB,en;q=0.8")],
    )
    conv.send(True, req, cuts=[37, 121])
    conv.send(False, http_response("302 Found", [("Location", "/login")]))
    conv.close()

    # An HTTP server on 8080 over IPv6; the server closes after "Connection: close".
    api6 = Host(ROUTER_MAC, "2001:db8:2::80", 60)
    conv = TcpConv(cap, C6, 52004, api6, 8080, 0x30000005, 0x40000005)
    cap.now_us += 1_000_000
    conv.open()
    conv.send(True, http_request("GET", "/status", "api.example.net:8080", [("Connection", "close")]))
    conv.send(
        False,
        http_response(
            "200 OK", [("Content-Type", "application/json"), ("Connection", "close")], b'{"status": "ok"}'
        ),
    )
    conv.close(client_first=False)

    # REJ: a SYN to a closed port answered by RST/ACK.
    TcpConv(cap, CLIENT, 52005, remote("203.0.113.11"), 80, 0x30000006, 0).reject()
    return cap


# ---------------------------------------------------------------------------------------------------
# 7. Mail: SMTP, POP3, IMAP
# ---------------------------------------------------------------------------------------------------


def crlf(*lines: str) -> bytes:
    """Join lines with CRLF, ending with CRLF."""
    return "".join(line + "\r\n" for line in lines).encode()


class Dialogue:
    """Alternating client/server lines over one TCP conversation."""

    def __init__(self, conv: TcpConv) -> None:
        self.conv = conv

    def c(self, data: bytes, cuts: Sequence[int] = (), gap_us: int = 150_000) -> None:
        """Client sends (after some user/think time)."""
        self.conv.send(True, data, cuts, gap_us=gap_us)

    def s(self, data: bytes, cuts: Sequence[int] = (), gap_us: int = TURN_GAP_US) -> None:
        """Server answers."""
        self.conv.send(False, data, cuts, gap_us=gap_us)


def email_message(subject: str, lines: int) -> bytes:
    """An RFC 5322 message (dot-stuffed where needed) with a few headers and a body."""
    body = [f"Line {i}: the quick brown fox jumps over the lazy dog." for i in range(lines)]
    body.insert(3, "..a line that started with a dot (dot-stuffed)")
    head = [
        "From: Alice <alice@example.com>",
        "To: Bob <bob@example.net>, Carol <carol@example.net>",
        f"Subject: {subject}",
        "Date: Fri, 01 Mar 2024 16:00:00 +0000",
        "Message-ID: <20240301160000.1@example.com>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
    ]
    return crlf(*head, "", *body)


def build_mail(area: int) -> Capture:
    """SMTP (delivery, 451, STARTTLS), POP3 (session, -ERR), IMAP (session, NO/BAD, STARTTLS)."""
    cap = Capture(ts_s(area))
    mx = remote("203.0.113.25")
    mbox = remote("198.51.100.110")

    # SMTP: a full delivery to two recipients.
    d = Dialogue(TcpConv(cap, CLIENT, 53000, mx, 25, 0x50000001, 0x60000001))
    d.conv.open()
    d.s(crlf("220 mail.example.com ESMTP ready"), gap_us=40_000)
    d.c(crlf("EHLO client.example.com"))
    d.s(
        crlf(
            "250-mail.example.com Hello client.example.com [192.0.2.10]",
            "250-SIZE 35882577",
            "250-8BITMIME",
            "250-PIPELINING",
            "250-ENHANCEDSTATUSCODES",
            "250-STARTTLS",
            "250 SMTPUTF8",
        ),
        cuts=[len("250-mail.example.com Hello client.example.com [192.0.2.10]\r\n250-SIZE 35882577\r\n")],
    )
    d.c(crlf("MAIL FROM:<alice@example.com> SIZE=1024"))
    d.s(crlf("250 2.1.0 Ok"))
    d.c(crlf("RCPT TO:<bob@example.net>"))
    d.s(crlf("250 2.1.5 Ok"))
    d.c(crlf("RCPT TO:<carol@example.net>"))
    d.s(crlf("250 2.1.5 Ok"))
    d.c(crlf("DATA"))
    d.s(crlf("354 End data with <CR><LF>.<CR><LF>"))
    msg = email_message("Quarterly report", 8) + b".\r\n"
    d.c(msg, cuts=[200, 701, len(msg) - 3], gap_us=20_000)
    d.s(crlf("250 2.0.0 Ok: queued as 4TmYz21Q3Hz"), gap_us=60_000)
    d.c(crlf("QUIT"))
    d.s(crlf("221 2.0.0 Bye"))
    d.conv.close(client_first=False)

    # SMTP: a transient (greylisting) rejection.
    d = Dialogue(TcpConv(cap, CLIENT, 53001, remote("198.51.100.25"), 25, 0x50000002, 0x60000002))
    cap.now_us += 2_000_000
    d.conv.open()
    d.s(crlf("220 mx.example.net ESMTP"), gap_us=40_000)
    d.c(crlf("EHLO client.example.com"))
    d.s(crlf("250-mx.example.net", "250-PIPELINING", "250 8BITMIME"))
    d.c(crlf("MAIL FROM:<alice@example.com>"))
    d.s(crlf("250 2.1.0 Ok"))
    d.c(crlf("RCPT TO:<dave@example.net>"))
    d.s(crlf("451 4.7.1 <dave@example.net>: Recipient address rejected: Greylisted, try again later"))
    d.c(crlf("QUIT"))
    d.s(crlf("221 2.0.0 Bye"))
    d.conv.close(client_first=False)

    # SMTP STARTTLS: the TLS ClientHello follows in the same TCP stream.
    d = Dialogue(TcpConv(cap, CLIENT, 53002, mx, 25, 0x50000003, 0x60000003))
    cap.now_us += 2_000_000
    d.conv.open()
    d.s(crlf("220 mail.example.com ESMTP ready"), gap_us=40_000)
    d.c(crlf("EHLO client.example.com"))
    d.s(crlf("250-mail.example.com", "250-STARTTLS", "250 AUTH PLAIN LOGIN"))
    d.c(crlf("STARTTLS"))
    d.s(crlf("220 2.0.0 Ready to start TLS"))
    d.c(client_hello("smtp-starttls", "mail.example.com", tls13=True, alpn=["smtp"]), gap_us=2_000)
    label = "smtp-starttls"
    sh = tls13_server_hello(label)
    d.s(sh + tls_record(20, b"\x01") + app_data(label + "/flight", 320))
    d.c(tls_record(20, b"\x01") + app_data(label + "/fin", 53) + app_data(label + "/ehlo", 40), gap_us=2_000)
    d.s(app_data(label + "/ehlo-reply", 120))
    d.conv.close()

    # POP3: a full session.
    d = Dialogue(TcpConv(cap, CLIENT, 53003, mbox, 110, 0x50000004, 0x60000004))
    cap.now_us += 2_000_000
    d.conv.open()
    d.s(crlf("+OK POP3 server ready <1896.697170952@pop.example.net>"), gap_us=30_000)
    d.c(crlf("USER bob"))
    d.s(crlf("+OK"))
    d.c(crlf("PASS hunter2"))
    d.s(crlf("+OK Logged in."))
    d.c(crlf("STAT"))
    d.s(crlf("+OK 2 2650"))
    d.c(crlf("LIST"))
    d.s(crlf("+OK 2 messages:", "1 1200", "2 1450", "."))
    d.c(crlf("RETR 1"))
    message = email_message("Lunch?", 5)
    retr = crlf(f"+OK {len(message)} octets") + message + b".\r\n"
    d.s(retr, cuts=[9, 400, len(retr) - 1])
    d.c(crlf("DELE 1"))
    d.s(crlf("+OK Marked to be deleted."))
    d.c(crlf("QUIT"))
    d.s(crlf("+OK Logging out, messages deleted."))
    d.conv.close(client_first=False)

    # POP3: wrong password.
    d = Dialogue(TcpConv(cap, CLIENT, 53004, mbox, 110, 0x50000005, 0x60000005))
    cap.now_us += 2_000_000
    d.conv.open()
    d.s(crlf("+OK POP3 server ready"), gap_us=30_000)
    d.c(crlf("USER carol"))
    d.s(crlf("+OK"))
    d.c(crlf("PASS wrong-password"))
    d.s(crlf("-ERR [AUTH] Authentication failed."), gap_us=1_000_000)
    d.c(crlf("QUIT"))
    d.s(crlf("+OK Logging out."))
    d.conv.close(client_first=False)

    # IMAP: a full session.
    d = Dialogue(TcpConv(cap, CLIENT, 53005, mbox, 143, 0x50000006, 0x60000006))
    cap.now_us += 2_000_000
    d.conv.open()
    d.s(crlf("* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] imap.example.net ready"), gap_us=30_000)
    d.c(crlf("a1 CAPABILITY"))
    d.s(
        crlf(
            "* CAPABILITY IMAP4rev1 LITERAL+ SASL-IR ID IDLE STARTTLS AUTH=PLAIN",
            "a1 OK Capability completed.",
        )
    )
    d.c(crlf("a2 LOGIN bob hunter2"))
    d.s(crlf("a2 OK [CAPABILITY IMAP4rev1 IDLE MOVE] Logged in"))
    d.c(crlf("a3 SELECT INBOX"))
    d.s(
        crlf(
            r"* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)",
            r"* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.",
            "* 2 EXISTS",
            "* 1 RECENT",
            "* OK [UNSEEN 2] First unseen.",
            "* OK [UIDVALIDITY 1709280000] UIDs valid",
            "* OK [UIDNEXT 3] Predicted next UID",
            "a3 OK [READ-WRITE] Select completed.",
        ),
        cuts=[60],
    )
    d.c(crlf("a4 FETCH 2 (FLAGS BODY[])"))
    message = email_message("Weekend plans", 4)
    fetch = (
        crlf(f"* 2 FETCH (FLAGS (\\Recent) BODY[] {{{len(message)}}}")
        + message
        + crlf(")", "a4 OK Fetch completed.")
    )
    d.s(fetch, cuts=[20, 300, len(fetch) - 10])
    d.c(crlf(r"a5 STORE 2 +FLAGS (\Seen)"))
    d.s(crlf(r"* 2 FETCH (FLAGS (\Seen \Recent))", "a5 OK Store completed."))
    d.c(crlf("a6 LOGOUT"))
    d.s(crlf("* BYE Logging out", "a6 OK Logout completed."))
    d.conv.close(client_first=False)

    # IMAP: NO and BAD.
    d = Dialogue(TcpConv(cap, CLIENT, 53006, mbox, 143, 0x50000007, 0x60000007))
    cap.now_us += 2_000_000
    d.conv.open()
    d.s(crlf("* OK imap.example.net ready"), gap_us=30_000)
    d.c(crlf("b1 LOGIN carol wrong-password"))
    d.s(crlf("b1 NO [AUTHENTICATIONFAILED] Authentication failed."), gap_us=1_000_000)
    d.c(crlf("b2 FROB INBOX"))
    d.s(crlf("b2 BAD Error in IMAP command FROB: Unknown command."))
    d.c(crlf("b3 LOGOUT"))
    d.s(crlf("* BYE Logging out", "b3 OK Logout completed."))
    d.conv.close(client_first=False)

    # IMAP STARTTLS followed by a ClientHello.
    d = Dialogue(TcpConv(cap, CLIENT, 53007, mbox, 143, 0x50000008, 0x60000008))
    cap.now_us += 2_000_000
    d.conv.open()
    d.s(crlf("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] imap.example.net ready"), gap_us=30_000)
    d.c(crlf("c1 STARTTLS"))
    d.s(crlf("c1 OK Begin TLS negotiation now."))
    label = "imap-starttls"
    d.c(client_hello(label, "imap.example.net", tls13=True, alpn=["imap"]), gap_us=2_000)
    sh = tls13_server_hello(label)
    d.s(sh + tls_record(20, b"\x01") + app_data(label + "/flight", 320), cuts=[len(sh)])
    d.c(
        tls_record(20, b"\x01") + app_data(label + "/fin", 53) + app_data(label + "/capability", 36),
        gap_us=2_000,
    )
    d.s(app_data(label + "/capability-reply", 110))
    d.conv.close()
    return cap


# ---------------------------------------------------------------------------------------------------
# 8. FTP
# ---------------------------------------------------------------------------------------------------


def build_ftp(area: int) -> Capture:
    """Control channel with PASV/RETR, EPSV/STOR and PORT/LIST data connections."""
    cap = Capture(ts_s(area))
    srv = remote("203.0.113.21")
    ctrl = TcpConv(cap, CLIENT, 54000, srv, 21, 0x70000001, 0x80000001)
    d = Dialogue(ctrl)
    ctrl.open()
    d.s(
        crlf(
            "220-Welcome to the example.com FTP service.",
            "220-Uploads go to /incoming.",
            "220 FTP server ready.",
        ),
        cuts=[len("220-Welcome to the example.com FTP service.\r\n")],
        gap_us=40_000,
    )
    d.c(crlf("USER alice"))
    d.s(crlf("331 Please specify the password."))
    d.c(crlf("PASS s3cret"))
    d.s(crlf("230 Login successful."), gap_us=200_000)
    d.c(crlf("SYST"))
    d.s(crlf("215 UNIX Type: L8"))
    d.c(crlf("PWD"))
    d.s(crlf('257 "/home/alice" is the current directory'))
    d.c(crlf("CWD pub"))
    d.s(crlf("250 Directory successfully changed."))
    d.c(crlf("TYPE I"))
    d.s(crlf("200 Switching to Binary mode."))

    # PASV: the client connects to 203.0.113.21:50000 (195*256+80) and RETRieves a file.
    d.c(crlf("PASV"))
    d.s(crlf("227 Entering Passive Mode (203,0,113,21,195,80)."))
    data = TcpConv(cap, CLIENT, 54001, srv, 50000, 0x70000002, 0x80000002)
    data.open()
    d.c(crlf("RETR readme.txt"), gap_us=300)
    d.s(crlf("150 Opening BINARY mode data connection for readme.txt (900 bytes)."))
    content = b"".join(
        f"{i:04d} This is line {i} of readme.txt, a sample file.\n".encode() for i in range(18)
    )[:900]
    data.send(False, content, cuts=[700])
    data.seg(True, "A")
    data.close(client_first=False)
    d.s(crlf("226 Transfer complete."), gap_us=1_000)

    # EPSV: the client connects to port 50001 and STOREs a file.
    d.c(crlf("EPSV"))
    d.s(crlf("229 Entering Extended Passive Mode (|||50001|)"))
    data = TcpConv(cap, CLIENT, 54002, srv, 50001, 0x70000003, 0x80000003)
    data.open()
    d.c(crlf("STOR upload.bin"), gap_us=300)
    d.s(crlf("150 Ok to send data."))
    data.send(True, blob("ftp/upload.bin", 1000), cuts=[333], gap_us=2_000, ack=True)
    data.close()
    d.s(crlf("226 Transfer complete."), gap_us=2_000)

    # PORT (active): the server connects from port 20 to 192.0.2.10:51210 (200*256+10) for LIST.
    d.c(crlf("PORT 192,0,2,10,200,10"))
    d.s(crlf("200 PORT command successful. Consider using PASV."))
    d.c(crlf("LIST"))
    active = TcpConv(cap, srv, 20, CLIENT, 51210, 0x80000004, 0x70000004)
    active.open()
    d.s(crlf("150 Here comes the directory listing."), gap_us=300)
    listing = crlf(
        "drwxr-xr-x    2 1000     1000         4096 Mar 01 09:12 incoming",
        "-rw-r--r--    1 1000     1000          900 Feb 28 17:03 readme.txt",
        "-rw-r--r--    1 1000     1000         1000 Mar 01 17:00 upload.bin",
        "-rw-r--r--    1 1000     1000       104857 Jan 15 08:30 archive.tar.gz",
    )
    active.send(True, listing, cuts=[100])
    active.close()
    d.s(crlf("226 Directory send OK."), gap_us=1_000)
    d.c(crlf("QUIT"))
    d.s(crlf("221 Goodbye."))
    ctrl.close(client_first=False)
    return cap


# ---------------------------------------------------------------------------------------------------
# 9. SMB
# ---------------------------------------------------------------------------------------------------

SMB2_CMD = {
    "NEGOTIATE": 0,
    "SESSION_SETUP": 1,
    "LOGOFF": 2,
    "TREE_CONNECT": 3,
    "TREE_DISCONNECT": 4,
    "CREATE": 5,
    "CLOSE": 6,
    "READ": 8,
    "WRITE": 9,
}
STATUS_SUCCESS = 0
STATUS_MORE_PROCESSING_REQUIRED = 0xC0000016
SMB2_FLAG_RESPONSE = 0x1
SMB2_FLAG_RELATED = 0x4
RELATED_FILE_ID = b"\xff" * 16
OID_SPNEGO = "1.3.6.1.5.5.2"
OID_NTLMSSP = "1.3.6.1.4.1.311.2.2.10"
NTLM_FLAGS_NEGOTIATE = 0xE2088297
NTLM_FLAGS_CHALLENGE = 0xE28A8215
NTLM_FLAGS_AUTH = 0xE2888215
NTLM_VERSION = struct.pack("<BBHBBBB", 10, 0, 19041, 0, 0, 0, 15)


def der(tag: int, content: bytes) -> bytes:
    """One DER TLV."""
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    elif n < 0x100:
        length = bytes([0x81, n])
    else:
        length = bytes([0x82]) + n.to_bytes(2, "big")
    return bytes([tag]) + length + content


def der_oid(dotted: str) -> bytes:
    """DER OBJECT IDENTIFIER."""
    parts = [int(p) for p in dotted.split(".")]
    out = bytearray([parts[0] * 40 + parts[1]])
    for value in parts[2:]:
        chunk = [value & 0x7F]
        value >>= 7
        while value:
            chunk.append(0x80 | (value & 0x7F))
            value >>= 7
        out += bytes(reversed(chunk))
    return der(0x06, bytes(out))


def spnego_init(mech_token: bytes | None) -> bytes:
    """GSS-API InitialContextToken carrying a SPNEGO NegTokenInit (NTLMSSP only)."""
    inner = der(0xA0, der(0x30, der_oid(OID_NTLMSSP)))
    if mech_token is not None:
        inner += der(0xA2, der(0x04, mech_token))
    return der(0x60, der_oid(OID_SPNEGO) + der(0xA0, der(0x30, inner)))


def spnego_resp(state: int | None, token: bytes | None, mech: bool = False) -> bytes:
    """SPNEGO NegTokenResp."""
    inner = b""
    if state is not None:
        inner += der(0xA0, der(0x0A, bytes([state])))
    if mech:
        inner += der(0xA1, der_oid(OID_NTLMSSP))
    if token is not None:
        inner += der(0xA2, der(0x04, token))
    return der(0xA1, der(0x30, inner))


def ntlm_negotiate() -> bytes:
    """NTLMSSP NEGOTIATE_MESSAGE."""
    return b"NTLMSSP\0" + struct.pack("<II", 1, NTLM_FLAGS_NEGOTIATE) + b"\0" * 16 + NTLM_VERSION


def av_pairs(ts_us: int) -> bytes:
    """NTLM target info: NetBIOS/DNS domain and computer names, timestamp, EOL."""

    def av(av_id: int, value: bytes) -> bytes:
        return struct.pack("<HH", av_id, len(value)) + value

    return (
        av(2, "EXAMPLE".encode("utf-16-le"))
        + av(1, "SERVER".encode("utf-16-le"))
        + av(4, "example.test".encode("utf-16-le"))
        + av(3, "server.example.test".encode("utf-16-le"))
        + av(7, struct.pack("<Q", filetime(ts_us)))
        + av(0, b"")
    )


def ntlm_challenge(ts_us: int) -> bytes:
    """NTLMSSP CHALLENGE_MESSAGE with a fixed server challenge."""
    target = "EXAMPLE".encode("utf-16-le")
    info = av_pairs(ts_us)
    head_len = 56
    return (
        b"NTLMSSP\0"
        + struct.pack("<I", 2)
        + struct.pack("<HHI", len(target), len(target), head_len)
        + struct.pack("<I", NTLM_FLAGS_CHALLENGE)
        + blob("smb/server-challenge", 8)
        + b"\0" * 8
        + struct.pack("<HHI", len(info), len(info), head_len + len(target))
        + NTLM_VERSION
        + target
        + info
    )


def ntlm_authenticate(ts_us: int, user: str, domain: str, workstation: str) -> bytes:
    """NTLMSSP AUTHENTICATE_MESSAGE with an NTLMv2 response (fixed proof bytes) and a MIC."""
    dom = domain.encode("utf-16-le")
    usr = user.encode("utf-16-le")
    wks = workstation.encode("utf-16-le")
    lm = b"\0" * 24
    client_blob = (
        b"\x01\x01"
        + b"\0" * 6
        + struct.pack("<Q", filetime(ts_us))
        + blob("smb/client-challenge", 8)
        + b"\0" * 4
        + av_pairs(ts_us)
        + b"\0" * 4
    )
    nt = blob("smb/nt-proof", 16) + client_blob
    key = blob("smb/session-key", 16)
    head_len = 88
    payload = [dom, usr, wks, lm, nt, key]
    fields = b""
    offset = head_len
    offsets = []
    for part in payload:
        offsets.append(offset)
        offset += len(part)
    # Field order in the header: LM, NT, domain, user, workstation, session key.
    for index in (3, 4, 0, 1, 2, 5):
        part = payload[index]
        fields += struct.pack("<HHI", len(part), len(part), offsets[index])
    head = b"NTLMSSP\0" + struct.pack("<I", 3) + fields + struct.pack("<I", NTLM_FLAGS_AUTH) + NTLM_VERSION
    head += blob("smb/mic", 16)
    return head + b"".join(payload)


def nbss(message: bytes) -> bytes:
    """NetBIOS session service framing (type 0, 24-bit length)."""
    return struct.pack("!I", len(message)) + message


def smb2_header(
    cmd: str,
    mid: int,
    *,
    response: bool,
    status: int = STATUS_SUCCESS,
    session_id: int = 0,
    tree_id: int = 0,
    related: bool = False,
    credits: int = 1,
) -> bytes:
    """64-byte SMB2 sync header (NextCommand patched later for compounds)."""
    flags = (SMB2_FLAG_RESPONSE if response else 0) | (SMB2_FLAG_RELATED if related else 0)
    return struct.pack(
        "<4sHHIHHIIQIIQ16s",
        b"\xfeSMB",
        64,
        1,
        status,
        SMB2_CMD[cmd],
        credits,
        flags,
        0,
        mid,
        0xFEFF if not response else 0,
        tree_id,
        session_id,
        b"\0" * 16,
    )


def compound(parts: Sequence[bytes]) -> bytes:
    """Chain SMB2 messages with NextCommand, padding each but the last to 8 bytes."""
    out = bytearray()
    for i, part in enumerate(parts):
        msg = bytearray(part)
        if i < len(parts) - 1:
            msg += b"\0" * (-len(msg) % 8)
            struct.pack_into("<I", msg, 20, len(msg))
        out += msg
    return bytes(out)


def negotiate_contexts(label: str) -> bytes:
    """SMB 3.1.1 negotiate contexts: preauth integrity (SHA-512 + salt) and encryption (AES-GCM)."""
    preauth = struct.pack("<HH", 1, 32) + h16le([1]) + blob(label + "/salt", 32)
    ciphers = struct.pack("<H", 2) + h16le([2, 1])
    ctx1 = struct.pack("<HHI", 1, len(preauth), 0) + preauth
    ctx1 += b"\0" * (-len(ctx1) % 8)
    ctx2 = struct.pack("<HHI", 2, len(ciphers), 0) + ciphers
    return ctx1 + ctx2


def h16le(values: Sequence[int]) -> bytes:
    """A list of little-endian 16-bit values."""
    return b"".join(struct.pack("<H", v) for v in values)


def smb2_negotiate_req(mid: int, dialects: Sequence[int], label: str) -> bytes:
    """NEGOTIATE request; with 3.1.1 offered, negotiate contexts follow the dialects."""
    with_ctx = 0x0311 in dialects
    fixed_end = 64 + 36 + 2 * len(dialects)
    pad = -fixed_end % 8
    ctx_offset = fixed_end + pad if with_ctx else 0
    body = struct.pack(
        "<HHHHI16sIHH",
        36,
        len(dialects),
        1,
        0,
        0x7F if with_ctx else 0x7,
        blob(label + "/client-guid", 16),
        ctx_offset,
        2 if with_ctx else 0,
        0,
    ) + h16le(dialects)
    if with_ctx:
        body += b"\0" * pad + negotiate_contexts(label + "/client")
    return smb2_header("NEGOTIATE", mid, response=False) + body


def smb2_negotiate_resp(mid: int, dialect: int, label: str, ts_us: int) -> bytes:
    """NEGOTIATE response choosing `dialect`, with a SPNEGO NegTokenInit hint."""
    token = spnego_init(None)
    with_ctx = dialect == 0x0311
    buf_end = 128 + len(token)
    pad = -buf_end % 8
    body = struct.pack(
        "<HHHH16sIIIIQQHHI",
        65,
        1,
        dialect,
        2 if with_ctx else 0,
        blob(label + "/server-guid", 16),
        0x2F if with_ctx else 0x7,
        8_388_608,
        8_388_608,
        8_388_608,
        filetime(ts_us),
        0,
        128,
        len(token),
        buf_end + pad if with_ctx else 0,
    )
    body += token
    if with_ctx:
        body += b"\0" * pad + negotiate_contexts(label + "/server")
    return smb2_header("NEGOTIATE", mid, response=True, credits=1) + body


def smb2_session_setup_req(mid: int, session_id: int, token: bytes) -> bytes:
    """SESSION_SETUP request carrying a security blob."""
    body = struct.pack("<HBBIIHHQ", 25, 0, 1, 1, 0, 88, len(token), 0) + token
    return smb2_header("SESSION_SETUP", mid, response=False, session_id=session_id) + body


def smb2_session_setup_resp(mid: int, session_id: int, status: int, token: bytes) -> bytes:
    """SESSION_SETUP response."""
    body = struct.pack("<HHHH", 9, 0, 72, len(token)) + token
    return smb2_header("SESSION_SETUP", mid, response=True, status=status, session_id=session_id) + body


def smb2_tree_connect_req(mid: int, session_id: int, path: str) -> bytes:
    """TREE_CONNECT request for a UNC path."""
    raw = path.encode("utf-16-le")
    body = struct.pack("<HHHH", 9, 0, 72, len(raw)) + raw
    return smb2_header("TREE_CONNECT", mid, response=False, session_id=session_id) + body


def smb2_tree_connect_resp(mid: int, session_id: int, tree_id: int, share_type: int) -> bytes:
    """TREE_CONNECT response (share type 1 disk, 2 pipe)."""
    body = struct.pack("<HBBIII", 16, share_type, 0, 0, 0, 0x001F01FF)
    return smb2_header("TREE_CONNECT", mid, response=True, session_id=session_id, tree_id=tree_id) + body


def smb2_create_req(
    mid: int, sid: int, tid: int, name: str, disposition: int, *, related: bool = False
) -> bytes:
    """CREATE request (no create contexts)."""
    raw = name.encode("utf-16-le")
    body = (
        struct.pack(
            "<HBBIQQIIIIIHHII",
            57,
            0,
            0,
            2,
            0,
            0,
            0x0012019F,
            0x80,
            0x7,
            disposition,
            0x40,
            120,
            len(raw),
            0,
            0,
        )
        + raw
    )
    return smb2_header("CREATE", mid, response=False, session_id=sid, tree_id=tid, related=related) + body


def smb2_create_resp(
    mid: int, sid: int, tid: int, file_id: bytes, size: int, ts_us: int, action: int
) -> bytes:
    """CREATE response returning `file_id`."""
    t = filetime(ts_us)
    body = struct.pack(
        "<HBBIQQQQQQII16sII",
        89,
        0,
        0,
        action,
        t,
        t,
        t,
        t,
        (size + 4095) // 4096 * 4096,
        size,
        0x20,
        0,
        file_id,
        0,
        0,
    )
    return smb2_header("CREATE", mid, response=True, session_id=sid, tree_id=tid) + body


def smb2_read_req(
    mid: int, sid: int, tid: int, file_id: bytes, length: int, *, related: bool = False
) -> bytes:
    """READ request from offset 0."""
    body = struct.pack("<HBBIQ16sIIIHH", 49, 0x50, 0, length, 0, file_id, 1, 0, 0, 0, 0) + b"\0"
    return smb2_header("READ", mid, response=False, session_id=sid, tree_id=tid, related=related) + body


def smb2_read_resp(mid: int, sid: int, tid: int, data: bytes, *, related: bool = False) -> bytes:
    """READ response carrying `data`."""
    body = struct.pack("<HBBIII", 17, 80, 0, len(data), 0, 0) + data
    return smb2_header("READ", mid, response=True, session_id=sid, tree_id=tid, related=related) + body


def smb2_write_req(mid: int, sid: int, tid: int, file_id: bytes, data: bytes) -> bytes:
    """WRITE request at offset 0."""
    body = struct.pack("<HHIQ16sIIHHI", 49, 112, len(data), 0, file_id, 0, 0, 0, 0, 0) + data
    return smb2_header("WRITE", mid, response=False, session_id=sid, tree_id=tid) + body


def smb2_write_resp(mid: int, sid: int, tid: int, count: int) -> bytes:
    """WRITE response."""
    body = struct.pack("<HHIIHH", 17, 0, count, 0, 0, 0)
    return smb2_header("WRITE", mid, response=True, session_id=sid, tree_id=tid) + body


def smb2_close_req(mid: int, sid: int, tid: int, file_id: bytes, *, related: bool = False) -> bytes:
    """CLOSE request."""
    body = struct.pack("<HHI16s", 24, 0, 0, file_id)
    return smb2_header("CLOSE", mid, response=False, session_id=sid, tree_id=tid, related=related) + body


def smb2_close_resp(mid: int, sid: int, tid: int, *, related: bool = False) -> bytes:
    """CLOSE response (no attributes requested)."""
    body = struct.pack("<HHI", 60, 0, 0) + b"\0" * 52
    return smb2_header("CLOSE", mid, response=True, session_id=sid, tree_id=tid, related=related) + body


def smb2_simple(cmd: str, mid: int, sid: int, tid: int, *, response: bool) -> bytes:
    """TREE_DISCONNECT / LOGOFF request or response (StructureSize 4)."""
    return smb2_header(cmd, mid, response=response, session_id=sid, tree_id=tid) + struct.pack("<HH", 4, 0)


def netbios_name(name: str, suffix: int) -> bytes:
    """First-level encoded NetBIOS name (RFC 1001), length-prefixed and root-terminated."""
    raw = name.upper().ljust(15).encode()[:15] + bytes([suffix])
    encoded = b"".join(bytes([0x41 + (b >> 4), 0x41 + (b & 0xF)]) for b in raw)
    return b"\x20" + encoded + b"\x00"


def smb1_header(cmd: int, *, response: bool, mid: int) -> bytes:
    """32-byte SMB1 header."""
    flags = 0x98 if response else 0x18
    return struct.pack(
        "<4sBIBHH8sHHHHH", b"\xffSMB", cmd, 0, flags, 0xC853, 0, b"\0" * 8, 0, 0xFFFF, 0xFEFF, 0, mid
    )


def build_smb(area: int) -> Capture:
    """SMB2 3.1.1 session (NTLMSSP, trees, file I/O, compound), SMB2 2.1 negotiate, SMB1 over NBSS/139."""
    cap = Capture(ts_s(area))
    conv = TcpConv(cap, CLIENT, 55000, LAN_SMB, 445, 0x90000001, 0xA0000001)
    conv.open()
    mid = 0

    def call(
        request: bytes, response: bytes, *, req_cuts: Sequence[int] = (), resp_cuts: Sequence[int] = ()
    ) -> None:
        conv.send(True, nbss(request), req_cuts, gap_us=3_000)
        conv.send(False, nbss(response), resp_cuts, gap_us=600)

    label = "smb311"
    dialects = [0x0202, 0x0210, 0x0300, 0x0302, 0x0311]
    call(smb2_negotiate_req(mid, dialects, label), smb2_negotiate_resp(mid, 0x0311, label, cap.now_us))
    mid += 1
    sid = 0x0000_1000_0000_0041
    call(
        smb2_session_setup_req(mid, 0, spnego_init(ntlm_negotiate())),
        smb2_session_setup_resp(
            mid, sid, STATUS_MORE_PROCESSING_REQUIRED, spnego_resp(1, ntlm_challenge(cap.now_us), mech=True)
        ),
    )
    mid += 1
    auth = ntlm_authenticate(cap.now_us, "alice", "EXAMPLE", "WS01")
    call(
        smb2_session_setup_req(mid, sid, spnego_resp(None, auth)),
        smb2_session_setup_resp(mid, sid, STATUS_SUCCESS, spnego_resp(0, None)),
        req_cuts=[150],
    )
    mid += 1
    ipc_tid, share_tid = 1, 5
    call(
        smb2_tree_connect_req(mid, sid, r"\\server\IPC$"),
        smb2_tree_connect_resp(mid, sid, ipc_tid, 2),
    )
    mid += 1
    call(
        smb2_tree_connect_req(mid, sid, r"\\server\share"),
        smb2_tree_connect_resp(mid, sid, share_tid, 1),
    )
    mid += 1
    report_id = blob("smb/fid/report", 16)
    content = b"".join(f"row {i:03d}, value {i * 7}\n".encode() for i in range(20))
    call(
        smb2_create_req(mid, sid, share_tid, r"reports\q1.csv", 5),
        smb2_create_resp(mid, sid, share_tid, report_id, 0, cap.now_us, 2),
    )
    mid += 1
    call(
        smb2_write_req(mid, sid, share_tid, report_id, content),
        smb2_write_resp(mid, sid, share_tid, len(content)),
        req_cuts=[4, 500],
    )
    mid += 1
    call(
        smb2_read_req(mid, sid, share_tid, report_id, len(content)),
        smb2_read_resp(mid, sid, share_tid, content),
        resp_cuts=[30, 90],
    )
    mid += 1
    call(smb2_close_req(mid, sid, share_tid, report_id), smb2_close_resp(mid, sid, share_tid))
    mid += 1

    # A compound: CREATE + READ + CLOSE on the same (related) handle.
    notes = b"Meeting notes, 1 March 2024: ship the analyzer.\n" * 3
    notes_id = blob("smb/fid/notes", 16)
    request = compound(
        [
            smb2_create_req(mid, sid, share_tid, "notes.txt", 1),
            smb2_read_req(mid + 1, sid, share_tid, RELATED_FILE_ID, 4096, related=True),
            smb2_close_req(mid + 2, sid, share_tid, RELATED_FILE_ID, related=True),
        ]
    )
    response = compound(
        [
            smb2_create_resp(mid, sid, share_tid, notes_id, len(notes), cap.now_us, 1),
            smb2_read_resp(mid + 1, sid, share_tid, notes, related=True),
            smb2_close_resp(mid + 2, sid, share_tid, related=True),
        ]
    )
    call(request, response)
    mid += 3
    call(
        smb2_simple("TREE_DISCONNECT", mid, sid, share_tid, response=False),
        smb2_simple("TREE_DISCONNECT", mid, sid, share_tid, response=True),
    )
    mid += 1
    call(
        smb2_simple("LOGOFF", mid, sid, 0, response=False), smb2_simple("LOGOFF", mid, sid, 0, response=True)
    )
    conv.close()

    # A second connection where the server picks SMB 2.1.
    conv = TcpConv(cap, CLIENT2, 55001, LAN_NAS, 445, 0x90000002, 0xA0000002)
    cap.now_us += 2_000_000
    conv.open()
    label = "smb21"
    call(smb2_negotiate_req(0, [0x0202, 0x0210], label), smb2_negotiate_resp(0, 0x0210, label, cap.now_us))
    conv.close()

    # SMB1 over NetBIOS on 139: session request, positive response, SMB1 NEGOTIATE.
    conv = TcpConv(cap, CLIENT2, 55002, LAN_NAS, 139, 0x90000003, 0xA0000003)
    cap.now_us += 2_000_000
    conv.open()
    names = netbios_name("NAS", 0x20) + netbios_name("WS02", 0x00)
    conv.send(True, struct.pack("!BBH", 0x81, 0, len(names)) + names)
    conv.send(False, struct.pack("!BBH", 0x82, 0, 0))
    dialect_names = [
        "PC NETWORK PROGRAM 1.0",
        "LANMAN1.0",
        "LM1.2X002",
        "NT LM 0.12",
        "SMB 2.002",
        "SMB 2.???",
    ]
    dialect_bytes = b"".join(b"\x02" + d.encode() + b"\0" for d in dialect_names)
    negotiate = (
        smb1_header(0x72, response=False, mid=1)
        + b"\x00"
        + struct.pack("<H", len(dialect_bytes))
        + dialect_bytes
    )
    conv.send(True, nbss(negotiate), gap_us=1_000)
    blob_bytes = blob("smb1/server-guid", 16) + spnego_init(None)
    words = struct.pack(
        "<HBHHIIIIQhB",
        3,
        0x03,
        50,
        1,
        16644,
        65536,
        0,
        0x8000E3FD,
        filetime(cap.now_us),
        0,
        0,
    )
    reply = (
        smb1_header(0x72, response=True, mid=1)
        + b"\x11"
        + words
        + struct.pack("<H", len(blob_bytes))
        + blob_bytes
    )
    conv.send(False, nbss(reply))
    conv.close()
    return cap


# ---------------------------------------------------------------------------------------------------
# 10. Extras for the merged capture: VLAN, QinQ, IPv4 fragments
# ---------------------------------------------------------------------------------------------------


def build_extras(area: int) -> Capture:
    """An 802.1Q-tagged DNS exchange, a QinQ ICMP echo, and a fragmented DNS response over UDP."""
    cap = Capture(ts_s(area))
    query = dns_query(0x8001, "vlan.example.com", "A")
    udp(cap, CLIENT, LAN_DNS, 56000, 53, query, 0, vlan=[100])
    answer = dns_message(
        0x8001,
        dns_flags(qr=True, ra=True),
        [("vlan.example.com", "A")],
        [RR("vlan.example.com", "A", "192.0.2.100")],
    )
    udp(cap, LAN_DNS, CLIENT, 53, 56000, answer, 1_200, vlan=[100])

    data = bytes(range(0x30, 0x30 + 32))
    for itype, src, dst in ((8, CLIENT, ROUTER2), (0, ROUTER2, CLIENT)):
        ip = l3(cap, src, dst, df=False)
        ip.proto = 1
        msg = icmp4(itype, 0, struct.pack("!HH", 0x0A01, 1), data)
        cap.emit(link(src.mac, dst.mac, [200, 300]) / ip / Raw(msg), 1_000_000 if itype == 8 else 400)

    # EDNS0 query, then a 1900-byte answer sent as two IPv4 fragments (1480 + rest).
    query = dns_query(0x8002, "big.example.com", "TXT", edns_size=4096)
    udp(cap, CLIENT, LAN_DNS, 56001, 53, query, 1_000_000)
    records = [RR("big.example.com", "TXT", [f"chunk {i:02d} " + "y" * 200]) for i in range(9)]
    answer = dns_message(
        0x8002, dns_flags(qr=True, ra=True), [("big.example.com", "TXT")], records, edns_size=4096
    )
    whole = bytes(
        IP(src=LAN_DNS.ip, dst=CLIENT.ip, ttl=64, id=0x7A7A, flags=0)
        / UDP(sport=53, dport=56001)
        / Raw(answer)
    )
    payload = whole[20:]
    step = 1480
    for off in range(0, len(payload), step):
        piece = payload[off : off + step]
        more = off + step < len(payload)
        ip = IP(
            src=LAN_DNS.ip,
            dst=CLIENT.ip,
            ttl=64,
            id=0x7A7A,
            flags="MF" if more else 0,
            frag=off // 8,
            proto=17,
        )
        cap.emit(Ether(src=LAN_DNS.mac, dst=CLIENT.mac) / ip / Raw(piece), 1_500 if off == 0 else 40)
    return cap


# ---------------------------------------------------------------------------------------------------
# Services (sample_pcaps/services.pcap, a file of its own: not merged into mixed.*)
# ---------------------------------------------------------------------------------------------------
# One short flow per protocol of the classifier's signature table (analyzer/signatures.py), on its
# standard port (named by port and payload: "both"), a few on unusual ports (named by payload alone),
# two that carry no payload or nothing recognisable on a service port (named by port), and two that
# nothing names (listed under services.unknown). tests/test_classify.py holds the expected names.

SERVICES_AREA = 21
"""Time window of services.pcap (beyond the areas and extras of mixed.*, and quic.pcap's)."""
SERVICES_SERVER = remote("203.0.113.90")


def _ber(tag: int, body: bytes) -> bytes:
    """One BER element with a short or two-byte long-form length."""
    n = len(body)
    length = (
        bytes([n]) if n < 0x80 else bytes([0x81, n]) if n < 0x100 else bytes([0x82]) + n.to_bytes(2, "big")
    )
    return bytes([tag]) + length + body


def _rpc_call(xid: int, program: int, version: int, proc: int) -> bytes:
    """An ONC RPC call with AUTH_NONE credentials and verifier, no arguments."""
    return struct.pack("!IIIIII", xid, 0, 2, program, version, proc) + b"\x00" * 16


def _mysql_greeting() -> bytes:
    body = b"\x0a8.0.36\x00" + struct.pack("<I", 11) + b"abcdefgh\x00" + b"\xff\xf7\x21\x02\x00\xff\xc1\x15"
    body += b"\x00" * 10 + b"ijklmnopqrst\x00mysql_native_password\x00"
    return len(body).to_bytes(3, "little") + b"\x00" + body


def _pg_startup() -> bytes:
    params = b"user\x00alice\x00database\x00shop\x00\x00"
    return struct.pack("!II", 8 + len(params), 0x00030000) + params


def _mongo_msg() -> bytes:
    doc = b"\x0d\x00\x00\x00\x10ping\x00\x01\x00\x00\x00\x00"
    body = struct.pack("<iii", 1, 0, 2013) + b"\x00\x00\x00\x00\x00" + doc
    return struct.pack("<i", 4 + len(body)) + body


def _mqtt_connect() -> bytes:
    var = b"\x00\x04MQTT\x04\x02\x00\x3c" + b"\x00\x06client"
    return bytes([0x10, len(var)]) + var


def _rdp_request() -> bytes:
    x224 = b"\xe0\x00\x00\x00\x00\x00" + b"Cookie: mstshash=alice\r\n" + b"\x01\x00\x08\x00\x03\x00\x00\x00"
    return b"\x03\x00" + struct.pack("!H", 5 + len(x224)) + bytes([len(x224)]) + x224


def _ldap_bind() -> bytes:
    bind = _ber(0x60, b"\x02\x01\x03" + _ber(0x04, b"cn=admin") + _ber(0x80, b"secret"))
    return _ber(0x30, b"\x02\x01\x01" + bind)


def _kerberos_as_req() -> bytes:
    body = _ber(0x30, _ber(0xA1, b"\x02\x01\x05") + _ber(0xA2, b"\x02\x01\x0a") + _ber(0xA4, b"\x30\x00"))
    return _ber(0x6A, body)


def _snmp_get() -> bytes:
    pdu = _ber(
        0xA0,
        b"\x02\x01\x01\x02\x01\x00\x02\x01\x00"
        + _ber(0x30, _ber(0x30, b"\x06\x08+\x06\x01\x02\x01\x01\x01\x00\x05\x00")),
    )
    return _ber(0x30, b"\x02\x01\x01" + _ber(0x04, b"public") + pdu)


def _stun_binding() -> bytes:
    attrs = b"\x80\x22\x00\x04test"  # SOFTWARE
    return struct.pack("!HHI", 0x0001, len(attrs), 0x2112A442) + bytes(range(12)) + attrs


def _nbns_query() -> bytes:
    name = b"\x20" + b"EOGFCACACACACACACACACACACACACACA" + b"\x00"
    return struct.pack("!HHHHHH", 0x1234, 0x0110, 1, 0, 0, 0) + name + b"\x00\x20\x00\x01"


def _ntp_client() -> bytes:
    return bytes([0x23]) + b"\x00" * 39 + bytes(range(1, 9))


def _dtls_hello() -> bytes:
    hello = b"\x01\x00\x00\x2a\x00\x00\x00\x00\x00\x00\x00\x2a\xfe\xfd" + bytes(32) + b"\x00\x00\x00\x00"
    return b"\x16\xfe\xff\x00\x00" + b"\x00" * 6 + struct.pack("!H", len(hello)) + hello


def _quic_long_header() -> bytes:
    dcid = bytes(range(8))
    return b"\xc3\x00\x00\x00\x01\x08" + dcid + b"\x00" + b"\x00\x41\x00" + blob("quic-initial", 1180)


def _dcerpc_bind() -> bytes:
    body = (
        struct.pack("<HHI", 4280, 4280, 0)
        + b"\x01\x00\x00\x00"
        + b"\x00\x00\x01\x00"
        + bytes(16)
        + b"\x00\x00\x00\x00"
    )
    body += bytes(16) + b"\x02\x00\x00\x00"
    header = struct.pack("<BBBB4sHHI", 5, 0, 11, 3, b"\x10\x00\x00\x00", 16 + len(body), 0, 1)
    return header + body


def _rtcp_receiver_report() -> bytes:
    return struct.pack("!BBHI", 0x80, 201, 1, 0x11223344)


def _rtp_packet(seq: int, timestamp: int) -> bytes:
    """An RTP packet: version 2, dynamic payload type 111 (Opus), a fixed SSRC, 40 payload bytes."""
    return struct.pack("!BBHII", 0x80, 111, seq, timestamp, 0x5EED5EED) + blob(f"rtp-{seq}", 40)


def _dns_query(name: bytes, qtype: int) -> bytes:
    labels = b"".join(bytes([len(p)]) + p for p in name.split(b".")) + b"\x00"
    return struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + labels + struct.pack("!HH", qtype, 1)


SERVICE_FLOWS: list[tuple[str, int, bytes, bytes]] = [
    # (transport, server port, first client payload, first server payload); b"" sends nothing
    ("tcp", 22, b"SSH-2.0-OpenSSH_9.6\r\n", b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
    ("tcp", 23, b"", b"\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23\xff\xfd\x27"),
    ("tcp", 139, b"\x81\x00\x00\x44" + b"\x20" + b"C" * 64 + b"\x00", b"\x82\x00\x00\x00"),
    ("tcp", 3306, b"", _mysql_greeting()),
    ("tcp", 5432, _pg_startup(), b"R\x00\x00\x00\x08\x00\x00\x00\x00"),
    ("tcp", 3389, _rdp_request(), b""),
    ("tcp", 6379, b"*1\r\n$4\r\nPING\r\n", b"+PONG\r\n"),
    ("tcp", 27017, _mongo_msg(), b""),
    ("tcp", 1883, _mqtt_connect(), b"\x20\x02\x00\x00"),
    ("tcp", 5900, b"", b"RFB 003.008\n"),
    ("tcp", 6881, b"\x13BitTorrent protocol" + bytes(8) + blob("bt-infohash", 40), b""),
    ("tcp", 6667, b"NICK alice\r\nUSER alice 0 * :Alice\r\n", b""),
    ("tcp", 5222, b"<?xml version='1.0'?><stream:stream to='example.com' xmlns='jabber:client'>", b""),
    ("tcp", 1080, b"\x05\x01\x00", b"\x05\x00"),
    ("tcp", 2049, b"\x80\x00\x00\x28" + _rpc_call(1, 100003, 3, 0), b""),
    ("tcp", 111, b"\x80\x00\x00\x28" + _rpc_call(2, 100000, 2, 0), b""),
    ("tcp", 135, _dcerpc_bind(), b""),
    ("tcp", 389, _ldap_bind(), b""),
    ("tcp", 88, len(_kerberos_as_req()).to_bytes(4, "big") + _kerberos_as_req(), b""),
    ("tcp", 554, b"OPTIONS rtsp://203.0.113.90/stream RTSP/1.0\r\nCSeq: 1\r\n\r\n", b""),
    ("tcp", 179, b"\xff" * 16 + b"\x00\x1d\x01\x04\xfd\xe8\x00\xb4\xc0\x00\x02\x01\x00", b""),
    ("tcp", 1723, b"\x00\x9c\x00\x01\x1a\x2b\x3c\x4d\x00\x01\x00\x00" + bytes(144), b""),
    ("tcp", 502, b"\x00\x01\x00\x00\x00\x06\x01\x03\x00\x00\x00\x0a", b""),
    ("tcp", 5672, b"AMQP\x00\x00\x09\x01", b""),
    ("tcp", 873, b"", b"@RSYNCD: 31.0\n"),
    ("tcp", 9418, b"0032git-upload-pack /project.git\x00host=example\x00", b""),
    ("tcp", 10051, b"ZBXD\x01" + struct.pack("<Q", 2) + b"{}", b""),
    ("tcp", 119, b"", b"200 news.example.com InterNetNews NNRP server ready\r\n"),
    ("tcp", 1099, b"JRMI\x00\x02\x4b", b""),
    ("tcp", 5060, b"OPTIONS sip:bob@example.com SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n", b""),
    ("udp", 123, _ntp_client(), b""),
    ("udp", 3478, _stun_binding(), b""),
    ("udp", 1900, b'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\n\r\n', b""),
    ("udp", 137, _nbns_query(), b""),
    ("udp", 161, _snmp_get(), b""),
    ("udp", 514, b"<34>Oct 11 22:14:15 host su: 'su root' failed for alice on /dev/pts/8", b""),
    ("udp", 5060, b"REGISTER sip:example.com SIP/2.0\r\nCSeq: 1 REGISTER\r\n\r\n", b""),
    ("udp", 443, _quic_long_header(), b""),
    ("udp", 69, b"\x00\x01boot.img\x00octet\x00", b""),
    ("udp", 88, _kerberos_as_req(), b""),
    ("udp", 389, _ldap_bind(), b""),
    ("udp", 6881, b"d1:ad2:id20:" + blob("dht-id", 20) + b"e1:q4:ping1:t2:aa1:y1:qe", b""),
    ("udp", 51820, b"\x01\x00\x00\x00" + blob("wg-init", 144), b""),
    ("udp", 17500, b'{"host_int": 123456, "version": [2, 0]}', b""),
    ("udp", 57621, b"SpotUdp0" + blob("spotify", 36), b""),
    ("udp", 53, _dns_query(b"www.example.com", 1), b""),
    ("udp", 5353, _dns_query(b"printer.local", 12), b""),
    ("udp", 5355, _dns_query(b"fileserver", 1), b""),
    # unusual ports: named by payload alone
    ("tcp", 2222, b"SSH-2.0-OpenSSH_9.6\r\n", b""),
    ("tcp", 2323, b"", b"\xff\xfb\x01\xff\xfb\x03\xff\xfd\x18"),
    ("tcp", 3307, b"", _mysql_greeting()),
    ("tcp", 5433, _pg_startup(), b""),
    ("tcp", 3390, _rdp_request(), b""),
    ("tcp", 7000, b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n", b""),
    ("tcp", 51413, b"\x13BitTorrent protocol" + bytes(8) + blob("bt-infohash2", 40), b""),
    ("udp", 5349, _stun_binding(), b""),
    ("udp", 1514, b"<165>1 2024-03-01T10:00:00.000Z host app 1 ID47 - hello", b""),
    ("udp", 16100, _snmp_get(), b""),
    ("udp", 5080, b"OPTIONS sip:alice@example.com SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n", b""),
    ("udp", 4444, _dtls_hello(), b""),
    ("udp", 40392, _rtcp_receiver_report(), b""),
    ("udp-stream", 40400, _rtp_packet(1000, 160_000), _rtp_packet(1001, 160_160)),  # two agree: RTP
    # a service port without a recognisable payload, or without any payload: named by port
    ("tcp", 5901, None, None),
    ("udp", 123, b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09", b""),
    # nothing names these: listed under services.unknown
    ("tcp", 45000, blob("unknown-tcp", 64), b""),
    ("udp", 45001, blob("unknown-udp", 64), b""),
]
"""One flow each; a None client payload means a SYN that nobody answers."""


def build_services(area: int) -> Capture:
    """One short flow per entry of SERVICE_FLOWS, client ports counting up from 41000."""
    cap = Capture(ts_s(area))
    for i, (transport, port, request, reply) in enumerate(SERVICE_FLOWS):
        cport = 41000 + i
        if transport == "udp-stream":  # two datagrams from the client
            udp(cap, CLIENT, SERVICES_SERVER, cport, port, request, 50_000)
            udp(cap, CLIENT, SERVICES_SERVER, cport, port, reply, 20_000)
            continue
        if transport == "udp":
            if request:
                udp(cap, CLIENT, SERVICES_SERVER, cport, port, request, 50_000)
            if reply:
                udp(cap, SERVICES_SERVER, CLIENT, port, cport, reply)
            continue
        conv = TcpConv(
            cap, CLIENT, cport, SERVICES_SERVER, port, 0x10000000 + i * 7919, 0x60000000 + i * 104729
        )
        if request is None:
            conv.seg(True, "S", window=64240, options=SYN_OPTIONS, gap_us=50_000)
            continue
        conv.open()
        if request:
            conv.send(True, request)
        if reply:
            conv.send(False, reply)
        conv.close()
    return cap


# ---------------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------------


def pcap_bytes(frames: Sequence[tuple[int, bytes]]) -> bytes:
    """Classic little-endian microsecond pcap, Ethernet link type."""
    from analyzer.capture import writer  # the package's pcap writer (live --write, tests, bench)

    out = [writer.file_header(LINKTYPE_ETHERNET, SNAPLEN)]
    out += [writer.record(ts // 1_000_000, ts % 1_000_000, data) for ts, data in frames]
    return b"".join(out)


def pcapng_option(code: int, value: bytes) -> bytes:
    """One pcapng option, padded to 32 bits."""
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def pcapng_block(block_type: int, body: bytes) -> bytes:
    """One pcapng block with both length fields."""
    total = 12 + len(body)
    return struct.pack("<II", block_type, total) + body + struct.pack("<I", total)


def pcapng_bytes(frames: Sequence[tuple[int, bytes]]) -> bytes:
    """pcapng: SHB, one Ethernet IDB (microsecond resolution), one EPB per frame."""
    shb_opts = pcapng_option(4, b"pcap-analyzer sample_pcaps/make_samples.py") + pcapng_option(0, b"")
    out = bytearray(pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + shb_opts))
    idb_opts = pcapng_option(2, b"sample0") + pcapng_option(9, b"\x06") + pcapng_option(0, b"")
    out += pcapng_block(1, struct.pack("<HHI", LINKTYPE_ETHERNET, 0, SNAPLEN) + idb_opts)
    for ts, data in frames:
        body = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data))
        out += pcapng_block(6, body + data + b"\0" * (-len(data) % 4))
    return bytes(out)


# ---------------------------------------------------------------------------------------------------
# TLS edge cases (tls_edge.pcap, its own file, not merged into mixed.*)
# ---------------------------------------------------------------------------------------------------

TLS_EDGE_CUT_PAYLOAD = 120
"""TCP payload bytes kept of the snapped ClientHello frame: the SNI ends at byte 104, the rest is cut."""
MYSQL_CLIENT_SSL = 0x0800
"""MySQL capability flag CLIENT_SSL."""
PG_SSL_REQUEST = struct.pack("!II", 8, 80877103)
"""PostgreSQL SSLRequest: length 8, code 1234.5679."""


def mysql_packet(seq: int, payload: bytes) -> bytes:
    """One MySQL packet: 3-byte little-endian length, sequence id, payload."""
    return len(payload).to_bytes(3, "little") + bytes([seq]) + payload


def mysql_greeting(label: str, version: str, caps: int) -> bytes:
    """MySQL HandshakeV10 from the server (protocol 10, caching_sha2_password)."""
    scramble = blob(label + "/scramble", 20)
    body = (
        b"\x0a"
        + version.encode()
        + b"\x00"
        + struct.pack("<I", 42)
        + scramble[:8]
        + b"\x00"
        + struct.pack("<H", caps & 0xFFFF)
        + b"\xff"
        + struct.pack("<H", 0x0002)
        + struct.pack("<H", caps >> 16)
        + bytes([21])
        + bytes(10)
        + scramble[8:]
        + b"\x00"
        + b"caching_sha2_password\x00"
    )
    return mysql_packet(0, body)


def mysql_ssl_request(caps: int) -> bytes:
    """The client's SSL request (HandshakeResponse41 cut after the filler): switch to TLS now."""
    return mysql_packet(1, struct.pack("<IIB", caps, 1 << 24, 0xFF) + bytes(23))


def tls12_exchange(
    conv: TcpConv, label: str, sni: str, key: Ed25519PrivateKey, chain: Sequence[bytes]
) -> None:
    """A full TLS 1.2 handshake and one request/response on an open conversation."""
    conv.send(True, client_hello(label, sni, tls13=False, alpn=["http/1.1"]))
    conv.send(False, tls12_server_flight(label, chain, key, None))
    conv.send(True, tls12_client_finish(label))
    conv.send(False, tls_record(20, b"\x01") + tls_record(22, blob(label + "/server-finished", 40)))
    conv.send(True, app_data(label + "/req", 90))
    conv.send(False, app_data(label + "/resp", 140))


def build_tls_edge(area: int) -> tuple[Capture, dict[int, int]]:
    """Snapped ClientHello, retransmitted and duplicated hellos, TLS on a random port, MySQL and
    PostgreSQL switching to TLS, PostgreSQL refusing it. Returns the capture and {frame index: caplen}."""
    cap = Capture(ts_s(area))
    key = ed25519_key("db.example.com")
    cert = make_cert("db.example.com", key, "db.example.com", key, 0x4001, ca=False)
    cuts: dict[int, int] = {}

    # 1. A ClientHello whose frame was cut by the snap length (SNI kept, later extensions lost).
    label = "edge-snapped"
    conv = TcpConv(cap, CLIENT, 53100, remote("203.0.113.40"), 443, 0x50000001, 0x60000001)
    conv.open()
    conv.send(True, client_hello(label, "cut.example.com", tls13=False, alpn=["http/1.1"]))
    cuts[len(cap.frames) - 1] = 14 + 20 + 20 + TLS_EDGE_CUT_PAYLOAD
    conv.send(False, tls12_server_flight(label, [cert], key, None))
    conv.send(True, tls12_client_finish(label))
    conv.send(False, tls_record(20, b"\x01") + tls_record(22, blob(label + "/server-finished", 40)))
    conv.close()

    # 2. A ClientHello retransmitted 200 ms later (same sequence number, new IP id), and a ServerHello
    #    captured twice (the very same frame bytes, as a span port duplicates them).
    label = "edge-retrans"
    conv = TcpConv(cap, CLIENT, 53101, remote("203.0.113.41"), 443, 0x50000002, 0x60000002)
    cap.now_us += 1_000_000
    conv.open()
    hello = client_hello(label, "retrans.example.com", tls13=False, alpn=["http/1.1"])
    conv.send(True, hello)
    conv.c.seq -= len(hello)
    conv.send(True, hello, gap_us=200_000)
    flight = conv.send(False, tls12_server_flight(label, [cert], key, None))
    cap.emit(flight[0], 40)
    conv.send(True, tls12_client_finish(label))
    conv.send(False, tls_record(20, b"\x01") + tls_record(22, blob(label + "/server-finished", 40)))
    conv.close()

    # 3. TLS on a port nobody registered.
    conv = TcpConv(cap, CLIENT, 53102, LAN_NAS, 9443, 0x50000003, 0x60000003)
    cap.now_us += 1_000_000
    conv.open()
    tls12_exchange(conv, "edge-port", "nas.example.com", key, [cert])
    conv.close()

    # 4. MySQL on 3306: greeting, SSL request, then TLS on the same connection.
    caps = 0xDFFFFFFF
    conv = TcpConv(cap, CLIENT, 53103, LAN_NAS, 3306, 0x50000004, 0x60000004)
    cap.now_us += 1_000_000
    conv.open()
    conv.send(False, mysql_greeting("edge-mysql", "8.0.36", caps))
    conv.send(True, mysql_ssl_request(0x01AFA20D | MYSQL_CLIENT_SSL))
    tls12_exchange(conv, "edge-mysql", "db.example.com", key, [cert])
    conv.close()

    # 5. PostgreSQL on 5432: SSLRequest, 'S', then TLS.
    conv = TcpConv(cap, CLIENT, 53104, LAN_NAS, 5432, 0x50000005, 0x60000005)
    cap.now_us += 1_000_000
    conv.open()
    conv.send(True, PG_SSL_REQUEST)
    conv.send(False, b"S")
    tls12_exchange(conv, "edge-pgsql", "db.example.com", key, [cert])
    conv.close()

    # 6. PostgreSQL refusing TLS ('N'): the StartupMessage follows in clear text.
    conv = TcpConv(cap, CLIENT, 53105, LAN_NAS, 5432, 0x50000006, 0x60000006)
    cap.now_us += 1_000_000
    conv.open()
    conv.send(True, PG_SSL_REQUEST)
    conv.send(False, b"N")
    params = b"user\x00app\x00database\x00app\x00\x00"
    conv.send(True, struct.pack("!II", 8 + len(params), 196608) + params)
    conv.send(False, b"R" + struct.pack("!II", 8, 0))
    conv.close()
    return cap, cuts


def pcap_bytes_cut(frames: Sequence[tuple[int, bytes]], cuts: dict[int, int]) -> bytes:
    """Like `pcap_bytes`, but frame i keeps only its first cuts[i] bytes (its original length stays)."""
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAPLEN, LINKTYPE_ETHERNET))
    for i, (ts, data) in enumerate(frames):
        kept = data[: cuts.get(i, len(data))]
        out += struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, len(kept), len(data)) + kept
    return bytes(out)


def tls_edge_bytes() -> bytes:
    """tls_edge.pcap, in the hour after the extras."""
    cap, cuts = build_tls_edge(len(AREAS) + 1)
    return pcap_bytes_cut(cap.frames, cuts)


AREAS: dict[str, Callable[[int], Capture]] = {
    "icmp.pcap": build_icmp,
    "ndp.pcap": build_ndp,
    "dns.pcap": build_dns,
    "dhcp.pcap": build_dhcp,
    "tls.pcap": build_tls,
    "http.pcap": build_http,
    "mail.pcap": build_mail,
    "ftp.pcap": build_ftp,
    "smb.pcap": build_smb,
}


def build_all() -> dict[str, bytes]:
    """Every sample file name mapped to its bytes."""
    files: dict[str, bytes] = {}
    merged: list[tuple[int, bytes]] = []
    for index, (name, builder) in enumerate(AREAS.items()):
        cap = builder(index)
        files[name] = pcap_bytes(cap.frames)
        merged += cap.frames
    merged += build_extras(len(AREAS)).frames
    merged.sort(key=lambda frame: frame[0])
    files["mixed.pcap"] = pcap_bytes(merged)
    files["mixed.pcapng"] = pcapng_bytes(merged)
    files.update((name, build()) for name, build in STANDALONE_FILES.items())
    return files


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point: write every sample into --out (default: this folder)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--out", type=Path, default=SAMPLE_DIR, help="output directory (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for name, data in build_all().items():
        (out / name).write_bytes(data)
    return 0


# --- tunnels.pcap and wifi.pcapng: encapsulations (issue 16) ---------------------------------------

TUNNEL_AREA = 20
"""Time window index of tunnels.pcap (after the areas and the extras of mixed.*)."""
WIFI_AREA = 21
"""Time window index of wifi.pcapng."""
PW_MAC_A, PW_MAC_B = "00:0c:29:00:53:01", "00:1b:21:00:53:02"
"""Inner MACs with registered vendor prefixes: tshark only takes an MPLS payload for an Ethernet
pseudowire when both MAC vendors are known."""


def _inner_dns(ident: int, name: str, client: str, server: str, answer: str | None) -> Packet:
    """An inner IPv4 DNS query (answer None) or its response."""
    query = DNS(id=ident, rd=1, qd=DNSQR(qname=name))
    if answer is None:
        return IP(src=client, dst=server, id=ident) / UDP(sport=40000 + ident, dport=53) / query
    reply = DNS(id=ident, qr=1, rd=1, ra=1, qd=DNSQR(qname=name), an=DNSRR(rrname=name, rdata=answer))
    return IP(src=server, dst=client, id=ident + 1) / UDP(sport=53, dport=40000 + ident) / reply


def _inner_eth(inner: Packet, reply: bool = False) -> Packet:
    src, dst = (PW_MAC_B, PW_MAC_A) if reply else (PW_MAC_A, PW_MAC_B)
    return Ether(src=src, dst=dst) / inner


def _outer(src: str, dst: str, ident: int) -> Packet:
    return Ether(src=ROUTER_MAC, dst=ROUTER2.mac) / IP(src=src, dst=dst, id=ident, ttl=64)


def _dns_pair(ident: int, name: str) -> tuple[Packet, Packet]:
    return (
        _inner_dns(ident, name, "198.51.100.110", "198.51.100.153", None),
        _inner_dns(ident, name, "198.51.100.110", "198.51.100.153", "198.51.100.180"),
    )


def _http_over_vxlan() -> list[Packet]:
    """A whole HTTP/1.1 exchange (handshake, GET, 200, FIN) between two inner hosts over VXLAN."""
    client, server = ("203.0.113.110", 41000), ("203.0.113.180", 80)
    request = b"GET /tunnel HTTP/1.1\r\nHost: inner.example\r\nUser-Agent: sample\r\n\r\n"
    body = b"inside a tunnel\n"
    response = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: text/plain\r\n\r\n" % len(body) + body
    c_isn, s_isn = 1000, 5000
    steps: list[tuple[bool, str, int, int, bytes]] = [
        (True, "S", c_isn, 0, b""),
        (False, "SA", s_isn, c_isn + 1, b""),
        (True, "A", c_isn + 1, s_isn + 1, b""),
        (True, "PA", c_isn + 1, s_isn + 1, request),
        (False, "PA", s_isn + 1, c_isn + 1 + len(request), response),
        (True, "FA", c_isn + 1 + len(request), s_isn + 1 + len(response), b""),
        (False, "FA", s_isn + 1 + len(response), c_isn + 2 + len(request), b""),
        (True, "A", c_isn + 2 + len(request), s_isn + 2 + len(response), b""),
    ]
    frames = []
    for i, (from_client, flags, seq, ack, data) in enumerate(steps):
        (sip, sport), (dip, dport) = (client, server) if from_client else (server, client)
        inner = IP(src=sip, dst=dip, id=100 + i) / TCP(
            sport=sport, dport=dport, flags=flags, seq=seq, ack=ack
        )
        inner = inner / Raw(data) if data else inner
        outer_src, outer_dst = (
            ("198.51.100.1", "198.51.100.2") if from_client else ("198.51.100.2", "198.51.100.1")
        )
        frames.append(
            _outer(outer_src, outer_dst, 200 + i)
            / UDP(sport=50000 + i, dport=4789)
            / VXLAN(vni=4242)
            / _inner_eth(inner, not from_client)
        )
    return frames


def build_tunnels() -> bytes:
    """tunnels.pcap: DNS inside each encapsulation tshark decapsulates, HTTP inside VXLAN, a GTP-U
    packet IPv4-fragmented on the outside, GTP-C and ESP counted."""
    cap = Capture(ts_s(TUNNEL_AREA))
    q, r = _dns_pair(1, "vxlan.example")
    cap.emit(
        _outer("198.51.100.1", "198.51.100.2", 1)
        / UDP(sport=50001, dport=4789)
        / VXLAN(vni=7)
        / _inner_eth(q)
    )
    cap.emit(
        _outer("198.51.100.2", "198.51.100.1", 2)
        / UDP(sport=50001, dport=4789)
        / VXLAN(vni=7)
        / _inner_eth(r, True),
        TURN_GAP_US,
    )
    for frame in _http_over_vxlan():
        cap.emit(frame, TURN_GAP_US)
    q, r = _dns_pair(2, "geneve.example")
    option = GeneveOptions(classid=0x0102, type=0x80, data=b"\x00\x00\x00\x01")
    for i, (inner, reply) in enumerate(((q, False), (r, True))):
        cap.emit(
            _outer("198.51.100.3", "198.51.100.4", 10 + i)
            / UDP(sport=47101, dport=6081)
            / GENEVE(vni=4242, proto=0x6558, options=[option])
            / _inner_eth(inner, reply),
            TURN_GAP_US,
        )
    q, r = _dns_pair(3, "gtp.example")
    for i, inner in enumerate((q, r)):
        gtp = GTP_U_Header(teid=0x1000 + i, E=1, next_ex=0x85) / GTPPDUSessionContainer(type=i, QFI=9)
        cap.emit(
            _outer("203.0.113.1", "203.0.113.2", 20 + i) / UDP(sport=2152, dport=2152) / gtp / inner,
            TURN_GAP_US,
        )
    big = _inner_dns(4, "big.gtp.example", "198.51.100.110", "198.51.100.153", "198.51.100.181")
    big = big / Raw(b"\x00" * 1400)  # padding after the DNS message makes the outer packet fragment
    outer = IP(src="203.0.113.2", dst="203.0.113.1", id=30, ttl=64) / UDP(sport=2152, dport=2152)
    for piece in fragment(outer / GTP_U_Header(teid=0x2000) / big, fragsize=1000):
        cap.emit(Ether(src=ROUTER_MAC, dst=ROUTER2.mac) / piece, TURN_GAP_US)
    gtpc = bytes.fromhex("320100040000000000010000")  # GTPv1-C Echo Request, sequence 1
    cap.emit(_outer("203.0.113.1", "203.0.113.2", 31) / UDP(sport=2123, dport=2123) / Raw(gtpc), TURN_GAP_US)
    q, r = _dns_pair(5, "teb.example")
    for i, (inner, reply) in enumerate(((q, False), (r, True))):
        gre = GRE(key_present=1, key=0x2000000 + i, proto=0x6558)
        cap.emit(_outer("192.0.2.61", "192.0.2.62", 40 + i) / gre / _inner_eth(inner, reply), TURN_GAP_US)
    q, r = _dns_pair(6, "erspan2.example")
    for i, (inner, reply) in enumerate(((q, False), (r, True))):
        gre = GRE(seqnum_present=1, seqence_number=i, proto=0x88BE)
        cap.emit(
            _outer("192.0.2.63", "192.0.2.64", 50 + i)
            / gre
            / ERSPAN_II(session_id=5)
            / _inner_eth(inner, reply),
            TURN_GAP_US,
        )
    q, r = _dns_pair(7, "erspan3.example")
    for i, (inner, reply) in enumerate(((q, False), (r, True))):
        gre = GRE(seqnum_present=1, seqence_number=i, proto=0x22EB)
        cap.emit(
            _outer("192.0.2.63", "192.0.2.64", 60 + i)
            / gre
            / ERSPAN_III(session_id=6)
            / _inner_eth(inner, reply),
            TURN_GAP_US,
        )
    q, r = _dns_pair(8, "nsh.example")
    for i, inner in enumerate((q, r)):
        nsh = NSH(mdtype=2, nextproto=1, spi=42, si=255 - i)
        cap.emit(Ether(src=ROUTER_MAC, dst=ROUTER2.mac, type=0x894F) / nsh / inner, TURN_GAP_US)
    q, r = _dns_pair(9, "pwcw.example")
    for i, (inner, reply) in enumerate(((q, False), (r, True))):
        pw = MPLS(label=100 + i, s=1, ttl=64) / Raw(b"\x00\x00\x00" + bytes([i])) / _inner_eth(inner, reply)
        cap.emit(Ether(src=ROUTER_MAC, dst=ROUTER2.mac) / pw, TURN_GAP_US)
    q, r = _dns_pair(10, "pwnocw.example")
    for i, (inner, reply) in enumerate(((q, False), (r, True))):
        pw = MPLS(label=200, s=0, ttl=64) / MPLS(label=300 + i, s=1, ttl=64) / _inner_eth(inner, reply)
        cap.emit(Ether(src=ROUTER_MAC, dst=ROUTER2.mac) / pw, TURN_GAP_US)
    esp = IP(src="192.0.2.71", dst="192.0.2.72", proto=50, id=70) / Raw(
        b"\x00\x00\x10\x01" + b"\x00\x00\x00\x01" + blob("esp", 48)
    )
    cap.emit(Ether(src=ROUTER_MAC, dst=ROUTER2.mac) / esp, TURN_GAP_US)
    return pcap_bytes(cap.frames)


def _radiotap(fcs: bool) -> Packet:
    """radiotap with TSFT (8-byte aligned), Flags, Rate and Channel."""
    return RadioTap(
        present="TSFT+Flags+Rate+Channel",
        mac_timestamp=1,
        Flags="FCS" if fcs else 0,
        Rate=2,
        ChannelFrequency=2437,
        ChannelFlags="CCK+2GHz",
    )


def _wlan_data(
    to_ds: bool, qos: bool, htc: bool = False, protected: bool = False, four: bool = False
) -> Packet:
    ds = 0x03 if four else (0x01 if to_ds else 0x02)
    flags = ds | (0x40 if protected else 0) | (0x80 if htc else 0)
    sta, ap, gw = "00:0c:29:00:11:01", "00:1b:21:00:11:02", "00:00:5e:00:11:03"
    if four:
        addrs = {"addr1": ap, "addr2": sta, "addr3": gw, "addr4": sta}
    elif to_ds:
        addrs = {"addr1": ap, "addr2": sta, "addr3": gw}
    else:
        addrs = {"addr1": sta, "addr2": ap, "addr3": gw}
    hdr = Dot11(type=2, subtype=8 if qos else 0, FCfield=flags, **addrs)
    if qos:
        hdr = hdr / Dot11QoS(TID=0)
        if htc:
            hdr = hdr / Raw(b"\x00\x00\x00\x00")  # HT Control
    return hdr


def _snap(inner: Packet) -> Packet:
    return LLC(dsap=0xAA, ssap=0xAA, ctrl=3) / SNAP(OUI=0, code=0x0800) / inner


def _with_fcs(frame: bytes) -> bytes:
    return frame + struct.pack("<I", zlib.crc32(frame) & 0xFFFFFFFF)


def _ppi_header(fcs: bool) -> bytes:
    """PPI with one 802.11-Common field (TSF, flags with the FCS bit, rate, channel, ...)."""
    common = struct.pack("<QHHHHbb", 1, 0x0001 if fcs else 0, 4, 2437, 0x00A0, -40, -90)
    field = struct.pack("<HH", 2, len(common)) + common
    return struct.pack("<BBHI", 0, 0, 8 + len(field), 105) + field


def build_wifi() -> bytes:
    """wifi.pcapng: radiotap (with FCS), PPI and plain 802.11 interfaces; DNS in Data, QoS Data, +HTC and
    4-address frames; a beacon, a protected frame and a Null frame that are only counted."""
    cap = Capture(ts_s(WIFI_AREA))
    frames: list[tuple[int, int, bytes]] = []  # (interface, ts, bytes)

    def add(iface: int, frame: bytes) -> None:
        cap.emit(frame, TURN_GAP_US)
        frames.append((iface, cap.frames[-1][0], frame))

    for n, (to_ds, qos, htc) in enumerate(((True, False, False), (False, True, False), (True, True, True))):
        q, r = _dns_pair(20 + n, f"wifi{n}.example")
        add(0, bytes(_radiotap(True)) + _with_fcs(bytes(_wlan_data(to_ds, qos, htc) / _snap(q))))
        add(0, bytes(_radiotap(True)) + _with_fcs(bytes(_wlan_data(not to_ds, qos, htc) / _snap(r))))
    beacon = Dot11(
        type=0, subtype=8, addr1="ff:ff:ff:ff:ff:ff", addr2="00:1b:21:00:11:02", addr3="00:1b:21:00:11:02"
    )
    beacon = beacon / Dot11Beacon(cap="ESS") / Dot11Elt(ID="SSID", info=b"sample")
    add(0, bytes(_radiotap(False)) + bytes(beacon))
    add(0, bytes(_radiotap(False)) + bytes(_wlan_data(True, True, protected=True) / Raw(blob("ccmp", 40))))
    add(
        0,
        bytes(_radiotap(False))
        + bytes(
            Dot11(
                type=2,
                subtype=4,
                FCfield=0x01,
                addr1="00:1b:21:00:11:02",
                addr2="00:0c:29:00:11:01",
                addr3="00:1b:21:00:11:02",
            )
        ),
    )
    q, r = _dns_pair(30, "ppi.example")
    add(1, _ppi_header(True) + _with_fcs(bytes(_wlan_data(True, True) / _snap(q))))
    add(1, _ppi_header(False) + bytes(_wlan_data(False, True) / _snap(r)))
    q, r = _dns_pair(31, "wds.example")
    add(2, bytes(_wlan_data(True, False, four=True) / _snap(q)))
    add(2, bytes(_wlan_data(True, True, four=True) / _snap(r)))
    out = bytearray(pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
    for linktype in (127, 192, 105):
        out += pcapng_block(1, struct.pack("<HHI", linktype, 0, SNAPLEN))
    for iface, ts, data in frames:
        body = struct.pack("<IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data))
        out += pcapng_block(6, body + data + b"\0" * (-len(data) % 4))
    return bytes(out)


# ---------------------------------------------------------------------------------------------------
# QUIC (sample_pcaps/quic.pcap, a file of its own: not merged into mixed.*)
# ---------------------------------------------------------------------------------------------------
# Initial packets are protected exactly as RFC 9001 §5 (v1) and RFC 9369 §3.3 (v2) say, with keys
# derived from fixed Destination Connection IDs, fixed packet numbers and fixed TLS randoms, so the
# file is reproducible byte for byte. Handshake and 1-RTT packets carry fixed opaque bytes (nobody
# can open them without the TLS secrets, as in any real capture).

QUIC_AREA = 20
"""Time window of quic.pcap (beyond the areas and extras of mixed.*)."""
QUIC_V1, QUIC_V2, QUIC_DRAFT29 = 0x00000001, 0x6B3343CF, 0xFF00001D
QUIC_SALTS = {
    QUIC_V1: bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a"),
    QUIC_V2: bytes.fromhex("0dede3def700a6db819381be6e269dcbf9bd2ed9"),
    QUIC_DRAFT29: bytes.fromhex("afbfec289993d24c9e9786f19c6111e04390a899"),
}
QUIC_TYPE_BITS = {  # version -> {packet type: long-header type bits}
    QUIC_V1: {"initial": 0, "0rtt": 1, "handshake": 2, "retry": 3},
    QUIC_DRAFT29: {"initial": 0, "0rtt": 1, "handshake": 2, "retry": 3},
    QUIC_V2: {"retry": 0, "initial": 1, "0rtt": 2, "handshake": 3},
}
RETRY_KEY_V1 = bytes.fromhex("be0c690b9f66575a1d766b54e368c84e")
RETRY_NONCE_V1 = bytes.fromhex("461599d35d632bf2239825bb")
QUIC_MIN_DATAGRAM = 1200
QUIC_SERVER = remote("203.0.113.80")
QUIC_SERVER2 = remote("198.51.100.81")


def quic_varint(n: int) -> bytes:
    """QUIC variable-length integer (1, 2 or 4 bytes here)."""
    if n < 0x40:
        return bytes([n])
    if n < 0x4000:
        return struct.pack("!H", 0x4000 | n)
    return struct.pack("!I", 0x80000000 | n)


def quic_expand_label(secret: bytes, label: str, length: int) -> bytes:
    """HKDF-Expand-Label (RFC 8446 §7.1), empty context, one HMAC block."""
    full = b"tls13 " + label.encode()
    info = struct.pack("!H", length) + u8(full) + b"\x00"
    return hmac.new(secret, info + b"\x01", hashlib.sha256).digest()[:length]


def quic_initial_keys(version: int, dcid: bytes, server: bool) -> tuple[bytes, bytes, bytes]:
    """(key, iv, hp) of the client's or server's Initial packets."""
    secret = hmac.new(QUIC_SALTS[version], dcid, hashlib.sha256).digest()
    side = quic_expand_label(secret, "server in" if server else "client in", 32)
    prefix = "quicv2 " if version == QUIC_V2 else "quic "
    return (
        quic_expand_label(side, prefix + "key", 16),
        quic_expand_label(side, prefix + "iv", 12),
        quic_expand_label(side, prefix + "hp", 16),
    )


def quic_crypto(offset: int, data: bytes) -> bytes:
    """CRYPTO frame."""
    return b"\x06" + quic_varint(offset) + quic_varint(len(data)) + data


def quic_ack(largest: int) -> bytes:
    """ACK frame acknowledging packets 0..largest."""
    return b"\x02" + quic_varint(largest) + quic_varint(0) + quic_varint(0) + quic_varint(largest)


def quic_long_header(version: int, kind: str, dcid: bytes, scid: bytes, low_bits: int) -> bytes:
    """Long header up to and including the SCID."""
    first = 0xC0 | (QUIC_TYPE_BITS[version][kind] << 4) | low_bits
    return bytes([first]) + struct.pack("!I", version) + u8(dcid) + u8(scid)


def quic_initial(
    version: int,
    dcid: bytes,
    scid: bytes,
    pn: int,
    frames: bytes,
    keys: tuple[bytes, bytes, bytes],
    *,
    token: bytes = b"",
    pad_to: int = 0,
) -> bytes:
    """One protected Initial packet (2-byte packet number), padded with PADDING frames to `pad_to`."""
    key, iv, hp = keys
    pn_len = 2
    head = quic_long_header(version, "initial", dcid, scid, pn_len - 1) + quic_varint(len(token)) + token
    overhead = len(head) + 2 + pn_len + 16  # 2-byte Length varint, packet number, AEAD tag
    if overhead + len(frames) < pad_to:
        frames += bytes(pad_to - overhead - len(frames))
    header = head + struct.pack("!H", 0x4000 | (pn_len + len(frames) + 16)) + pn.to_bytes(pn_len, "big")
    nonce = bytes(a ^ b for a, b in zip(iv, pn.to_bytes(12, "big"), strict=True))
    sealed = AESGCM(key).encrypt(nonce, frames, header)
    sample = sealed[4 - pn_len : 4 - pn_len + 16]
    enc = Cipher(algorithms.AES(hp), modes.ECB()).encryptor()
    mask = enc.update(sample) + enc.finalize()
    protected = bytearray(header)
    protected[0] ^= mask[0] & 0x0F
    for i in range(pn_len):
        protected[len(header) - pn_len + i] ^= mask[1 + i]
    return bytes(protected) + sealed


def quic_opaque(version: int, kind: str, dcid: bytes, scid: bytes, label: str, size: int) -> bytes:
    """A Handshake or 0-RTT packet whose protected bytes are fixed filler (no keys to open it)."""
    body = blob(label, size)
    return quic_long_header(version, kind, dcid, scid, 1) + quic_varint(size) + body


def quic_short(dcid: bytes, label: str, size: int) -> bytes:
    """A 1-RTT (short header) packet with fixed opaque contents."""
    return bytes([0x41]) + dcid + blob(label, size)


def quic_retry(dcid: bytes, scid: bytes, odcid: bytes, token: bytes) -> bytes:
    """A v1 Retry with its integrity tag (RFC 9001 §5.8)."""
    packet = quic_long_header(QUIC_V1, "retry", dcid, scid, 0) + token
    tag = AESGCM(RETRY_KEY_V1).encrypt(RETRY_NONCE_V1, b"", u8(odcid) + packet)
    return packet + tag


def quic_version_negotiation(dcid: bytes, scid: bytes, versions: Sequence[int]) -> bytes:
    """Version Negotiation (version 0) listing `versions`."""
    return (
        b"\x80"
        + struct.pack("!I", 0)
        + u8(dcid)
        + u8(scid)
        + b"".join(struct.pack("!I", v) for v in versions)
    )


def quic_hello(label: str, sni: str, alpn: Sequence[str] = ("h3",)) -> bytes:
    """A TLS 1.3 ClientHello handshake message (no record header), as QUIC carries it."""
    return client_hello(label, sni, tls13=True, alpn=alpn)[5:]


def quic_server_hello(label: str) -> bytes:
    """A TLS 1.3 ServerHello handshake message (no record header)."""
    return tls13_server_hello(label)[5:]


def build_quic(area: int) -> Capture:
    """QUIC v1 with a ClientHello in two Initials (CRYPTO frames out of order), coalesced server
    Initial+Handshake+1-RTT; QUIC v2; a client-only v1 Initial on port 9443; a v1 Retry; a draft-29
    Initial answered by Version Negotiation, then v1."""
    cap = Capture(ts_s(area))
    srv = QUIC_SERVER

    # 1. v1 to quic.example.com: the ClientHello in two Initials, CRYPTO frames out of offset order.
    dcid, cscid, sscid = blob("quic1/dcid", 8), blob("quic1/cscid", 8), blob("quic1/sscid", 8)
    ckeys, skeys = quic_initial_keys(QUIC_V1, dcid, False), quic_initial_keys(QUIC_V1, dcid, True)
    hello = quic_hello("quic1", "quic.example.com")
    a, b = 120, 240
    first = quic_crypto(b, hello[b:]) + bytes(3) + quic_crypto(0, hello[:a]) + b"\x01"
    second = b"\x01" + bytes(2) + quic_crypto(a, hello[a:b])
    udp(cap, CLIENT, srv, 50443, 443, quic_initial(QUIC_V1, dcid, cscid, 0, first, ckeys, pad_to=1200), 0)
    udp(cap, CLIENT, srv, 50443, 443, quic_initial(QUIC_V1, dcid, cscid, 1, second, ckeys, pad_to=1200), 150)
    shello = quic_crypto(0, quic_server_hello("quic1"))
    datagram = (
        quic_initial(QUIC_V1, cscid, sscid, 0, quic_ack(1) + shello, skeys)
        + quic_opaque(QUIC_V1, "handshake", cscid, sscid, "quic1/server-handshake", 900)
        + quic_short(cscid, "quic1/server-1rtt", 60)
    )
    udp(cap, srv, CLIENT, 443, 50443, datagram)
    ack = quic_initial(QUIC_V1, sscid, cscid, 2, quic_ack(0), ckeys)
    hs_pkt = quic_opaque(QUIC_V1, "handshake", sscid, cscid, "quic1/client-handshake", 80)
    pad = QUIC_MIN_DATAGRAM - len(ack) - len(hs_pkt)
    ack = quic_initial(QUIC_V1, sscid, cscid, 2, quic_ack(0), ckeys, pad_to=len(ack) + pad)
    udp(cap, CLIENT, srv, 50443, 443, ack + hs_pkt, 400)
    for i in range(3):
        udp(cap, CLIENT, srv, 50443, 443, quic_short(sscid, f"quic1/c{i}", 40 + 30 * i), 300)
        udp(cap, srv, CLIENT, 443, 50443, quic_short(cscid, f"quic1/s{i}", 200 + 100 * i))

    # 2. v2 to v2.example.net: one Initial each way (the server's coalesced with a Handshake packet).
    dcid, cscid, sscid = blob("quic2/dcid", 12), blob("quic2/cscid", 4), blob("quic2/sscid", 4)
    ckeys, skeys = quic_initial_keys(QUIC_V2, dcid, False), quic_initial_keys(QUIC_V2, dcid, True)
    frames = quic_crypto(0, quic_hello("quic2", "v2.example.net"))
    udp(
        cap,
        CLIENT2,
        srv,
        51443,
        443,
        quic_initial(QUIC_V2, dcid, cscid, 0, frames, ckeys, pad_to=1200),
        5_000,
    )
    datagram = quic_initial(QUIC_V2, cscid, sscid, 0, quic_crypto(0, quic_server_hello("quic2")), skeys)
    datagram += quic_opaque(QUIC_V2, "handshake", cscid, sscid, "quic2/server-handshake", 700)
    udp(cap, srv, CLIENT2, 443, 51443, datagram)
    udp(cap, CLIENT2, srv, 51443, 443, quic_short(sscid, "quic2/c0", 50), 200)

    # 3. v1 on port 9443, client only (no answer): found by its payload, not its port.
    dcid = blob("quic3/dcid", 8)
    frames = quic_crypto(0, quic_hello("quic3", "alt-port.example.org"))
    keys = quic_initial_keys(QUIC_V1, dcid, False)
    udp(
        cap,
        CLIENT,
        QUIC_SERVER2,
        52443,
        9443,
        quic_initial(QUIC_V1, dcid, b"", 0, frames, keys, pad_to=1200),
        5_000,
    )

    # 4. v1 with a Retry: the client sends its ClientHello again to the new DCID, with the token.
    odcid, cscid, rscid = blob("quic4/dcid", 8), blob("quic4/cscid", 8), blob("quic4/rscid", 8)
    hello = quic_crypto(0, quic_hello("quic4", "retry.example.com"))
    keys = quic_initial_keys(QUIC_V1, odcid, False)
    udp(cap, CLIENT, srv, 53443, 443, quic_initial(QUIC_V1, odcid, cscid, 0, hello, keys, pad_to=1200), 5_000)
    token = blob("quic4/token", 32)
    udp(cap, srv, CLIENT, 443, 53443, quic_retry(cscid, rscid, odcid, token))
    keys = quic_initial_keys(QUIC_V1, rscid, False)
    datagram = quic_initial(QUIC_V1, rscid, cscid, 1, hello, keys, token=token, pad_to=1200)
    udp(cap, CLIENT, srv, 53443, 443, datagram)
    skeys = quic_initial_keys(QUIC_V1, rscid, True)
    frames = quic_ack(1) + quic_crypto(0, quic_server_hello("quic4"))
    udp(cap, srv, CLIENT, 443, 53443, quic_initial(QUIC_V1, cscid, rscid, 0, frames, skeys))

    # 5. A draft-29 Initial answered by Version Negotiation (v1, v2); the client starts over in v1.
    dcid, cscid = blob("quic5/dcid", 8), blob("quic5/cscid", 8)
    frames = quic_crypto(0, quic_hello("quic5", "vn.example.com"))
    keys = quic_initial_keys(QUIC_DRAFT29, dcid, False)
    udp(
        cap,
        CLIENT,
        srv,
        54443,
        443,
        quic_initial(QUIC_DRAFT29, dcid, cscid, 0, frames, keys, pad_to=1200),
        5_000,
    )
    udp(cap, srv, CLIENT, 443, 54443, quic_version_negotiation(cscid, dcid, [QUIC_V1, QUIC_V2]))
    dcid = blob("quic5/dcid-v1", 8)
    keys = quic_initial_keys(QUIC_V1, dcid, False)
    udp(cap, CLIENT, srv, 54443, 443, quic_initial(QUIC_V1, dcid, cscid, 0, frames, keys, pad_to=1200))
    return cap


STANDALONE_FILES: dict[str, Callable[[], bytes]] = {
    "tunnels.pcap": build_tunnels,
    "wifi.pcapng": build_wifi,
    "tls_edge.pcap": tls_edge_bytes,
    "quic.pcap": lambda: pcap_bytes(build_quic(QUIC_AREA).frames),
    "services.pcap": lambda: pcap_bytes(build_services(SERVICES_AREA).frames),
}
"""Sample files outside the areas and mixed.* (other link types, encapsulations)."""


if __name__ == "__main__":
    raise SystemExit(main())
