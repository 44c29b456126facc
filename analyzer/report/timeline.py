"""Traffic over time for the HTML report: packets and bytes per interval.

The summary has no time series (the pipeline keeps none), so the report command reads the capture
files a second time, cheaply: only each record's timestamp and wire length, no decoding. The range is
known from the summary (capture.first_ts/last_ts), so the bins are fixed before the pass and memory
stays at MAX_BINS counters whatever the file size. Standard input cannot be read twice: no series.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from analyzer.capture import open_capture
from analyzer.errors import CaptureError

MAX_BINS = 120
"""Intervals in the series at most: enough for a readable chart, a fixed amount of memory."""
NICE_INTERVALS = (
    *(m * 10.0**e for e in range(-3, 1) for m in (1, 2, 5)),
    15.0,
    30.0,
    60.0,
    120.0,
    300.0,
    600.0,
    900.0,
    1800.0,
    3600.0,
    7200.0,
    10800.0,
    21600.0,
    43200.0,
    86400.0,
    7 * 86400.0,
    30 * 86400.0,
    365 * 86400.0,
)
"""Interval lengths in seconds a series may use (a reader thinks in 1 s, 5 min, 1 h, not 271.3 s)."""
STDIN = "-"


@dataclass(frozen=True, slots=True)
class TrafficSeries:
    """Packets and wire bytes per fixed interval."""

    start: float
    """Start of the first interval (packet time, aligned to a multiple of `interval`)."""
    interval: float
    """Length of one interval in seconds."""
    packets: tuple[int, ...]
    """Frames per interval."""
    bytes: tuple[int, ...]
    """Wire bytes per interval."""


PROGRESS_EVERY = 4096
"""Frames between two progress reports (as the pipeline's PROGRESS_EVERY)."""


def choose_bins(first_ts: float, last_ts: float) -> tuple[float, float, int]:
    """(start, interval, count): the shortest nice interval that covers the range in MAX_BINS bins."""
    for interval in NICE_INTERVALS:
        start = math.floor(first_ts / interval) * interval
        count = int((last_ts - start) // interval) + 1
        if count <= MAX_BINS:
            return start, interval, count
    interval = NICE_INTERVALS[-1]
    start = math.floor(first_ts / interval) * interval
    return start, interval, min(MAX_BINS, int((last_ts - start) // interval) + 1)


def traffic_series(
    paths: list[str],
    first_ts: float | None,
    last_ts: float | None,
    progress: Callable[[int, int | None], None] | None = None,
) -> TrafficSeries | None:
    """The series of the capture files over [first_ts, last_ts] (None when there is no time range or
    an input is standard input). Frames outside the range (clock steps) count in the nearest bin; a
    file that cannot be read further just stops adding (the summary reports its error)."""
    if first_ts is None or last_ts is None or STDIN in paths:
        return None
    start, interval, count = choose_bins(first_ts, max(first_ts, last_ts))
    packets = [0] * count
    nbytes = [0] * count
    last = count - 1
    for path in paths:
        try:
            with open_capture(path) as reader:
                for n, (ts, _linktype, _data, wirelen, _iface) in enumerate(reader.records(), 1):
                    if progress is not None and n % PROGRESS_EVERY == 0:
                        progress(reader.bytes_consumed, reader.total_bytes)
                    i = int((ts - start) // interval)
                    i = 0 if i < 0 else last if i > last else i
                    packets[i] += 1
                    nbytes[i] += wirelen
        except CaptureError:
            continue
    return TrafficSeries(start, interval, tuple(packets), tuple(nbytes))
