"""The compiled build (setup.py, mypyc) is what the suite tests, and it writes what plain Python writes."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

from analyzer.compiled import HOT_MODULES, MANIFEST, PURE_ENV, compiled_modules, source_path
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
        if any(
            Path(f"{REPO / source_path(name).removesuffix('.py')}{suffix}").exists()
            for suffix in EXTENSION_SUFFIXES
        )
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


def _copy_with_fake_extension(tmp_path: Path, manifest: dict[str, object] | None) -> Path:
    """The package copied to tmp_path with a garbage extension file beside analyzer/classify.py (as an
    editable compiled install has) and the given build manifest: importing that file would crash."""
    shutil.copytree(REPO / "analyzer", tmp_path / "analyzer", ignore=shutil.ignore_patterns("*.so", "*.json"))
    (tmp_path / "analyzer" / f"classify{EXTENSION_SUFFIXES[0]}").write_bytes(b"not an ELF object")
    if manifest is not None:
        (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    return tmp_path


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "analyzer", *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=300, check=False)


def test_a_stale_compiled_module_is_refused(tmp_path: Path) -> None:
    """classify.py differs from what was compiled: --version and analyze warn, name it, and run the pure
    modules (the garbage extension is never loaded)."""
    hashes = {
        path: hashlib.sha256((REPO / path).read_bytes()).hexdigest() for path in map(source_path, HOT_MODULES)
    }
    hashes["analyzer/classify.py"] = "0" * 64  # compiled from other source
    cwd = _copy_with_fake_extension(tmp_path, {"sources": hashes, "note": ""})
    warning = (
        "pcap-analyzer: warning: stale compiled build: analyzer/classify.py changed since it was compiled"
    )
    version = _run(cwd, "--version")
    assert version.returncode == 0 and version.stderr.startswith(warning), version.stderr
    assert "stale build, running pure Python: analyzer/classify.py" in version.stdout
    analyzed = _run(cwd, "analyze", str(SAMPLES / "dns.pcap"), "--format", "json")
    assert analyzed.returncode == 0 and analyzed.stderr.startswith(warning), analyzed.stderr
    assert json.loads(analyzed.stdout)["capture"]["files"][0]["packets"] > 0


def test_extensions_without_a_manifest_are_refused(tmp_path: Path) -> None:
    cwd = _copy_with_fake_extension(tmp_path, None)
    version = _run(cwd, "--version")
    assert version.returncode == 0
    assert "stale compiled build: (no source manifest from the build)" in version.stderr


def test_no_compiler_falls_back_to_the_pure_build(tmp_path: Path) -> None:
    """CC=false: one line says so, the package is built pure, and the manifest records why."""
    env = {**os.environ, "CC": "false"}
    env.pop(PURE_ENV, None)
    cmd = [sys.executable, "setup.py", "-q", "build_py", "-d", str(tmp_path / "lib")]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env, timeout=300, check=True)
    assert "pcap-analyzer build: no working C compiler" in done.stderr
    assert "installing the pure-Python build" in done.stderr
    manifest = json.loads((tmp_path / "lib" / MANIFEST).read_text())
    assert manifest == {"sources": {}, "note": "no working C compiler at build time"}
    assert not list((tmp_path / "lib").rglob("*.so"))


def test_a_compiled_package_compiles_every_submodule() -> None:
    """A compiled package's __init__ cannot import a submodule left interpreted (the build of
    2026-12-04 without dissectors.smb.constants failed at import): all or none."""
    for name in HOT_MODULES:
        if source_path(name).endswith("/__init__.py"):
            folder = REPO / source_path(name).removesuffix("/__init__.py")
            submodules = {f"{name}.{p.stem}" for p in folder.glob("*.py") if p.stem != "__init__"}
            assert submodules <= set(HOT_MODULES), sorted(submodules - set(HOT_MODULES))
