"""IPv4/IPv6 fragment reassembly, bounded and expired by packet time."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from analyzer.decode.packet import (
    FRAGMENT_TIMEOUT,
    MAX_FRAGMENT_BYTES,
    MAX_FRAGMENTED_DATAGRAMS,
    MAX_IP_DATAGRAM,
)
from analyzer.errors import Malformed


@dataclass(slots=True)
class _PendingDatagram:
    first_ts: float
    header: bytes  # the IP header (of the first fragment) to put back in front of the payload
    starts: list[int]  # sorted offsets of the held pieces; pieces never overlap
    pieces: dict[int, bytes]  # fragment offset (bytes) -> data not covered by an earlier piece
    total: int  # payload length once the last fragment is seen, else -1
    held: int  # bytes held in pieces


class FragmentReassembler:
    """Theory of operation: fragments are keyed by (version, src, dst, id, proto). Each datagram
    collects pieces by offset; a new fragment is trimmed against the pieces already held, so the
    first arrival wins on overlap and a fragment whose overlapping bytes differ is counted once in
    `overlaps`. Pieces never overlap and never reach past the end announced by the last fragment,
    so the datagram is complete exactly when the bytes held equal that end. Incomplete datagrams
    expire after FRAGMENT_TIMEOUT of packet time, and the oldest are evicted when
    MAX_FRAGMENTED_DATAGRAMS or MAX_FRAGMENT_BYTES is reached."""

    def __init__(self) -> None:
        self._pending: dict[tuple[object, ...], _PendingDatagram] = {}
        self._held = 0
        self.expired = 0
        self.evicted = 0
        self.overlaps = 0
        self.reassembled = 0

    def add(
        self, key: tuple[object, ...], ts: float, header: bytes, offset: int, more: bool, data: bytes
    ) -> bytes | None:
        """Add one fragment; return header+payload of the completed datagram, else None."""
        if offset + len(data) > MAX_IP_DATAGRAM:
            raise Malformed("ip.fragment_too_large", f"fragment ends at {offset + len(data)}")
        self._expire(ts)
        dg = self._pending.get(key)
        if dg is None:
            while self._pending and len(self._pending) >= MAX_FRAGMENTED_DATAGRAMS:
                self._drop(next(iter(self._pending)))
                self.evicted += 1
            dg = _PendingDatagram(ts, header, [], {}, -1, 0)
            self._pending[key] = dg
        while self._held + len(data) > MAX_FRAGMENT_BYTES and len(self._pending) > 1:
            self._drop(next(k for k in self._pending if k != key))  # the oldest other datagram
            self.evicted += 1
        if offset == 0:
            dg.header = header
        if not more:
            dg.total = offset + len(data)
            self._cut(dg, dg.total)
        elif dg.total >= 0:
            data = data[: max(0, dg.total - offset)]
        if self._store(dg, offset, data):
            self.overlaps += 1
        if dg.total < 0 or dg.held < dg.total:
            return None
        self._drop(key)
        self.reassembled += 1
        return dg.header + b"".join(dg.pieces[off] for off in dg.starts)

    def _store(self, dg: _PendingDatagram, offset: int, data: bytes) -> bool:
        """Hold the parts of `data` no piece covers yet; True when a covered byte differs."""
        end = offset + len(data)
        starts, pieces = dg.starts, dg.pieces
        conflict = False
        pos = offset
        fresh: list[tuple[int, bytes]] = []
        i = max(0, bisect.bisect_right(starts, offset) - 1)
        while i < len(starts) and starts[i] < end:
            start = starts[i]
            piece = pieces[start]
            stop = min(start + len(piece), end)
            if stop > pos:
                if start > pos:
                    fresh.append((pos, data[pos - offset : start - offset]))
                    pos = start
                if piece[pos - start : stop - start] != data[pos - offset : stop - offset]:
                    conflict = True
                pos = stop
            i += 1
        if pos < end:
            fresh.append((pos, data[pos - offset :]))
        for start, chunk in fresh:
            bisect.insort(starts, start)
            pieces[start] = chunk
            dg.held += len(chunk)
            self._held += len(chunk)
        return conflict

    def _cut(self, dg: _PendingDatagram, total: int) -> None:
        """Drop held bytes past `total` (the end announced by the last fragment)."""
        i = bisect.bisect_left(dg.starts, total)
        for start in dg.starts[i:]:
            self._release(dg, len(dg.pieces.pop(start)))
        del dg.starts[i:]
        if i:
            start = dg.starts[i - 1]
            piece = dg.pieces[start]
            if start + len(piece) > total:
                dg.pieces[start] = piece[: total - start]
                self._release(dg, start + len(piece) - total)

    def _release(self, dg: _PendingDatagram, size: int) -> None:
        dg.held -= size
        self._held -= size

    def _drop(self, key: tuple[object, ...]) -> None:
        dg = self._pending.pop(key)
        self._held -= dg.held

    def _expire(self, now: float) -> None:
        while self._pending:
            key, dg = next(iter(self._pending.items()))
            if now - dg.first_ts <= FRAGMENT_TIMEOUT:
                break
            self._drop(key)
            self.expired += 1

    @property
    def pending(self) -> int:
        return len(self._pending)
