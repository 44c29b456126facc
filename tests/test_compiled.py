"""The compiled build (setup.py, mypyc) is what the suite tests, and it writes what plain Python writes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

from analyzer.compiled import HOT_MODULES, PURE_ENV, compiled_modules
from analyzer.parallel import dumps
from analyzer.pipeline import FileStats, Weird
from tests.oracle import SAMPLES, not_applicable, unavailable

REPO = Path(__file__).resolve().parents[1]
PURE_INSTALL = os.environ.get(PURE_ENV, "") not in ("", "0")


def test_the_hot_path_runs_compiled() -> None:
    if PURE_INSTALL:
        not_applicable(f"{PURE_ENV} is set: this installation is plain Python")
    if not compiled_modules():
        unavailable(
            "the compiled build", "a C compiler and `pip install -e .` (the build fell back to pure Python)"
        )
    assert compiled_modules() == list(HOT_MODULES)


def test_version_says_how_many_modules_are_compiled() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "analyzer", "--version"], capture_output=True, text=True, check=True
    )
    on_disk = [  # the extension files next to the sources, not what the program reports about itself
        name
        for name in HOT_MODULES
        if any((REPO / (name.replace(".", "/") + suffix)).exists() for suffix in EXTENSION_SUFFIXES)
    ]
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    build = f"hot path compiled: {len(on_disk)} of {len(HOT_MODULES)} modules"
    note = "" if len(on_disk) == len(HOT_MODULES) else "(: .+)?"  # a pure build may say why
    assert re.fullmatch(rf"pcap-analyzer, version {re.escape(version)} \({build}{note}\)\n", done.stdout)


def test_pure_python_writes_the_same_summaries(tmp_path: Path) -> None:
    """The sources alone (no extension modules) give byte-identical JSON and tables on every sample."""
    shutil.copytree(REPO / "analyzer", tmp_path / "analyzer", ignore=shutil.ignore_patterns("*.so"))
    samples = sorted(SAMPLES.glob("*.pcap*"))
    assert samples
    for fmt in ("json", "table"):
        outputs = []
        for cwd in (tmp_path, REPO):  # the working directory comes first on sys.path
            cmd = [sys.executable, "-m", "analyzer", "analyze", *map(str, samples), "--format", fmt]
            done = subprocess.run(cmd, capture_output=True, cwd=cwd, check=True, timeout=300)
            outputs.append(done.stdout)
        assert outputs[0] == outputs[1], fmt
    probe = "import analyzer.pipeline as m; print(m.__file__)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path)
    assert done.stdout.strip() == str(tmp_path / "analyzer" / "pipeline.py")


def test_worker_results_pickle_compiled_dataclasses() -> None:
    """--jobs ships frozen (and compiled) dataclasses from workers; they come back equal."""
    import pickle

    weird = Weird(1.5, "CAbc", "dns.name_loop", "detail")
    stats = FileStats("x.pcap", format="pcap", packets=3)
    assert pickle.loads(dumps((stats, [(1, 1.5, 0, weird)]))) == (stats, [(1, 1.5, 0, weird)])
