"""The same capture gives byte-identical output in every run, whatever Python's hash seed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.oracle import SAMPLES


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_output_does_not_depend_on_the_hash_seed(fmt: str) -> None:
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        cmd = [
            sys.executable,
            "-m",
            "analyzer",
            "analyze",
            str(SAMPLES / "mixed.pcap"),
            "--format",
            fmt,
            "-j",
            "1",
        ]
        done = subprocess.run(cmd, capture_output=True, env=env, check=True, timeout=120)
        outputs.add(done.stdout)
    assert len(outputs) == 1
