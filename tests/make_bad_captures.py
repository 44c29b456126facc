"""The crafted bad-capture corpus: hostile or broken captures, built from source, never committed.

Every case of the robustness issue is one function here that returns the bytes of one capture file
(classic pcap, pcapng or gzip). `tests/test_robustness.py` builds them in memory and states, per case,
what the analyzer must do with it (exit code, error line, packets still counted, malformed reason,
time and memory bounds). Write them all to a directory to look at them with tshark:

    python tests/make_bad_captures.py OUTDIR [CASE ...]

Packets are built by hand with `struct` (no scapy: building must be fast and exact, including the
lies). Checksums are left at zero: neither tshark (by default) nor the analyzer verifies them.
"""

from __future__ import annotations

import argparse
import gzip
import io
import random
import struct
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from analyzer.capture import writer

# --- numbers the corpus is built around ----------------------------------------------------------

TS0 = 1_700_000_000.0
"""Packet time of the first frame of every case."""
CLIENT, SERVER, RESOLVER = "10.0.0.1", "10.0.0.2", "10.0.0.53"
"""IPv4 endpoints used throughout."""
CLIENT6, SERVER6 = "2001:db8::1", "2001:db8::2"
"""IPv6 endpoints used throughout."""
MAC_A, MAC_B = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")
"""Locally administered MAC addresses."""
GOOD_NAME = "good.example.com"
"""Name of the well-formed DNS query that cases mix in, to prove good packets still count."""

VLAN_TAGS = 300
"""Stacked 802.1Q tags in `stacked_vlans` ("hundreds")."""
IP_IN_IP_DEPTH = 50
"""Nested IPv4-in-IPv4 headers in `ip_in_ip_deep`."""
IPV6_EXT_HEADERS = 200
"""Destination-options headers chained in `ipv6_ext_chain`."""
FRAGMENT_DATAGRAMS = 4096 + 600
"""Never-completed datagrams in `fragments_never_completed`: past the decoder's 4096-datagram limit."""
FRAGMENT_SIZE = 64
"""Bytes per first fragment there (small: the datagram count is the limit hit)."""
FRAGMENT_FLOOD_DATAGRAMS = 6000
"""Never-completed datagrams in `fragments_byte_flood`."""
FRAGMENT_FLOOD_SIZE = 8192
"""Bytes per first fragment there: 6000 x 8 KiB = 47 MiB, past the decoder's 16 MiB byte limit."""
OOO_SEGMENTS = 100_000
"""One-byte out-of-order TCP segments in `tcp_ooo_100k`."""
BUFFER_FLOOD_BYTES = (1 << 20) + (512 << 10)
"""Bytes sent after a hole in `tcp_buffer_limit`: 1.5 MiB, past the 1 MiB per-direction limit."""
TLS_CLAIM = 0xFFFFFF
"""Handshake length claimed in `tls_handshake_16mb` (the 24-bit maximum, ~16 MiB)."""
TLS_FOLLOWING_BYTES = 16 << 20
"""Bytes of records that follow the lying handshake header there (what a naive reader would keep)."""
LONG_LINE = 1 << 20
"""Bytes of the newline-less SMTP/FTP lines."""
DNS_TOO_MANY = 3000
"""Questions in `dns_too_many_records` (the parser stops at 2048)."""
FLOOD_FLOWS = 3000
"""UDP flows in `flow_flood` (the test shrinks the flow table below this)."""
DNS_UNANSWERED = 3000
"""Unanswered DNS queries in `dns_pending_flood` (the test shrinks the pending table below this)."""
BOMB_BYTES = 64 << 20
"""Decompressed size of the gzip bombs: 4x the reader's 16 MiB floor, at a ratio near 1000x."""
BOMB_RECORD = 262144
"""caplen of the records in `gzip_bomb_big_records` (the reader's MAX_CAPLEN)."""

HOSTILE = {
    "ansi": "\x1b[31mRED\x1b[0m\x1b]0;pwned\x07",
    "cr": "line\rover",
    "nul": "nul\x00byte",
    "script": "<script>alert(1)</script>",
    "formula_eq": "=HYPERLINK(1)",
    "formula_plus": "+SUM(1)",
    "formula_minus": "-SUM(1)",
    "formula_at": "@SUM(1)",
    "pipe": "cell|split|attempt",
}
"""Hostile strings planted in names, hosts, banners and SNIs of `hostile_strings`."""

# --- file formats -------------------------------------------------------------------------------

Frame = tuple[float, bytes]
"""(timestamp, frame bytes)."""


def pcap_header(linktype: int = 1, snaplen: int = 65535) -> bytes:
    """Little-endian microsecond classic pcap file header."""
    return writer.file_header(linktype, snaplen)


