"""Mutation fuzzing, as Wireshark's fuzz-test.sh does it with `editcap -E`: corrupt bytes of the
sample captures at random and check that every run ends cleanly.

    python bench/fuzz.py --iterations 2000 --seed 1 [--sample dns.pcap] [--probability 0.02]
                         [--out bench/out/fuzz]

Iteration i uses the seed S + i (S = --seed) for everything it draws: which sample, which bytes,
which mutations. So a crash reported for seed X is replayed alone with `--seed X --iterations 1`.

Most iterations corrupt the frames' bytes (the capture framing stays intact, so the decoder and the
dissectors get the garbage, as with editcap -E) and feed them to a `Pipeline` in-process; one in
`FILE_MUTATION_EVERY` corrupts the raw file instead (headers and record lengths included) and reads
it with `Pipeline.run_file`, exercising the reader. The summary is then rendered by every report
renderer, since wire garbage ends up in tables.

A clean end is: no exception, or a `CaptureError` (the file-level error the CLI reports in one line).
Anything else is a crash, as is an iteration that runs past `ITERATION_TIMEOUT`: a `Malformed`
escaping the pipeline is one too, since the pipeline is the one place that must turn it into a
counted weird (the CLI would print a traceback). For each crash
the mutated capture is written to `--out`, then reduced (delta debugging over its frames: the
smallest run of frames that still raises the same exception at the same place) into
`...-min.pcap`, the reproducer to attach to a bug report.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import math
import os
import random
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))

from analyzer.capture import open_capture, writer  # noqa: E402
from analyzer.errors import CaptureError  # noqa: E402
from analyzer.pipeline import Pipeline  # noqa: E402

SAMPLES = REPO / "sample_pcaps"
"""The captures that get mutated."""
DEFAULT_OUT = REPO / "bench" / "out" / "fuzz"
"""Where crash reproducers go by default."""

ERROR_PROBABILITY = 0.02
"""Probability that a byte is corrupted: editcap -E's value in Wireshark's fuzz-test.sh."""
FILE_MUTATION_EVERY = 8
"""One iteration in this many corrupts the raw file (framing included) instead of the frames."""
FILE_ERROR_PROBABILITY = 0.002
"""Byte corruption probability of a raw-file mutation (lower: every record length is a target)."""
TRUNCATE_PROBABILITY = 0.01
"""Probability that a frame is also cut at a random length (a snaplen-like truncation)."""
ITERATION_TIMEOUT = 20.0
"""Seconds one iteration may take before it counts as a hang (the samples analyse in milliseconds)."""
MAX_MINIMIZE_RUNS = 300
"""Runs spent reducing one crash to a minimal reproducer."""

INTERESTING_BYTES = (0x00, 0x01, 0x7F, 0x80, 0xFF)
"""Boundary values that mutations favour: they hit length and offset checks."""

OUTPUT_RENDERERS: list[tuple[str, str]] = [
    ("analyzer.report.terminal", "render"),
    ("analyzer.report.markdown", "render_markdown"),
    ("analyzer.report.tables", "report_sections"),
]
"""(module, function) rendering a summary JSON; each one present is run on every fuzzed summary."""

Record = tuple[float, int, bytes, int, int]
"""(ts, linktype, data, wirelen, interface), as the capture reader yields frames."""


class Hang(Exception):
    """An iteration ran past ITERATION_TIMEOUT."""


@dataclass(frozen=True, slots=True)
class Crash:
    """One iteration that did not end cleanly."""

    seed: int
    """The iteration's seed (replay: --seed SEED --iterations 1)."""
    sample: str
    """Name of the mutated sample capture."""
    mode: str
    """"frames" (frame bytes corrupted) or "file" (raw file corrupted)."""
    error: str
    """Exception type and message."""
    where: str
    """file:line of the innermost analyzer frame of the traceback (the crash's identity)."""
    trace: str
    """The formatted traceback."""
    reproducer: Path | None = None
    """The mutated capture as written."""
    minimal: Path | None = None
    """The reduced capture, when frames could be removed."""


# --- captures ------------------------------------------------------------------------------------


def load_sample(path: Path) -> list[Record]:
    """Every frame of a sample capture."""
    with open_capture(path) as reader:
        return list(reader.records())


def sample_paths(names: list[str] | None = None) -> list[Path]:
    """The sample captures (all of them, or the named ones)."""
    paths = sorted(p for p in SAMPLES.glob("*.pcap*") if p.is_file())
    if names:
        paths = [p for p in paths if p.name in names]
    return paths


def write_pcap(path: Path, records: list[Record]) -> None:
    """Records as a classic pcap file (the link type of the first record; pcapng-only link type
    mixes are written one type per file by the caller's choice of records)."""
    with path.open("wb") as out:
        pcap = writer.PcapWriter(out, records[0][1] if records else 1)
        for ts, _, data, wirelen, _ in records:
            pcap.write_ts(ts, data, wirelen)


