"""Tests for analyzer.tcp: per-direction TCP reassembly with wraparound, overlaps, gaps and limits."""

import itertools
import random
from bisect import insort

from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.tcp import (
    MAX_BUFFERED_BYTES_PER_DIRECTION,
    MAX_BUFFERED_SEGMENTS_PER_DIRECTION,
    MAX_SEQUENCE_JUMP,
    SEQ_MODULUS,
    TCP_FIN,
    TCP_RST,
    TCP_SYN,
    Delivery,
    DirectionReassembler,
    Gap,
    TcpReassembler,
    _SortedOffsets,
    seq_diff,
    seq_le,
    seq_lt,
)

ACK = 0x10
DATA = bytes(random.Random(1234).randrange(256) for _ in range(5000))


def split(data: bytes, size: int) -> list[tuple[int, bytes]]:
    """Cut data into (offset, chunk) pieces of `size` bytes (the last one shorter)."""
    return [(i, data[i : i + size]) for i in range(0, len(data), size)]


def render(items: list[Delivery]) -> list[bytes | Gap]:
    """Join adjacent byte chunks so a stream compares as [bytes, Gap, bytes, ...]."""
    out: list[bytes | Gap] = []
    for item in items:
        if isinstance(item, Gap):
            out.append(item)
        elif out and isinstance(out[-1], bytes):
            out[-1] = out[-1] + item
        else:
            out.append(bytes(item))
    return [x for x in out if x != b""]


def joined(items: list[Delivery]) -> bytes:
    assert not any(isinstance(i, Gap) for i in items), items
    return b"".join(i for i in items if isinstance(i, bytes))


def feed(
    r: DirectionReassembler, isn: int, pieces: list[tuple[int, bytes]], syn: bool = True
) -> list[Delivery]:
    """Feed (offset, chunk) pieces; offsets are relative to the first data byte (ISN + 1 with a SYN)."""
    out: list[Delivery] = []
    first = isn + 1 if syn else isn
    if syn:
        out += r.segment(isn, b"", syn=True)
    for off, chunk in pieces:
        out += r.segment((first + off) % SEQ_MODULUS, chunk)
    return out


# -- sequence arithmetic -------------------------------------------------------------------------


def test_seq_arithmetic_wraps() -> None:
    assert seq_diff(5, SEQ_MODULUS - 5) == 10
    assert seq_diff(SEQ_MODULUS - 5, 5) == -10
    assert seq_diff(100, 40) == 60
    assert seq_lt(SEQ_MODULUS - 5, 5)
    assert not seq_lt(5, SEQ_MODULUS - 5)
    assert not seq_lt(7, 7)
    assert seq_le(7, 7)
    assert seq_le(SEQ_MODULUS - 1, 0)
    assert not seq_le(0, SEQ_MODULUS - 1)
    # exactly half the space apart: unordered both ways (RFC 1982 leaves it undefined)
    assert not seq_lt(0, 1 << 31)
    assert not seq_lt(1 << 31, 0)


# -- in order, SYN, mid-stream ---------------------------------------------------------------------


def test_in_order_with_syn_delivers_the_same_objects() -> None:
    r = DirectionReassembler()
    assert r.segment(1000, b"", syn=True) == []
    pieces = split(DATA, 1460)
    for off, chunk in pieces:
        out = r.segment(1001 + off, chunk)
        assert len(out) == 1
        assert out[0] is chunk  # no copy in the common case
    assert r.delivered_bytes == len(DATA)
    assert r.retransmitted_bytes == r.out_of_order_segments == 0
    assert r.missed_bytes == r.overlap_conflicts == 0
    assert r.buffered_bytes == 0
    assert r.flush() == []


def test_mid_stream_start_uses_first_segment_seq() -> None:
    r = DirectionReassembler()
    out = feed(r, 3_000_000_000, split(DATA, 700), syn=False)
    assert joined(out) == DATA
    # data from before the first captured segment cannot be placed: counted, not delivered
    assert r.segment(3_000_000_000 - 10, b"0123456789") == []
    assert r.retransmitted_bytes == 10
    assert r.delivered_bytes == len(DATA)


