"""Live capture through libpcap's ring, in the namespace lab (tests/livelab.py): the path taken, every
frame kept at a steady rate, a full ring's and a full spool's losses counted to the frame, the
packet-socket fallback, the in-process reader, and an interface that is down.

Rates and loss targets under load are measured by bench/live_bench.py, never here: these tests
assert what must hold on any machine (a stopped capture process loses what the ring cannot hold,
and says exactly how much).
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.livelab import (
    WAIT,
    Lab,
    LiveRun,
    make_lab,
    must,
    pcap_packets,
    pcap_packets_ns,
    real_capture,
    replay,
    run_ip,
    start_capture,
)
from tests.oracle import SAMPLES

MIXED = SAMPLES / "mixed.pcap"
"""536 frames (802.1Q, QinQ, IPv4 fragments, IPv6), 140 bytes on average."""


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with make_lab() as made:
        yield made


def probe(lab: Lab, *args: str, traffic: Path | None = None, loops: int = 1) -> dict[str, Any]:
    """Run tests/live_probe.py in the capture namespace, replaying `traffic` once it listens."""
    run = LiveRun(lab, *args, module="tests.live_probe")
    if traffic is not None:
        run.wait_for("listening on")
        replay(lab, traffic, loops=loops)
    rc, out, err = run.finish()
    assert rc == 0, err
    result: dict[str, Any] = json.loads(out)
    return result


def child_of(pid: int) -> int:
    """The one child process of `pid` (the capture process the live command forks), waited for."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    return int(entry)
        time.sleep(0.05)
    pytest.fail(f"process {pid} started no capture process")


@real_capture
def test_libpcap_ring_is_the_capture_path(lab: Lab) -> None:
    for mib in (8, 64):
        got = probe(lab, "source", lab.veth_b, str(mib))
        assert got == {"type": "RingSource", "linktype": 1, "snaplen": 262144, "buffer_size": mib << 20}


@real_capture
def test_every_frame_of_a_steady_replay_is_kept_in_order(lab: Lab, tmp_path: Path) -> None:
    loops = 20
    sent = pcap_packets(MIXED) * loops
    written = tmp_path / "live.pcap"
    run = start_capture(lab, "--count", str(len(sent)), "--format", "json", "--write", str(written))
    replay(lab, MIXED, pps=10_000, loops=loops)
    rc, out, err = run.finish()
    assert rc == 0, err
    block = json.loads(out)["capture"]["live"]
    assert block["captured"] == block["analysed"] == block["kernel_received"] == len(sent)
    assert block["dropped"] == 0 and block["complete"] is True and block["stopped_by"] == "count"
    assert [(p[2], p[3]) for p in pcap_packets_ns(written)] == [(p[2], p[3]) for p in sent]


@real_capture
def test_a_full_ring_loses_frames_and_counts_each_one(lab: Lab, tmp_path: Path) -> None:
    """The capture process is stopped (SIGSTOP) while 40 replays of mixed.pcap (about 5 MiB in the
    ring) arrive at a 1 MiB ring: the kernel keeps the first frames and drops the rest. Every frame
    sent must then be either in the summary or in `kernel_dropped`, and the --write file must hold
    exactly the first frames sent."""
    loops = 40
    sent = pcap_packets(MIXED) * loops
    written = tmp_path / "live.pcap"
    run = start_capture(lab, "--buffer-size", "1", "--format", "json", "--write", str(written))
    capture = child_of(run.proc.pid)
    os.kill(capture, signal.SIGSTOP)
    try:
        replay(lab, MIXED, pps=10_000, loops=loops)
    finally:
        os.kill(capture, signal.SIGCONT)
    time.sleep(0.5)
    run.proc.send_signal(signal.SIGINT)
    rc, out, err = run.finish()
    assert rc == 0, err
    data = json.loads(out)
    block = data["capture"]["live"]
    kept, dropped = block["captured"], block["kernel_dropped"]
    assert block["buffer_size"] == 1 << 20
    assert 0 < kept < len(sent) and dropped > 0
    assert kept + dropped == len(sent) == block["kernel_received"]
    assert block["dropped"] == dropped and block["complete"] is False
    assert data["capture"]["packets"] == block["analysed"] == kept
    assert [(p[2], p[3]) for p in pcap_packets_ns(written)] == [(p[2], p[3]) for p in sent[:kept]]
    assert (
        err.strip().splitlines()[-1]
        == f"pcap-analyzer: {kept} packets captured, {dropped} dropped by the kernel"
    )


@real_capture
def test_a_full_spool_counts_what_it_cannot_hold(lab: Lab) -> None:
    """A temporary spool of 1 MiB: frames are kept while one more of snapshot length could still
    fit, then dispatched to /dev/null and counted as queue drops; the spool never passes its limit."""
    limit = 24 + 4 * (16 + 262144)
    loops = 10
    got = probe(lab, "spool", lab.veth_b, "4", str(limit), traffic=MIXED, loops=loops)
    sent = len(pcap_packets(MIXED)) * loops
    assert got["stopped_by"] == "duration" and got["kernel_dropped"] == 0
    assert 0 < got["packets"] == got["analysed"] and got["queue_dropped"] > 0
    assert got["packets"] + got["queue_dropped"] == sent == got["kernel_received"]
    assert got["spooled"] <= limit


@real_capture
def test_the_packet_socket_fallback_keeps_every_frame(lab: Lab, tmp_path: Path) -> None:
    """Without libpcap, live capture reads a packet socket frame by frame: still every frame, tags
    restored, in order."""
    sent = pcap_packets(MIXED)
    written = tmp_path / "socket.pcap"
    got = probe(lab, "socket", lab.veth_b, str(len(sent)), str(written), traffic=MIXED)
    assert got["type"] == "LiveSource" and got["stopped_by"] == "count"
    assert got["packets"] == got["analysed"] == len(sent) and got["kernel_dropped"] == 0
    assert [(p[2], p[3]) for p in pcap_packets_ns(written)] == [(p[2], p[3]) for p in sent]


@real_capture
def test_the_in_process_loop_reads_the_ring_frame_by_frame(lab: Lab) -> None:
    sample = SAMPLES / "dns.pcap"
    sent = pcap_packets(sample)
    before = time.time()
    got = probe(lab, "frames", lab.veth_b, str(len(sent)), traffic=sample)
    assert got["type"] == "RingSource" and got["stopped_by"] == "count" and got["packets"] == len(sent)
    assert [(bytes.fromhex(f[2]), f[3]) for f in got["frames"]] == [(p[2], p[3]) for p in sent]
    stamps = [f[0] for f in got["frames"]]
    assert stamps == sorted(stamps) and before - 1 < stamps[0] < time.time() + 1  # kernel time, now
    assert {f[1] for f in got["frames"]} == {1}


@real_capture
def test_a_down_interface_is_refused_in_one_line(lab: Lab) -> None:
    must(run_ip("-n", lab.ns_b, "link", "set", lab.veth_b, "down"))
    try:
        run = LiveRun(lab, "live", "-i", lab.veth_b, "--count", "1")
        rc, out, err = run.finish()
    finally:
        must(run_ip("-n", lab.ns_b, "link", "set", lab.veth_b, "up"))
    assert rc == 1 and out == "" and "Traceback" not in err
    assert err.strip().splitlines() == [
        f"pcap-analyzer: cannot capture on {lab.veth_b}: the interface is down (ip link set {lab.veth_b} up)"
    ]
