"""The test oracle: Wireshark's own dissectors through tshark, and the shared real captures.

Tests compute tshark's side here rather than pasting numbers, and every tshark call of the suite
goes through `tshark_output`. A test that needs something from outside the repository (tshark, the
shared captures, root, a tool) says so with `require(...)` or the `requires` mark (`needs_tshark`,
`needs_shared`): on a user's clone it skips with a line naming what is missing and how to get it;
under CI (`CI=true`) it fails with that line instead, and tests/conftest.py turns any other skip into
a failure too, so a green CI run proves the oracle ran. `not_applicable(reason)` is the one skip CI
accepts: for a test that cannot apply to this build at all (never for a missing tool).
"""

from __future__ import annotations

import ctypes.util
import dataclasses
import functools
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_pcaps"
SHARED_PCAPS = REPO.parent / "shared" / "pcaps"
TRUTH_FILE = SHARED_PCAPS / "TRUTH.json"

CI = os.environ.get("CI", "").lower() == "true"
"""Set by CI: every requirement is a must, and no test may skip (tests/conftest.py)."""

NOT_APPLICABLE = "not applicable: "
"""Prefix of the one kind of skip CI accepts (see `not_applicable`)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Requirement:
    """Something a test needs from outside the repository."""

    what: str
    """Its name, as the skip or failure line says it."""
    how: str
    """How to get it."""
    present: Callable[[], bool]
    """Whether this machine has it."""


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


REQUIREMENTS = {
    "tshark": Requirement(
        "tshark",
        "Debian package tshark (scripts/test installs it as root)",
        lambda: bool(shutil.which("tshark")),
    ),
    "shared": Requirement(
        "../shared/pcaps/TRUTH.json",
        f"the real captures with tshark's truth, beside the checkout at {SHARED_PCAPS}",
        TRUTH_FILE.exists,
    ),
    "root": Requirement("root", "live capture and network namespaces need root", _is_root),
    "linux": Requirement("Linux", "live capture is Linux only", lambda: sys.platform.startswith("linux")),
    "ip": Requirement("ip", "Debian package iproute2", lambda: bool(shutil.which("ip"))),
    "tcpreplay": Requirement(
        "tcpreplay", "Debian package tcpreplay", lambda: bool(shutil.which("tcpreplay"))
    ),
    "libpcap": Requirement(
        "libpcap",
        "Debian package libpcap0.8 (the BPF filter compiler)",
        lambda: bool(ctypes.util.find_library("pcap")),
    ),
    "chromium": Requirement(
        "chromium",
        "Debian package chromium (scripts/test installs it as root)",
        lambda: bool(shutil.which("chromium") or shutil.which("chromium-browser")),
    ),
    "capinfos": Requirement(
        "capinfos",
        "Debian package wireshark-common (tshark brings it)",
        lambda: bool(shutil.which("capinfos")),
    ),
    "ndpireader": Requirement(
        "ndpiReader",
        "Debian package libndpi-bin (nDPI's reader, the classifier's yardstick)",
        lambda: bool(shutil.which("ndpiReader")),
    ),
    "setpriv": Requirement("setpriv", "Debian package util-linux", lambda: bool(shutil.which("setpriv"))),
    "dask": Requirement(
        "dask.distributed",
        "the test extras: pip install -e '.[test]'",
        lambda: importlib.util.find_spec("distributed") is not None,
    ),
}
"""Every outside piece a test may need, by the name `require` and the `requires` mark take. CI
(.ci/run, scripts/test as root) installs them all."""


def missing(*names: str) -> list[Requirement]:
    """The named requirements this machine lacks (all of them when no name is given)."""
    return [REQUIREMENTS[n] for n in names or tuple(REQUIREMENTS) if not REQUIREMENTS[n].present()]


def require(*names: str) -> None:
    """Skip the test with a line naming what is missing, or fail with it under CI=true."""
    for req in missing(*names):
        unavailable(req.what, req.how)


def unavailable(what: str, how: str) -> None:
    """What a test needs is not there: skip naming it, or fail under CI=true."""
    if CI:
        pytest.fail(f"CI=true and {what} is missing: {how}", pytrace=False)
    pytest.skip(f"{what} is missing: {how}")


def require_tshark() -> None:
    require("tshark")


def require_shared() -> None:
    require("shared")


def require_file(path: Path | str) -> None:
    """A file the test reads: a shared capture must be there when ../shared is; anything else in the
    repository is committed and must exist (no "not generated yet" skips)."""
    if not Path(path).exists():
        if Path(path).is_relative_to(SHARED_PCAPS.parent) and not TRUTH_FILE.exists():
            require_shared()
        pytest.fail(f"{path} is missing", pytrace=False)


def not_applicable(reason: str) -> None:
    """Skip a test that cannot apply to this build or platform at all; CI accepts this skip."""
    pytest.skip(NOT_APPLICABLE + reason)


needs_tshark = pytest.mark.requires("tshark")
needs_shared = pytest.mark.requires("shared")


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


TRUTH_HEX_NAMES = {"0x1b": "READ_MPX"}
"""SMB1 commands missing from the name table TRUTH.json was written with, which prints them as hex
(../shared/pcaps/README.md says so for 0x1b). tshark itself names 0x1b "Read MPX" (MS-CIFS
SMB_COM_READ_MPX), and so do we: the count is compared, under the name tshark gives."""


def truth_names(counts: dict[str, int]) -> dict[str, int]:
    """SMB1 command counts of TRUTH.json under tshark's names (`TRUTH_HEX_NAMES`)."""
    return {TRUTH_HEX_NAMES.get(k, k): v for k, v in counts.items()}


def sample_files() -> list[str]:
    return sorted(p.name for p in SAMPLES.glob("*.pcap*"))


TSHARK_TIMEOUT_S = 120
"""The largest shared capture takes tshark a few seconds; a minute more is a hang."""


def tshark_output(path: Path | str, *args: str) -> str:
    """stdout of `tshark -n -r PATH -o tcp.desegment_tcp_streams:TRUE ARGS...`: the one way the suite
    runs tshark (the test needing it skips or, under CI, fails when it is missing)."""
    require_tshark()
    cmd = ["tshark", "-n", "-r", str(path), "-o", "tcp.desegment_tcp_streams:TRUE", *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=TSHARK_TIMEOUT_S).stdout


@functools.cache
def tshark_fields(path: str, display_filter: str, fields: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """Rows of `tshark -T fields` (one row per frame matching the filter); values as tshark prints."""
    args = ["-Y", display_filter] if display_filter else []
    args += ["-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in fields:
        args += ["-e", f]
    out = tshark_output(path, *args)
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
