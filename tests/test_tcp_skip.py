"""Skip zones of the TCP reassembler (DESIGN.md rule 11): bytes a dissector will not read.

A consumer that asks to skip must see the same stream as one that reads everything, with the
skipped bytes replaced by counts: every stream offset is accounted for exactly once, as delivered
bytes (equal to the stream's), a gap (exactly where the reading consumer saw one), or a swallowed byte
(only inside a zone the consumer asked for). Checked on in-order, byte-by-byte, shuffled and lossy
segmentations, with zones starting and ending anywhere, and at `flush`.
"""

from __future__ import annotations

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.tcp import MAX_SKIP, DirectionReassembler, Gap, Skipped

ISN = 1000


def _label(items: list[bytes | Gap | Skipped], into: list[tuple[str, int]]) -> None:
    """Append one (kind, byte) label per stream offset the items cover, in order."""
    for item in items:
        if isinstance(item, bytes):
            into.extend(("b", v) for v in item)
        elif isinstance(item, Gap):
            into.extend([("g", 0)] * item.size)
        else:
            into.extend([("s", 0)] * item.size)


def _run(
    stream: bytes,
    segments: list[tuple[int, int]],
    zones: list[tuple[int, int]],
) -> tuple[list[tuple[str, int]], DirectionReassembler]:
    """Feed `segments` ((offset, length) of `stream`), asking to skip the rest of any zone
    ((start, end) offsets) the consumer stands in after each segment, as a dissector would."""
    side = DirectionReassembler()
    labels: list[tuple[str, int]] = []
    side.segment(ISN, b"", syn=True)
    for off, size in segments:
        _label(side.segment(ISN + 1 + off, stream[off : off + size]), labels)
        pos = len(labels)
        for start, end in zones:
            if start <= pos < end and not side.skipping:
                side.skip(end - pos)
    _label(side.flush(), labels)
    return labels, side


def _assert_same_stream(
    read: list[tuple[str, int]], skipped: list[tuple[str, int]], zones: list[tuple[int, int]]
) -> None:
    assert len(skipped) == len(read)
    for offset, (mine, theirs) in enumerate(zip(skipped, read, strict=True)):
        in_zone = any(start <= offset < end for start, end in zones)
        if mine[0] == "s":
            assert in_zone and theirs[0] == "b", offset
        else:
            assert mine == theirs, offset


def test_in_order_zone_is_swallowed_and_counted_once() -> None:
    side = DirectionReassembler()
    side.segment(ISN, b"", syn=True)
    assert side.segment(ISN + 1, b"hdr") == [b"hdr"]
    side.skip(10)
    assert side.skipping
    assert side.segment(ISN + 4, b"0123") == []  # inside the zone: nothing delivered
    assert side.segment(ISN + 8, b"456") == []
    out = side.segment(ISN + 11, b"789NEXT")  # ends the zone, then the next record starts
    assert out == [Skipped(10), b"NEXT"]
    assert not side.skipping and side.skipped_bytes == 10 and side.delivered_bytes == 7


def test_gap_inside_a_zone_is_reported_after_what_arrived_before_it() -> None:
    side = DirectionReassembler()
    side.segment(ISN, b"", syn=True)
    side.segment(ISN + 1, b"h")
    side.skip(10)
    assert side.segment(ISN + 2, b"ab") == []
    assert side.segment(ISN + 8, b"ghij") == []  # held, beyond a hole of 4
    out = side.flush()
    assert out == [Skipped(2), Gap(4), Skipped(4)]
    assert side.missed_bytes == 4


def test_flush_mid_zone_reports_what_arrived() -> None:
    side = DirectionReassembler()
    side.segment(ISN, b"", syn=True)
    side.segment(ISN + 1, b"h")
    side.skip(MAX_SKIP)  # a body lasting until the close
    side.segment(ISN + 2, b"abc", fin=True)
    assert side.flush() == [Skipped(3)]


def test_a_gap_reaching_past_the_zone_is_split_at_its_end() -> None:
    side = DirectionReassembler()
    side.segment(ISN, b"", syn=True)
    side.segment(ISN + 1, b"h")
    side.skip(3)
    side.segment(ISN + 10, b"tail")
    assert side.flush() == [Gap(3), Gap(5), b"tail"]


def test_skip_while_a_zone_is_open_is_ignored() -> None:
    side = DirectionReassembler()
    side.segment(ISN, b"", syn=True)
    side.segment(ISN + 1, b"h")
    side.skip(4)
    side.skip(100)
    assert side.segment(ISN + 2, b"abcdXY") == [Skipped(4), b"XY"]


def test_swallow_takes_only_in_order_segments_short_of_the_zone_end() -> None:
    side = DirectionReassembler()
    side.segment(ISN, b"", syn=True)
    side.segment(ISN + 1, b"h")
    assert not side.swallow(ISN + 2, 3)  # no zone
    side.skip(10)
    assert not side.swallow(ISN + 3, 3)  # not at `next`
    assert not side.swallow(ISN + 2, 10)  # would end the zone: the caller must deliver it
    assert side.swallow(ISN + 2, 9)
    assert side.segment(ISN + 11, b"zNEXT") == [Skipped(10), b"NEXT"]
    fresh = DirectionReassembler()
    fresh.skip(5)
    assert not fresh.swallow(ISN, 1)  # no base yet: the first segment sets it


def test_byte_by_byte_with_trailing_data_equals_reading_everything() -> None:
    stream = bytes(range(256)) * 4
    zones = [(5, 300), (310, 311), (600, 1024)]
    whole, _ = _run(stream, [(0, len(stream))], [])
    per_byte = [(i, 1) for i in range(len(stream))]
    skipped, side = _run(stream, per_byte, zones)
    _assert_same_stream(whole, skipped, zones)
    assert side.skipped_bytes == (300 - 5) + (311 - 310) + (1024 - 600)  # asked for at each start


@settings(max_examples=300, deadline=None)
@given(
    length=st.integers(1, 400),
    cuts=st.lists(st.integers(1, 399), max_size=30),
    zones=st.lists(st.tuples(st.integers(0, 400), st.integers(1, 120)), max_size=6),
    drop=st.lists(st.integers(0, 30), max_size=4),
    seed=st.integers(0, 2**16),
)
def test_any_segmentation_sees_the_same_stream(
    length: int, cuts: list[int], zones: list[tuple[int, int]], drop: list[int], seed: int
) -> None:
    stream = random.Random(seed).randbytes(length)
    points = sorted({0, length, *(c for c in cuts if c < length)})
    segments = [(a, b - a) for a, b in itertools.pairwise(points)]
    random.Random(seed).shuffle(segments)
    segments = [s for i, s in enumerate(segments) if i not in drop]
    spans = [(start, min(start + size, length)) for start, size in zones if start < length]
    read, _ = _run(stream, segments, [])
    skipped, side = _run(stream, segments, spans)
    _assert_same_stream(read, skipped, spans)
    reader = DirectionReassembler()
    reader.segment(ISN, b"", syn=True)
    for off, size in segments:
        reader.segment(ISN + 1 + off, stream[off : off + size])
    reader.flush()
    assert side.missed_bytes == reader.missed_bytes
