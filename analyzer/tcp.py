"""Per-direction TCP reassembly: segments in, an ordered byte stream with explicit gaps out.

Theory of operation
-------------------
A `DirectionReassembler` turns the segments one side of a connection sends into the byte stream
that side wrote, delivered in order as `bytes` chunks, with a `Gap(n)` wherever `n` bytes are known
to be missing. `TcpReassembler` pairs two of them (client -> server, server -> client).

Offsets. TCP sequence numbers are 32 bits and wrap, so every segment is first mapped onto an
unbounded *relative offset*: offset 0 is the first data byte (ISN + 1 when the SYN was seen, since
the SYN consumes one sequence number; a SYN's own payload, TCP Fast Open, starts there too; with no
SYN, the capture started mid-connection and the first segment's sequence number is offset 0).
A segment's offset is `next + seq_diff(seq, seq_of(next))`, where `next` is the offset of the first
undelivered byte: the signed 32-bit distance is wraparound-safe, and from there on the arithmetic is
on Python ints that never wrap (a stream may carry more than 4 GiB). Data sent before the first
captured segment of a mid-stream connection cannot be placed and counts as retransmitted.

State. `next`; the *held* pieces (out-of-order data, non-overlapping, each starting after `next`),
kept in a dict offset -> bytes plus a sorted index of their offsets; the FIN offset once a FIN was
seen (data past it is dropped); and the last few delivered chunks (bounded), kept by reference only
so that a retransmission of delivered data can be compared with what was delivered.

Per segment. Bytes below `next` were delivered already: counted as `retransmitted_bytes`, compared
with the retained deliveries, dropped. Bytes at or above `next` are stored only where nothing is held
yet, so the first data to arrive for a byte wins (as in Wireshark and most stacks); bytes already
held count as retransmitted too. Overlapping bytes that differ count one `overlap_conflicts` per
segment. Then every held piece contiguous with `next` is delivered.

Limits. If the held data exceeds the byte or piece limit, the reassembler gives up on the first hole:
it emits `Gap(hole)`, counts `missed_bytes`, and delivers what is contiguous after the hole, repeating
until under the limits. `flush()` (connection end or expiry) does the same for every remaining hole,
then reports the bytes missing before a seen FIN. A segment more than a maximal TCP window away from
`next` cannot be in flight and is dropped (`dropped_segments`), as is data past the FIN.

Common case. A segment at `next` with nothing held is delivered as the very `bytes` object passed in:
no copy, no dict or index traffic, O(1).

Opaque bytes (DESIGN.md rule 11). A consumer that knows the next `n` bytes of a direction are of no
use to it (TLS application data, an HTTP body of known length) calls `skip(n)`: those bytes, the
*skip zone*, are swallowed instead of delivered, neither copied nor retained. When the zone is over
one `Skipped(count)` item stands for the bytes of it that arrived, in stream order, so the consumer
counts exactly what it would have counted had it been fed them; holes inside the zone still come out
as `Gap`s, after the `Skipped` of the bytes before them. `swallow()` lets a caller that read a
segment's sequence number straight from a frame (the pipeline's fast path) take an in-order segment
lying wholly inside a zone, without ending it, in O(1) and without the segment ever being decoded.
Retransmitted bytes of a zone are counted but cannot be compared with what was swallowed.

RST only sets `rst_seen` (its payload, a diagnostic text at most, is not stream data); late segments
that fit before the FIN are still placed after FIN or RST. A keep-alive (at most one byte at
`next - 1`) is ignored.
"""

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, TypeAlias

from analyzer.frozen import interpreted_inits

SEQ_MODULUS: Final = 1 << 32
"""TCP sequence numbers are 32-bit and wrap modulo 2^32 (RFC 9293)."""
SEQ_MASK: Final = SEQ_MODULUS - 1
"""Mask reducing an int to a 32-bit sequence number."""
SEQ_HALF: Final = 1 << 31
"""Half the sequence space: the largest distance that still has a direction (RFC 1982)."""

