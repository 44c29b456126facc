"""Live capture under load: tcpreplay at fixed rates into a veth pair, a capture on the other end, in
two network namespaces made for the run (root, iproute2 and tcpreplay needed; nothing leaves the
namespaces). For each rate and each capture tool it prints what was sent, at what rate the receiving
end really got it, what the capture kept, and what it says it lost, as JSON lines, then a table.

    python bench/live_bench.py --packets 100000 --loops 10 --rates 100000   # 100,000 pps for 10 s
    python bench/live_bench.py --packets 50000 --rates top                  # a 50,000-frame burst
    python bench/live_bench.py ... --tools ours,tcpdump,dumpcap --repeat 2   # side by side, twice
    python bench/live_bench.py ... --tools ours,ours-socket                  # with / without libpcap

The replayed file is the first --packets of the realistic capture (bench/realistic.py), replayed
--loops times. tcpreplay loads it into memory first (--preload-pcap, unless --no-preload): reading
the file while sending is what kept it below 100,000 frames/s before. The sender's rate is
tcpreplay's own figure; the receiver's is the veth's rx_packets counter (the capture namespace's
/proc/PID/net/dev, read every `SAMPLE_EVERY` s) over the time it moved, so a sender that did not
reach the rate asked is seen. `tcpdump -w` and `dumpcap -w` run on the same replay, one after the
other (never at once: they would share the CPU), with the same kernel buffer (--buffer-mib).

Our capture ends by --count when every frame arrived; when some were lost it is stopped with SIGINT
once the replay is over and its live view (plain blocks on stderr) has stopped moving.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
SETTLE = 1.0
"""Seconds given to tcpdump/dumpcap to open their capture before the replay (ours says when)."""
GRACE = 2.0
"""Seconds after the replay before a capture that has not seen every frame is stopped: the ring's
block timeout and the live view's refresh are well inside it."""
SAMPLE_EVERY = 0.02
"""Seconds between two readings of the receiving veth's counters."""
DRAIN_LIMIT = 900.0
"""Upper bound on the seconds a capture may take after the replay to finish its analysis."""


def sh(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), capture_output=True, text=True, check=check, timeout=DRAIN_LIMIT)


class Lab:
    """Two namespaces joined by a veth pair (IPv6 off so the kernels stay silent)."""

    def __init__(self) -> None:
        tag = f"pa-lb-{os.getpid()}"
        self.ns_a, self.ns_b = f"{tag}-a", f"{tag}-b"
        self.veth_a, self.veth_b = f"lb{os.getpid()}a", f"lb{os.getpid()}b"

    def __enter__(self) -> Lab:
        off = "; ".join(f"echo 1 > /proc/sys/net/ipv6/conf/{c}/disable_ipv6" for c in ("all", "default"))
        for ns in (self.ns_a, self.ns_b):
            sh("ip", "netns", "add", ns)
            sh("ip", "netns", "exec", ns, "sh", "-c", off)
        sh("ip", "-n", self.ns_a, "link", "add", self.veth_a, "type", "veth", "peer", "name", self.veth_b,
           "netns", self.ns_b)  # fmt: skip
        for ns, dev in ((self.ns_a, self.veth_a), (self.ns_b, self.veth_b)):
            sh("ip", "-n", ns, "link", "set", dev, "up")
        return self

    def __exit__(self, *exc: object) -> None:
        for ns in (self.ns_a, self.ns_b):
            sh("ip", "netns", "del", ns, check=False)


