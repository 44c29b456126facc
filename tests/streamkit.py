"""A kit the stream-dissector tests share: Ethernet/IPv4/TCP frames and classic pcaps built with
struct, a minimal TLS ClientHello/ServerHello, a flow to hang a dissector on, the feeding harness
(whole, byte by byte, in thirds), an event filter, the fuzz loop that lets only `Malformed` escape,
its hypothesis strategies, and the tshark look-ups the mail tests use.

Each test module keeps its own addresses and capture time; the builders take them as arguments.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from analyzer.capture import writer
from analyzer.decode import Decoder
from analyzer.errors import Malformed
from analyzer.flows import Flow, FlowTable
from tests.oracle import tshark_output

# -- wire builders ---------------------------------------------------------------------------------

ETHER_IPV4 = b"\x00\x00\x5e\x00\x53\x02\x00\x00\x5e\x00\x53\x01\x08\x00"
"""An Ethernet header (documentation MACs, RFC 7042) announcing IPv4."""

PCAP_HEADER = writer.file_header(snaplen=65535)
"""A classic pcap file header: microseconds, snaplen 65535, Ethernet."""

Script = list[tuple[bool, bytes]]
"""(from_client, bytes) in stream order."""


def ip4(text: str) -> bytes:
    """Dotted IPv4 text as four bytes."""
    return bytes(int(p) for p in text.split("."))


def inet_checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of `data`, padded to an even length."""
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def tcp_frame(
    src: bytes,
    dst: bytes,
    sport: int,
    dport: int,
    seq: int,
    ack: int,
    flags: int,
    data: bytes,
    *,
    tcp_checksum: bool = False,
    dont_fragment: bool = False,
) -> bytes:
    """An Ethernet/IPv4/TCP frame with a correct IP checksum; the TCP checksum is left 0 (neither
    tshark nor we check it) unless `tcp_checksum` asks for it."""
    tcp = struct.pack(
        "!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0
    )
    if tcp_checksum:
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp) + len(data))
        tcp = tcp[:16] + struct.pack("!H", inet_checksum(pseudo + tcp + data)) + tcp[18:]
    frag = 0x4000 if dont_fragment else 0
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(data), 1, frag, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", inet_checksum(ip)) + ip[12:]
    return ETHER_IPV4 + ip + tcp + data


def conversation_frames(
    client: bytes, server: bytes, dport: int, exchanges: Script, *, pure_acks: bool, final_ack: bool
) -> list[bytes]:
    """One TCP connection from port 50000: handshake, each (from_client, data) segment in order, FIN
    teardown. With `pure_acks` every data segment is acknowledged by an empty segment of the other
    side; with `final_ack` the client acknowledges the server's FIN."""
    frames: list[bytes] = []
    cseq, sseq, sport = 1000, 5000, 50000
    frames.append(tcp_frame(client, server, sport, dport, cseq, 0, 0x02, b""))
    cseq += 1
    frames.append(tcp_frame(server, client, dport, sport, sseq, cseq, 0x12, b""))
    sseq += 1
    frames.append(tcp_frame(client, server, sport, dport, cseq, sseq, 0x10, b""))
    for from_client, data in exchanges:
        if from_client:
            frames.append(tcp_frame(client, server, sport, dport, cseq, sseq, 0x18, data))
            cseq += len(data)
            if pure_acks:
                frames.append(tcp_frame(server, client, dport, sport, sseq, cseq, 0x10, b""))
        else:
            frames.append(tcp_frame(server, client, dport, sport, sseq, cseq, 0x18, data))
            sseq += len(data)
            if pure_acks:
                frames.append(tcp_frame(client, server, sport, dport, cseq, sseq, 0x10, b""))
    frames.append(tcp_frame(client, server, sport, dport, cseq, sseq, 0x11, b""))
    frames.append(tcp_frame(server, client, dport, sport, sseq, cseq + 1, 0x11, b""))
    if final_ack:
        frames.append(tcp_frame(client, server, sport, dport, cseq + 1, sseq + 1, 0x10, b""))
    return frames


def write_pcap(path: Path, records: Iterable[tuple[int, int, bytes]]) -> Path:
    """A classic pcap of (seconds, microseconds, frame) records."""
    with path.open("wb") as f:
        out = writer.PcapWriter(f, snaplen=65535)
        for sec, usec, frame in records:
            out.write(sec, usec, frame)
    return path