def pcap_record(ts: float, data: bytes, caplen: int | None = None, wirelen: int | None = None) -> bytes:
    """One classic pcap record; caplen/wirelen may lie."""
    sec = int(ts)
    usec = round((ts - sec) * 1e6)
    cap = len(data) if caplen is None else caplen
    return struct.pack("<IIII", sec, usec, cap, len(data) if wirelen is None else wirelen) + data


def pcap(frames: Iterable[Frame], linktype: int = 1, snaplen: int = 65535) -> bytes:
    """A classic pcap file of well-framed records."""
    return pcap_header(linktype, snaplen) + b"".join(pcap_record(ts, data) for ts, data in frames)


def ng_block(btype: int, body: bytes, length: int | None = None, trailer: int | None = None) -> bytes:
    """A little-endian pcapng block; length and trailing copy may lie."""
    body += b"\x00" * (-len(body) % 4)
    real = 12 + len(body)
    head = struct.pack("<II", btype, real if length is None else length)
    return head + body + struct.pack("<I", real if trailer is None else trailer)


def ng_shb() -> bytes:
    return ng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))


def ng_idb(linktype: int = 1) -> bytes:
    return ng_block(1, struct.pack("<HHI", linktype, 0, 0))


def ng_epb(iid: int, ts: float, data: bytes, length: int | None = None, trailer: int | None = None) -> bytes:
    ticks = round(ts * 1e6)
    body = struct.pack("<IIIII", iid, ticks >> 32, ticks & 0xFFFFFFFF, len(data), len(data)) + data
    return ng_block(6, body, length, trailer)


def gzip_of(parts: Iterable[bytes]) -> bytes:
    """gzip (level 9) of the concatenated parts, streamed."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9, mtime=0) as gz:
        for part in parts:
            gz.write(part)
    return out.getvalue()


# --- packets ------------------------------------------------------------------------------------


def ip4(text: str) -> bytes:
    return bytes(int(x) for x in text.split("."))


def ip6(text: str) -> bytes:
    import ipaddress

    return ipaddress.IPv6Address(text).packed


def eth(payload: bytes, ethertype: int = 0x0800, src: bytes = MAC_A, dst: bytes = MAC_B) -> bytes:
    return dst + src + struct.pack("!H", ethertype) + payload


def ipv4(
    payload: bytes,
    proto: int,
    src: str = CLIENT,
    dst: str = SERVER,
    *,
    ident: int = 1,
    frag: int = 0,
    ihl: int = 5,
    total: int | None = None,
    options: bytes = b"",
) -> bytes:
    """An IPv4 header (+ payload); `frag` is the raw flags/fragment-offset field."""
    length = 20 + len(options) + len(payload) if total is None else total
    head = struct.pack(
        "!BBHHHBBH4s4s", 0x40 | ihl, 0, length & 0xFFFF, ident, frag, 64, proto, 0, ip4(src), ip4(dst)
    )
    return head + options + payload


def ipv6(payload: bytes, nh: int, src: str = CLIENT6, dst: str = SERVER6, plen: int | None = None) -> bytes:
    size = len(payload) if plen is None else plen
    return struct.pack("!IHBB16s16s", 6 << 28, size & 0xFFFF, nh, 64, ip6(src), ip6(dst)) + payload


def udp(sport: int, dport: int, payload: bytes, length: int | None = None) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload) if length is None else length, 0) + payload


TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def tcp(sport: int, dport: int, seq: int, ack: int, flags: int, payload: bytes = b"", doff: int = 5) -> bytes:
    head = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack, doff << 4, flags, 65535, 0, 0)
    return head + b"\x00" * max(0, doff * 4 - 20) + payload


def udp4(payload: bytes, sport: int, dport: int, src: str = CLIENT, dst: str = SERVER) -> bytes:
    """An Ethernet/IPv4/UDP frame."""
    return eth(ipv4(udp(sport, dport, payload), 17, src, dst))


def dns_name(name: str | bytes) -> bytes:
    raw = name.encode("latin-1") if isinstance(name, str) else name
    return b"".join(bytes([len(label)]) + label for label in raw.split(b".") if label) + b"\x00"


def dns_query(name: str | bytes, txid: int = 0x1234, qtype: int = 1) -> bytes:
    return struct.pack("!HHHHHH", txid, 0x0100, 1, 0, 0, 0) + dns_name(name) + struct.pack("!HH", qtype, 1)


def good_dns(ts: float, txid: int = 0x4242) -> Frame:
    """A well-formed DNS query frame: the good packet every file-level case keeps."""
    return (ts, udp4(dns_query(GOOD_NAME, txid), 40000 + txid % 1000, 53, CLIENT, RESOLVER))


class TcpSession:
    """Builds the frames of one TCP connection: handshake, data each way, FIN exchange."""

    def __init__(self, cport: int, sport: int, ts: float = TS0, src: str = CLIENT, dst: str = SERVER) -> None:
        self.cport, self.sport, self.src, self.dst = cport, sport, src, dst
        self.ts = ts
        self.cseq, self.sseq = 1000, 5000  # next sequence number of each side
        self.frames: list[Frame] = []

    def _tick(self) -> float:
        self.ts += 0.001
        return self.ts

    def segment(self, from_client: bool, flags: int, payload: bytes = b"", seq: int | None = None) -> bytes:
        """One frame; `seq` overrides the side's next sequence number (and does not advance it)."""
        if from_client:
            s = self.cseq if seq is None else seq
            seg = tcp(self.cport, self.sport, s, self.sseq, flags, payload)
            return eth(ipv4(seg, 6, self.src, self.dst))
        s = self.sseq if seq is None else seq
        seg = tcp(self.sport, self.cport, s, self.cseq, flags, payload)
        return eth(ipv4(seg, 6, self.dst, self.src), src=MAC_B, dst=MAC_A)

    def add(self, frame: bytes) -> None:
        self.frames.append((self._tick(), frame))

    def handshake(self) -> TcpSession:
        self.add(self.segment(True, TCP_SYN))
        self.cseq += 1
        self.add(self.segment(False, TCP_SYN | TCP_ACK))
        self.sseq += 1
        self.add(self.segment(True, TCP_ACK))
        return self

    def send(self, from_client: bool, data: bytes, mss: int = 1460) -> TcpSession:
        for i in range(0, len(data), mss):
            chunk = data[i : i + mss]
            self.add(self.segment(from_client, TCP_PSH | TCP_ACK, chunk))
            if from_client:
                self.cseq += len(chunk)
            else:
                self.sseq += len(chunk)
        return self

    def close(self) -> TcpSession:
        self.add(self.segment(True, TCP_FIN | TCP_ACK))
        self.cseq += 1
        self.add(self.segment(False, TCP_FIN | TCP_ACK))
        self.sseq += 1
        self.add(self.segment(True, TCP_ACK))
        return self