def test_syn_with_payload_tfo_counts_its_data() -> None:
    r = DirectionReassembler()
    out = r.segment(77, b"GET / HTTP/1.1\r\n", syn=True)
    out += r.segment(77 + 1 + 16, b"Host: x\r\n\r\n")
    assert joined(out) == b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def test_syn_retransmission_is_harmless() -> None:
    r = DirectionReassembler()
    out = r.segment(500, b"", syn=True)
    out += r.segment(501, b"hello ")
    out += r.segment(500, b"", syn=True)
    out += r.segment(507, b"world")
    assert joined(out) == b"hello world"
    assert r.retransmitted_bytes == 0


def test_empty_segments_and_pure_acks_do_nothing() -> None:
    r = DirectionReassembler()
    r.segment(10, b"", syn=True)
    assert r.segment(11, b"") == []
    assert r.segment(5_000, b"") == []
    assert r.out_of_order_segments == 0
    assert r.segment(11, b"abc") == [b"abc"]


# -- reordering, duplicates, overlaps --------------------------------------------------------------


def test_shuffled_segments_reassemble() -> None:
    for seed in range(6):
        rng = random.Random(seed)
        pieces = split(DATA, rng.choice([1, 7, 100, 536, 1460]))
        rng.shuffle(pieces)
        r = DirectionReassembler()
        out = feed(r, rng.randrange(SEQ_MODULUS), pieces)
        assert joined(out) == DATA, seed
        assert r.out_of_order_segments > 0
        assert r.buffered_bytes == 0
        assert r.missed_bytes == 0
        assert r.flush() == []


def test_duplicated_segments_are_dropped_and_counted() -> None:
    pieces = split(DATA, 512)
    # in order, every segment twice
    r = DirectionReassembler()
    out = feed(r, 42, [p for p in pieces for _ in (0, 1)])
    assert joined(out) == DATA
    assert r.retransmitted_bytes == len(DATA)
    # shuffled duplicates: some duplicates hit held data, some delivered data; each counted once
    rng = random.Random(7)
    doubled = pieces + pieces
    rng.shuffle(doubled)
    r = DirectionReassembler()
    out = feed(r, 42, doubled)
    assert joined(out) == DATA
    assert r.retransmitted_bytes == len(DATA)
    assert r.overlap_conflicts == 0


def test_partial_overlap_delivers_only_the_new_part() -> None:
    r = DirectionReassembler()
    out = feed(r, 0, [(0, b"0123456789"), (5, b"56789ABCDE")])
    assert out == [b"0123456789", b"ABCDE"]
    assert r.retransmitted_bytes == 5
    assert r.overlap_conflicts == 0


def test_overlap_with_delivered_data_that_differs_first_wins() -> None:
    r = DirectionReassembler()
    out = feed(r, 0, [(0, b"0123456789"), (5, b"xxxxxABCDE")])
    assert render(out) == [b"0123456789ABCDE"]
    assert r.overlap_conflicts == 1
    assert r.retransmitted_bytes == 5
    # a pure retransmission with different content also counts
    out = r.segment(1 + 2, b"zz")
    assert out == []
    assert r.overlap_conflicts == 2
    assert r.segment(1 + 9, b"9ABCX") == []  # differs only in its last byte
    assert r.overlap_conflicts == 3
    assert r.segment(1 + 9, b"9ABCD") == []  # identical: no conflict
    assert r.overlap_conflicts == 3


def test_overlap_between_held_segments_first_wins() -> None:
    r = DirectionReassembler()
    out = feed(r, 9, [(10, b"A" * 10), (15, b"B" * 10), (0, b"0123456789")])
    assert render(out) == [b"0123456789" + b"A" * 10 + b"B" * 5]
    assert r.overlap_conflicts == 1
    assert r.retransmitted_bytes == 5
    assert r.out_of_order_segments == 2


