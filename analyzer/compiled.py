"""Which modules the build compiles to C with mypyc (setup.py reads this list), and which are.

The per-packet hot path is plain, fully typed Python that mypyc compiles into C extensions; Python
then imports the extension in place of the `.py` file, with the same behaviour. Installing with
PCAP_ANALYZER_PURE=1 skips the compilation (no C compiler needed; slower, same output).

A compiled module older than its source is refused, not silently run (DESIGN rule 12): the build
writes the content hash of every source it compiled (MANIFEST, only after a successful compile), and
`analyzer/__init__.py` calls `guard()` before any hot module is imported. When a source no longer
matches, or extension modules sit there without a manifest, one warning line names the module and
every analyzer module is then imported from its `.py` file (mypyc modules of one group call each
other natively, so it is all or nothing). The check costs one stat per hot module on a pure install,
and hashing the hot sources (0.7 MB: 0.8 ms measured) on a compiled one.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import sys
from collections.abc import Sequence
from importlib.machinery import EXTENSION_SUFFIXES, ModuleSpec, PathFinder, SourceFileLoader
from types import ModuleType

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
    # dissectors
    "analyzer.dissectors.base",
    "analyzer.dissectors.dbtls",
    "analyzer.dissectors.dhcp",
    "analyzer.dissectors.dns",
    "analyzer.dissectors.ftp",
    "analyzer.dissectors.http",
    "analyzer.dissectors.http_lines",
    "analyzer.dissectors.icmp",
    "analyzer.dissectors.imap",
    "analyzer.dissectors.lines",
    "analyzer.dissectors.ndp",
    "analyzer.dissectors.pop3",
    "analyzer.dissectors.quic",
    "analyzer.dissectors.quic_crypto",
    "analyzer.dissectors.quic_wire",
    "analyzer.dissectors.smb",
    "analyzer.dissectors.smb.constants",
    "analyzer.dissectors.smb.dissector",
    "analyzer.dissectors.smb.events",
    "analyzer.dissectors.smb.framing",
    "analyzer.dissectors.smb.ntlmssp",
    "analyzer.dissectors.smb.parser",
    "analyzer.dissectors.smb.smb1",
    "analyzer.dissectors.smb.smb2",
    "analyzer.dissectors.smb.state",
    "analyzer.dissectors.smb.wire",
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
    "analyzer.trackers.conn",
    "analyzer.trackers.dhcp4",
    "analyzer.trackers.dhcp6",
    "analyzer.trackers.dhcp_common",
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
"""Everything that runs once or more per packet and shows in a profile. Measured 2026-12-04 (cProfile
of the pure build on 100,000-packet bench/make_capture.py captures, mixed and DNS-heavy): `summary`
(built once per run) and `trackers.base` (the tracker Protocol: no code runs) took 0.0% and left the
list; every module listed ran (`dissectors.base` holds the ExpectedConnection and TlsUpgrade events
compiled dissectors build), except `dissectors.smb.constants` (tables): a compiled package must
compile every submodule, or importing the others from its compiled `__init__` fails.
The rest (command line, reports, live capture, --jobs, crosscheck) runs once per run and stays
interpreted. A module joins this list only if its classes never cross a process boundary by plain
pickle (`analyzer.parallel` pickles dataclasses by their fields), no test patches its classes
(compiled classes are closed), and the suite and `bench/fuzz.py` pass on the compiled build."""

PURE_ENV = "PCAP_ANALYZER_PURE"
"""Set (to anything but 0) at install time to skip the compilation."""

GROUP = "analyzer.hot"
"""mypyc's group: its shared library is the module `analyzer.hot__mypyc`, inside the package."""

MANIFEST = "analyzer/compiled-sources.json"
"""Written by the build: {"sources": {source path: sha256 of what was compiled}, "note": why the build is
pure Python ('' when compiled)}. The sources are written only after every extension compiled."""

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))

_STALE: list[str] = []
"""Set by guard(): the hot sources that differ from what was compiled (or ["(no manifest)"])."""


def compiled_modules() -> list[str]:
    """The hot modules this installation runs compiled."""
    return [name for name in HOT_MODULES if _is_extension(importlib.import_module(name).__file__ or "")]


def _is_extension(path: str) -> bool:
    return path.endswith(tuple(EXTENSION_SUFFIXES))


def source_path(name: str) -> str:
    """The source file of a hot module, relative to the checkout: a.b -> a/b.py or a/b/__init__.py."""
    stem = name.replace(".", "/")
    here = os.path.dirname(PACKAGE_DIR)
    return stem + "/__init__.py" if os.path.isdir(os.path.join(here, stem)) else stem + ".py"


def _manifest() -> dict[str, object]:
    try:
        with open(os.path.join(os.path.dirname(PACKAGE_DIR), MANIFEST), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def build_note() -> str:
    """Why the hot path is not compiled, for --version ('' when it is, or nobody recorded why)."""
    if _STALE:
        return f"stale build, running pure Python: {', '.join(_STALE)}"
    note = _manifest().get("note")
    return note if isinstance(note, str) else ""


def stale_sources() -> list[str]:
    """Hot sources whose compiled module no longer matches them; [] for a pure or a fresh build."""
    root = os.path.dirname(PACKAGE_DIR)
    compiled = []
    for name in HOT_MODULES:
        source = os.path.join(root, source_path(name))
        stem = source.removesuffix(".py")
        if any(os.path.exists(stem + suffix) for suffix in EXTENSION_SUFFIXES):
            compiled.append(source)
    if not compiled:
        return []
    hashes = _manifest().get("sources")
    if not isinstance(hashes, dict) or not hashes:
        return ["(no source manifest from the build)"]
    stale = []
    for path in compiled:
        rel = os.path.relpath(path, root).replace(os.sep, "/")
        try:
            with open(path, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
        except OSError:
            continue  # an installed build may ship without sources: nothing to compare
        if hashes.get(rel) != digest:
            stale.append(rel)
    return stale


class _SourcesOnly(PathFinder):
    """Imports every analyzer module from its .py file, never from an extension module."""

    @classmethod
    def find_spec(
        cls, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if not fullname.startswith("analyzer.") or path is None:
            return None
        leaf = fullname.rpartition(".")[2]
        for folder in path:
            for candidate, is_package in (
                (os.path.join(folder, leaf, "__init__.py"), True),
                (os.path.join(folder, leaf + ".py"), False),
            ):
                if os.path.exists(candidate):
                    loader = SourceFileLoader(fullname, candidate)
                    spec = ModuleSpec(fullname, loader, origin=candidate, is_package=is_package)
                    if is_package:
                        spec.submodule_search_locations = [os.path.dirname(candidate)]
                    spec.has_location = True
                    return spec
        return None


def guard() -> None:
    """Refuse a stale compiled build: warn once on stderr and import the pure modules instead."""
    stale = stale_sources()
    if not stale:
        return
    _STALE[:] = stale
    shown = ", ".join(stale[:3]) + (f" and {len(stale) - 3} more" if len(stale) > 3 else "")
    print(
        f"pcap-analyzer: warning: stale compiled build: {shown} changed since it was compiled; "
        "running the pure-Python modules (slower). Rebuild with `pip install -e .`",
        file=sys.stderr,
    )
    sys.meta_path.insert(0, _SourcesOnly)
