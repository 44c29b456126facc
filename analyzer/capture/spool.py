"""Live capture decoupled from analysis, as dumpcap does for tshark.

Theory of operation
-------------------
Two processes share one spool file, a classic nanosecond pcap:

- the capture process (`SpoolWriter`, forked when the capture starts, so it shares no interpreter
  lock with the analysis) waits on the capture, drains every frame the kernel holds and appends it
  to the spool, flushing after each batch. With libpcap (`ring.RingSource`, the normal case) no
  Python runs per frame: one `pcap_dispatch` call copies every frame of the kernel's ring to the
  spool in C (`_run_ring`). Without libpcap the frames of a plain packet socket are read and written
  one by one in Python (`_run_frames`, a few microseconds each). It stops on `count`, `duration` (the
  session's monotonic clock), a receive error, or a stop request from the analysis side, after which
  it still drains what the kernel already holds (up to `DRAIN_ON_STOP` frames, waiting up to
  `DRAIN_WAIT` for the ring to hand over its last, partly filled block). Its counters live in a small
  shared-memory array, written once per batch.
- the analysis (the caller's process, `run_spooled_capture`) reads the spool behind it, record by
  record, up to what the writer has flushed, and hands every frame to the pipeline. When it falls
  behind, the frames wait in the spool, not in the kernel: the live view shows how far behind it is,
  and once the capture stops the analysis finishes what was spooled before the summary is made.

The kernel's buffer (`--buffer-size`) only has to cover the capture process's own pauses. The spool
is the --write file when one is given (kept whole, as tcpdump -w does), else a temporary file removed
at the end, bounded by `MAX_SPOOL_BYTES`: past it, or when the disk is full, frames are counted as
`queue_dropped` instead of being written (the ring path then dispatches them to /dev/null, still in
C, so that they are counted and the ring keeps draining). Frames the kernel dropped (its buffer
full) are counted by the kernel (`kernel_dropped`). Both go to the summary's `capture.live` block and
to the live view: what was lost is always counted.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import tempfile
import time
from collections.abc import Callable

from analyzer.capture.live import (
    MAX_BATCH,
    MAX_DISPATCH,
    PCAP_FILE_HEADER,
    PCAP_RECORD_HEADER,
    POLL_INTERVAL,
    CaptureSource,
    FrameHandler,
    LiveCaptureError,
    LiveStats,
    PcapWriter,
    StopRequest,
    interface_rx_dropped,
)
from analyzer.capture.ring import RING_TIMEOUT_MS, RingDumper, RingSource

MAX_SPOOL_BYTES = 4 << 30
"""Largest temporary spool (4 GiB): about 40 s of a saturated gigabit link; beyond it frames are
dropped and counted (queue_dropped) rather than filling the disk. A --write file has no such limit."""

READ_CHUNK = 4 << 20
"""Bytes of spool read at once by the analysis side."""

STATS_EVERY = 0.2
"""Seconds between two reads of the kernel's drop counters by the capture process."""


# Slots of the shared counter array (the capture process writes them, the analysis reads them).
_PACKETS, _KERNEL_RECEIVED, _KERNEL_DROPPED, _QUEUE_DROPPED, _FLUSHED, _DONE, _STOP, _STOPPED_BY = range(8)
_SLOTS = 8
_STOPPED_BY_NAMES = ("", "count", "duration", "stop", "error")
"""How the capture process ended, by code (the stop request's own reason is known to the parent)."""
MAX_ERROR_BYTES = 512
"""Room for the one-line message of a receive error, handed from the capture process."""
DRAIN_ON_STOP = 1_000_000
"""Frames still read from the kernel's buffer after a stop request (what already reached us is
analysed, not lost); a bound, so that a flood cannot keep the capture from stopping."""
DRAIN_WAIT = 2.5 * RING_TIMEOUT_MS / 1000
"""Seconds a ring capture still waits after a stop request for the kernel to hand over the block it
was filling: the kernel retires a partly filled block on the second tick of its block timer at the
latest, and the frames in it already reached us."""


