"""The namespace lab of the live-capture tests (tests/test_live.py, tests/test_live_ring.py).

Two network namespaces (unique names per lab) joined by a veth pair, with IPv6 disabled in both so
that the kernels themselves never put a packet on the link (no DAD, router solicitation or MLD
report), and only 192.0.2.201/.202 (addresses no sample uses) on the veth ends. A capture is replayed
with tcpreplay into one end and captured on the other; nothing touches the host's interfaces or
leaves the lab. Every wait is bounded (`WAIT`), and the namespaces are deleted on the way out.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import shutil
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from analyzer.capture.live import LivePacket
from tests.oracle import REPO, require, unavailable

WAIT = 30.0
"""Upper bound (seconds) on every wait of a real-capture test, so that none can hang."""
CAPTURE_LIMIT = 20.0
"""--duration given to every real capture: it ends by itself even if packets never come."""
REPLAY_PPS = 2000
"""tcpreplay rate: fast, yet gentle enough that a slow CI machine drops nothing."""


def pcap_packets(path: Path) -> list[LivePacket]:
    """(sec, nsec, data, wirelen) of a little-endian microsecond pcap (the samples' format)."""
    raw = path.read_bytes()
    assert struct.unpack_from("<I", raw)[0] == 0xA1B2C3D4
    out, pos = [], 24
    while pos < len(raw):
        sec, usec, caplen, wirelen = struct.unpack_from("<IIII", raw, pos)
        out.append((sec, usec * 1000, raw[pos + 16 : pos + 16 + caplen], wirelen))
        pos += 16 + caplen
    return out


def pcap_packets_ns(path: Path) -> list[LivePacket]:
    """(sec, nsec, data, wirelen) of a little-endian nanosecond pcap (what --write produces)."""
    raw = path.read_bytes()
    assert struct.unpack_from("<I", raw)[0] == 0xA1B23C4D
    out, pos = [], 24
    while pos < len(raw):
        sec, nsec, caplen, wirelen = struct.unpack_from("<IIII", raw, pos)
        out.append((sec, nsec, raw[pos + 16 : pos + 16 + caplen], wirelen))
        pos += 16 + caplen
    return out


# -- real captures in a namespace lab --------------------------------------------------------------

IP = shutil.which("ip")
TCPREPLAY = shutil.which("tcpreplay")
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
REAL_CAPTURE_NEEDS = [pytest.mark.requires("linux", "root", "ip", "tcpreplay", "libpcap")]
"""CI runs as root on Linux and installs the tools (scripts/test), so there these tests must run."""


NO_IPV6 = (
    "for f in /proc/sys/net/ipv6/conf/all/disable_ipv6 /proc/sys/net/ipv6/conf/default/disable_ipv6; "
    "do [ -w $f ] && echo 1 > $f; done; true"
)
"""Shell run in each new namespace, before the veth exists: no IPv6, so no DAD/RS/MLD on the link."""


@dataclasses.dataclass(frozen=True, slots=True)
class Lab:
    """Two namespaces joined by a veth pair: replay into `veth_a`, capture on `veth_b`."""

    ns_a: str
    """Namespace of the sender."""
    ns_b: str
    """Namespace of the capture."""
    veth_a: str
    """Sender end."""
    veth_b: str
    """Capturing end."""


def run_ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([IP or "ip", *args], capture_output=True, text=True, timeout=WAIT, check=False)


def must(result: subprocess.CompletedProcess[str]) -> None:
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(result.args)}: {result.stderr.strip()}")


_LABS = itertools.count()
"""Numbers the labs of one process, so that two never share names."""


