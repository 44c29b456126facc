"""Live capture decoupled from analysis, as dumpcap does for tshark.

Theory of operation
-------------------
Two threads share one spool file, a classic nanosecond pcap:

- the capture thread (`SpoolWriter`) waits on the socket, drains every frame the kernel holds and
  appends it to the spool as a pcap record, flushing after each batch; reading a frame and writing
  it costs a few microseconds, so it keeps up with the wire even when the analysis cannot. It stops
  on `count`, `duration` (the session's monotonic clock), a stop request, or a receive error.
- the analysis (the caller's thread, `run_spooled_capture`) reads the spool behind it, record by
  record, up to what the writer has flushed, and hands every frame to the pipeline. When it falls
  behind, the frames wait in the spool, not in the kernel: the live view shows how far behind it is,
  and once the capture stops the analysis finishes what was spooled before the summary is made.

The kernel's buffer (`--buffer-size`) only has to cover the moments the capture thread waits for the
interpreter's lock. The spool is the --write file when one is given (kept whole, as tcpdump -w does),
else a temporary file removed at the end, bounded by `MAX_SPOOL_BYTES`: past it, or when the disk is
full, frames are counted as `queue_dropped` instead of being written. Frames dropped by the kernel
(buffer full) are counted by the kernel (`kernel_dropped`). Both counts go to the summary's
`capture.live` block and to the live view: what was lost is always counted.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable

from analyzer.capture.live import (
    MAX_BATCH,
    PCAP_FILE_HEADER,
    PCAP_RECORD_HEADER,
    POLL_INTERVAL,
    FrameHandler,
    LiveCaptureError,
    LiveSource,
    LiveStats,
    PcapWriter,
    StopRequest,
)

MAX_SPOOL_BYTES = 4 << 30
"""Largest temporary spool (4 GiB): about 40 s of a saturated gigabit link; beyond it frames are
dropped and counted (queue_dropped) rather than filling the disk. A --write file has no such limit."""

READ_CHUNK = 4 << 20
"""Bytes of spool read at once by the analysis side."""

STATS_EVERY = 0.2
"""Seconds between two reads of the kernel's drop counters by the capture thread."""


class SpoolWriter(threading.Thread):
    """The capture thread: socket -> spool file (see the module's theory of operation)."""

    def __init__(
        self,
        source: LiveSource,
        writer: PcapWriter,
        stats: LiveStats,
        *,
        count: int | None,
        duration: float | None,
        limit: int | None,
        clock: Callable[[], float],
    ) -> None:
        super().__init__(name="pcap-analyzer capture", daemon=True)
        self.source = source
        self.writer = writer
        self.stats = stats
        """Shared with the analysis side: the capture thread alone writes its capture counters."""
        self.count = count
        self.duration = duration
        self.limit = limit
        """Spool size past which frames are dropped (None: unbounded, the --write file)."""
        self.clock = clock
        self.flushed = PCAP_FILE_HEADER.size
        """Spool bytes written and flushed: the analysis reads up to here."""
        self.stop_requested = False
        """Set by the analysis side (Ctrl-C): stop capturing."""
        self.stop_reason = ""
        self.done = False
        """The thread has stopped writing; `flushed` is final."""

    def run(self) -> None:
        stats, source, writer = self.stats, self.source, self.writer
        start = self.clock()
        deadline = None if self.duration is None else start + self.duration
        next_stats = start + STATS_EVERY
        size = self.flushed
        try:
            while True:
                if self.stop_requested:
                    stats.stopped_by = self.stop_reason or "interrupt"
                    break
                if self.count is not None and stats.packets >= self.count:
                    stats.stopped_by = "count"
                    break
                now = self.clock()
                if deadline is not None and now >= deadline:
                    stats.stopped_by = "duration"
                    break
                if now >= next_stats:
                    stats.kernel_received, stats.kernel_dropped = source.kernel_stats()
                    next_stats = now + STATS_EVERY
                timeout = POLL_INTERVAL if deadline is None else min(POLL_INTERVAL, deadline - now)
                if not source.wait(timeout):
                    continue
                limit = MAX_BATCH if self.count is None else min(MAX_BATCH, self.count - stats.packets)
                try:
                    for sec, nsec, data, wirelen in source.frames(limit):
                        record = PCAP_RECORD_HEADER.size + len(data)
                        if self.limit is not None and size + record > self.limit:
                            stats.queue_dropped += 1
                            continue
                        try:
                            writer.write(sec, nsec, data, wirelen)
                        except OSError:  # disk full: count what cannot be kept
                            stats.queue_dropped += 1
                            continue
                        size += record
                        stats.packets += 1
                        stats.bytes += wirelen
                except LiveCaptureError as exc:
                    stats.stopped_by, stats.error = "error", exc.message
                    break
                self._flush(size)
        finally:
            self._flush(size)
            stats.kernel_received, stats.kernel_dropped = source.kernel_stats()
            self.done = True

    def _flush(self, size: int) -> None:
        try:
            self.writer.flush()
        except OSError:
            return
        self.flushed = size