class RxMonitor:
    """Samples the receiving veth's rx counters (through /proc/PID/net/dev of a process inside the
    capture namespace) and, when given, the CPU time of our capture process."""

    def __init__(self, pid: int, dev: str, cpu_of_child: bool = False) -> None:
        self.pid, self.dev, self.cpu_of_child = pid, dev, cpu_of_child
        self.samples: list[tuple[float, int]] = []
        self.child_cpu = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rx_packets(self) -> int | None:
        try:
            text = Path(f"/proc/{self.pid}/net/dev").read_text()
        except OSError:
            return None
        for line in text.splitlines():
            name, _, rest = line.partition(":")
            if name.strip() == self.dev:
                return int(rest.split()[1])
        return None

    def _child_cpu(self) -> float | None:
        try:
            kids = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
            if not kids:
                return None
            fields = Path(f"/proc/{kids[0]}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def _run(self) -> None:
        while not self._stop.is_set():
            rx = self.rx_packets()
            if rx is not None:
                self.samples.append((time.monotonic(), rx))
            if self.cpu_of_child:
                cpu = self._child_cpu()
                if cpu is not None:
                    self.child_cpu = cpu
            self._stop.wait(SAMPLE_EVERY)

    def __enter__(self) -> RxMonitor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def rate(self) -> tuple[int, float]:
        """(frames received, frames/s between the first and the last sample where the counter moved)."""
        if len(self.samples) < 2:
            return 0, 0.0
        base, final = self.samples[0][1], self.samples[-1][1]
        first = next(((t, rx) for t, rx in self.samples if rx != base), None)
        last = next(((t, rx) for t, rx in self.samples if rx == final), None)
        if first is None or last is None or last[0] <= first[0]:
            return final - base, 0.0
        return final - base, (last[1] - first[1]) / (last[0] - first[0])


def replay(lab: Lab, path: Path, rate: str, loops: int, preload: bool) -> dict[str, Any]:
    """Replay `path` into the lab at `rate`; what tcpreplay says it did."""
    speed = ["--topspeed"] if rate == "top" else [f"--pps={rate}"]
    cmd = ["ip", "netns", "exec", lab.ns_a, "tcpreplay", f"--intf1={lab.veth_a}", *speed]
    cmd += [*(["--preload-pcap"] if preload else []), f"--loop={loops}", str(path)]
    out = sh(*cmd).stdout
    sent = re.search(r"Actual: (\d+) packets .* in ([\d.]+) seconds", out)
    rated = re.search(r"Rated: .*?([\d.]+) pps", out)
    failed = re.search(r"Failed packets:\s+(\d+)", out)
    return {
        "sent": int(sent.group(1)) if sent else 0,
        "send_s": float(sent.group(2)) if sent else 0.0,
        "sender_pps": round(float(rated.group(1))) if rated else 0,
        "send_failed": int(failed.group(1)) if failed else 0,
    }


def _view_captured(stderr: str) -> int:
    """Frames captured, as the last block of our live view says."""
    found = re.findall(r"captured (\d+)  analysis behind", stderr)
    return int(found[-1]) if found else 0


SOCKET_ONLY = (
    "import analyzer.capture.pcaplib as p; p.load = lambda: None; from analyzer.cli import main; main()"
)
"""`live` as it runs without libpcap: the packet socket, read frame by frame in Python (ours-socket)."""


def run_ours(
    lab: Lab, tool: str, path: Path, rate: str, loops: int, expect: int, args: argparse.Namespace
) -> dict[str, Any]:
    how = ["-c", SOCKET_ONLY] if tool == "ours-socket" else ["-m", "analyzer"]
    cmd = ["ip", "netns", "exec", lab.ns_b, sys.executable, *how, "live", "-i", lab.veth_b]
    cmd += ["--format", "json", "--count", str(expect), "--refresh", "0.5", "-B", str(args.buffer_mib)]
    cmd += args.extra.split()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None and proc.stdout is not None
    first = proc.stderr.readline()  # the replay starts only once the capture is open
    if "listening on" not in first:
        raise SystemExit(f"live did not start: {first}{proc.stderr.read()}")
    err_lines: list[str] = [first]
    pump = threading.Thread(target=lambda: err_lines.extend(iter(proc.stderr.readline, "")), daemon=True)
    pump.start()
    time.sleep(0.2)
    t0 = time.monotonic()
    with RxMonitor(proc.pid, lab.veth_b, cpu_of_child=True) as rx:
        sender = replay(lab, path, rate, loops, args.preload)
        time.sleep(GRACE)
    captured = _view_captured("".join(err_lines))
    signalled = False
    if proc.poll() is None and captured < expect:  # something was lost: the count cannot be reached
        proc.send_signal(signal.SIGINT)
        signalled = True
    out = proc.stdout.read()
    proc.wait(timeout=DRAIN_LIMIT)
    pump.join(timeout=10)
    total = time.monotonic() - t0
    data = json.loads(out)
    block = data["capture"]["live"]
    received, rx_pps = rx.rate()
    return {
        "tool": tool,
        "rate": rate,
        **sender,
        "received": received,
        "receiver_pps": round(rx_pps),
        "captured": data["capture"]["packets"],
        "kernel_dropped": block["kernel_dropped"],
        "queue_dropped": block["queue_dropped"],
        "interface_dropped": block["interface_dropped"],
        "lost": sender["sent"] - data["capture"]["packets"],
        "uncounted": sender["sent"] - block["captured"] - block["dropped"] - block["interface_dropped"],
        "complete": block["complete"],
        "stopped_by": block["stopped_by"] + (" (after the replay)" if signalled else ""),
        "buffer_size": block["buffer_size"],
        "capture_cpu_s": round(rx.child_cpu, 2),
        "until_summary_s": round(total, 1),
        "load": os.getloadavg()[0],
    }


def run_tool(
    lab: Lab, tool: str, path: Path, rate: str, loops: int, args: argparse.Namespace
) -> dict[str, Any]:
    """tcpdump -w or dumpcap -w on the same replay, with the same kernel buffer."""
    out = OUT / f"live-{tool}.pcap"
    if tool == "tcpdump":
        cap = ["tcpdump", "-n", "-i", lab.veth_b, "-B", str(args.buffer_mib << 10), "-w", str(out)]
    else:
        cap = ["dumpcap", "-q", "-i", lab.veth_b, "-B", str(args.buffer_mib), "-w", str(out)]
    proc = subprocess.Popen(
        ["ip", "netns", "exec", lab.ns_b, *cap], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    time.sleep(SETTLE)
    load = os.getloadavg()[0]
    with RxMonitor(proc.pid, lab.veth_b) as rx:
        sender = replay(lab, path, rate, loops, args.preload)
        time.sleep(GRACE)
    proc.send_signal(signal.SIGINT)  # our own child, by its pid
    _, err = proc.communicate(timeout=120)
    if tool == "tcpdump":
        got = re.search(r"(\d+) packets captured", err)
        drop = re.search(r"(\d+) packets dropped by kernel", err)
        captured, dropped = (int(got.group(1)) if got else 0), (int(drop.group(1)) if drop else 0)
    else:
        got = re.search(r"Packets received/dropped on interface .*?: (\d+)/(\d+)", err)
        captured, dropped = (int(got.group(1)), int(got.group(2))) if got else (0, 0)
    received, rx_pps = rx.rate()
    return {
        "tool": f"{tool} -w",
        "rate": rate,
        **sender,
        "received": received,
        "receiver_pps": round(rx_pps),
        "captured": captured,
        "kernel_dropped": dropped,
        "lost": sender["sent"] - captured,
        "load": load,
    }


def table(rows: list[dict[str, Any]]) -> str:
    head = "| tool | asked | sender pps | receiver pps | sent | captured | kernel drops | queue drops |"
    lines = [head + " lost | load |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lost = f"{r['lost']:,} ({100 * r['lost'] / max(r['sent'], 1):.2f}%)"
        lines.append(
            f"| {r['tool']} | {r['rate']} | {r['sender_pps']:,} | {r['receiver_pps']:,} | {r['sent']:,} | "
            f"{r['captured']:,} | {r['kernel_dropped']:,} | {r.get('queue_dropped', '-')} | {lost} | "
            f"{r['load']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--packets", type=int, default=50_000, help="frames of the realistic capture replayed")
    ap.add_argument(
        "--rates", default="100000,top", help="frames/s, comma-separated; top = tcpreplay's top speed"
    )
    ap.add_argument("--loops", type=int, default=1, help="times the file is replayed")
    ap.add_argument(
        "--tools", default="ours", help="ours,ours-socket (no libpcap),tcpdump,dumpcap (those installed)"
    )
    ap.add_argument("--repeat", type=int, default=1, help="runs of each rate and tool")
    ap.add_argument("--buffer-mib", type=int, default=64, help="kernel capture buffer of every tool (MiB)")
    ap.add_argument("--no-preload", dest="preload", action="store_false", help="tcpreplay reads as it sends")
    ap.add_argument("--tcpdump", action="store_true", help="same as adding tcpdump to --tools")
    ap.add_argument("--extra", default="", help="extra options for `live`, space-separated")
    args = ap.parse_args()
    tools = [t for t in args.tools.split(",") if t] + (["tcpdump"] if args.tcpdump else [])
    tools = [t for t in tools if t.startswith("ours") or shutil.which(t)]
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"live-realistic-{args.packets}.pcap"
    if not path.exists():
        make = [sys.executable, str(REPO / "bench" / "make_capture.py"), "--kind", "realistic"]
        subprocess.run([*make, "--packets", str(args.packets), "--out", str(path)], check=True)
    expect = args.packets * args.loops
    rows = []
    with Lab() as lab:
        for _ in range(args.repeat):
            for rate in args.rates.split(","):
                for tool in tools:
                    if tool.startswith("ours"):
                        row = run_ours(lab, tool, path, rate, args.loops, expect, args)
                    else:
                        row = run_tool(lab, tool, path, rate, args.loops, args)
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    print(table(rows))


if __name__ == "__main__":
    main()
