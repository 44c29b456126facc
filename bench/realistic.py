"""The realistic benchmark capture: traffic shaped the way real networks look (DESIGN.md rule 13).

Many conversations are open at once and their packets interleave; each conversation is a small
generator of (frame) bytes and the scheduler below picks, packet by packet, one of the open ones at
random (seeded, so the file is the same byte for byte on every run). The mix, by conversation:

- TLS on 443 (a ClientHello with SNI, a TLS 1.3 ServerHello, then application data records of up to
  16 KiB in 1,448-byte segments, both ways): most of the bytes, all of them on dissected flows;
- HTTP/1.1 on 80 (one to three keep-alive requests, each answered with a Content-Length body);
- DNS over UDP (one query, one answer, a new client port each time): many short flows;
- ICMP echo (two to four pings), and now and then a port unreachable quoting a UDP datagram;
- a little bulk TCP on a port nobody dissects (the fast path's case, no longer the headline).

A quarter of the conversations run over IPv6, one in ten is 802.1Q VLAN-tagged. Checksums are left
zero (neither we nor tshark verify them by default). Everything is built with struct; 1,000,000
packets take about half a minute.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator

START_TS = 1_709_287_200.0  # 2024-03-01 10:00:00 UTC
MSS = {False: 1460, True: 1440}
"""TCP payload bytes per full segment over IPv4 and IPv6: a 1500-byte MTU, no TCP options (so the
capture can be replayed onto a real link with tcpreplay)."""
OPEN_CONVERSATIONS = 100
"""Conversations in flight at once: their packets interleave as on a busy uplink (more would leave
the long ones unfinished in a 100,000-packet file and skew the mix towards short conversations)."""
IPV6_SHARE = 0.25
"""Share of conversations over IPv6."""
VLAN_SHARE = 0.1
"""Share of conversations carrying an 802.1Q tag."""
MIX: tuple[tuple[str, float], ...] = (
    ("tls", 0.0555),
    ("http", 0.0474),
    ("dns", 0.697),
    ("icmp", 0.0995),
    ("unreach", 0.0995),
    ("bulk", 0.00117),
)
"""Conversation kinds and their share of new conversations. With the conversations' mean sizes
(TLS 86 packets and 77 kB, HTTP 42 and 35 kB, DNS 2, ICMP 6, bulk 850 packets and 866 kB) this
gives about 48% of the packets to TLS, 20% to HTTP, 14% to DNS, 8% to ICMP and 10% to bulk, and
about 85% of the bytes to TLS and HTTP; most conversations are DNS."""
PACKET_GAP = 20e-6
"""Mean seconds between two packets of the capture (50,000 packets/s)."""

SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10
_MAC_A, _MAC_B = b"\x02\x00\x00\x00\x0a\x01", b"\x02\x00\x00\x00\x0b\x02"
_FILL = bytes(random.Random(7).getrandbits(8) for _ in range(65536))
"""Opaque bytes (ciphertext, bodies): sliced, never built per packet."""
_SNI = ("www.example.com", "api.example.net", "cdn.example.org", "mail.example.com", "static.example.net")
_HOSTS = ("example.com", "example.net", "intranet.example.org")


class Endpoints:
    """The link and network headers of one conversation: address family, VLAN tag, addresses."""

    __slots__ = ("client", "server", "v6", "vlan")

    def __init__(self, rng: random.Random, index: int) -> None:
        self.v6 = rng.random() < IPV6_SHARE
        self.vlan = 100 + index % 7 if rng.random() < VLAN_SHARE else 0
        n = index % 60000
        if self.v6:
            self.client = b"\x20\x01\x0d\xb8\x00\x01" + bytes(8) + struct.pack("!H", 1 + n)
            self.server = b"\x20\x01\x0d\xb8\x00\xff" + bytes(8) + struct.pack("!H", 1 + index % 97)
        else:
            self.client = bytes([10, 1 + n // 250 % 250, n % 250 + 1, 1 + index // 60000 % 250])
            self.server = bytes([192, 0, 2 + index % 2, 1 + index % 97])

    def frame(self, from_client: bool, proto: int, l4: bytes) -> bytes:
        src, dst = (self.client, self.server) if from_client else (self.server, self.client)
        macs = _MAC_B + _MAC_A if from_client else _MAC_A + _MAC_B
        if self.v6:
            ip = struct.pack("!IHBB", 0x60000000, len(l4), proto, 64) + src + dst
            ethertype = b"\x86\xdd"
        else:
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0x4000, 64, proto, 0, src, dst)
            ethertype = b"\x08\x00"
        if self.vlan:
            return macs + b"\x81\x00" + struct.pack("!H", self.vlan) + ethertype + ip + l4
        return macs + ethertype + ip + l4


class Tcp:
    """One TCP conversation's sequence numbers and segment builder."""

    __slots__ = ("cport", "cseq", "ends", "mss", "sport", "sseq")

    def __init__(self, ends: Endpoints, rng: random.Random, sport: int) -> None:
        self.ends = ends
        self.mss = MSS[ends.v6]
        self.cport, self.sport = rng.randrange(32768, 61000), sport
        self.cseq, self.sseq = rng.getrandbits(32), rng.getrandbits(32)

    def seg(self, from_client: bool, flags: int, payload: bytes = b"") -> bytes:
        if from_client:
            sp, dp, seq, ack = self.cport, self.sport, self.cseq, self.sseq
        else:
            sp, dp, seq, ack = self.sport, self.cport, self.sseq, self.cseq
        hdr = struct.pack("!HHIIBBHHH", sp, dp, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 0x50, flags, 64240, 0, 0)
        step = len(payload) + (1 if flags & (SYN | FIN) else 0)
        if from_client:
            self.cseq += step
        else:
            self.sseq += step
        return self.ends.frame(from_client, 6, hdr + payload)

    def handshake(self) -> Iterator[bytes]:
        yield self.seg(True, SYN)
        yield self.seg(False, SYN | ACK)
        yield self.seg(True, ACK)

    def send(self, from_client: bool, data: bytes) -> Iterator[bytes]:
        """`data` in MSS segments, the receiver acknowledging every second one."""
        mss = self.mss
        for i, at in enumerate(range(0, len(data), mss)):
            yield self.seg(from_client, ACK | PSH, data[at : at + mss])
            if i % 2:
                yield self.seg(not from_client, ACK)

    def close(self) -> Iterator[bytes]:
        yield self.seg(True, FIN | ACK)
        yield self.seg(False, FIN | ACK)
        yield self.seg(True, ACK)


