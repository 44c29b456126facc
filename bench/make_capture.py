"""Build the benchmark capture: mostly bulk TCP in 1400-byte segments, with application sessions mixed in.

Deterministic and fast (frames are written with struct, not scapy):
- bulk TCP sessions, each a three-way handshake, data segments of 1400 bytes acknowledged every
  second segment, and a FIN teardown, between distinct client/server pairs;
- the application traffic of `sample_pcaps/mixed.pcap` (DNS, ICMP, NDP, DHCP, TLS, HTTP, mail, FTP,
  SMB) replayed again and again, each copy moved into its own addresses (a byte of both IP addresses
  is changed the same way, so both directions of every flow stay together) and its own time window.

    python bench/make_capture.py --packets 1000000 --out bench/out/bench-1m.pcap [--pcapng]
        [--kind realistic|mixed|dns|flows]   (realistic: bench/realistic.py, the headline capture;
                                    dns: a resolver's queries and answers; flows: 200,000 distinct
                                    short TCP conversations first, then bulk)
"""

from __future__ import annotations

import argparse
import struct
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from analyzer.capture import open_capture, writer  # noqa: E402

sys.path.insert(0, str(REPO / "bench"))
from realistic import generate_realistic  # noqa: E402

SEGMENT = 1400
"""TCP payload bytes per bulk segment."""
SEGMENTS_PER_SESSION = 2000
"""Data segments in one bulk session (about 2.8 MB moved per session)."""
APP_SHARE = 0.1
"""Share of the packets taken from the replayed application sessions."""
START_TS = 1_709_287_200.0  # 2024-03-01 10:00:00 UTC

_PAYLOAD = bytes(range(256)) * (SEGMENT // 256 + 1)
_PAYLOAD = _PAYLOAD[:SEGMENT]
_MAC_C, _MAC_S = b"\x02\x00\x00\x00\x01\x01", b"\x02\x00\x00\x00\x02\x02"


def _tcp_frame(
    src: bytes, dst: bytes, sport: int, dport: int, seq: int, ack: int, flags: int, payload: bytes
) -> bytes:
    tcp = struct.pack(
        "!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 0x50, flags, 65535, 0, 0
    )
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(payload), 0, 0x4000, 64, 6, 0, src, dst)
    eth = (_MAC_S + _MAC_C if src[3] % 2 else _MAC_C + _MAC_S) + b"\x08\x00"
    return eth + ip + tcp + payload


