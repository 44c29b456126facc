"""Which modules the build compiles to C with mypyc (setup.py reads this list), and which are.

The per-packet hot path is plain, fully typed Python that mypyc compiles into C extensions; Python
then imports the extension in place of the `.py` file, with the same behaviour. Installing with
PCAP_ANALYZER_PURE=1 skips the compilation (no C compiler needed; slower, same output).
"""

from __future__ import annotations

import importlib
from importlib.machinery import EXTENSION_SUFFIXES

HOT_MODULES = (
    # reading, decoding, flows, reassembly, the loop and its output
    "analyzer.capture.reader",
    "analyzer.decode.core",
    "analyzer.decode.fragments",
    "analyzer.decode.llc",
    "analyzer.decode.packet",
    "analyzer.decode.quoted",
    "analyzer.decode.tunnels",
    "analyzer.decode.wifi",
    "analyzer.flows",
    "analyzer.tcp",
    "analyzer.classify",
    "analyzer.ports",
    "analyzer.signatures",
    "analyzer.registry",
    "analyzer.pipeline",
    "analyzer.records",
    "analyzer.summary",
    # dissectors
    "analyzer.dissectors.base",
    "analyzer.dissectors.dbtls",
    "analyzer.dissectors.dhcp",
    "analyzer.dissectors.dns",
    "analyzer.dissectors.ftp",
    "analyzer.dissectors.http",
    "analyzer.dissectors.icmp",
    "analyzer.dissectors.imap",
    "analyzer.dissectors.lines",
    "analyzer.dissectors.ndp",
    "analyzer.dissectors.pop3",
    "analyzer.dissectors.quic",
    "analyzer.dissectors.quic_crypto",
    "analyzer.dissectors.quic_wire",
    "analyzer.dissectors.smb",
    "analyzer.dissectors.smtp",
    "analyzer.dissectors.textproto",
    # analyzer.dissectors.tls (the package __init__) only re-exports: it stays interpreted, and
    # setup.py maps module names to <name>.py files, which a package __init__ is not
    "analyzer.dissectors.tls.constants",
    "analyzer.dissectors.tls.dissector",
    "analyzer.dissectors.tls.events",
    "analyzer.dissectors.tls.fingerprints",
    "analyzer.dissectors.tls.messages",
    "analyzer.dissectors.x509",
    # trackers
    "analyzer.trackers.base",
    "analyzer.trackers.conn",
    "analyzer.trackers.dhcp",
    "analyzer.trackers.dns",
    "analyzer.trackers.ftp",
    "analyzer.trackers.http",
    "analyzer.trackers.icmp",
    "analyzer.trackers.mail",
    "analyzer.trackers.ndp",
    "analyzer.trackers.quic",
    "analyzer.trackers.services",
    "analyzer.trackers.smb",
    "analyzer.trackers.tls",
)
"""Everything that runs once or more per packet. The rest (command line, reports, live capture,
--jobs, crosscheck) runs once per run and stays interpreted. A module joins this list only if its
classes never cross a process boundary by plain pickle (`analyzer.parallel` pickles dataclasses by
their fields), no test patches its classes (compiled classes are closed), and the suite and
`bench/fuzz.py` pass on the compiled build."""

PURE_ENV = "PCAP_ANALYZER_PURE"
"""Set (to anything but 0) at install time to skip the compilation."""


def compiled_modules() -> list[str]:
    """The hot modules this installation runs compiled."""
    return [name for name in HOT_MODULES if _is_extension(importlib.import_module(name).__file__ or "")]


def _is_extension(path: str) -> bool:
    return path.endswith(tuple(EXTENSION_SUFFIXES))
