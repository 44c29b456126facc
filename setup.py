"""Build hook: compile the per-packet hot path to C with mypyc; everything else stays plain Python.

The list of modules and the reason for each is in analyzer/compiled.py. Measured on the benchmark
captures (docs/performance.md), the compiled build is 1.5-1.8x faster, with byte-identical output
(tests/test_compiled.py).

- No working C compiler: one line says so and the pure-Python build is installed (same output, slower).
- PCAP_ANALYZER_PURE=1 forces the pure-Python build.
- Only after every extension compiled and linked does the build write analyzer/compiled-sources.json
  (the content hash of each compiled source); the package checks it when imported and runs the pure
  modules, with a warning, when a compiled module is older than its source (analyzer/compiled.py).
- Everything is installed inside the package: mypyc's shared library is `analyzer.hot__mypyc`.
"""

from __future__ import annotations

import hashlib
import json
import os
import runpy
import sys
import tempfile
from pathlib import Path
from typing import Any

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
LIST: dict[str, Any] = runpy.run_path(str(HERE / "analyzer" / "compiled.py"))  # no package import here
SOURCES = {LIST["source_path"](name): name for name in LIST["HOT_MODULES"]}
HASHES: dict[str, str] = {}
"""Content hash of every source handed to mypyc, taken before it read them."""
NOTE: list[str] = []
"""Why this build is pure Python (`pcap-analyzer --version` shows it; pip hides build output without -v)."""


def say(line: str) -> None:
    print(f"pcap-analyzer build: {line}", file=sys.stderr, flush=True)


def compiler_works() -> str:
    """'' when the configured C compiler builds a Python extension object, else why not."""
    from setuptools._distutils.ccompiler import new_compiler
    from setuptools._distutils.sysconfig import customize_compiler, get_python_inc

    compiler = new_compiler()
    customize_compiler(compiler)
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe.c"
        probe.write_text("#include <Python.h>\nint probe(void) { return 0; }\n")
        try:
            compiler.compile([str(probe)], output_dir=tmp, include_dirs=[get_python_inc()])
        except Exception:  # CompileError, DistutilsExecError, missing headers: all mean "cannot"
            return f"`{compiler.compiler_so[0]}` cannot compile a C extension"
    return ""


def ext_modules() -> list[Extension]:
    if os.environ.get(LIST["PURE_ENV"], "") not in ("", "0"):
        say(f"{LIST['PURE_ENV']} is set: installing the pure-Python build")
        NOTE.append(f"{LIST['PURE_ENV']} was set")
        return []
    if sys.argv[1:2] and sys.argv[1] in ("--version", "--name", "egg_info", "dist_info", "sdist"):
        return []  # metadata only: nothing is compiled
    problem = compiler_works()
    if problem:
        say(
            f"no working C compiler ({problem}): installing the pure-Python build "
            "(same output, 1.5-1.8x slower)"
        )
        NOTE.append("no working C compiler at build time")
        return []
    from mypyc.build import mypycify

    HASHES.update({p: hashlib.sha256((HERE / p).read_bytes()).hexdigest() for p in SOURCES})
    extensions = mypycify(list(SOURCES), opt_level="3", multi_file=True, group_name=LIST["GROUP"])
    for ext in extensions:  # mypyc writes a dotted group's headers under build/<package>/
        ext.include_dirs.append(os.path.join("build", *LIST["GROUP"].split(".")[:-1]))
    return extensions


def write_manifest(build_lib: str, in_place: bool, sources: dict[str, str], note: str) -> None:
    """{"sources": {path: sha256 of what was compiled}, "note": why the build is pure ('' if not)}."""
    text = json.dumps({"sources": sources, "note": note}, indent=1, sort_keys=True) + "\n"
    for root in [Path(build_lib)] + ([HERE] if in_place else []):
        target = root / LIST["MANIFEST"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


class BuildPy(build_py):
    """A pure build records why it is pure (the compiled one is recorded by BuildExt, after it)."""

    def run(self) -> None:
        super().run()
        if NOTE:
            write_manifest(self.build_lib, self.editable_mode, {}, NOTE[0])

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs: list[str] = super().get_outputs(include_bytecode)
        return outputs + ([str(Path(self.build_lib) / LIST["MANIFEST"])] if NOTE else [])


class BuildExt(build_ext):
    """Writes the source-hash manifest only after every extension compiled; a compiler that fails
    midway leaves the pure-Python build (no half-built extension next to the sources)."""

    def run(self) -> None:
        if not self.extensions:
            return
        in_place = bool(self.inplace or self.editable_mode)  # build_ext.run clears inplace while it runs
        try:
            super().run()
        except Exception as exc:
            self.inplace = in_place
            self._remove_partial()
            why = str(exc).strip() or type(exc).__name__
            say(f"compiling failed ({why}): installing the pure-Python build")
            self.extensions = []
            self.distribution.ext_modules = []
            write_manifest(self.build_lib, in_place, {}, f"compiling failed: {why}")
            return
        write_manifest(self.build_lib, in_place, HASHES, "")
        say(f"compiled {len(HASHES)} modules")

    def _remove_partial(self) -> None:
        for ext in self.extensions:
            for root in (Path(self.build_lib), HERE):
                built = root / self.get_ext_filename(ext.name)
                if root == HERE and not self.inplace:
                    continue
                built.unlink(missing_ok=True)

    def get_outputs(self) -> list[str]:
        outputs: list[str] = super().get_outputs()
        if self.extensions:
            outputs.append(str(Path(self.build_lib) / LIST["MANIFEST"]))
        return outputs


setup(ext_modules=ext_modules(), cmdclass={"build_ext": BuildExt, "build_py": BuildPy})
