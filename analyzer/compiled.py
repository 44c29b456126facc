"""Which modules the build compiles to C with mypyc (setup.py reads this list), and which are.

The per-packet hot path is plain, fully typed Python that mypyc compiles into C extensions; Python
then imports the extension in place of the `.py` file, with the same behaviour. Installing with
PCAP_ANALYZER_PURE=1 skips the compilation (no C compiler needed; slower, same output).
"""

from __future__ import annotations

import importlib
from importlib.machinery import EXTENSION_SUFFIXES

HOT_MODULES = (
    "analyzer.capture.reader",
    "analyzer.decode",
    "analyzer.flows",
    "analyzer.tcp",
    "analyzer.pipeline",
    "analyzer.records",
    "analyzer.dissectors.dns",
    "analyzer.trackers.dns",
    "analyzer.registry",
    "analyzer.classify",
    "analyzer.summary",
    "analyzer.dissectors.base",
    "analyzer.dissectors.tls",
    "analyzer.dissectors.tls_fingerprints",
    "analyzer.dissectors.x509",
    "analyzer.dissectors.textproto",
    "analyzer.dissectors.lines",
    "analyzer.dissectors.smtp",
    "analyzer.dissectors.pop3",
    "analyzer.dissectors.imap",
    "analyzer.dissectors.http",
    "analyzer.dissectors.smb",
    "analyzer.dissectors.dhcp",
    "analyzer.dissectors.icmp",
    "analyzer.dissectors.ndp",
    "analyzer.dissectors.ftp",
    "analyzer.trackers.base",
    "analyzer.trackers.conn",
    "analyzer.trackers.icmp",
    "analyzer.trackers.tls",
    "analyzer.trackers.mail",
    "analyzer.trackers.http",
    "analyzer.trackers.smb",
    "analyzer.trackers.services",
    "analyzer.trackers.dhcp",
    "analyzer.trackers.ndp",
    "analyzer.trackers.ftp",
)
"""Run once or more per packet: reading, decoding, the flow table, TCP reassembly, the pipeline's
loop, DNS parsing and pairing, the JSON conversion. A module joins this list only if its classes never
cross a process boundary by plain pickle (`analyzer.parallel` pickles dataclasses by their fields) and
no test patches its classes: compiled classes are closed."""

PURE_ENV = "PCAP_ANALYZER_PURE"
"""Set (to anything but 0) at install time to skip the compilation."""


def compiled_modules() -> list[str]:
    """The hot modules this installation runs compiled."""
    return [name for name in HOT_MODULES if _is_extension(importlib.import_module(name).__file__ or "")]


def _is_extension(path: str) -> bool:
    return path.endswith(tuple(EXTENSION_SUFFIXES))
