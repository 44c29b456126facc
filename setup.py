"""Build hook: compile the per-packet hot path to C with mypyc; everything else stays plain Python.

The list of modules and the reason for each is in analyzer/compiled.py. Measured on the 1,000,000-
packet benchmark captures (docs/performance.md), the compiled build is 1.5-1.7x faster on the mixed
capture and 1.8x on the DNS-heavy one, with byte-identical output (tests/test_compiled.py).

Set PCAP_ANALYZER_PURE=1 to install without compiling (no C compiler needed; slower, same output).
"""

from __future__ import annotations

import hashlib
import json
import os
import runpy
from pathlib import Path

from setuptools import Extension, setup

HERE = Path(__file__).resolve().parent
LIST = runpy.run_path(str(HERE / "analyzer" / "compiled.py"))  # no package import at build time
MANIFEST = HERE / "build" / "compiled-sources.json"
"""What was compiled, by content hash: tests/conftest.py stops the suite when a source has changed
since (Python would import the stale extension module)."""


def ext_modules() -> list[Extension]:
    if os.environ.get(LIST["PURE_ENV"], "") not in ("", "0"):
        return []
    from mypyc.build import mypycify

    paths = [name.replace(".", "/") + ".py" for name in LIST["HOT_MODULES"]]
    extensions = mypycify(paths, opt_level="3", multi_file=True, group_name="pcap_analyzer")
    MANIFEST.parent.mkdir(exist_ok=True)
    hashes = {p: hashlib.sha256((HERE / p).read_bytes()).hexdigest() for p in paths}
    MANIFEST.write_text(json.dumps(hashes, indent=1))
    return extensions


setup(ext_modules=ext_modules())