class SpoolWriter:
    """The capture process: socket -> spool file (see the module's theory of operation).

    It is forked, so it shares nothing with the analysis but the socket, the spool file and a small
    array of counters in shared memory; it holds no interpreter lock the analysis needs."""

    def __init__(
        self,
        source: CaptureSource,
        writer: PcapWriter,
        *,
        count: int | None,
        duration: float | None,
        limit: int | None,
    ) -> None:
        ctx = multiprocessing.get_context("fork")
        self.source = source
        self.writer = writer
        self.count = count
        self.duration = duration
        self.limit = limit
        """Spool size past which frames are dropped (None: unbounded, the --write file)."""
        self.shared = ctx.RawArray(ctypes.c_int64, _SLOTS)
        self.shared[_FLUSHED] = PCAP_FILE_HEADER.size
        self.error = ctx.RawArray(ctypes.c_char, MAX_ERROR_BYTES)
        self.process = ctx.Process(target=self._run, name="pcap-analyzer capture", daemon=True)
        self._deadline: float | None = None
        self._next_stats = 0.0

    # -- the analysis side's view --

    def start(self) -> None:
        self.process.start()

    def stop(self) -> None:
        """Ask the capture to stop (it drains what the kernel already holds first)."""
        self.shared[_STOP] = 1

    def join(self) -> None:
        self.process.join()

    @property
    def done(self) -> bool:
        """The capture process has stopped writing; `flushed` is final."""
        return bool(self.shared[_DONE]) or not self.process.is_alive()

    @property
    def flushed(self) -> int:
        """Spool bytes written and flushed: the analysis reads up to here."""
        return int(self.shared[_FLUSHED])

    def update(self, stats: LiveStats) -> None:
        """Copy the capture process's counters into `stats`."""
        shared = self.shared
        stats.packets = int(shared[_PACKETS])
        stats.kernel_received, stats.kernel_dropped = (
            int(shared[_KERNEL_RECEIVED]),
            int(shared[_KERNEL_DROPPED]),
        )
        stats.queue_dropped = int(shared[_QUEUE_DROPPED])
        code = int(shared[_STOPPED_BY])
        if 0 < code < len(_STOPPED_BY_NAMES) and _STOPPED_BY_NAMES[code] != "stop":
            stats.stopped_by = _STOPPED_BY_NAMES[code]
        if _STOPPED_BY_NAMES[code] == "error":
            stats.error = self.error.value.decode("utf-8", "replace")

    # -- the capture process --

    def _run(self) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the analysis side decides and tells us
        shared = self.shared
        start = time.monotonic()
        self._deadline = None if self.duration is None else start + self.duration
        self._next_stats = start + STATS_EVERY
        code = 0
        try:
            ring = self.source if isinstance(self.source, RingSource) else None
            code = self._run_frames() if ring is None else self._run_ring(ring)
        except LiveCaptureError as exc:
            self.error.value = exc.message.encode("utf-8", "replace")[: MAX_ERROR_BYTES - 1]
            code = 4
        finally:
            shared[_KERNEL_RECEIVED], shared[_KERNEL_DROPPED] = self.source.kernel_stats()
            shared[_STOPPED_BY] = code
            shared[_DONE] = 1

    def _limit_reached(self, now: float) -> int:
        """1 when `count` frames were kept, 2 at the end of `duration`, else 0 (and, every
        STATS_EVERY, the kernel's counters are copied for the analysis side)."""
        shared = self.shared
        if self.count is not None and shared[_PACKETS] >= self.count:
            return 1
        if self._deadline is not None and now >= self._deadline:
            return 2
        if now >= self._next_stats:
            shared[_KERNEL_RECEIVED], shared[_KERNEL_DROPPED] = self.source.kernel_stats()
            self._next_stats = now + STATS_EVERY
        return 0

    def _timeout(self, now: float) -> float:
        """How long to wait for frames before looking at the stop flag and the clock again."""
        return POLL_INTERVAL if self._deadline is None else min(POLL_INTERVAL, self._deadline - now)

    def _batch(self, most: int) -> int:
        """Frames to take at once: `most`, or fewer when `count` is that close."""
        return most if self.count is None else min(most, self.count - int(self.shared[_PACKETS]))

    def _run_ring(self, source: RingSource) -> int:
        """libpcap's ring -> spool, in C (`pcap_dispatch` with `pcap_dump`); the stop code."""
        shared = self.shared
        spool: RingDumper | None = source.open_dump(self.writer.path)
        discard: RingDumper | None = None  # /dev/null: frames dropped, counted, still in C
        record_max = PCAP_RECORD_HEADER.size + source.snaplen
        size = int(shared[_FLUSHED])
        drained = 0
        drain_until: float | None = None
        try:
            while True:
                stopping = bool(shared[_STOP])
                now = time.monotonic()
                code = self._limit_reached(now)
                if code:
                    return code
                if stopping:
                    drain_until = now + DRAIN_WAIT if drain_until is None else drain_until
                    if drained >= DRAIN_ON_STOP or not source.wait(drain_until - now):
                        return 3
                elif not source.wait(self._timeout(now)):
                    continue
                limit = self._batch(MAX_DISPATCH)
                if self.limit is not None:  # a temporary spool never grows past its limit
                    limit = min(limit, (self.limit - size) // record_max)
                if spool is None or limit < 1:
                    discard = discard or source.open_dump(os.devnull)
                    got = discard.dispatch(MAX_DISPATCH)
                    shared[_QUEUE_DROPPED] += got
                    drained += got if stopping else 0
                    continue
                try:
                    got = spool.dispatch(limit)
                except LiveCaptureError:  # the frames of the failed call are not counted: not kept
                    spool.close()
                    spool = None
                    _truncate(self.writer.path, size)
                    raise
                drained += got if stopping else 0
                position = spool.flush()
                if position is None:  # disk full: what this batch wrote cannot be read back
                    shared[_QUEUE_DROPPED] += got
                    spool.close()
                    spool = None
                    _truncate(self.writer.path, size)
                    continue
                size = position
                shared[_PACKETS] += got
                shared[_FLUSHED] = size
        finally:
            for dumper in (spool, discard):
                if dumper is not None:
                    dumper.close()

    def _run_frames(self) -> int:
        """A frame source (packet socket) -> spool, frame by frame in Python; the stop code."""
        shared, source = self.shared, self.source
        write = self.writer.write
        size = int(shared[_FLUSHED])
        drained = 0
        try:
            while True:
                stopping = bool(shared[_STOP])
                now = time.monotonic()
                code = self._limit_reached(now)
                if code:
                    return code
                if stopping:
                    if drained >= DRAIN_ON_STOP or not source.wait(0.0):
                        return 3
                elif not source.wait(self._timeout(now)):
                    continue
                packets = 0
                try:
                    for sec, nsec, data, wirelen in source.frames(self._batch(MAX_BATCH)):
                        drained += stopping
                        record = PCAP_RECORD_HEADER.size + len(data)
                        if self.limit is not None and size + record > self.limit:
                            shared[_QUEUE_DROPPED] += 1
                            continue
                        try:
                            write(sec, nsec, data, wirelen)
                        except OSError:  # disk full: count what cannot be kept
                            shared[_QUEUE_DROPPED] += 1
                            continue
                        size += record
                        packets += 1
                finally:  # shared memory is touched once per batch, not per frame
                    shared[_PACKETS] += packets
                self._flush(size)
        finally:
            self._flush(size)

    def _flush(self, size: int) -> None:
        try:
            self.writer.flush()
        except OSError:
            return
        self.shared[_FLUSHED] = size


def _truncate(path: str, size: int) -> None:
    """Cut a spool back to its last whole record after a failed write (best effort: a --write file
    then stays readable by other tools)."""
    with contextlib.suppress(OSError):
        os.truncate(path, size)


class SpoolReader:
    """The analysis side: pcap records of the spool, up to what the writer has flushed."""

    def __init__(self, path: str, linktype: int) -> None:
        self._fh = open(path, "rb")  # noqa: SIM115 (closed by close())
        self._fh.seek(PCAP_FILE_HEADER.size)
        self.position = PCAP_FILE_HEADER.size
        """Spool bytes consumed."""
        self.linktype = linktype
        self.wire_bytes = 0
        """Lengths on the wire of the frames handed over, summed."""
        self._buf = b""

    def read(self, upto: int, handle: FrameHandler, budget: int) -> int:
        """Hand at most `budget` whole records below spool offset `upto` to `handle`; how many."""
        want = min(upto - self.position - len(self._buf), READ_CHUNK)
        if want > 0 and len(self._buf) < READ_CHUNK // 4:
            self._buf += self._fh.read(want)
        buf, pos, n = self._buf, 0, 0
        head = PCAP_RECORD_HEADER
        linktype = self.linktype
        wire = 0
        while n < budget and len(buf) - pos >= head.size:
            sec, nsec, caplen, wirelen = head.unpack_from(buf, pos)
            end = pos + head.size + caplen
            if end > len(buf):
                break
            handle(sec + nsec / 1e9, linktype, buf[pos + head.size : end], wirelen)
            wire += wirelen
            pos = end
            n += 1
        self.wire_bytes += wire
        self._buf = buf[pos:]
        self.position += pos
        return n

    def close(self) -> None:
        self._fh.close()


def run_spooled_capture(
    source: CaptureSource,
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
    """Capture in a process into a spool, analyse behind it; return when both are done. The spool is
    `writer`'s file (--write, left open for the caller to close) or a temporary file."""
    stats = LiveStats()
    rx_dropped = interface_rx_dropped(source.interface.name)
    tmpdir = None
    spool = writer
    if spool is None:
        tmpdir = tempfile.mkdtemp(prefix="pcap-analyzer-spool-")
        spool = PcapWriter(os.path.join(tmpdir, "spool.pcap"), source.linktype, source.snaplen)
    try:
        reader = SpoolReader(spool.path, source.linktype)
        capture = SpoolWriter(
            source,
            spool,
            count=count,
            duration=duration,
            limit=MAX_SPOOL_BYTES if writer is None else None,
        )
        capture.start()
        try:
            _analyse_behind(capture, reader, handle, stats, tick, tick_every, stop, clock)
        finally:
            capture.stop()
            capture.join()
            capture.update(stats)
            stats.interface_dropped = max(0, interface_rx_dropped(source.interface.name) - rx_dropped)
            reader.close()
    finally:
        if tmpdir is not None:
            spool.close()
            for name in os.listdir(tmpdir):
                os.unlink(os.path.join(tmpdir, name))
            os.rmdir(tmpdir)
    return stats


def _analyse_behind(
    capture: SpoolWriter,
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
    asked = False
    while True:
        if stop is not None and stop.requested and not asked:
            capture.stop()
            stats.stopped_by, asked = stop.reason, True
        done = capture.done  # read before `flushed`: once done, `flushed` is final
        got = reader.read(capture.flushed, handle, MAX_BATCH)
        stats.analysed += got
        stats.bytes = reader.wire_bytes
        capture.update(stats)
        now = clock()
        if next_tick is not None and tick is not None and now >= next_tick:
            tick(stats)
            next_tick = now + (tick_every or POLL_INTERVAL)
        if got == 0:
            if done and reader.position >= capture.flushed:
                if tick is not None and next_tick is not None:
                    tick(stats)  # the last frame of the view shows the final counts
                return
            time.sleep(0.002)  # nothing spooled yet


__all__ = ["MAX_SPOOL_BYTES", "SpoolReader", "SpoolWriter", "run_spooled_capture"]
