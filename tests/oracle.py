"""The test oracle: Wireshark's own dissectors through tshark, and the shared real captures.

Tests compute tshark's side here rather than pasting numbers. When tshark or ../shared/pcaps is
missing (a user's clone), the tests that need them skip with a clear reason.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_pcaps"
SHARED_PCAPS = REPO.parent / "shared" / "pcaps"
TRUTH_FILE = SHARED_PCAPS / "TRUTH.json"

needs_tshark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
needs_shared = pytest.mark.skipif(
    not TRUTH_FILE.exists(), reason="../shared/pcaps (real captures with tshark truth) is not present"
)


@functools.cache
def truth() -> dict[str, Any]:
    """TRUTH.json of the shared captures ({} when absent)."""
    if not TRUTH_FILE.exists():
        return {}
    data: dict[str, Any] = json.loads(TRUTH_FILE.read_text())
    return data


def shared_files(area: str | None = None) -> list[str]:
    """Relative paths of the shared captures (of one area folder), for parametrize ids."""
    return [f["file"] for f in truth().get("files", []) if area is None or f["area"] == area]


def shared_entry(rel: str) -> dict[str, Any]:
    return next(f for f in truth()["files"] if f["file"] == rel)


def sample_files() -> list[str]:
    return sorted(p.name for p in SAMPLES.glob("*.pcap*"))


@functools.cache
def tshark_fields(path: str, display_filter: str, fields: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """Rows of `tshark -T fields` (one row per frame matching the filter); values as tshark prints."""
    cmd = ["tshark", "-n", "-r", str(path), "-o", "tcp.desegment_tcp_streams:TRUE"]
    if display_filter:
        cmd += ["-Y", display_filter]
    cmd += ["-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=120).stdout
    return tuple(tuple(line.split("\t")) for line in out.splitlines())


def tshark_count(path: str, display_filter: str, field: str) -> Counter[str]:
    """Count every occurrence of `field` over the frames matching the filter (comma-aggregated)."""
    counts: Counter[str] = Counter()
    for (value,) in tshark_fields(path, display_filter, (field,)):
        for v in value.split(","):
            if v:
                counts[v] += 1
    return counts


def tshark_frame_count(path: str, display_filter: str = "") -> int:
    return len(tshark_fields(path, display_filter, ("frame.number",)))


def analyze_json(*paths: str) -> dict[str, Any]:
    """Our summary JSON for the given captures (in-process, as the CLI does)."""
    from analyzer.pipeline import analyze

    summary, _ = analyze([str(p) for p in paths])
    return summary.to_json()


def summary_of_frames(frames: Iterable[tuple[float, bytes]]) -> dict[str, Any]:
    """Our summary JSON for Ethernet frames (ts, bytes) fed through the whole pipeline."""
    from analyzer.pipeline import Pipeline

    pipe = Pipeline()
    for ts, data in frames:
        pipe.process(ts, 1, data, len(data))
    pipe.end_of_input()
    result: dict[str, Any] = pipe.summary().to_json()
    return result


def truth_files(section: str) -> list[str]:
    """The shared captures whose TRUTH.json entry has a `section` (for parametrize ids)."""
    return [f["file"] for f in truth().get("files", []) if section in f]