@contextlib.contextmanager
def make_lab() -> Iterator[Lab]:
    """A fresh lab (skips, or fails under CI, without root, Linux or ip)."""
    require("linux", "root", "ip")
    n = next(_LABS)
    tag = f"pa-test-{os.getpid()}-{n}"
    lab = Lab(f"{tag}-a", f"{tag}-b", f"pa{os.getpid()}{n}a", f"pa{os.getpid()}{n}b")  # names <= 15
    made: list[str] = []
    try:
        for ns in (lab.ns_a, lab.ns_b):
            result = run_ip("netns", "add", ns)
            if result.returncode != 0:
                unavailable("a network namespace", f"`ip netns add` failed: {result.stderr.strip()}")
            made.append(ns)
            must(run_ip("netns", "exec", ns, "sh", "-c", NO_IPV6))
        veth = f"-n {lab.ns_a} link add {lab.veth_a} type veth peer name {lab.veth_b} netns {lab.ns_b}"
        must(run_ip(*veth.split()))
        must(run_ip("-n", lab.ns_a, "addr", "add", "192.0.2.201/24", "dev", lab.veth_a))
        must(run_ip("-n", lab.ns_b, "addr", "add", "192.0.2.202/24", "dev", lab.veth_b))
        for ns, dev in ((lab.ns_a, lab.veth_a), (lab.ns_b, lab.veth_b), (lab.ns_a, "lo"), (lab.ns_b, "lo")):
            must(run_ip("-n", ns, "link", "set", dev, "up"))
        yield lab
    finally:
        for ns in made:
            run_ip("netns", "del", ns)  # takes the veth pair with it


class LiveRun:
    """`pcap-analyzer live` (or another module: `module`) running inside the capture namespace, its
    output collected by threads."""

    def __init__(self, lab: Lab, *args: str, prefix: tuple[str, ...] = (), module: str = "analyzer") -> None:
        cmd = [IP or "ip", "netns", "exec", lab.ns_b, *prefix, sys.executable, "-m", module, *args]
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._out: list[bytes] = []
        self._err: list[bytes] = []
        self._cond = threading.Condition()
        self._threads = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self._out), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self._err), daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _pump(self, stream: Any, into: list[bytes]) -> None:
        while chunk := stream.read1(65536):
            with self._cond:
                into.append(chunk)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    @property
    def stderr(self) -> str:
        with self._cond:
            return b"".join(self._err).decode("utf-8", "replace")

    def wait_for(self, text: str) -> None:
        """Wait (bounded) until standard error shows `text`; fail with what it said otherwise."""
        deadline = time.monotonic() + WAIT
        with self._cond:
            while text not in b"".join(self._err).decode("utf-8", "replace"):
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    break
                self._cond.wait(min(left, 0.2))
        if text not in self.stderr:
            self.proc.kill()
            pytest.fail(f"never saw {text!r}; stderr: {self.stderr!r}")

    def finish(self) -> tuple[int, str, str]:
        try:
            rc = self.proc.wait(timeout=WAIT + CAPTURE_LIMIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=WAIT)
            pytest.fail(f"pcap-analyzer live did not stop; stderr: {self.stderr!r}")
        for t in self._threads:
            t.join(timeout=WAIT)
        return rc, b"".join(self._out).decode(), self.stderr


def start_capture(lab: Lab, *args: str) -> LiveRun:
    run = LiveRun(lab, "live", "-i", lab.veth_b, "--duration", str(CAPTURE_LIMIT), *args)
    run.wait_for("listening on")
    return run


def replay(lab: Lab, sample: Path, pps: int | None = REPLAY_PPS, loops: int = 1) -> None:
    """Replay `sample` into the lab, `loops` times, at `pps` frames a second (None: top speed)."""
    cmd = [IP or "ip", "netns", "exec", lab.ns_a, TCPREPLAY or "tcpreplay", "-q", f"--intf1={lab.veth_a}"]
    cmd += ["--topspeed" if pps is None else f"--pps={pps}", f"--loop={loops}", str(sample)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=WAIT, check=False)
    assert result.returncode == 0, result.stderr


def real_capture(fn: Any) -> Any:
    """Mark a test that captures for real in the namespace lab (skipped without its needs)."""
    for mark in REAL_CAPTURE_NEEDS:
        fn = mark(fn)
    return fn