class SpoolReader:
    """The analysis side: pcap records of the spool, up to what the writer has flushed."""

    def __init__(self, path: str, linktype: int) -> None:
        self._fh = open(path, "rb")  # noqa: SIM115 (closed by close())
        self._fh.seek(PCAP_FILE_HEADER.size)
        self.position = PCAP_FILE_HEADER.size
        """Spool bytes consumed."""
        self.linktype = linktype
        self._buf = b""

    def read(self, upto: int, handle: FrameHandler, budget: int) -> int:
        """Hand at most `budget` whole records below spool offset `upto` to `handle`; how many."""
        want = min(upto - self.position - len(self._buf), READ_CHUNK)
        if want > 0 and len(self._buf) < READ_CHUNK // 4:
            self._buf += self._fh.read(want)
        buf, pos, n = self._buf, 0, 0
        head = PCAP_RECORD_HEADER
        linktype = self.linktype
        while n < budget and len(buf) - pos >= head.size:
            sec, nsec, caplen, wirelen = head.unpack_from(buf, pos)
            end = pos + head.size + caplen
            if end > len(buf):
                break
            handle(sec + nsec / 1e9, linktype, buf[pos + head.size : end], wirelen)
            pos = end
            n += 1
        self._buf = buf[pos:]
        self.position += pos
        return n

    def close(self) -> None:
        self._fh.close()


def run_spooled_capture(
    source: LiveSource,
    handle: FrameHandler,
    *,
    count: int | None = None,
    duration: float | None = None,
    writer: PcapWriter | None = None,
    tick: Callable[[LiveStats], None] | None = None,
    tick_every: float | None = None,
    stop: StopRequest | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> LiveStats:
    """Capture on a thread into a spool, analyse behind it; return when both are done. The spool is
    `writer`'s file (--write, left open for the caller to close) or a temporary file."""
    stats = LiveStats()
    tmpdir = None
    spool = writer
    if spool is None:
        tmpdir = tempfile.mkdtemp(prefix="pcap-analyzer-spool-")
        spool = PcapWriter(os.path.join(tmpdir, "spool.pcap"), source.linktype, source.snaplen)
    try:
        reader = SpoolReader(spool.path, source.linktype)
        thread = SpoolWriter(
            source,
            spool,
            stats,
            count=count,
            duration=duration,
            limit=MAX_SPOOL_BYTES if writer is None else None,
            clock=clock,
        )
        thread.start()
        try:
            _analyse_behind(thread, reader, handle, stats, tick, tick_every, stop, clock)
        finally:
            thread.stop_requested = True
            thread.join()
            reader.close()
    finally:
        if tmpdir is not None:
            spool.close()
            for name in os.listdir(tmpdir):
                os.unlink(os.path.join(tmpdir, name))
            os.rmdir(tmpdir)
    return stats


def _analyse_behind(
    thread: SpoolWriter,
    reader: SpoolReader,
    handle: FrameHandler,
    stats: LiveStats,
    tick: Callable[[LiveStats], None] | None,
    tick_every: float | None,
    stop: StopRequest | None,
    clock: Callable[[], float],
) -> None:
    """The analysis loop: read what was spooled, redraw the view, pass a stop request on."""
    next_tick = None if tick is None or not tick_every else clock() + tick_every
    while True:
        if stop is not None and stop.requested and not thread.stop_requested:
            thread.stop_reason, thread.stop_requested = stop.reason, True
        done = thread.done  # read before `flushed`: once done, `flushed` is final
        got = reader.read(thread.flushed, handle, MAX_BATCH)
        stats.analysed += got
        now = clock()
        if next_tick is not None and tick is not None and now >= next_tick:
            tick(stats)
            next_tick = now + (tick_every or POLL_INTERVAL)
        if got == 0:
            if done and reader.position >= thread.flushed:
                if tick is not None and next_tick is not None:
                    tick(stats)  # the last frame of the view shows the final counts
                return
            thread.join(0.005)  # nothing spooled yet: let the capture thread run


__all__ = ["MAX_SPOOL_BYTES", "SpoolReader", "SpoolWriter", "run_spooled_capture"]