def test_in_order_segment_overlapping_held_data_keeps_held_bytes() -> None:
    r = DirectionReassembler()
    out = feed(r, 9, [(5, b"XXXXX"), (0, b"YYYYYYYYYY")])
    assert render(out) == [b"YYYYYXXXXX"]
    assert r.overlap_conflicts == 1


def test_big_segment_fills_holes_between_held_pieces() -> None:
    r = DirectionReassembler()
    data = b"abcdefghijklmnop"
    out = feed(r, 0, [(2, data[2:4]), (6, data[6:8]), (12, data[12:13]), (0, data[:10])])
    assert render(out) == [data[:10]]
    assert r.retransmitted_bytes == 4
    assert r.buffered_bytes == 1
    out = r.segment(1 + 10, data[10:])
    assert render(out) == [data[10:]]
    assert r.retransmitted_bytes == 5
    assert r.overlap_conflicts == 0


def test_keepalive_is_ignored() -> None:
    r = DirectionReassembler()
    feed(r, 0, [(0, b"0123456789")])
    assert r.segment(1 + 9, b"\x00") == []
    assert r.segment(1 + 9, b"") == []
    assert (r.retransmitted_bytes, r.overlap_conflicts) == (0, 0)


# -- wraparound ------------------------------------------------------------------------------------


def test_stream_crossing_the_wrap() -> None:
    for isn in (SEQ_MODULUS - 1, SEQ_MODULUS - 2, SEQ_MODULUS - 1000, SEQ_MODULUS - 2500):
        r = DirectionReassembler()
        assert joined(feed(r, isn, split(DATA, 37))) == DATA
        pieces = split(DATA, 37)
        random.Random(isn).shuffle(pieces)
        r = DirectionReassembler()
        assert joined(feed(r, isn, pieces)) == DATA
        r = DirectionReassembler()  # mid-stream, first byte just below the wrap
        assert joined(feed(r, isn, split(DATA, 1460), syn=False)) == DATA


# -- holes, gaps, limits ---------------------------------------------------------------------------


def test_hole_that_never_fills_flushes_as_exact_gaps() -> None:
    r = DirectionReassembler()
    d = DATA[:40]
    out = feed(r, 100, [(0, d[:10]), (20, d[20:30]), (35, d[35:40])])
    assert render(out) == [d[:10]]
    assert r.buffered_bytes == 15
    assert render(r.flush()) == [Gap(10), d[20:30], Gap(5), d[35:40]]
    assert r.missed_bytes == 15
    assert r.delivered_bytes == 25
    assert r.buffered_bytes == 0
    # the stream goes on after the flush
    assert r.segment(101 + 40, b"more") == [b"more"]


def test_byte_limit_forces_a_gap() -> None:
    r = DirectionReassembler(max_buffered=10)
    d = DATA[:30]
    out = feed(r, 0, [(0, d[:5]), (10, d[10:16])])
    assert render(out) == [d[:5]]
    out = r.segment(1 + 20, d[20:26])  # 12 bytes held > 10: give up on the first hole
    assert render(out) == [Gap(5), d[10:16]]
    assert r.missed_bytes == 5
    assert r.buffered_bytes == 6
    assert render(r.flush()) == [Gap(4), d[20:26]]
    assert r.missed_bytes == 9


def test_segment_limit_forces_a_gap() -> None:
    r = DirectionReassembler(max_segments=3)
    d = DATA[:20]
    out = feed(r, 0, [(0, d[:1]), (3, d[3:4]), (5, d[5:6]), (7, d[7:8])])
    assert render(out) == [d[:1]]
    assert r.buffered_segments == 3
    out = r.segment(1 + 9, d[9:10])
    assert render(out) == [Gap(2), d[3:4]]
    assert r.buffered_segments == 3
    assert r.missed_bytes == 2


