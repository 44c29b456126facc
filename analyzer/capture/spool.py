"""Live capture decoupled from analysis, as dumpcap does for tshark.

Theory of operation
-------------------
Two processes share one spool file, a classic nanosecond pcap:

- the capture process (`SpoolWriter`, forked when the capture starts, so it shares no interpreter
  lock with the analysis) waits on the socket, drains every frame the kernel holds and appends it
  to the spool as a pcap record, flushing after each batch; reading and writing a frame costs a few
  microseconds, so it keeps up with the wire when the analysis cannot. It stops on `count`,
  `duration` (the session's monotonic clock), a receive error, or a stop request from the analysis
  side, after which it still drains what the kernel already holds (up to `DRAIN_ON_STOP` frames).
  Its counters live in a small shared-memory array.
- the analysis (the caller's process, `run_spooled_capture`) reads the spool behind it, record by
  record, up to what the writer has flushed, and hands every frame to the pipeline. When it falls
  behind, the frames wait in the spool, not in the kernel: the live view shows how far behind it is,
  and once the capture stops the analysis finishes what was spooled before the summary is made.

The kernel's buffer (`--buffer-size`) only has to cover the capture process's own pauses. The spool
is the --write file when one is given (kept whole, as tcpdump -w does), else a temporary file removed
at the end, bounded by `MAX_SPOOL_BYTES`: past it, or when the disk is full, frames are counted as
`queue_dropped` instead of being written. Frames the kernel dropped (its buffer full) are counted by
the kernel (`kernel_dropped`). Both go to the summary's `capture.live` block and to the live view:
what was lost is always counted.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import tempfile
import time
from collections.abc import Callable

from analyzer.capture.live import (
    MAX_BATCH,
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

MAX_SPOOL_BYTES = 4 << 30
"""Largest temporary spool (4 GiB): about 40 s of a saturated gigabit link; beyond it frames are
dropped and counted (queue_dropped) rather than filling the disk. A --write file has no such limit."""

READ_CHUNK = 4 << 20
"""Bytes of spool read at once by the analysis side."""

STATS_EVERY = 0.2
"""Seconds between two reads of the kernel's drop counters by the capture process."""


# Slots of the shared counter array (the capture process writes them, the analysis reads them).
_PACKETS, _BYTES, _KERNEL_RECEIVED, _KERNEL_DROPPED, _QUEUE_DROPPED, _FLUSHED, _DONE, _STOP, _STOPPED_BY = (
    range(9)
)
_SLOTS = 9
_STOPPED_BY_NAMES = ("", "count", "duration", "stop", "error")
"""How the capture process ended, by code (the stop request's own reason is known to the parent)."""
MAX_ERROR_BYTES = 512
"""Room for the one-line message of a receive error, handed from the capture process."""
DRAIN_ON_STOP = 1_000_000
"""Frames still read from the kernel's buffer after a stop request (what already reached us is
analysed, not lost); a bound, so that a flood cannot keep the capture from stopping."""


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
        stats.packets, stats.bytes = int(shared[_PACKETS]), int(shared[_BYTES])
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
        shared, source, writer = self.shared, self.source, self.writer
        write = writer.write
        start = time.monotonic()
        deadline = None if self.duration is None else start + self.duration
        next_stats = start + STATS_EVERY
        size = int(shared[_FLUSHED])
        drained = 0
        code = 0
        try:
            while True:
                stopping = bool(shared[_STOP])
                if self.count is not None and shared[_PACKETS] >= self.count:
                    code = 1
                    break
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    code = 2
                    break
                if now >= next_stats:
                    shared[_KERNEL_RECEIVED], shared[_KERNEL_DROPPED] = source.kernel_stats()
                    next_stats = now + STATS_EVERY
                if stopping:
                    if drained >= DRAIN_ON_STOP or not source.wait(0.0):
                        code = 3
                        break
                else:
                    timeout = POLL_INTERVAL if deadline is None else min(POLL_INTERVAL, deadline - now)
                    if not source.wait(timeout):
                        continue
                limit = (
                    MAX_BATCH if self.count is None else min(MAX_BATCH, self.count - int(shared[_PACKETS]))
                )
                packets = nbytes = 0
                try:
                    for sec, nsec, data, wirelen in source.frames(limit):
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
                        nbytes += wirelen
                except LiveCaptureError as exc:
                    self.error.value = exc.message.encode("utf-8", "replace")[: MAX_ERROR_BYTES - 1]
                    code = 4
                    break
                finally:  # shared memory is touched once per batch, not per frame
                    shared[_PACKETS] += packets
                    shared[_BYTES] += nbytes
                self._flush(size)
        finally:
            self._flush(size)
            shared[_KERNEL_RECEIVED], shared[_KERNEL_DROPPED] = source.kernel_stats()
            shared[_STOPPED_BY] = code
            shared[_DONE] = 1

    def _flush(self, size: int) -> None:
        try:
            self.writer.flush()
        except OSError:
            return
        self.shared[_FLUSHED] = size


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
