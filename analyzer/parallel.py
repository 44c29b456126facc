"""Analysis on several cores (`--jobs N`) or a Dask cluster (`--cluster ADDRESS`), merged exactly.

Theory of operation
-------------------
The heavy part of the analysis (reading, decoding, flows, TCP reassembly, dissectors) is split by
host pair: worker k of n analyses the packets whose unordered pair of IP addresses hashes to k (frames
without IP go to worker 0), so every flow, and every FTP control channel with its data channels, is
analysed whole by one worker. Each worker reads the whole file (skipping other workers' bulk TCP for
the price of a dict lookup), decodes what it must (so every worker sees every IP fragment), and
returns a `WorkerResult`: its core counters and the events its dissectors produced, each tagged with
the frame index and packet time at which it was produced.

The parent then replays the events of all workers in frame order through the trackers, exactly as
the single-process pipeline would have routed them, and adds up the counters. Trackers are cheap;
the events are few (bulk data produces none). The merged summary equals the single-process one, which
the tests assert. What can differ is only what depends on table pressure: with the flow table full,
workers evict different flows than one process would.

A task is (file, k, n). With more files than jobs every file is one task (n = 1); otherwise each file
is split n ways. Tasks run in a process pool, or on a Dask distributed cluster where every worker can
read the capture paths (shared storage).
"""

from __future__ import annotations

import dataclasses
import io
import os
import pickle
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from analyzer.pipeline import FileStats, Pipeline
from analyzer.summary import CoreCounts, Summary

Tagged = tuple[int, float, int, Any]
"""(frame index, packet time, sequence within the worker, event)."""


class _ByFieldsPickler(pickle.Pickler):
    """Pickles every dataclass instance as a call of its class with its field values.

    The hot modules are compiled with mypyc (setup.py), and compiled classes do not support plain
    pickling (a frozen compiled dataclass cannot be restored attribute by attribute). Rebuilding each
    instance through its constructor works for compiled and plain classes alike; every dataclass the
    workers return takes all its fields as constructor arguments."""

    def reducer_override(self, obj: Any) -> Any:
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            cls = type(obj)
            return cls, tuple(getattr(obj, f.name) for f in dataclasses.fields(cls))
        return NotImplemented


def dumps(value: object) -> bytes:
    """Pickle `value` for the trip from a worker to the parent (see `_ByFieldsPickler`)."""
    buffer = io.BytesIO()
    _ByFieldsPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


@dataclass(slots=True)
class WorkerResult:
    """What one worker returns for one task: core counters and its tagged events."""

    file_index: int
    part: int
    payload: bytes
    """The worker's `FileStats` and tagged events, pickled by `dumps`."""
    packets: int = 0
    bytes: int = 0
    first_ts: float | None = None
    last_ts: float | None = None
    link_types: Counter[str] = field(default_factory=Counter)
    protocols: Counter[str] = field(default_factory=Counter)
    malformed: Counter[str] = field(default_factory=Counter)
    fragments: dict[str, int] = field(default_factory=dict)
    evicted: int = 0

    def unpack(self) -> tuple[FileStats, list[Tagged]]:
        """The worker's file statistics and tagged events."""
        stats, events = pickle.loads(self.payload)
        return stats, events


def run_task(path: str, file_index: int, part: int, parts: int) -> WorkerResult:
    """Analyse partition `part` of `parts` of one capture file (runs in a worker process)."""
    events: list[Tagged] = []
    pipe: Pipeline

    def collect(event: object) -> None:
        events.append((pipe.frame_no, pipe.now, len(events), event))

    # No trackers: the parent runs them over the merged events, and counts the tolerated malformations.
    pipe = Pipeline(event_sink=collect, partition=(part, parts) if parts > 1 else None, trackers=False)
    stats = pipe.run_file(path)
    return WorkerResult(
        file_index=file_index,
        part=part,
        payload=dumps((stats, events)),
        packets=pipe.packets,
        bytes=pipe.bytes,
        first_ts=pipe.first_ts,
        last_ts=pipe.last_ts,
        link_types=pipe.link_types,
        protocols=pipe.protocols,
        malformed=pipe.malformed,
        fragments=pipe.fragment_stats(),
        evicted=pipe.flows.evicted,
    )


def plan(paths: list[str], jobs: int) -> list[tuple[str, int, int, int]]:
    """The tasks: (path, file index, part, parts)."""
    if jobs <= 1 or len(paths) >= jobs:
        return [(p, i, 0, 1) for i, p in enumerate(paths)]
    return [(p, i, k, jobs) for i, p in enumerate(paths) for k in range(jobs)]