def test_default_limits_are_sane() -> None:
    assert MAX_BUFFERED_BYTES_PER_DIRECTION == 1 << 20
    assert MAX_BUFFERED_SEGMENTS_PER_DIRECTION >= 100_000
    r = DirectionReassembler()
    chunk = bytes(1000)
    out: list[Delivery] = r.segment(0, b"", syn=True)
    # a hole at offset 0, then 1,100 KB out of order: the limit gives up on the hole once
    for i in range(1, 1101):
        out += r.segment(1 + i * 1000, chunk)
    assert render(out) == [Gap(1000), bytes(1000 * 1100)]
    assert r.missed_bytes == 1000
    assert r.buffered_bytes == 0


def test_segment_far_ahead_is_dropped() -> None:
    r = DirectionReassembler()
    feed(r, 0, [(0, b"abc")])
    assert r.segment((1 + 3 + MAX_SEQUENCE_JUMP + 1) % SEQ_MODULUS, b"junk") == []
    assert r.dropped_segments == 1
    assert r.buffered_bytes == 0
    assert r.flush() == []
    assert r.segment(1 + 3, b"def") == [b"def"]


def test_100k_one_byte_segments_reverse_and_shuffled() -> None:
    n = 100_000
    data = bytes(random.Random(5).randrange(256) for _ in range(n))
    for order in ("reverse", "shuffled"):
        idx = list(range(n))
        if order == "reverse":
            idx.reverse()
        else:
            random.Random(11).shuffle(idx)
        r = DirectionReassembler()
        out: list[Delivery] = r.segment(SEQ_MODULUS - 50_000, b"", syn=True)  # and across the wrap
        base = SEQ_MODULUS - 50_000 + 1
        for i in idx:
            out += r.segment((base + i) % SEQ_MODULUS, data[i : i + 1])
        assert joined(out) == data, order
        assert r.buffered_segments == 0
        assert r.missed_bytes == 0


# -- FIN and RST -----------------------------------------------------------------------------------


def test_late_segment_before_fin_is_placed_and_data_past_fin_dropped() -> None:
    r = DirectionReassembler()
    d = DATA[:30]
    out = r.segment(0, b"", syn=True)
    out += r.segment(1, d[:10])
    out += r.segment(21, d[20:30], fin=True)
    assert not r.complete
    out += r.segment(11, d[10:20])  # late, fits before the FIN
    assert joined(out) == d
    assert r.fin_seen and r.complete
    assert r.segment(31, b"after") == []
    assert r.segment(29, b"XYZ") == []  # straddles the FIN: the part before it is a retransmission
    assert r.dropped_segments == 2
    assert r.delivered_bytes == 30


def test_fin_trims_held_data_and_flush_reports_hole_before_fin() -> None:
    r = DirectionReassembler()
    r.segment(0, b"", syn=True)
    r.segment(1, b"0123")
    r.segment(1 + 8, b"89abcdef")  # held, extends past the FIN to come
    r.segment(1 + 12, b"", fin=True)  # pure FIN at offset 12
    assert r.buffered_bytes == 4
    assert render(r.flush()) == [Gap(4), b"89ab"]
    assert r.complete
    # a FIN with an empty hole in front of it
    r = DirectionReassembler()
    r.segment(0, b"", syn=True)
    r.segment(1, b"0123")
    r.segment(1 + 10, b"", fin=True)
    assert render(r.flush()) == [Gap(6)]
    assert r.missed_bytes == 6


def test_rst_payload_ignored_late_segments_still_placed() -> None:
    r = DirectionReassembler()
    out = r.segment(0, b"", syn=True)
    out += r.segment(1, b"abc")
    out += r.segment(7, b"ghi")
    assert r.segment(10, b"connection reset", rst=True) == []
    assert r.rst_seen
    out += r.segment(4, b"def")
    assert joined(out) == b"abcdefghi"


# -- both directions -------------------------------------------------------------------------------