TCP_FIN: Final = 0x01
"""FIN bit of the TCP flags byte: the sender has no more data."""
TCP_SYN: Final = 0x02
"""SYN bit of the TCP flags byte: carries the initial sequence number."""
TCP_RST: Final = 0x04
"""RST bit of the TCP flags byte: the connection is aborted."""

# Out-of-order data is held while a hole is open. 1 MiB per direction is above the bandwidth-delay
# product of the captures this tool is for (a full unscaled window is 64 KiB; 1 MiB covers a LAN or a
# fast WAN flight) while keeping a pathological or lossy flow from holding unbounded memory.
MAX_BUFFERED_BYTES_PER_DIRECTION: Final = 1 << 20

# Each held piece costs ~150 bytes of bookkeeping beyond its data (bytes header, dict entry, index
# slot), so tiny segments could cost far more than the byte limit says. 128 Ki pieces bounds that
# overhead (~20 MiB in the worst case) while a 100,000-segment reordering of one-byte segments still
# reassembles without a gap.
MAX_BUFFERED_SEGMENTS_PER_DIRECTION: Final = 1 << 17

# The largest window TCP can advertise is 65535 << 14, just under 2^30 (RFC 7323, section 2.3): a
# segment farther than that from the next expected byte cannot be in flight. It is dropped rather
# than held (bogus sequence numbers, a reused port, or a mis-merged flow).
MAX_SEQUENCE_JUMP: Final = 1 << 30

# Delivered chunks kept (by reference, no copy) to compare retransmissions with what was delivered,
# bounded by bytes and by count. 32 KiB covers the usual retransmission of the last segments of a
# flight; older retransmissions still count as retransmitted, only their content is not compared.
RETAINED_DELIVERED_BYTES: Final = 32 * 1024
RETAINED_DELIVERED_CHUNKS: Final = 32

# A keep-alive probe carries at most this many bytes, sent one below the next expected byte.
KEEPALIVE_MAX_BYTES: Final = 1

# Target length of one sublist of the sorted offset index: inserts move at most ~2 x 256 pointers and
# the top-level index stays short, so insertion is O(log n) plus a small constant memmove.
_SORTED_LOAD: Final = 256


def seq_diff(a: int, b: int) -> int:
    """Signed distance `a - b` between two 32-bit sequence numbers, in [-2^31, 2^31)."""
    return ((a - b + SEQ_HALF) & SEQ_MASK) - SEQ_HALF


def seq_lt(a: int, b: int) -> bool:
    """`a` comes before `b` in sequence space (RFC 1982; numbers exactly 2^31 apart are unordered)."""
    return seq_diff(b, a) > 0


def seq_le(a: int, b: int) -> bool:
    """`a` equals `b` or comes before it in sequence space."""
    return seq_diff(b, a) >= 0


@dataclass(frozen=True, slots=True, init=False)
class Gap:
    """A run of stream bytes that will never be delivered (Zeek's missed_bytes)."""

    size: int
    """Number of bytes known to be missing at this point of the stream."""

    def __init__(self, size: int) -> None:
        self.size = size  # type: ignore[misc]  # a native store once compiled: analyzer/frozen.py


@dataclass(frozen=True, slots=True, init=False)
class Skipped:
    """Bytes of a skip zone (`DirectionReassembler.skip`) that arrived and were swallowed."""

    size: int
    """Number of bytes swallowed since the zone began or since the last `Gap` inside it."""

    def __init__(self, size: int) -> None:
        self.size = size  # type: ignore[misc]  # a native store once compiled: analyzer/frozen.py


interpreted_inits(Gap, Skipped)

Delivery: TypeAlias = bytes | Gap | Skipped
"""One item of the reassembled stream: in-order bytes, a gap standing for missing bytes, or the
count of bytes swallowed in a skip zone."""

MAX_SKIP: Final = 1 << 62
"""A skip zone with no end in sight (a body that lasts until the connection closes): far beyond any
stream a capture holds, and still a small int for the offset arithmetic."""


