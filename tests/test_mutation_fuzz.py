"""Mutation fuzzing of the sample captures, Wireshark style, with fixed seeds (a few seconds per sample).

The fuzzer itself is `bench/fuzz.py` (run it longer on demand: `python bench/fuzz.py -n 20000`). Here
each sample gets a fixed number of iterations from a fixed seed; every run must end cleanly (no
exception but a CaptureError, no iteration past the fuzzer's time limit). A failure prints the
crash's seed, its traceback and the reproducer files written under the test's tmp directory.
"""

from __future__ import annotations

import threading
import time
import zlib
from pathlib import Path

import pytest

from analyzer import registry
from analyzer.dissectors import dns
from analyzer.pipeline import Pipeline
from bench import fuzz
from tests.oracle import not_applicable

ITERATIONS: dict[str, int] = {
    "dhcp.pcap": 150,
    "dns.pcap": 130,
    "ftp.pcap": 250,
    "http.pcap": 200,
    "icmp.pcap": 150,
    "mail.pcap": 110,
    "mixed.pcap": 35,
    "mixed.pcapng": 35,
    "ndp.pcap": 400,
    "smb.pcap": 400,
    "tls.pcap": 400,
}
"""Iterations per sample: about 2.5 s each on one core (the whole file stays near 30 s of CPU)."""
DEFAULT_ITERATIONS = 100
"""Iterations for a sample added later and not listed above."""
TIME_BOUND = 60.0
"""Seconds one sample's iterations may take on a loaded CI machine (about 2.5 s when idle)."""


def seed_base(name: str) -> int:
    """A stable first seed per sample, so adding a sample changes no other sample's inputs."""
    return zlib.crc32(name.encode()) % 1_000_000 * 1000


@pytest.mark.parametrize("path", fuzz.sample_paths(), ids=lambda p: p.name)
def test_mutated_sample_ends_cleanly(path: Path, tmp_path: Path) -> None:
    samples = {path.name: fuzz.load_sample(path)}
    assert samples[path.name], "the sample has frames"
    base = seed_base(path.name)
    start = time.monotonic()
    crashes = []
    for i in range(ITERATIONS.get(path.name, DEFAULT_ITERATIONS)):
        crash = fuzz.fuzz_one(base + i, samples)
        if crash is not None:
            crashes.append(fuzz.save_reproducer(crash, samples, fuzz.ERROR_PROBABILITY, tmp_path))
            break  # one is enough to fail; its report says everything
    assert not crashes, "\n\n".join(fuzz.report(c) for c in crashes)
    assert time.monotonic() - start < TIME_BOUND


def test_mutation_changes_bytes_at_the_editcap_rate() -> None:
    import random

    data = bytes(200_000)
    mutated = fuzz.corrupt(data, random.Random(7), fuzz.ERROR_PROBABILITY)
    changed = sum(a != b for a, b in zip(data, mutated, strict=True))
    # about 2% of the bytes are hit; a few of those keep their value (a boundary value 0x00)
    assert 0.015 * len(data) < changed < 0.025 * len(data)
    assert fuzz.corrupt(data, random.Random(7), fuzz.ERROR_PROBABILITY) == mutated  # seeded


def test_fuzzer_finds_a_planted_crash_and_minimises_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fuzzer is not blind: a DNS parser that crashes on any corrupted message is caught, and the
    reproducer is reduced to the one frame that matters and replays the crash."""
    path = fuzz.SAMPLES / "dns.pcap"
    samples = {path.name: fuzz.load_sample(path)}
    originals = {rec[2] for rec in samples[path.name]}
    genuine = registry.DATAGRAM_PARSERS["dns"]

    def fragile(payload: bytes, pkt: object) -> list[object]:
        if not any(payload in frame for frame in originals):
            raise ZeroDivisionError("planted bug")
        return genuine(payload, pkt)  # type: ignore[arg-type]

    monkeypatch.setitem(registry.DATAGRAM_PARSERS, "dns", fragile)
    found = (fuzz.fuzz_one(s, samples) for s in range(40))
    crash = next(c for c in found if c is not None and c.mode == "frames")
    assert crash.error == "ZeroDivisionError: planted bug"
    saved = fuzz.save_reproducer(crash, samples, fuzz.ERROR_PROBABILITY, tmp_path)
    assert saved.reproducer is not None and saved.minimal is not None
    minimal = fuzz.load_sample(saved.minimal)
    assert len(minimal) == 1
    with pytest.raises(ZeroDivisionError, match="planted bug"):
        fuzz.analyze_records(minimal)
    assert "--seed" in fuzz.report(saved) and str(saved.minimal) in fuzz.report(saved)
    assert dns.parse is genuine  # the module itself was never touched


def test_command_line_reports_a_clean_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        fuzz.main(["--iterations", "5", "--seed", "3", "--sample", "ndp.pcap", "--out", str(tmp_path)]) == 0
    )
    out = capsys.readouterr().out
    assert "5 iterations (seeds 3..7)" in out and "0 crash(es)" in out
    assert not list(tmp_path.iterdir())  # nothing written without a crash


def test_a_hang_is_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    """An iteration running past the time limit is reported, not waited for."""
    if threading.current_thread() is not threading.main_thread():
        not_applicable("the time limit uses SIGALRM, which only the main thread receives")
    monkeypatch.setattr(fuzz, "ITERATION_TIMEOUT", 0.2)

    def forever(self: Pipeline, *args: object) -> None:
        while True:
            time.sleep(0.01)

    monkeypatch.setattr(Pipeline, "process", forever)
    path = fuzz.SAMPLES / "ndp.pcap"
    crash = fuzz.fuzz_one(1, {path.name: fuzz.load_sample(path)})
    assert crash is not None and crash.error.startswith("Hang")