def test_tcp_reassembler_handshake_both_directions_and_flush() -> None:
    t = TcpReassembler()
    assert t.segment(True, 1000, b"", TCP_SYN) == []
    assert t.segment(False, 9000, b"", TCP_SYN | ACK) == []
    assert t.segment(True, 1001, b"GET / HTTP/1.0\r\n\r\n", ACK) == [b"GET / HTTP/1.0\r\n\r\n"]
    # the response arrives out of order, then the FIN
    assert t.segment(False, 9001 + 9, b"OK\r\n", ACK) == []
    assert t.segment(False, 9001, b"HTTP/1.0 ", ACK) == [b"HTTP/1.0 ", b"OK\r\n"]
    assert t.segment(False, 9001 + 13 + 5, b"body", ACK | TCP_FIN) == []
    assert t.segment(True, 1001 + 18, b"", ACK | TCP_RST) == []
    assert t.client.rst_seen and not t.server.rst_seen
    assert t.server.fin_seen and not t.client.fin_seen
    assert t.flush() == [(False, Gap(5)), (False, b"body")]
    assert t.server.missed_bytes == 5
    assert t.client.delivered_bytes == 18


# -- the sorted index ------------------------------------------------------------------------------


@given(ops=st.lists(st.tuples(st.sampled_from("aapft"), st.integers(0, 3000)), max_size=1500))
@settings(max_examples=60, deadline=None)
def test_sorted_offsets_matches_a_sorted_list(ops: list[tuple[str, int]]) -> None:
    s = _SortedOffsets()
    model: list[int] = []
    for op, x in ops:
        if op == "a" and x not in model:
            s.add(x)
            insort(model, x)
        elif op == "p" and model:
            assert s.pop_min() == model.pop(0)
        elif op == "f":
            below = [m for m in model if m <= x]
            assert s.floor(x) == (below[-1] if below else None)
            assert list(s.irange(x)) == [m for m in model if m >= x]
        elif op == "t" and x % 7 == 0:
            assert s.truncate_from(x) == [m for m in model if m >= x]
            model = [m for m in model if m < x]
        assert len(s) == len(model)
        if model:
            assert s.min() == model[0]


# -- property: any reordering / duplication of a complete segmentation reassembles ---------------


@given(
    data=st.binary(max_size=3000),
    isn=st.integers(0, SEQ_MODULUS - 1),
    syn=st.booleans(),
    fin=st.booleans(),
    rng=st.randoms(use_true_random=False),
)
@settings(max_examples=200, deadline=None)
def test_any_permutation_and_duplication_reassembles(
    data: bytes, isn: int, syn: bool, fin: bool, rng: random.Random
) -> None:
    n = len(data)
    cuts = sorted({0, n, *(rng.randrange(n + 1) for _ in range(rng.randrange(12)))})
    pieces = [(a, b) for a, b in itertools.pairwise(cuts) if b > a]
    # duplicates and coalesced retransmissions (ranges spanning several pieces), same content
    extra = [rng.choice(pieces) for _ in range(rng.randrange(4))] if pieces else []
    for _ in range(rng.randrange(4) if n else 0):
        a = rng.randrange(n)
        extra.append((a, rng.randrange(a + 1, n + 1)))
    segs = pieces + extra
    rng.shuffle(segs)
    if not syn and segs:  # mid-stream: the first captured segment defines the start
        first = next(i for i, (a, _) in enumerate(segs) if a == 0)
        segs.insert(0, segs.pop(first))
    r = DirectionReassembler()
    first_seq = (isn + 1) % SEQ_MODULUS if syn else isn
    out: list[Delivery] = r.segment(isn, b"", syn=True) if syn else []
    for a, b in segs:
        out += r.segment((first_seq + a) % SEQ_MODULUS, data[a:b], fin=fin and b == n)
    assert joined(out) == data
    assert r.flush() == []
    assert (r.missed_bytes, r.overlap_conflicts, r.dropped_segments) == (0, 0, 0)
    assert r.delivered_bytes == n
    assert r.buffered_bytes == 0
    if fin and segs:
        assert r.complete