_FILL2 = _FILL * 2


def _opaque(n: int, rng: random.Random) -> bytes:
    """`n` opaque bytes from a random place in `_FILL`."""
    if n <= len(_FILL):
        at = rng.randrange(len(_FILL))
        return _FILL2[at : at + n]
    return (_FILL * (n // len(_FILL) + 1))[:n]


def _tls_records(n: int, rng: random.Random) -> bytes:
    """`n` bytes of TLS application data as records of at most 16 KiB."""
    out = []
    while n > 0:
        size = min(n, 16384)
        out.append(b"\x17\x03\x03" + struct.pack("!H", size) + _opaque(size, rng))
        n -= size
    return b"".join(out)


def _handshake(msg_type: int, body: bytes) -> bytes:
    hs = bytes([msg_type]) + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def _ext(kind: int, data: bytes) -> bytes:
    return struct.pack("!HH", kind, len(data)) + data


def client_hello(sni: str, rng: random.Random) -> bytes:
    name = sni.encode()
    exts = _ext(0, struct.pack("!HBH", len(name) + 3, 0, len(name)) + name)
    exts += _ext(10, b"\x00\x04\x00\x1d\x00\x17")  # supported groups
    exts += _ext(16, b"\x00\x0c\x02h2\x08http/1.1")  # ALPN
    exts += _ext(43, b"\x04\x03\x04\x03\x03")  # supported versions: 1.3, 1.2
    suites = b"\x00\x06\x13\x01\x13\x02\xc0\x2f"
    body = b"\x03\x03" + rng.randbytes(32) + b"\x00" + suites + b"\x01\x00" + struct.pack("!H", len(exts))
    return _handshake(1, body + exts)


def server_hello(rng: random.Random) -> bytes:
    exts = _ext(43, b"\x03\x04") + _ext(51, b"\x00\x1d\x00\x20" + rng.randbytes(32))
    body = b"\x03\x03" + rng.randbytes(32) + b"\x00\x13\x01\x00" + struct.pack("!H", len(exts)) + exts
    return _handshake(2, body) + b"\x14\x03\x03\x00\x01\x01" + _tls_records(2800, rng)


def tls_conversation(ends: Endpoints, rng: random.Random) -> Iterator[bytes]:
    t = Tcp(ends, rng, 443)
    yield from t.handshake()
    yield from t.send(True, client_hello(rng.choice(_SNI), rng))
    yield from t.send(False, server_hello(rng))
    yield from t.send(True, b"\x14\x03\x03\x00\x01\x01" + _tls_records(80, rng))
    for _ in range(rng.randint(1, 4)):
        yield from t.send(True, _tls_records(rng.randint(200, 900), rng))
        yield from t.send(False, _tls_records(int(rng.paretovariate(1.2) * 8000) % 400_000, rng))
    yield from t.close()


def http_conversation(ends: Endpoints, rng: random.Random) -> Iterator[bytes]:
    t = Tcp(ends, rng, 80)
    yield from t.handshake()
    host = rng.choice(_HOSTS)
    for i in range(rng.randint(1, 3)):
        req = f"GET /static/{rng.randrange(10**6)}/file{i}.js HTTP/1.1\r\nHost: {host}\r\n"
        req += "User-Agent: bench/1.0\r\nAccept: */*\r\n\r\n"
        yield from t.send(True, req.encode())
        size = int(rng.paretovariate(1.1) * 4000) % 300_000
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/javascript\r\nContent-Length: {size}\r\n\r\n"
        yield from t.send(False, head.encode() + _opaque(size, rng))
    yield from t.close()


def _udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def dns_conversation(ends: Endpoints, rng: random.Random) -> Iterator[bytes]:
    host = f"h{rng.randrange(5000)}.{rng.choice(_HOSTS)}"
    qname = b"".join(bytes([len(p)]) + p.encode() for p in host.split(".")) + b"\x00"
    qtype = rng.choice((1, 1, 28, 28, 65, 12))
    tid, port = rng.getrandbits(16), rng.randrange(32768, 61000)
    question = qname + struct.pack("!HH", qtype, 1)
    yield ends.frame(True, 17, _udp(port, 53, struct.pack("!HHHHHH", tid, 0x0100, 1, 0, 0, 0) + question))
    answers = b""
    count = 0
    if qtype == 1:
        answers, count = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + rng.randbytes(4), 1
    elif qtype == 28:
        answers, count = b"\xc0\x0c" + struct.pack("!HHIH", 28, 1, 300, 16) + rng.randbytes(16), 1
    rcode = 3 if rng.random() < 0.05 else 0
    resp = struct.pack("!HHHHHH", tid, 0x8180 | rcode, 1, count if not rcode else 0, 0, 0) + question
    yield ends.frame(False, 17, _udp(53, port, resp + (answers if not rcode else b"")))


def icmp_conversation(ends: Endpoints, rng: random.Random) -> Iterator[bytes]:
    ident = rng.getrandbits(16)
    proto, req, rep = (58, 128, 129) if ends.v6 else (1, 8, 0)
    data = _opaque(56, rng)
    for seq in range(rng.randint(2, 4)):
        yield ends.frame(True, proto, struct.pack("!BBHHH", req, 0, 0, ident, seq) + data)
        yield ends.frame(False, proto, struct.pack("!BBHHH", rep, 0, 0, ident, seq) + data)


def unreachable_conversation(ends: Endpoints, rng: random.Random) -> Iterator[bytes]:
    """A UDP datagram to a closed port and the server's port unreachable quoting it."""
    probe = ends.frame(True, 17, _udp(rng.randrange(32768, 61000), rng.randrange(1024, 1100), b"ping"))
    yield probe
    ip_at = 18 if ends.vlan else 14
    quoted = probe[ip_at:]
    if ends.v6:
        icmp = struct.pack("!BBHI", 1, 4, 0, 0) + quoted
        yield ends.frame(False, 58, icmp)
    else:
        yield ends.frame(False, 1, struct.pack("!BBHI", 3, 3, 0, 0) + quoted)


def bulk_conversation(ends: Endpoints, rng: random.Random) -> Iterator[bytes]:
    t = Tcp(ends, rng, 5201)
    yield from t.handshake()
    yield from t.send(True, _opaque(rng.randint(100_000, 1_500_000), rng))
    yield from t.close()


KINDS = {
    "tls": tls_conversation,
    "http": http_conversation,
    "dns": dns_conversation,
    "icmp": icmp_conversation,
    "unreach": unreachable_conversation,
    "bulk": bulk_conversation,
}
"""Conversation kind -> its generator."""


def generate_realistic(total: int, seed: int = 1) -> Iterator[tuple[float, bytes]]:
    """`total` frames of interleaved conversations, with their packet times."""
    rng = random.Random(seed)
    names = [name for name, _ in MIX]
    weights = [share for _, share in MIX]
    index = 0

    def start() -> Iterator[bytes]:
        nonlocal index
        index += 1
        kind = rng.choices(names, weights)[0]
        return KINDS[kind](Endpoints(rng, index), random.Random(rng.getrandbits(32)))

    live = [start() for _ in range(OPEN_CONVERSATIONS)]
    ts = START_TS
    produced = 0
    while produced < total:
        slot = rng.randrange(len(live))
        frame = next(live[slot], None)
        if frame is None:
            live[slot] = start()
            continue
        ts += rng.expovariate(1 / PACKET_GAP)
        yield ts, frame
        produced += 1