# --- mutations -----------------------------------------------------------------------------------


def corrupt(data: bytes, rng: random.Random, probability: float) -> bytes:
    """Each byte changed with `probability` (positions drawn by geometric skips, so the cost is the
    number of changes, not the length): a random value, a flipped bit or a boundary value."""
    if not data or probability <= 0:
        return data
    out = bytearray(data)
    log_q = math.log1p(-probability)
    pos = int(math.log(1.0 - rng.random()) / log_q)
    while pos < len(out):
        kind = rng.random()
        if kind < 0.5:
            out[pos] = rng.randrange(256)
        elif kind < 0.8:
            out[pos] ^= 1 << rng.randrange(8)
        else:
            out[pos] = rng.choice(INTERESTING_BYTES)
        pos += 1 + int(math.log(1.0 - rng.random()) / log_q)
    return bytes(out)


def mutate_frames(records: list[Record], rng: random.Random, probability: float) -> list[Record]:
    """The records with corrupted bytes (and now and then a truncated frame); framing untouched."""
    out: list[Record] = []
    for ts, linktype, data, wirelen, iface in records:
        data = corrupt(data, rng, probability)
        if data and rng.random() < TRUNCATE_PROBABILITY:
            data = data[: rng.randrange(len(data))]
        out.append((ts, linktype, data, wirelen, iface))
    return out