class _SortedOffsets:
    """A sorted multiset-free collection of ints: a list of short sorted sublists plus their maxima.

    The standard library has no balanced tree and `insort` into one flat list is O(n) memmove, which
    goes quadratic for 100,000 reordered segments; short sublists keep every operation O(log n) plus
    a small constant.
    """

    __slots__ = ("_len", "_lists", "_maxes")

    def __init__(self) -> None:
        self._lists: list[list[int]] = []
        self._maxes: list[int] = []
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def add(self, x: int) -> None:
        lists, maxes = self._lists, self._maxes
        self._len += 1
        if not maxes:
            lists.append([x])
            maxes.append(x)
            return
        i = bisect_left(maxes, x)
        if i == len(maxes):
            i -= 1
            sub = lists[i]
            sub.append(x)
            maxes[i] = x
        else:
            sub = lists[i]
            insort(sub, x)
        if len(sub) > 2 * _SORTED_LOAD:
            tail = sub[_SORTED_LOAD:]
            del sub[_SORTED_LOAD:]
            lists.insert(i + 1, tail)
            maxes[i] = sub[-1]
            maxes.insert(i + 1, tail[-1])

    def min(self) -> int:
        return self._lists[0][0]

    def pop_min(self) -> int:
        sub = self._lists[0]
        x = sub.pop(0)
        if not sub:
            del self._lists[0]
            del self._maxes[0]
        self._len -= 1
        return x

    def floor(self, x: int) -> int | None:
        """The largest element <= x, or None."""
        maxes = self._maxes
        i = bisect_left(maxes, x)
        if i < len(maxes):
            sub = self._lists[i]
            j = bisect_right(sub, x)
            if j:
                return sub[j - 1]
        return maxes[i - 1] if i else None

    def irange(self, lo: int) -> Iterator[int]:
        """Elements >= lo in ascending order (the collection must not change meanwhile)."""
        lists = self._lists
        i = bisect_left(self._maxes, lo)
        if i == len(lists):
            return
        sub = lists[i]
        for j in range(bisect_left(sub, lo), len(sub)):
            yield sub[j]
        for k in range(i + 1, len(lists)):
            yield from lists[k]

    def truncate_from(self, lo: int) -> list[int]:
        """Remove and return every element >= lo."""
        lists, maxes = self._lists, self._maxes
        i = bisect_left(maxes, lo)
        if i == len(maxes):
            return []
        sub = lists[i]
        j = bisect_left(sub, lo)
        removed = sub[j:]
        del sub[j:]
        for rest in lists[i + 1 :]:
            removed.extend(rest)
        del lists[i + 1 :]
        del maxes[i + 1 :]
        if sub:
            maxes[i] = sub[-1]
        else:
            del lists[i]
            del maxes[i]
        self._len -= len(removed)
        return removed