def vec(n: int, data: bytes) -> bytes:
    """`data` behind its length in `n` big-endian bytes (a TLS vector)."""
    return len(data).to_bytes(n, "big") + data


def client_hello(sni: str) -> bytes:
    """A TLS 1.2 ClientHello record offering two suites, with a server_name extension."""
    sni_ext = b"\x00\x00" + vec(2, vec(2, b"\x00" + vec(2, sni.encode())))
    body = b"\x03\x03" + b"\xaa" * 32 + b"\x00" + vec(2, b"\xc0\x2f\xc0\x30") + b"\x01\x00" + vec(2, sni_ext)
    return b"\x16\x03\x01" + vec(2, b"\x01" + vec(3, body))


def server_hello() -> bytes:
    """A TLS 1.2 ServerHello record choosing 0xc02f."""
    body = b"\x03\x03" + b"\xbb" * 32 + b"\x00" + b"\xc0\x2f" + b"\x00"
    return b"\x16\x03\x03" + vec(2, b"\x02" + vec(3, body))


def flow_of(frame: bytes, ts: float) -> Flow:
    """The flow a fresh flow table opens for one decoded frame."""
    flow, _, _ = FlowTable().find(Decoder().decode(ts, 1, frame, len(frame)))
    return flow


# -- feeding a dissector ---------------------------------------------------------------------------


def whole(data: bytes) -> list[bytes]:
    return [data]


def bytewise(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def thirds(data: bytes) -> list[bytes]:
    a, b = len(data) // 3, 2 * len(data) // 3
    return [p for p in (data[:a], data[a:b], data[b:]) if p]


def feed_script(d: Any, script: Script, cut: Callable[[bytes], list[bytes]], ts: float) -> list[Any]:
    """Feed a script to a dissector, message i at `ts + i` cut by `cut`; then close it."""
    events: list[Any] = []
    for i, (from_client, data) in enumerate(script):
        for piece in cut(data):
            events += d.feed(piece, from_client, ts + i)
    return events + d.close(ts + len(script))


def of(events: Iterable[Any], kind: type) -> list[Any]:
    """The events of one type, in order."""
    return [e for e in events if isinstance(e, kind)]


def fuzz_feed(
    d: Any,
    chunks: Iterable[tuple[bool, bytes]],
    gaps: Mapping[int, int],
    ts: float,
    step: float = 1.0,
    close_after: float = 100.0,
) -> list[Any] | None:
    """Feed fuzz chunks (chunk i at `ts + i * step`, followed by a gap of `gaps[i]` bytes when given),
    then close at `ts + close_after`: the close's events, or None when the dissector raised
    `Malformed` - the only exception allowed to escape (any other fails the test)."""
    try:
        for i, (from_client, data) in enumerate(chunks):
            d.feed(data, from_client, ts + i * step)
            if i in gaps:
                d.gap(gaps[i], from_client, ts + i * step)
        events: list[Any] = d.close(ts + close_after)
    except Malformed:
        return None
    return events


def fuzz_chunks(words: list[bytes]) -> st.SearchStrategy[list[tuple[bool, bytes]]]:
    """Up to 30 (from_client, bytes) chunks, each random bytes or one of `words` (lines that drive the
    dissector's state machine, so the fuzz input reaches every mode)."""
    return st.lists(
        st.tuples(st.booleans(), st.one_of(st.binary(max_size=64), st.sampled_from(words))), max_size=30
    )


FUZZ_GAPS = st.lists(st.integers(min_value=1, max_value=50), max_size=3)
"""Sizes of the gaps that follow the first chunks (see `fuzz_feed`)."""


# -- tshark -----------------------------------------------------------------------------------------


def tshark_lines(path: Path | str, display_filter: str, field: str) -> list[str]:
    """Every occurrence of a text field, one per list item (a rare aggregator keeps commas intact)."""
    args = ["-Y", display_filter, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=\x1f", "-e", field]
    out = tshark_output(path, *args)
    return [v for line in out.splitlines() for v in line.split("\x1f") if v]


def tshark_counter(path: Path | str, display_filter: str, field: str) -> Counter[str]:
    return Counter(tshark_lines(path, display_filter, field))