# --- TLS ----------------------------------------------------------------------------------------


def tls_record(content_type: int, body: bytes, version: int = 0x0303, length: int | None = None) -> bytes:
    return struct.pack("!BHH", content_type, version, len(body) if length is None else length) + body


def client_hello(sni: bytes) -> bytes:
    """A TLS 1.2 ClientHello handshake message with a server_name extension."""
    server_name = struct.pack("!BH", 0, len(sni)) + sni
    ext = struct.pack("!HHH", 0, len(server_name) + 2, len(server_name)) + server_name
    ciphers = struct.pack("!HHH", 4, 0xC02F, 0x009C)
    body = struct.pack("!H", 0x0303) + bytes(32) + b"\x00" + ciphers + b"\x01\x00"
    body += struct.pack("!H", len(ext)) + ext
    return struct.pack("!B", 1) + len(body).to_bytes(3, "big") + body


# --- the cases ----------------------------------------------------------------------------------


def not_a_capture() -> bytes:
    """Text, not a capture."""
    return b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n" * 4


def empty() -> bytes:
    """A zero-byte file."""
    return b""


def truncated_file_header() -> bytes:
    """10 of the 24 bytes of a classic pcap header."""
    return pcap_header()[:10]


def truncated_record_header() -> bytes:
    """Three good frames, then 10 bytes of a record header."""
    good = pcap([good_dns(TS0 + i, i) for i in range(3)])
    return good + pcap_record(TS0 + 3, b"")[:10]


def truncated_record_data() -> bytes:
    """Three good frames, then a record announcing 100 bytes with only 40 present."""
    good = pcap([good_dns(TS0 + i, i) for i in range(3)])
    return good + pcap_record(TS0 + 3, bytes(40), caplen=100, wirelen=100)


def caplen_beyond_snaplen() -> bytes:
    """A header announcing snaplen 64 over frames of ~80 bytes (accepted, as Wireshark does)."""
    return pcap([good_dns(TS0 + i, i) for i in range(3)], snaplen=64)


def caplen_2_31() -> bytes:
    """Two good frames, then a record claiming caplen 2^31 (and some bytes behind it)."""
    good = pcap([good_dns(TS0 + i, i) for i in range(2)])
    return good + pcap_record(TS0 + 2, bytes(64), caplen=1 << 31, wirelen=1 << 31)


def _ng_good(n: int) -> bytes:
    return ng_shb() + ng_idb() + b"".join(ng_epb(0, *good_dns(TS0 + i, i)) for i in range(n))


def pcapng_huge_block_length() -> bytes:
    """Two good EPBs, then an EPB whose length says 2 GiB."""
    return _ng_good(2) + ng_epb(0, *good_dns(TS0 + 9, 9), length=0x7FFFFFF0)