class DirectionReassembler:
    """Reassembles the byte stream one side of a TCP connection sends (see the module docstring)."""

    __slots__ = (
        "_base",
        "_fin_at",
        "_held",
        "_held_bytes",
        "_max_buffered",
        "_max_segments",
        "_next",
        "_order",
        "_recent",
        "_recent_bytes",
        "_skip_end",
        "_skipped",
        "buffer_limit_hits",
        "delivered_bytes",
        "dropped_segments",
        "missed_bytes",
        "out_of_order_segments",
        "overlap_conflicts",
        "retransmitted_bytes",
        "rst_seen",
        "skipped_bytes",
    )

    def __init__(
        self,
        max_buffered: int = MAX_BUFFERED_BYTES_PER_DIRECTION,
        max_segments: int = MAX_BUFFERED_SEGMENTS_PER_DIRECTION,
    ) -> None:
        self._max_buffered = max_buffered
        self._max_segments = max_segments
        self._base: int | None = None  # sequence number of relative offset 0, once known
        self._next = 0  # relative offset of the first undelivered byte
        self._fin_at: int | None = None  # relative offset of the FIN (end of data), once seen
        self._held: dict[int, bytes] = {}  # out-of-order pieces by relative offset, non-overlapping
        self._order = _SortedOffsets()  # the keys of _held, sorted
        self._held_bytes = 0
        # last delivered chunks: (offset, data); a list, not a deque: an empty deque costs 10x the
        # memory and this one never holds more than RETAINED_DELIVERED_CHUNKS
        self._recent: list[tuple[int, bytes]] = []
        self._recent_bytes = 0
        self._skip_end = 0  # relative offset where the skip zone ends (no zone while <= _next)
        self._skipped = 0  # bytes swallowed in the zone and not yet reported as Skipped
        self.skipped_bytes = 0
        """Bytes swallowed in skip zones (arrived, not delivered): counted apart from delivered."""
        self.missed_bytes = 0
        """Bytes given up on: holes skipped at the buffer limit or at flush (Zeek's missed_bytes)."""
        self.retransmitted_bytes = 0
        """Bytes received again after being delivered or held; dropped."""
        self.overlap_conflicts = 0
        """Segments whose overlap with earlier data differs from it (the first data was kept)."""
        self.out_of_order_segments = 0
        """Segments that arrived ahead of the next expected byte."""
        self.delivered_bytes = 0
        """Stream bytes delivered (gaps excluded)."""
        self.dropped_segments = 0
        """Segments dropped (wholly or in part): too far from the stream position, or past the FIN."""
        self.buffer_limit_hits = 0
        """Holes given up on because held data passed the byte or piece limit (before `flush`)."""
        self.rst_seen = False
        """An RST was seen in this direction."""

    # -- read-only views ------------------------------------------------------------------------

    @property
    def buffered_bytes(self) -> int:
        """Out-of-order bytes currently held."""
        return self._held_bytes

    @property
    def buffered_segments(self) -> int:
        """Out-of-order pieces currently held."""
        return len(self._order)

    @property
    def fin_seen(self) -> bool:
        """A FIN was seen in this direction."""
        return self._fin_at is not None

    @property
    def skipping(self) -> bool:
        """A skip zone is open: the bytes at `next` are to be swallowed."""
        return self._skip_end > self._next

    @property
    def complete(self) -> bool:
        """FIN seen and every byte before it delivered (or given up as a gap)."""
        return self._fin_at is not None and self._next >= self._fin_at

    # -- input ----------------------------------------------------------------------------------

    def segment(
        self, seq: int, payload: bytes, syn: bool = False, fin: bool = False, rst: bool = False
    ) -> list[Delivery]:
        """Take one segment; return the stream items it makes available, in order."""
        if rst:
            self.rst_seen = True
            return []
        base = self._base
        if syn:
            seq += 1  # the SYN consumes one sequence number; any payload (TFO) follows it
            if base is None:
                base = self._base = seq & SEQ_MASK
        elif base is None:
            base = self._base = seq & SEQ_MASK
        n = len(payload)
        if not n and not fin:
            return []
        nxt = self._next
        rel = nxt + (((seq - base - nxt + SEQ_HALF) & SEQ_MASK) - SEQ_HALF)
        if rel == nxt and self._fin_at is None and not self._held:
            if nxt < self._skip_end and n:
                out: list[Delivery] = []
                self._emit(out, payload)
                if fin:
                    self._fin_at = self._next
                return out
            # Fast path: the next bytes with nothing held; deliver the caller's object as is.
            self._next = nxt + n
            self.delivered_bytes += n
            if fin:
                self._fin_at = self._next
            if not n:
                return []
            self._remember(nxt, payload)
            return [payload]
        return self._place(rel, payload, fin)

    def skip(self, size: int) -> None:
        """Swallow the `size` bytes after those delivered so far (see "Opaque bytes" above); ignored
        while a zone is still open, since the consumer's count of what it skips starts after it."""
        if size > 0 and self._skip_end <= self._next:
            self._skip_end = self._next + size

    def swallow(self, seq: int, size: int) -> bool:
        """Take the in-order segment (`seq`, `size` payload bytes, no SYN/FIN/RST) if it lies wholly
        inside the open skip zone without reaching its end; else False and nothing changed."""
        base = self._base
        nxt = self._next
        if base is None or self._held or self._fin_at is not None or nxt + size >= self._skip_end:
            return False
        if ((seq - base - nxt + SEQ_HALF) & SEQ_MASK) != SEQ_HALF:  # not exactly at `next`
            return False
        self._next = nxt + size
        self._skipped += size
        self.skipped_bytes += size
        return True

    def flush(self) -> list[Delivery]:
        """Give up on every open hole: deliver what is held, with a Gap for each hole."""
        out: list[Delivery] = []
        while self._order:
            self._skip_hole(out)
        fin_at = self._fin_at
        if fin_at is not None and self._next < fin_at:
            self._gap(out, fin_at - self._next)
        self._settle(out)
        return out

    # -- internals ------------------------------------------------------------------------------

    def _place(self, rel: int, payload: bytes, fin: bool) -> list[Delivery]:
        """The general path: retransmissions, overlaps, out-of-order data, FIN bound, limits."""
        out: list[Delivery] = []
        nxt = self._next
        end = rel + len(payload)
        if rel - nxt > MAX_SEQUENCE_JUMP or nxt - end > MAX_SEQUENCE_JUMP:
            self.dropped_segments += 1
            return out
        if fin and self._fin_at is None:
            self._set_fin(max(end, nxt))
        fin_at = self._fin_at
        if fin_at is not None and end > fin_at:
            self.dropped_segments += 1
            if rel >= fin_at:
                return out
            payload = payload[: fin_at - rel]
            end = fin_at
        if end == rel:
            return out
        if rel == nxt - 1 and end - rel <= KEEPALIVE_MAX_BYTES:
            return out  # keep-alive probe: its byte is garbage by design, not a retransmission
        conflict = False
        if rel < nxt:
            old_end = min(end, nxt)
            self.retransmitted_bytes += old_end - rel
            conflict = self._differs_from_delivered(rel, payload, old_end)
            if end <= nxt:
                if conflict:
                    self.overlap_conflicts += 1
                return out
            payload = payload[nxt - rel :]
            rel = nxt
        elif rel > nxt:
            self.out_of_order_segments += 1
        if self._hold(rel, payload) or conflict:
            self.overlap_conflicts += 1
        self._drain(out)
        while self._held_bytes > self._max_buffered or len(self._order) > self._max_segments:
            self.buffer_limit_hits += 1
            self._skip_hole(out)
        return out

    def _set_fin(self, fin_at: int) -> None:
        """Record the end of the stream and drop held data past it."""
        self._fin_at = fin_at
        held, order = self._held, self._order
        removed = order.truncate_from(fin_at)
        for start in removed:
            self._held_bytes -= len(held.pop(start))
        if removed:
            self.dropped_segments += 1
        last = order.floor(fin_at)
        if last is not None and last + len(held[last]) > fin_at:
            data = held[last]
            held[last] = data[: fin_at - last]
            self._held_bytes -= len(data) - (fin_at - last)
            self.dropped_segments += 1

    def _hold(self, start: int, data: bytes) -> bool:
        """Store the parts of data (at start >= next) not held yet; True if an overlap differs."""
        held, order = self._held, self._order
        end = start + len(data)
        cur = start  # first byte of data not yet accounted for
        conflict = False
        fresh: list[tuple[int, bytes]] = []
        below = order.floor(start)
        for hs in order.irange(start if below is None else below):
            if hs >= end:
                break
            hd = held[hs]
            he = hs + len(hd)
            if he <= cur:
                continue
            if hs > cur:
                fresh.append((cur, data[cur - start : hs - start]))
            lo, hi = max(hs, cur), min(he, end)
            self.retransmitted_bytes += hi - lo
            if not conflict and data[lo - start : hi - start] != hd[lo - hs : hi - hs]:
                conflict = True
            cur = hi
            if cur >= end:
                break
        if cur < end:
            fresh.append((cur, data if cur == start else data[cur - start :]))
        for ps, pd in fresh:
            order.add(ps)
            held[ps] = pd
            self._held_bytes += len(pd)
        return conflict

    def _differs_from_delivered(self, start: int, data: bytes, end: int) -> bool:
        """Compare data[: end - start] (already delivered offsets) with the retained deliveries."""
        for cs, cd in reversed(self._recent):
            ce = cs + len(cd)
            if ce <= start:
                break
            lo, hi = max(cs, start), min(ce, end)
            if lo < hi and data[lo - start : hi - start] != cd[lo - cs : hi - cs]:
                return True
        return False

    def _drain(self, out: list[Delivery]) -> None:
        """Deliver every held piece contiguous with next."""
        order, held = self._order, self._held
        while order and order.min() == self._next:
            data = held.pop(order.pop_min())
            self._held_bytes -= len(data)
            self._emit(out, data)

    def _emit(self, out: list[Delivery], data: bytes) -> None:
        """Deliver `data`, the bytes at `next`: what falls in the skip zone is swallowed (and a
        `Skipped` ends the zone), the rest is delivered and retained."""
        start = self._next
        zone_end = self._skip_end
        if start < zone_end:
            taken = min(len(data), zone_end - start)
            self._skipped += taken
            self.skipped_bytes += taken
            start += taken
            self._next = start
            if start == zone_end:
                self._settle(out)
            if taken == len(data):
                return
            data = data[taken:]
        out.append(data)
        self._next = start + len(data)
        self.delivered_bytes += len(data)
        self._remember(start, data)

    def _gap(self, out: list[Delivery], size: int) -> None:
        """Give up on the `size` bytes at `next`: the part inside the skip zone is reported on its
        own, after the `Skipped` of the zone's bytes before it, so the consumer's count stays exact."""
        self.missed_bytes += size
        nxt = self._next
        if nxt < self._skip_end:
            inside = min(size, self._skip_end - nxt)
            self._settle(out)
            out.append(Gap(inside))
            nxt += inside
            size -= inside
        if size:
            out.append(Gap(size))
            nxt += size
        self._next = nxt

    def _settle(self, out: list[Delivery]) -> None:
        """Report the bytes swallowed in the zone so far."""
        if self._skipped:
            out.append(Skipped(self._skipped))
            self._skipped = 0

    def _skip_hole(self, out: list[Delivery]) -> None:
        """Give up on the hole before the first held piece, then deliver what follows it."""
        hole = self._order.min() - self._next
        if hole > 0:
            self._gap(out, hole)
        self._drain(out)

    def _remember(self, start: int, data: bytes) -> None:
        """Retain a delivered chunk by reference, within the retention bounds."""
        recent = self._recent
        recent.append((start, data))
        self._recent_bytes += len(data)
        while len(recent) > 1 and (
            self._recent_bytes > RETAINED_DELIVERED_BYTES or len(recent) > RETAINED_DELIVERED_CHUNKS
        ):
            self._recent_bytes -= len(recent.pop(0)[1])


