"""The fast path (`flows.FastPath`) and skip zones against the per-frame path: every capture, equal.

The fast path counts frames straight from the reader's buffer (of undissected flows, bare ACKs, and
segments inside a dissector's skip zone), and skip zones keep bytes a dissector will not read from
reaching it; both must change nothing but the time taken. Every capture we have is analysed twice,
once as the program runs and once with every frame going through `Pipeline.process` and every byte
fed to its dissector (`fast_path=False`), and the two JSON summaries must be equal key for key. The
benchmark's own captures (bulk TCP, and the realistic mix with IPv6 and VLAN tags) are made small
here, so the fast path really takes frames in the test.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path
from typing import Any

import pytest

from analyzer.flows import FAST_LAYOUTS, FastPath, fast_layout, plain_ipv4_proto
from analyzer.pipeline import Pipeline
from analyzer.tcp import TcpReassembler
from tests.oracle import REPO, SAMPLES, SHARED_PCAPS, needs_shared, sample_files, shared_files

sys.path.insert(0, str(REPO / "bench"))
import make_capture
import realistic


def both_ways(path: Path) -> tuple[dict[str, Any], dict[str, Any], int]:
    """(summary with the fast path, summary frame by frame, frames the fast path took)."""
    fast = Pipeline()
    fast.run_file(str(path))
    slow = Pipeline(fast_path=False)
    slow.run_file(str(path))
    assert slow.fast_path_frames == 0
    return fast.summary().to_json(), slow.summary().to_json(), fast.fast_path_frames


def assert_equal(fast: dict[str, Any], slow: dict[str, Any]) -> None:
    assert fast.keys() == slow.keys()
    for key in fast:
        assert fast[key] == slow[key], key


@pytest.mark.parametrize("name", sample_files())
def test_samples_fast_path_equals_frame_by_frame(name: str) -> None:
    fast, slow, _ = both_ways(SAMPLES / name)
    assert_equal(fast, slow)


@needs_shared
@pytest.mark.parametrize("rel", shared_files() or ["(none)"])
def test_shared_captures_fast_path_equals_frame_by_frame(rel: str) -> None:
    fast, slow, _ = both_ways(SHARED_PCAPS / rel)
    assert_equal(fast, slow)


@pytest.mark.parametrize("kind", ["bulk", "realistic", "flows"])
def test_benchmark_captures_fast_path_equals_frame_by_frame(kind: str, tmp_path: Path) -> None:
    path = tmp_path / f"{kind}.pcap"
    frames = {
        "bulk": lambda: make_capture.generate(12_000, SAMPLES / "mixed.pcap"),
        "realistic": lambda: realistic.generate_realistic(12_000, seed=5),
        "flows": lambda: make_capture.generate_flows(12_000, flows=1000),
    }[kind]()
    make_capture.write_pcap(path, frames, 12_000)
    fast, slow, taken = both_ways(path)
    if kind != "realistic":  # there, few frames are on undissected flows: that is the point of it
        assert taken > 1000  # the fast path really ran
    assert fast["capture"]["packets"] == slow["capture"]["packets"] == 12_000
    assert_equal(fast, slow)


# -- the unit on its own ---------------------------------------------------------------------------


def _frame(flags: int, payload: bytes = b"", ihl: int = 5, frag: int = 0x4000) -> bytes:
    tcp = struct.pack("!HHIIBBHHH", 40000, 443, 1, 1, 0x50, flags, 1000, 0, 0) + payload
    opts = bytes(4 * (ihl - 5))
    ip = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + len(opts) + len(tcp), 0, frag, 64, 6, 0,
                     b"\x0a\x00\x00\x01", b"\x0a\x00\x00\x02") + opts  # fmt: skip
    return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + tcp


def test_plain_ipv4_proto_reads_only_the_fixed_layout() -> None:
    frame = _frame(0x10)
    assert plain_ipv4_proto(frame, 0, len(frame)) == 6
    with_options = _frame(0x10, ihl=6)
    assert plain_ipv4_proto(with_options, 0, len(with_options)) == -1
    fragment = _frame(0x10, frag=0x2000)  # MF set
    assert plain_ipv4_proto(fragment, 0, len(fragment)) == -1
    assert plain_ipv4_proto(frame, 0, 33) == -1  # too short for the headers


def _learned_flow(history: str, flags: int) -> tuple[FastPath, Any]:
    pipe = Pipeline()
    first = _frame(0x18, b"hello")
    pipe.process(1.0, 1, first, len(first))
    flow = next(iter(pipe.flows))
    flow.history, flow.flags_orig = history, flags
    fast = FastPath()
    fast.learn(first, ["eth", "ipv4", "tcp"], flow, True)
    return fast, flow


def test_fast_path_counts_only_what_update_would_count_the_same() -> None:
    fast, flow = _learned_flow("D", 0x18)
    data = _frame(0x18, b"x" * 100)
    assert fast.count(data, 0, len(data), 2.0, len(data))
    assert (flow.orig_pkts, flow.orig_bytes, flow.last_ts) == (2, 105, 2.0)
    for refused in (_frame(0x19, b"x"), _frame(0x10), _frame(0x38, b"x")):  # FIN; new letter; URG
        assert not fast.count(refused, 0, len(refused), 3.0, len(refused))
    assert flow.orig_pkts == 2 and fast.frames == 1
    short = data[:-1]  # the IP packet is not all there
    assert not fast.count(short, 0, len(short), 3.0, len(data))
    fast.forget(flow)
    assert not fast and not fast.count(data, 0, len(data), 3.0, len(data))


def test_fast_path_takes_bare_acks_and_skip_zones_of_dissected_flows() -> None:
    fast, flow = _learned_flow("DA", 0x18)
    flow.reassembler = TcpReassembler()  # dissected from now on
    ack, data = _frame(0x10), _frame(0x18, b"x" * 10)  # both at sequence number 1
    assert not fast.count(ack, 0, len(ack), 2.0, len(ack))  # the sender's SYN was never seen
    flow.isn_orig = 0
    assert fast.count(ack, 0, len(ack), 2.0, len(ack)) and flow.orig_pkts == 2
    assert not fast.count(data, 0, len(data), 3.0, len(data))  # payload goes to the reassembler
    side = flow.reassembler.client
    side.segment(0, b"", syn=True)  # the SYN: stream offset 0 is sequence number 1
    side.skip(10)
    assert not fast.count(data, 0, len(data), 3.0, len(data))  # it would end the zone: per frame
    side.skip(0)
    flow.reassembler.client = side = type(side)()
    side.segment(0, b"", syn=True)
    side.skip(11)
    assert fast.count(data, 0, len(data), 3.0, len(data)) and side.skipped_bytes == 10
    assert not fast.count(data, 0, len(data), 4.0, len(data))  # a retransmission: not at `next`
    flow.reassembler, flow.classify_tries = None, 0  # not classified yet: payload would be looked at
    assert not fast.count(data, 0, len(data), 5.0, len(data))
    flow.classify_tries = 2  # given up on: everything only counts
    assert fast.count(data, 0, len(data), 5.0, len(data)) and flow.orig_bytes == 25


def _tagged(frame: bytes, vid: int = 7) -> bytes:
    return frame[:12] + struct.pack("!HH", 0x8100, vid) + frame[12:]


def _frame6(flags: int, payload: bytes = b"", next_header: int = 6) -> bytes:
    tcp = struct.pack("!HHIIBBHHH", 40000, 443, 1, 1, 0x50, flags, 1000, 0, 0) + payload
    ip = struct.pack("!IHBB16s16s", 0x60000000, len(tcp), next_header, 64, b"\x20" + bytes(15),
                     b"\x20" + bytes(14) + b"\x01") + tcp  # fmt: skip
    return b"\x02" * 6 + b"\x04" * 6 + b"\x86\xdd" + ip


def test_fast_layouts_are_read_at_their_offsets() -> None:
    for frame, layout in (
        (_frame(0x10), 0),
        (_tagged(_frame(0x10)), 1),
        (_frame6(0x10), 2),
        (_tagged(_frame6(0x10)), 3),
    ):
        found = fast_layout(frame, 0, len(frame))
        assert found is not None and found[1] == layout, FAST_LAYOUTS[layout]
        key, _, tcp, ip_end = found
        assert key.endswith(struct.pack("!HH", 40000, 443)) and len(key) == (36 if layout & 2 else 12)
        assert frame[tcp : tcp + 2] == struct.pack("!H", 40000) and ip_end == len(frame)
    for refused in (
        _frame(0x10, ihl=6),
        _frame(0x10, frag=0x2000),
        _frame6(0x10, next_header=0),  # a hop-by-hop header first
        _frame6(0x10)[:-1],  # cut
        _tagged(_tagged(_frame(0x10))),  # two tags
    ):
        assert fast_layout(refused, 0, len(refused)) is None


def test_fast_path_keeps_each_direction_to_its_layout() -> None:
    fast, flow = _learned_flow("D", 0x18)
    tagged = _tagged(_frame(0x18, b"x" * 10))  # same addresses and ports, with a tag
    assert not fast.count(tagged, 0, len(tagged), 2.0, len(tagged))
    fast6 = FastPath()
    frame6 = _frame6(0x18, b"x")
    fast6.learn(frame6, ["eth", "ipv6", "ipv6.hopopts", "tcp"], flow, True)  # not the frame's layers
    assert not fast6.entries
    fast6.learn(frame6, ["eth", "ipv6", "tcp"], flow, True)
    assert fast6.count(frame6, 0, len(frame6), 2.0, len(frame6)) and fast6.layout_frames == [0, 0, 1, 0]
