"""Build hook: compile the per-packet hot path to C with mypyc; everything else stays plain Python.

The modules below run once or more per packet (reading, decoding, flow table, TCP reassembly, the
pipeline's loop, DNS parsing and pairing, the JSON conversion). They are ordinary, fully typed
Python: mypyc turns them into C extensions that Python imports in place of the `.py` files, with the
same behaviour (the test suite runs against the compiled build, and `tests/test_compiled.py` checks
that both builds write the same summary). Measured on the 1,000,000-packet benchmark capture: about
1.4x faster on the mixed capture and 1.7x on the DNS-heavy one (docs/performance.md).

Set PCAP_ANALYZER_PURE=1 to install without compiling (no C compiler needed; slower, same output).
"""

from __future__ import annotations

import os

from setuptools import setup

COMPILED_MODULES = [
    "analyzer/capture/reader.py",
    "analyzer/decode.py",
    "analyzer/flows.py",
    "analyzer/tcp.py",
    "analyzer/pipeline.py",
    "analyzer/records.py",
    "analyzer/dissectors/dns.py",
    "analyzer/trackers/dns.py",
]
"""Compiled with mypyc. Only modules whose classes never cross a process boundary by plain pickle
(--jobs ships events through `analyzer.parallel`'s own pickler) and that tests do not patch."""

PURE_ENV = "PCAP_ANALYZER_PURE"


def ext_modules() -> list:
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return []
    from mypyc.build import mypycify

    return mypycify(COMPILED_MODULES, opt_level="3", multi_file=True, group_name="pcap_analyzer")


setup(ext_modules=ext_modules())