class TcpReassembler:
    """Both directions of one TCP connection."""

    __slots__ = ("client", "server")

    def __init__(
        self,
        max_buffered: int = MAX_BUFFERED_BYTES_PER_DIRECTION,
        max_segments: int = MAX_BUFFERED_SEGMENTS_PER_DIRECTION,
    ) -> None:
        self.client = DirectionReassembler(max_buffered, max_segments)
        """The stream the client (connection originator) sends."""
        self.server = DirectionReassembler(max_buffered, max_segments)
        """The stream the server (responder) sends."""

    def segment(self, from_client: bool, seq: int, payload: bytes, flags: int) -> list[Delivery]:
        """Take one segment of the given direction; flags is the TCP flags byte."""
        side = self.client if from_client else self.server
        return side.segment(
            seq, payload, syn=bool(flags & TCP_SYN), fin=bool(flags & TCP_FIN), rst=bool(flags & TCP_RST)
        )

    def skip(self, from_client: bool, size: int) -> None:
        """Swallow the next `size` bytes of one direction (`DirectionReassembler.skip`)."""
        (self.client if from_client else self.server).skip(size)

    def flush(self) -> list[tuple[bool, Delivery]]:
        """Flush both directions (client first): (from_client, delivery) pairs."""
        out: list[tuple[bool, Delivery]] = [(True, d) for d in self.client.flush()]
        out.extend((False, d) for d in self.server.flush())
        return out