def pcapng_unaligned_block_length() -> bytes:
    """Two good EPBs, then a block whose length is not a multiple of 4."""
    return _ng_good(2) + ng_epb(0, *good_dns(TS0 + 9, 9), length=61)


def pcapng_trailer_mismatch() -> bytes:
    """Two good EPBs, then an EPB whose trailing length copy differs from its header."""
    return _ng_good(2) + ng_epb(0, *good_dns(TS0 + 9, 9), trailer=1024) + ng_epb(0, *good_dns(TS0 + 10, 10))


def pcapng_unknown_interface() -> bytes:
    """Three EPBs on interface 0 (the only one) and three naming interfaces 1, 7 and 65535."""
    blocks = [ng_shb(), ng_idb()]
    for i, iid in enumerate([0, 1, 0, 7, 65535, 0]):
        blocks.append(ng_epb(iid, *good_dns(TS0 + i, i)))
    return b"".join(blocks)


def unknown_linktype() -> bytes:
    """Five frames on link type 147 (LINKTYPE_USER0), which nothing decodes."""
    return pcap([good_dns(TS0 + i, i) for i in range(5)], linktype=147)


def runt_frames() -> bytes:
    """Ethernet frames of 0, 1, 6 and 13 bytes; IPv4 cut at 10 bytes; TCP cut at 8; one good."""
    frames: list[Frame] = [(TS0 + i, bytes(n)) for i, n in enumerate([0, 1, 6, 13])]
    frames.append((TS0 + 4, eth(ipv4(b"", 17)[:10])))
    frames.append((TS0 + 5, eth(ipv4(tcp(1, 2, 0, 0, TCP_SYN)[:8], 6))))
    frames.append(good_dns(TS0 + 6))
    return pcap(frames)


def stacked_vlans() -> bytes:
    """A frame with 300 stacked 802.1Q tags before its IPv4 header, and one good frame."""
    inner = ipv4(udp(40000, 53, dns_query(GOOD_NAME)), 17, CLIENT, RESOLVER)
    tags = b"".join(struct.pack("!HH", i & 0x0FFF, 0x8100) for i in range(VLAN_TAGS - 1))
    tags += struct.pack("!HH", 7, 0x0800)
    return pcap([(TS0, eth(tags + inner, 0x8100)), good_dns(TS0 + 1)])


def ipv4_ihl_below_5() -> bytes:
    """IPv4 headers with IHL 0 to 4, and one good frame."""
    frames: list[Frame] = []
    for ihl in range(5):
        frames.append((TS0 + ihl, eth(ipv4(udp(1, 53, dns_query(GOOD_NAME)), 17, ihl=ihl))))
    frames.append(good_dns(TS0 + 5))
    return pcap(frames)


def ipv4_lying_total_length() -> bytes:
    """Total length below the header (10), far beyond the frame (1500), and cutting the UDP header's
    announced payload short (DNS left with 4 bytes)."""
    query = udp(40000, 53, dns_query(GOOD_NAME))
    return pcap(
        [
            (TS0, eth(ipv4(query, 17, CLIENT, RESOLVER, total=10))),
            (TS0 + 1, eth(ipv4(query, 17, CLIENT, RESOLVER, total=1500))),
            (TS0 + 2, eth(ipv4(query, 17, CLIENT, RESOLVER, total=20 + 8 + 4))),
        ]
    )