# --- running -------------------------------------------------------------------------------------


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise Hang in the block after `seconds` (only in the main thread, where signals arrive)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise Hang(f"iteration ran past {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _renderers() -> list[Callable[[dict[str, Any]], Any]]:
    found: list[Callable[[dict[str, Any]], Any]] = []
    for module, name in OUTPUT_RENDERERS:
        try:
            found.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue
    return found


def render_all(pipe: Pipeline) -> None:
    """Finish the analysis and put its summary through JSON and every report renderer."""
    data = pipe.summary().to_json()
    json.dumps(data)
    for render in _renderers():
        render(data)


def analyze_records(records: list[Record]) -> None:
    """Feed frames to a fresh pipeline, as the reader would, and render the result."""
    pipe = Pipeline()
    for rec in records:
        pipe.process(*rec)
    pipe.end_of_input()
    render_all(pipe)


def analyze_file(path: Path) -> None:
    """Read and analyse a capture file (reader errors end up in the summary, as in the CLI)."""
    pipe = Pipeline()
    pipe.run_file(str(path))
    render_all(pipe)


def _where(exc: BaseException) -> str:
    """file:line of the innermost frame inside the analyzer package (else the innermost frame)."""
    frames = traceback.extract_tb(exc.__traceback__)
    inside = [f for f in frames if f"{os.sep}analyzer{os.sep}" in f.filename] or frames
    last = inside[-1] if inside else None
    return f"{Path(last.filename).name}:{last.lineno}" if last else "?"


def attempt(run: Callable[[], None]) -> BaseException | None:
    """Run one analysis; return the exception that makes it a crash, or None for a clean end."""
    try:
        with time_limit(ITERATION_TIMEOUT):
            run()
    except CaptureError:
        return None  # the file-level error type is a clean end (the CLI prints its one line)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # everything else is what we are looking for
        return exc
    return None


def fuzz_one(
    seed: int, samples: dict[str, list[Record]], probability: float = ERROR_PROBABILITY
) -> Crash | None:
    """One iteration: pick a sample and a mutation with `seed`, run it, report a crash if any."""
    rng = random.Random(seed)
    name = rng.choice(sorted(samples))
    if rng.randrange(FILE_MUTATION_EVERY) == 0:
        raw = (SAMPLES / name).read_bytes()
        mutated = corrupt(raw, rng, FILE_ERROR_PROBABILITY)
        if rng.random() < 0.3:
            mutated = mutated[: rng.randrange(len(mutated) + 1)]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            path.write_bytes(mutated)
            exc = attempt(lambda: analyze_file(path))
        if exc is None:
            return None
        return _crash(seed, name, "file", exc)
    records = mutate_frames(samples[name], rng, probability)
    exc = attempt(lambda: analyze_records(records))
    return None if exc is None else _crash(seed, name, "frames", exc)


def _crash(seed: int, name: str, mode: str, exc: BaseException) -> Crash:
    trace = "".join(traceback.format_exception(exc))
    return Crash(seed, name, mode, f"{type(exc).__name__}: {exc}", _where(exc), trace)


# --- reproducers -----------------------------------------------------------------------------------


def mutated_input(
    seed: int, samples: dict[str, list[Record]], probability: float
) -> tuple[str, bytes | list[Record]]:
    """Replay the draws of `fuzz_one(seed)`: the mode and the mutated file bytes or records."""
    rng = random.Random(seed)
    name = rng.choice(sorted(samples))
    if rng.randrange(FILE_MUTATION_EVERY) == 0:
        mutated = corrupt((SAMPLES / name).read_bytes(), rng, FILE_ERROR_PROBABILITY)
        if rng.random() < 0.3:
            mutated = mutated[: rng.randrange(len(mutated) + 1)]
        return "file", mutated
    return "frames", mutate_frames(samples[name], rng, probability)


def _same_crash(records: list[Record], crash: Crash) -> bool:
    exc = attempt(lambda: analyze_records(records))
    return exc is not None and f"{type(exc).__name__}: {exc}" == crash.error and _where(exc) == crash.where


def minimize(records: list[Record], crash: Crash, budget: int = MAX_MINIMIZE_RUNS) -> list[Record]:
    """Delta debugging (ddmin) over frames: a smallest list of frames that still crashes the same way."""
    current = records
    chunks = 2
    runs = 0
    while len(current) >= 2 and runs < budget:
        size = math.ceil(len(current) / chunks)
        reduced = False
        for start in range(0, len(current), size):
            candidate = current[:start] + current[start + size :]
            runs += 1
            if candidate and _same_crash(candidate, crash):
                current, chunks, reduced = candidate, max(chunks - 1, 2), True
                break
            if runs >= budget:
                break
        if not reduced:
            if chunks >= len(current):
                break
            chunks = min(len(current), chunks * 2)
    return current


def save_reproducer(crash: Crash, samples: dict[str, list[Record]], probability: float, out: Path) -> Crash:
    """Write the crashing capture (and, for frame mutations, its minimal form) under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    stem = f"crash-{Path(crash.sample).stem}-seed{crash.seed}"
    _, mutated = mutated_input(crash.seed, samples, probability)
    if isinstance(mutated, bytes):
        path = out / f"{stem}{''.join(Path(crash.sample).suffixes)}"
        path.write_bytes(mutated)
        return Crash(**{**_fields(crash), "reproducer": path})
    path = out / f"{stem}.pcap"
    write_pcap(path, mutated)
    small = minimize(mutated, crash)
    minimal = out / f"{stem}-min.pcap"
    write_pcap(minimal, small)
    return Crash(**{**_fields(crash), "reproducer": path, "minimal": minimal})


def _fields(crash: Crash) -> dict[str, Any]:
    return {name: getattr(crash, name) for name in Crash.__slots__}


# --- command line ----------------------------------------------------------------------------------


def run(
    iterations: int,
    seed: int,
    names: list[str] | None = None,
    probability: float = ERROR_PROBABILITY,
    out: Path | None = DEFAULT_OUT,
    log: Callable[[str], None] | None = None,
) -> list[Crash]:
    """Fuzz `iterations` times from `seed`; crashes come back with their reproducers written."""
    samples = {p.name: load_sample(p) for p in sample_paths(names)}
    if not samples:
        raise SystemExit(f"no sample captures in {SAMPLES}")
    crashes: list[Crash] = []
    for i in range(iterations):
        crash = fuzz_one(seed + i, samples, probability)
        if crash is None:
            continue
        if out is not None:
            crash = save_reproducer(crash, samples, probability, out)
        crashes.append(crash)
        if log is not None:
            log(report(crash))
    return crashes


def report(crash: Crash) -> str:
    lines = [
        f"CRASH seed={crash.seed} sample={crash.sample} mode={crash.mode} at {crash.where}",
        f"  {crash.error}",
        f"  replay: python bench/fuzz.py --seed {crash.seed} --iterations 1",
    ]
    if crash.reproducer is not None:
        lines.append(f"  mutated capture: {crash.reproducer}")
    if crash.minimal is not None:
        lines.append(f"  minimal reproducer: {crash.minimal}")
    lines.append("  " + crash.trace.rstrip().replace("\n", "\n  "))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", "-n", type=int, default=1000, help="iterations (default 1000)")
    parser.add_argument("--seed", "-s", type=int, default=1, help="seed of the first iteration (default 1)")
    parser.add_argument("--sample", action="append", help="sample file name(s) to mutate (default: all)")
    parser.add_argument("--probability", "-p", type=float, default=ERROR_PROBABILITY, help="byte error rate")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where reproducers are written")
    args = parser.parse_args(argv)
    start = time.monotonic()

    def log(text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    crashes = run(args.iterations, args.seed, args.sample, args.probability, args.out, log)
    elapsed = time.monotonic() - start
    log(
        f"{args.iterations} iterations (seeds {args.seed}..{args.seed + args.iterations - 1}) in "
        f"{elapsed:.1f} s: {len(crashes)} crash(es)"
    )
    return 1 if crashes else 0


if __name__ == "__main__":
    raise SystemExit(main())