def merge(results: list[WorkerResult], paths: list[str]) -> tuple[Summary, list[FileStats]]:
    """Replay every worker's events in frame order through one set of trackers; add the counters."""
    unpacked = [(r, *r.unpack()) for r in sorted(results, key=lambda r: (r.file_index, r.part))]
    per_file: dict[int, list[FileStats]] = {}
    for r, part_stats, _ in unpacked:
        per_file.setdefault(r.file_index, []).append(part_stats)
    files: list[FileStats] = []
    for index in range(len(paths)):
        parts = per_file.get(index, [])
        stats = FileStats(paths[index])
        if parts:
            first = parts[0]
            stats.format, stats.byte_order, stats.compressed = (
                first.format,
                first.byte_order,
                first.compressed,
            )
            stats.error, stats.error_offset = first.error, first.error_offset
            stats.file_size, stats.interfaces = first.file_size, first.interfaces
            for part_stats in parts:
                stats.packets += part_stats.packets
                stats.bytes += part_stats.bytes
                stats.link_types += part_stats.link_types
                stats.first_ts = _min(stats.first_ts, part_stats.first_ts)
                stats.last_ts = _max(stats.last_ts, part_stats.last_ts)
        files.append(stats)
    core = CoreCounts(files=files)
    fragments: Counter[str] = Counter()
    for r, _, _ in unpacked:
        core.packets += r.packets
        core.bytes += r.bytes
        core.first_ts = _min(core.first_ts, r.first_ts)
        core.last_ts = _max(core.last_ts, r.last_ts)
        core.link_types += r.link_types
        core.protocols += r.protocols
        core.malformed += r.malformed
        core.evicted += r.evicted
        if r.part == 0:  # every worker of a file decodes every fragment: count them once
            fragments.update(r.fragments)
    core.fragments = dict(fragments)
    replay = Pipeline()  # its trackers only: it sees events, never a frame
    for _, _, event in _in_frame_order(unpacked):
        replay.replay(event)
    sections = replay.finish_trackers()
    core.malformed += replay.malformed  # tolerated malformations, noted as their events are replayed
    core.weirds = replay.weirds
    return Summary.build(core, sections), files


def _in_frame_order(
    unpacked: list[tuple[WorkerResult, FileStats, list[Tagged]]],
) -> Iterator[tuple[int, float, Any]]:
    """All events of all workers, file by file, in the order one process would have produced them."""
    keyed = [
        ((r.file_index, frame, r.part, seq), now, event)
        for r, _, events in unpacked
        for frame, now, seq, event in events
    ]
    keyed.sort(key=lambda item: item[0])
    for key, now, event in keyed:
        yield key[1], now, event


def _min(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


PARALLEL_MIN_BYTES = 64 * 1024 * 1024
"""Inputs smaller than this are analysed in one process unless --jobs says otherwise: starting
workers costs more than it saves below roughly this size."""
PARALLEL_MIN_CORES = 4
"""Below this many cores the default is one process: every worker reads the whole file and the parent
unpickles and replays all events, which on 2 cores costs more than the split saves (measured on the
1,000,000-packet benchmark, compiled build: 2.4 s with one process, 3.4 s with -j 2; see
docs/performance.md)."""


def effective_jobs(paths: list[str], jobs: int | None) -> int:
    """How many workers to use: --jobs if given; else all cores for large inputs on machines with
    PARALLEL_MIN_CORES or more, else one. Standard input can only be read once: always one."""
    if "-" in paths:
        return 1
    if jobs is not None:
        return jobs
    cores = os.cpu_count() or 1
    if cores < PARALLEL_MIN_CORES:
        return 1
    try:
        total = sum(os.path.getsize(p) for p in paths)
    except OSError:
        return 1  # let the reader report the missing or unreadable file
    return cores if total >= PARALLEL_MIN_BYTES else 1


def analyze_parallel(
    paths: list[str], jobs: int | None = None, cluster: str | None = None
) -> tuple[Summary, list[FileStats]]:
    """Analyse on `jobs` local processes (default: all cores), or on the Dask cluster at `cluster`."""
    jobs = jobs or os.cpu_count() or 1
    tasks = plan(paths, jobs)
    runner: Callable[[list[tuple[str, int, int, int]]], list[WorkerResult]]
    runner = _run_on_cluster(cluster) if cluster else _run_local(jobs)
    return merge(runner(tasks), paths)


def _run_local(jobs: int) -> Callable[[list[tuple[str, int, int, int]]], list[WorkerResult]]:
    def run(tasks: list[tuple[str, int, int, int]]) -> list[WorkerResult]:
        if jobs <= 1 or len(tasks) <= 1:
            return [run_task(*t) for t in tasks]
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(run_task, *t) for t in tasks]
            return [f.result() for f in futures]

    return run


def _run_on_cluster(address: str) -> Callable[[list[tuple[str, int, int, int]]], list[WorkerResult]]:
    def run(tasks: list[tuple[str, int, int, int]]) -> list[WorkerResult]:
        from dask.distributed import Client

        with Client(address) as client:
            futures = [client.submit(run_task, *t, pure=False) for t in tasks]
            results: list[WorkerResult] = client.gather(futures)
            return results

    return run