def fragments_overlapping() -> bytes:
    """A DNS query in three IPv4 fragments, plus a fourth overlapping the second with other bytes
    (arriving after it: the first data wins, as in Wireshark and Linux)."""
    datagram = udp(40000, 53, dns_query(GOOD_NAME + ".padding.padding"))
    parts = [datagram[0:16], datagram[16:32], datagram[32:]]
    evil = bytes(b ^ 0xFF for b in datagram[16:32])

    def frag(off: int, data: bytes, more: bool) -> bytes:
        return eth(ipv4(data, 17, CLIENT, RESOLVER, ident=77, frag=(0x2000 if more else 0) | off // 8))

    return pcap(
        [
            (TS0, frag(0, parts[0], True)),
            (TS0 + 0.1, frag(16, parts[1], True)),
            (TS0 + 0.2, frag(16, evil, True)),
            (TS0 + 0.3, frag(32, parts[2], False)),
        ]
    )


def _first_fragments(count: int, size: int) -> list[Frame]:
    payload = bytes(size)
    return [
        (TS0 + i * 1e-4, eth(ipv4(payload, 17, CLIENT, SERVER, ident=i & 0xFFFF, frag=0x2000)))
        for i in range(count)
    ]


def fragments_never_completed() -> bytes:
    """4696 datagrams of which only a small first fragment is ever sent (the datagram limit)."""
    return pcap([*_first_fragments(FRAGMENT_DATAGRAMS, FRAGMENT_SIZE), good_dns(TS0 + 1)])


def fragments_byte_flood() -> bytes:
    """6000 datagrams of which only an 8 KiB first fragment is ever sent (the byte limit)."""
    return pcap(_first_fragments(FRAGMENT_FLOOD_DATAGRAMS, FRAGMENT_FLOOD_SIZE))


def ip_in_ip_deep() -> bytes:
    """50 nested IPv4-in-IPv4 headers around a DNS query, and one good frame."""
    inner = ipv4(udp(40000, 53, dns_query(GOOD_NAME)), 17, CLIENT, RESOLVER)
    for _ in range(IP_IN_IP_DEPTH):
        inner = ipv4(inner, 4, CLIENT, SERVER)
    return pcap([(TS0, eth(inner)), good_dns(TS0 + 1)])


def ipv6_ext_chain() -> bytes:
    """An IPv6 packet with 200 destination-options headers before UDP, and one good frame."""
    payload = udp(40000, 53, dns_query(GOOD_NAME))
    chain = b""
    for i in range(IPV6_EXT_HEADERS):
        nxt = 17 if i == IPV6_EXT_HEADERS - 1 else 60
        chain += bytes([nxt, 0]) + bytes(6)
    return pcap([(TS0, eth(ipv6(chain + payload, 60), 0x86DD)), good_dns(TS0 + 1)])


def tcp_bad_data_offset() -> bytes:
    """TCP data offsets 0 to 4 (below the header), and 15 (60 bytes) on a 20-byte segment."""
    frames: list[Frame] = []
    for doff in range(5):
        frames.append(
            (TS0 + doff, eth(ipv4(tcp(40000, 80, 1, 0, TCP_SYN)[:12] + bytes([doff << 4]) + bytes(7), 6)))
        )
    frames.append((TS0 + 5, eth(ipv4(tcp(40000, 80, 1, 0, TCP_SYN)[:12] + b"\xf0" + bytes(7), 6))))
    frames.append(good_dns(TS0 + 6))
    return pcap(frames)


def tcp_overlap_conflict() -> bytes:
    """An HTTP request whose second segment is sent again with different bytes (an evasion)."""
    s = TcpSession(40001, 80).handshake()
    request = b"GET /good/path HTTP/1.1\r\nHost: example.com\r\n\r\n"
    first, second = request[:10], request[10:]
    s.send(True, first)
    at = s.cseq
    s.send(True, second)
    evil = b"/evil/path HTTP/1.1\r\nHost: example.com\r\n\r\n"[: len(second)]
    s.add(s.segment(True, TCP_PSH | TCP_ACK, evil, seq=at))
    s.send(False, b"HTTP/1.1 204 No Content\r\n\r\n")
    return pcap(s.close().frames)


def tcp_ooo_100k() -> bytes:
    """A 100,000-byte HTTP POST sent as 100,000 one-byte segments in shuffled order, the first
    byte last, so that every other byte is held out of order until the end."""
    head = b"POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: "
    body_len = OOO_SEGMENTS - len(head) - 8
    head += str(body_len).encode() + b"\r\n\r\n"
    request = head + b"x" * (OOO_SEGMENTS - len(head))
    assert len(request) == OOO_SEGMENTS
    s = TcpSession(40002, 80).handshake()
    base = s.cseq
    order = list(range(1, OOO_SEGMENTS))
    random.Random(100_000).shuffle(order)
    for i in [*order, 0]:
        s.add(s.segment(True, TCP_PSH | TCP_ACK, request[i : i + 1], seq=base + i))
    s.cseq += OOO_SEGMENTS
    s.send(False, b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
    return pcap(s.close().frames)


def tcp_buffer_limit() -> bytes:
    """An HTTP client stream whose first 10 bytes never arrive, followed by 1.5 MiB: the reassembler
    must give up on the hole at its 1 MiB per-direction limit, not hold everything."""
    s = TcpSession(40003, 80).handshake()
    request = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
    data = request * (BUFFER_FLOOD_BYTES // len(request) + 1)
    s.cseq += 10  # the hole
    s.send(True, data[10:BUFFER_FLOOD_BYTES])
    return pcap(s.close().frames)


def _dns_response_with_name(name_bytes: bytes, txid: int) -> bytes:
    """A response header with one question whose name is the given raw bytes."""
    return struct.pack("!HHHHHH", txid, 0x8180, 1, 0, 0, 0) + name_bytes + struct.pack("!HH", 1, 1)


def dns_pointer_loop() -> bytes:
    """Names whose compression pointers loop: a pointer to itself, and one back to its own name."""
    self_loop = _dns_response_with_name(b"\xc0\x0c", 1)
    # offset 12: label "a", then a pointer back to 12: into the run of labels that contains it
    own_run = _dns_response_with_name(b"\x01a\xc0\x0c", 2)
    return pcap(
        [
            (TS0, udp4(self_loop, 53, 40000, RESOLVER, CLIENT)),
            (TS0 + 1, udp4(own_run, 53, 40001, RESOLVER, CLIENT)),
            good_dns(TS0 + 2),
        ]
    )


def dns_pointer_forward() -> bytes:
    """A name whose compression pointer points forward (to a name later in the message)."""
    msg = struct.pack("!HHHHHH", 3, 0x8180, 2, 0, 0, 0)
    msg += b"\xc0\x12" + struct.pack("!HH", 1, 1)  # question 1 -> offset 18 (question 2's name)
    msg += dns_name(GOOD_NAME) + struct.pack("!HH", 1, 1)
    return pcap([(TS0, udp4(msg, 53, 40000, RESOLVER, CLIENT)), good_dns(TS0 + 1)])


def dns_too_many_records() -> bytes:
    """A query announcing 65535 questions and carrying 3000 (root name, type A): past the limit."""
    msg = struct.pack("!HHHHHH", 4, 0x0100, 0xFFFF, 0, 0, 0) + b"\x00\x00\x01\x00\x01" * DNS_TOO_MANY
    return pcap([(TS0, udp4(msg, 40000, 53, CLIENT, RESOLVER)), good_dns(TS0 + 1)])


def dhcp_options_overrun() -> bytes:
    """A DHCPDISCOVER whose last option claims 200 bytes where 3 remain."""
    bootp = struct.pack(
        "!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, 0xABCD, 0, 0, *([bytes(4)] * 4), MAC_A, b"", b""
    )
    options = b"\x63\x82\x53\x63" + b"\x35\x01\x01" + b"\x0c\xc8abc"
    frame = eth(ipv4(udp(68, 67, bootp + options), 17, "0.0.0.0", "255.255.255.255"), dst=b"\xff" * 6)
    return pcap([(TS0, frame), good_dns(TS0 + 1)])


def tls_handshake_16mb() -> bytes:
    """A handshake header claiming 16 MiB, followed by 16 MiB of handshake records: the dissector
    must refuse the claim at once, not buffer what follows."""
    s = TcpSession(40004, 443).handshake()
    claim = b"\x01" + TLS_CLAIM.to_bytes(3, "big")
    s.send(True, tls_record(22, claim + bytes(1000)), mss=65000)
    filler = tls_record(22, bytes(16000))
    chunk = filler * 4
    for _ in range(TLS_FOLLOWING_BYTES // len(chunk)):
        s.send(True, chunk, mss=65000)
    return pcap(s.close().frames)


def tls_record_64k() -> bytes:
    """A record header claiming 65535 bytes (past 2^14 + 2048), then that many bytes."""
    s = TcpSession(40005, 443).handshake()
    s.send(True, tls_record(22, bytes(0xFFFF)), mss=65000)
    return pcap(s.close().frames)


def tls_clienthello_1byte_records() -> bytes:
    """A ClientHello split into one TLS record per byte (legal, and an evasion)."""
    hello = client_hello(b"tiny.example.org")
    records = b"".join(tls_record(22, hello[i : i + 1], version=0x0301) for i in range(len(hello)))
    s = TcpSession(40006, 443).handshake().send(True, records)
    return pcap(s.close().frames)


def smtp_long_line() -> bytes:
    """An SMTP client that sends 1 MiB without a newline after the banner."""
    s = TcpSession(40007, 25).handshake()
    s.send(False, b"220 mail.example.com ESMTP\r\n")
    s.send(True, b"EHLO " + b"A" * LONG_LINE)
    return pcap(s.close().frames)


def ftp_long_line() -> bytes:
    """An FTP server banner of 1 MiB without a newline."""
    s = TcpSession(40008, 21).handshake()
    s.send(False, b"220 " + b"B" * LONG_LINE)
    return pcap(s.close().frames)


def smb_bogus_lengths() -> bytes:
    """SMB2 over TCP 445: a NetBIOS length of 16 MiB, and (another flow) an SMB2 header whose
    NextCommand points outside the message, then a NetBIOS message shorter than an SMB2 header."""
    smb2 = b"\xfeSMB" + struct.pack("<HHIHHII", 64, 0, 0, 0, 0, 0, 0xFFFFFFF0) + bytes(40)
    s1 = TcpSession(40009, 445).handshake()
    s1.send(True, b"\x00" + (0xFFFFFF).to_bytes(3, "big") + smb2 + bytes(2000))
    s2 = TcpSession(40010, 445, ts=TS0 + 10).handshake()
    s2.send(True, b"\x00" + len(smb2).to_bytes(3, "big") + smb2)
    s2.send(True, b"\x00\x00\x00\x08\xfeSMB\x40\x00\x00\x00")
    return pcap(s1.close().frames + s2.close().frames)


def gzip_bomb() -> bytes:
    """A gzip of a pcap header followed by 64 MiB of zeros (~64 KiB compressed, ratio ~1000)."""
    zeros = bytes(1 << 20)
    return gzip_of([pcap_header(), *([zeros] * (BOMB_BYTES >> 20))])


def gzip_bomb_big_records() -> bytes:
    """The same bomb shape, made of 256 KiB zero-filled records (cheap to decode, so the reader's
    own refusal is what stops it)."""
    record = pcap_record(TS0, bytes(BOMB_RECORD))
    return gzip_of([pcap_header(), *([record] * (BOMB_BYTES // len(record)))])


def ndp_zero_length_option() -> bytes:
    """A Router Advertisement whose first option has length 0 (an endless loop for a naive walker)."""
    ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0) + b"\x01\x00" + bytes(6)
    frame = eth(ipv6(ra, 58, "fe80::1", "ff02::1"), 0x86DD, dst=bytes.fromhex("333300000001"))
    return pcap([(TS0, frame), good_dns(TS0 + 1)])


def icmp_quote_garbage() -> bytes:
    """ICMP errors quoting nothing, a cut IPv4 header, a bad version and IHL 0."""
    frames: list[Frame] = []
    for i, quote in enumerate([b"", b"\x45\x00", b"\x95" + bytes(27), b"\x40" + bytes(27)]):
        icmp_msg = struct.pack("!BBHI", 3, 3, 0, 0) + quote
        frames.append((TS0 + i, eth(ipv4(icmp_msg, 1, SERVER, CLIENT))))
    frames.append(good_dns(TS0 + 5))
    return pcap(frames)


def http_header_flood() -> bytes:
    """An HTTP request with 10,000 header fields."""
    s = TcpSession(40011, 80).handshake()
    s.send(True, b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 10_000 + b"\r\n")
    return pcap(s.close().frames)


def flow_flood() -> bytes:
    """3000 distinct UDP flows of one packet each (the test shrinks the flow table to hit its limit)."""
    return pcap([(TS0 + i * 1e-3, udp4(b"x", 10000 + i, 9999)) for i in range(FLOOD_FLOWS)])


def dns_pending_flood() -> bytes:
    """3000 DNS queries never answered, from 3000 ports (the test shrinks the pending table)."""
    return pcap(
        [
            (TS0 + i * 1e-3, udp4(dns_query(f"q{i}.example.com", i), 20000 + i, 53, CLIENT, RESOLVER))
            for i in range(DNS_UNANSWERED)
        ]
    )


def hostile_strings() -> bytes:
    """Names, hosts, banners and SNIs carrying ANSI escapes, CR, NUL, <script> and spreadsheet formulas."""
    frames: list[Frame] = []
    ts = TS0
    for i, text in enumerate(HOSTILE.values()):
        label = text.encode("latin-1")[:63].replace(b".", b"_")
        frames.append(
            (ts + i, udp4(dns_query(label + b".example.com", 100 + i), 30000 + i, 53, CLIENT, RESOLVER))
        )
    sessions: list[TcpSession] = []
    for i, text in enumerate(HOSTILE.values()):
        raw = text.encode("latin-1")
        start = TS0 + 100 + i * 10
        tls = (
            TcpSession(41000 + i, 443, start)
            .handshake()
            .send(True, tls_record(22, client_hello(raw), 0x0301))
        )
        http = TcpSession(42000 + i, 80, start + 1).handshake()
        http.send(
            True,
            b"GET /"
            + raw.replace(b" ", b"%20")
            + b" HTTP/1.1\r\nHost: "
            + raw
            + b"\r\nUser-Agent: "
            + raw
            + b"\r\n\r\n",
        )
        http.send(False, b"HTTP/1.1 200 OK\r\nServer: " + raw + b"\r\nContent-Length: 0\r\n\r\n")
        smtp = TcpSession(43000 + i, 25, start + 2).handshake()
        smtp.send(False, b"220 " + raw + b" ESMTP\r\n").send(True, b"EHLO " + raw + b"\r\n")
        smtp.send(False, b"250 " + raw + b"\r\n").send(True, b"QUIT\r\n").send(False, b"221 bye\r\n")
        ftp = TcpSession(44000 + i, 21, start + 3).handshake()
        ftp.send(False, b"220 " + raw + b"\r\n").send(True, b"USER " + raw + b"\r\n")
        ftp.send(False, b"331 ok\r\n").send(True, b"QUIT\r\n").send(False, b"221 bye\r\n")
        sessions += [tls.close(), http.close(), smtp.close(), ftp.close()]
    for s in sessions:
        frames += s.frames
    frames.sort(key=lambda f: f[0])
    return pcap(frames)


# --- the table ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BadCapture:
    """One crafted capture of the corpus."""

    name: str
    """Case name: the test id and the file stem."""
    suffix: str
    """File name suffix (.pcap, .pcapng, .pcap.gz, .bin)."""
    build: Callable[[], bytes]
    """Returns the file's bytes."""

    @property
    def filename(self) -> str:
        return self.name + self.suffix

    @property
    def what(self) -> str:
        """One-line description (the builder's docstring)."""
        return " ".join((self.build.__doc__ or "").split())


CASES: dict[str, BadCapture] = {
    c.name: c
    for c in [
        BadCapture("not_a_capture", ".bin", not_a_capture),
        BadCapture("empty", ".pcap", empty),
        BadCapture("truncated_file_header", ".pcap", truncated_file_header),
        BadCapture("truncated_record_header", ".pcap", truncated_record_header),
        BadCapture("truncated_record_data", ".pcap", truncated_record_data),
        BadCapture("caplen_beyond_snaplen", ".pcap", caplen_beyond_snaplen),
        BadCapture("caplen_2_31", ".pcap", caplen_2_31),
        BadCapture("pcapng_huge_block_length", ".pcapng", pcapng_huge_block_length),
        BadCapture("pcapng_unaligned_block_length", ".pcapng", pcapng_unaligned_block_length),
        BadCapture("pcapng_trailer_mismatch", ".pcapng", pcapng_trailer_mismatch),
        BadCapture("pcapng_unknown_interface", ".pcapng", pcapng_unknown_interface),
        BadCapture("unknown_linktype", ".pcap", unknown_linktype),
        BadCapture("runt_frames", ".pcap", runt_frames),
        BadCapture("stacked_vlans", ".pcap", stacked_vlans),
        BadCapture("ipv4_ihl_below_5", ".pcap", ipv4_ihl_below_5),
        BadCapture("ipv4_lying_total_length", ".pcap", ipv4_lying_total_length),
        BadCapture("fragments_overlapping", ".pcap", fragments_overlapping),
        BadCapture("fragments_never_completed", ".pcap", fragments_never_completed),
        BadCapture("fragments_byte_flood", ".pcap", fragments_byte_flood),
        BadCapture("ip_in_ip_deep", ".pcap", ip_in_ip_deep),
        BadCapture("ipv6_ext_chain", ".pcap", ipv6_ext_chain),
        BadCapture("tcp_bad_data_offset", ".pcap", tcp_bad_data_offset),
        BadCapture("tcp_overlap_conflict", ".pcap", tcp_overlap_conflict),
        BadCapture("tcp_ooo_100k", ".pcap", tcp_ooo_100k),
        BadCapture("tcp_buffer_limit", ".pcap", tcp_buffer_limit),
        BadCapture("dns_pointer_loop", ".pcap", dns_pointer_loop),
        BadCapture("dns_pointer_forward", ".pcap", dns_pointer_forward),
        BadCapture("dns_too_many_records", ".pcap", dns_too_many_records),
        BadCapture("dhcp_options_overrun", ".pcap", dhcp_options_overrun),
        BadCapture("tls_handshake_16mb", ".pcap", tls_handshake_16mb),
        BadCapture("tls_record_64k", ".pcap", tls_record_64k),
        BadCapture("tls_clienthello_1byte_records", ".pcap", tls_clienthello_1byte_records),
        BadCapture("smtp_long_line", ".pcap", smtp_long_line),
        BadCapture("ftp_long_line", ".pcap", ftp_long_line),
        BadCapture("smb_bogus_lengths", ".pcap", smb_bogus_lengths),
        BadCapture("gzip_bomb", ".pcap.gz", gzip_bomb),
        BadCapture("gzip_bomb_big_records", ".pcap.gz", gzip_bomb_big_records),
        BadCapture("ndp_zero_length_option", ".pcap", ndp_zero_length_option),
        BadCapture("icmp_quote_garbage", ".pcap", icmp_quote_garbage),
        BadCapture("http_header_flood", ".pcap", http_header_flood),
        BadCapture("flow_flood", ".pcap", flow_flood),
        BadCapture("dns_pending_flood", ".pcap", dns_pending_flood),
        BadCapture("hostile_strings", ".pcap", hostile_strings),
    ]
}
"""Every case of the corpus by name, in the order of the issue's list (then the extra ones)."""


def write_case(name: str, directory: Path) -> Path:
    """Build one case into `directory`; return the file's path."""
    case = CASES[name]
    path = directory / case.filename
    path.write_bytes(case.build())
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, help="where to write the captures (created if missing)")
    parser.add_argument("cases", nargs="*", help=f"case names (default: all {len(CASES)})")
    args = parser.parse_args(argv)
    unknown = [n for n in args.cases if n not in CASES]
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}; known: {', '.join(CASES)}")
    args.directory.mkdir(parents=True, exist_ok=True)
    for name in args.cases or CASES:
        path = write_case(name, args.directory)
        sys.stdout.write(f"{path}  {path.stat().st_size} bytes  {CASES[name].what}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