def bulk_session(index: int, ts: float) -> Iterator[tuple[float, bytes]]:
    """One bulk TCP session: handshake, data with ACKs, FIN teardown."""
    client = bytes([10, 1 + index // 60000 % 200, index // 250 % 240, 1 + index % 250])
    server = bytes([10, 250, index % 7, 2])
    cport, sport = 20000 + index % 40000, 5001
    cseq, sseq = 1000 + index * 7919, 5000 + index * 104729
    syn, fin, ackf, psh = 0x02, 0x01, 0x10, 0x08
    yield ts, _tcp_frame(client, server, cport, sport, cseq, 0, syn, b"")
    yield ts + 0.0001, _tcp_frame(server, client, sport, cport, sseq, cseq + 1, syn | ackf, b"")
    yield ts + 0.0002, _tcp_frame(client, server, cport, sport, cseq + 1, sseq + 1, ackf, b"")
    seq = cseq + 1
    t = ts + 0.0003
    for i in range(SEGMENTS_PER_SESSION):
        yield t, _tcp_frame(client, server, cport, sport, seq, sseq + 1, ackf | psh, _PAYLOAD)
        seq += SEGMENT
        t += 0.00001
        if i % 2:
            yield t, _tcp_frame(server, client, sport, cport, sseq + 1, seq, ackf, b"")
    yield t, _tcp_frame(client, server, cport, sport, seq, sseq + 1, fin | ackf, b"")
    yield t + 0.0001, _tcp_frame(server, client, sport, cport, sseq + 1, seq + 1, fin | ackf, b"")
    yield t + 0.0002, _tcp_frame(client, server, cport, sport, seq + 1, sseq + 2, ackf, b"")


def _shift_addresses(frame: bytes, linktype: int, copy: int) -> bytes:
    """Move a replayed Ethernet frame into its own addresses: XOR one byte of both IP addresses."""
    if linktype != 1 or len(frame) < 14:
        return frame
    off, ethertype = 14, struct.unpack_from("!H", frame, 12)[0]
    while ethertype in (0x8100, 0x88A8) and len(frame) >= off + 4:
        ethertype = struct.unpack_from("!H", frame, off + 2)[0]
        off += 4
    buf = bytearray(frame)
    x = (copy % 250) + 1
    if ethertype == 0x0800 and len(buf) >= off + 20:
        buf[off + 14] ^= x  # third byte of the source address
        buf[off + 18] ^= x  # third byte of the destination address
    elif ethertype == 0x86DD and len(buf) >= off + 40:
        buf[off + 8 + 13] ^= x
        buf[off + 24 + 13] ^= x
    return bytes(buf)


def app_frames(template: Path) -> list[tuple[float, int, bytes]]:
    with open_capture(str(template)) as reader:
        return [(ts, lt, data) for ts, lt, data, _w, _i in reader.records()]


def generate(total: int, template: Path) -> Iterator[tuple[float, bytes]]:
    frames = app_frames(template)
    t0 = frames[0][0] if frames else 0.0
    span = (frames[-1][0] - t0 + 1.0) if frames else 1.0
    app_target = int(total * APP_SHARE)
    produced = app = copy = index = 0
    ts = START_TS
    while produced < total:
        if frames and app < app_target and app <= produced * APP_SHARE:
            for fts, lt, data in frames:
                yield ts + (fts - t0) * 0.001, _shift_addresses(data, lt, copy)
            n = len(frames)
            app += n
            produced += n
            copy += 1
            ts += span * 0.001
        else:
            for item in bulk_session(index, ts):
                yield item
                produced += 1
            index += 1
            ts += 0.05


_QTYPES = (1, 28, 15, 16, 2, 12, 33, 65, 6, 5)
"""A, AAAA, MX, TXT, NS, PTR, SRV, HTTPS, SOA, CNAME: the DNS-heavy capture's query mix."""


def _udp_frame(src: bytes, dst: bytes, sport: int, dport: int, payload: bytes) -> bytes:
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, src, dst)
    return _MAC_C + _MAC_S + b"\x08\x00" + ip + udp


def _dns_name(index: int) -> bytes:
    labels = [f"host{index % 5000}".encode(), f"zone{index % 97}".encode(), b"example", b"com"]
    return b"".join(bytes([len(label)]) + label for label in labels) + b"\x00"


def generate_dns(total: int) -> Iterator[tuple[float, bytes]]:
    """A resolver's day: queries of ten types from 2,000 clients, each answered (one in 20 NXDOMAIN,
    one in 50 left unanswered), the answer compressed against the question."""
    server = bytes([198, 51, 100, 53])
    ts = START_TS
    i = 0
    produced = 0
    while produced < total:
        client = bytes([10, 9, i // 250 % 8, 1 + i % 250])
        sport, tid, qtype = 20000 + i % 40000, i & 0xFFFF, _QTYPES[i % len(_QTYPES)]
        question = _dns_name(i) + struct.pack("!HH", qtype, 1)
        query = struct.pack("!HHHHHH", tid, 0x0100, 1, 0, 0, 0) + question
        yield ts, _udp_frame(client, server, sport, 53, query)
        produced += 1
        if i % 50 != 49 and produced < total:
            rcode = 3 if i % 20 == 19 else 0
            answer = b""
            if not rcode and qtype == 1:
                answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + bytes([203, 0, 113, i % 250])
            flags = 0x8180 | rcode
            resp = struct.pack("!HHHHHH", tid, flags, 1, 1 if answer else 0, 0, 0) + question + answer
            yield ts + 0.002, _udp_frame(server, client, 53, sport, resp)
            produced += 1
        i += 1
        ts += 0.0005


def generate_flows(total: int, flows: int = 200_000) -> Iterator[tuple[float, bytes]]:
    """`flows` distinct short TCP conversations (handshake, one request, one answer, teardown),
    interleaved so that many are open at once, then bulk sessions up to `total` packets."""
    produced = 0
    ts = START_TS
    open_window = 1000  # conversations in flight at a time
    syn, fin, ackf, psh = 0x02, 0x01, 0x10, 0x08
    for base in range(0, flows, open_window):
        batch = range(base, min(base + open_window, flows))
        steps: list[list[tuple[bytes, bytes, int, int, int, int, int, bytes]]] = []
        for i in batch:
            c = bytes([10, 20 + i // 65000, i // 250 % 260 % 256, 1 + i % 250])
            srv = bytes([192, 0, 2, 1 + i % 200])
            cp, sp = 1024 + i % 60000, 80
            cs, ss = 1000 + i, 9000 + i
            steps.append(
                [
                    (c, srv, cp, sp, cs, 0, syn, b""),
                    (srv, c, sp, cp, ss, cs + 1, syn | ackf, b""),
                    (c, srv, cp, sp, cs + 1, ss + 1, ackf | psh, b"x" * 64),
                    (srv, c, sp, cp, ss + 1, cs + 65, ackf | psh, b"y" * 256),
                    (c, srv, cp, sp, cs + 65, ss + 257, fin | ackf, b""),
                    (srv, c, sp, cp, ss + 257, cs + 66, fin | ackf, b""),
                    (c, srv, cp, sp, cs + 66, ss + 258, ackf, b""),
                ]
            )
        for step in range(7):
            for conv in steps:
                yield ts, _tcp_frame(*conv[step])
                produced += 1
                ts += 0.00001
                if produced >= total:
                    return
    index = 0
    while produced < total:
        for item in bulk_session(index, ts):
            yield item
            produced += 1
            if produced >= total:
                return
        index += 1
        ts += 0.05


def write_pcap(path: Path, frames: Iterator[tuple[float, bytes]], limit: int) -> int:
    with open(path, "wb", buffering=1 << 20) as out:
        pcap = writer.PcapWriter(out)
        for ts, data in frames:
            pcap.write_ts(ts, data)
            if pcap.packets >= limit:
                break
    return pcap.packets


def write_pcapng(path: Path, frames: Iterator[tuple[float, bytes]], limit: int) -> int:
    n = 0
    with open(path, "wb", buffering=1 << 20) as out:
        out.write(struct.pack("<IIIHHqI", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1, 28))
        out.write(struct.pack("<IIHHII", 1, 20, 1, 0, 262144, 20))  # IDB, Ethernet, µs
        for ts, data in frames:
            pad = (-len(data)) % 4
            blen = 32 + len(data) + pad
            t = round(ts * 1e6)
            out.write(struct.pack("<IIIIIII", 6, blen, 0, t >> 32, t & 0xFFFFFFFF, len(data), len(data)))
            out.write(data + b"\x00" * pad + struct.pack("<I", blen))
            n += 1
            if n >= limit:
                break
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "bench-1m.pcap")
    ap.add_argument("--template", type=Path, default=REPO / "sample_pcaps" / "mixed.pcap")
    ap.add_argument("--pcapng", action="store_true", help="write pcapng instead of classic pcap")
    ap.add_argument("--kind", choices=["realistic", "mixed", "dns", "flows"], default="mixed")
    args = ap.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    writer = write_pcapng if args.pcapng else write_pcap
    frames = {
        "mixed": lambda: generate(args.packets, args.template),
        "dns": lambda: generate_dns(args.packets),
        "flows": lambda: generate_flows(args.packets),
        "realistic": lambda: generate_realistic(args.packets),
    }[args.kind]()
    n = writer(args.out, frames, args.packets)
    print(f"{args.out}: {n} packets, {args.out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
