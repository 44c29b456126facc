"""Runs one piece of live capture inside a lab namespace, for tests/test_live_ring.py:

    python -m tests.live_probe source IFACE BUFFER_MIB       what open_source gives (type, sizes)
    python -m tests.live_probe spool IFACE SECONDS LIMIT     the spooled capture with a LIMIT-byte spool
    python -m tests.live_probe socket IFACE COUNT OUT        the packet-socket fallback, writing OUT
    python -m tests.live_probe frames IFACE COUNT            the in-process loop reading the ring

It says "listening on" on standard error once the capture is open (the test replays then), and
prints one JSON object on standard output at the end.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from analyzer.capture import live, sources, spool
from analyzer.capture.live import PcapWriter

SESSION_LIMIT = 20.0
"""Every probe capture ends by itself after this many seconds."""


def _listening() -> None:
    print("listening on", file=sys.stderr, flush=True)


def _stats(stats: live.LiveStats) -> dict[str, Any]:
    return {
        "packets": stats.packets,
        "analysed": stats.analysed,
        "bytes": stats.bytes,
        "kernel_received": stats.kernel_received,
        "kernel_dropped": stats.kernel_dropped,
        "queue_dropped": stats.queue_dropped,
        "stopped_by": stats.stopped_by,
    }


def main(argv: list[str]) -> dict[str, Any]:
    mode, iface = argv[0], argv[1]
    if mode == "source":
        with sources.open_source(iface, buffer_size=int(argv[2]) << 20) as source:
            return {
                "type": type(source).__name__,
                "linktype": source.linktype,
                "snaplen": source.snaplen,
                "buffer_size": source.buffer_size,
            }
    if mode == "spool":
        spool.MAX_SPOOL_BYTES = int(argv[3])
        records: list[int] = []
        with sources.open_source(iface) as source:
            _listening()
            stats = spool.run_spooled_capture(
                source, lambda ts, lt, data, wirelen: records.append(16 + len(data)), duration=float(argv[2])
            )
        return {**_stats(stats), "spooled": 24 + sum(records)}
    if mode == "socket":
        with live.open_live(iface) as source:
            writer = PcapWriter(argv[3], source.linktype, source.snaplen)
            _listening()
            stats = spool.run_spooled_capture(
                source, lambda *frame: None, count=int(argv[2]), duration=SESSION_LIMIT, writer=writer
            )
            writer.close()
        return {**_stats(stats), "type": type(source).__name__}
    if mode == "frames":
        frames: list[list[Any]] = []
        with sources.open_source(iface) as source:
            _listening()
            stats = live.run_capture(
                source,
                lambda ts, lt, data, wirelen: frames.append([ts, lt, data.hex(), wirelen]),
                count=int(argv[2]),
                duration=SESSION_LIMIT,
            )
        return {**_stats(stats), "type": type(source).__name__, "frames": frames}
    raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
