"""Live capture under load: tcpreplay at fixed rates into a veth pair, `pcap-analyzer live` on the other
end, in two network namespaces made for the run (root, iproute2 and tcpreplay needed; nothing leaves
the namespaces). For each rate it prints what was sent, what the summary counted, and what it says
was lost (kernel and queue drops), next to `tcpdump -w` on the same replay when tcpdump is present.

    python bench/live_bench.py [--packets 50000] [--rates 50000,100000,top] [--loops 1] [--tcpdump]

The replayed file is the first --packets of the realistic capture (bench/realistic.py); --loops
replays it several times (100,000 packets/s for 10 s: --packets 100000 --loops 10 --rates 100000).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
SETTLE = 1.5
"""Seconds given to the capture to start listening before the replay begins."""
DRAIN_LIMIT = 600.0
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


def replay(lab: Lab, path: Path, rate: str, loops: int) -> tuple[int, str]:
    """Replay `path` into the lab at `rate`; (packets tcpreplay says it sent, its rate lines)."""
    speed = ["--topspeed"] if rate == "top" else [f"--pps={rate}"]
    cmd = ["ip", "netns", "exec", lab.ns_a, "tcpreplay", f"--intf1={lab.veth_a}", *speed]
    cmd += [f"--loop={loops}", str(path)]
    result = sh(*cmd)
    rated = [line.strip() for line in result.stdout.splitlines() if "Rated:" in line or "Actual:" in line]
    actual = next((line.split()[1] for line in rated if line.startswith("Actual:")), "0")
    failed = [line.strip() for line in result.stdout.splitlines() if "Failed packets" in line]
    return int(actual), " / ".join(rated + failed)


def run_ours(lab: Lab, path: Path, rate: str, loops: int, expect: int, extra: list[str]) -> dict[str, object]:
    cmd = ["ip", "netns", "exec", lab.ns_b, sys.executable, "-m", "analyzer", "live", "-i", lab.veth_b]
    # No signal: it ends by --count when everything arrived, else by --duration, well after the replay
    # (a Ctrl-C while it writes its summary would cut the output short).
    pps = 25_000 if rate == "top" else min(int(rate), 25_000)  # what tcpreplay reaches here, at worst
    limit = SETTLE + 2 * expect / pps + 3.0
    cmd += ["--format", "json", "--count", str(expect), "--duration", f"{limit:.1f}", *extra]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    first = proc.stderr.readline()  # the replay starts only once the socket is open
    if "listening on" not in first:
        raise SystemExit(f"live did not start: {first}{proc.stderr.read()}")
    time.sleep(0.2)
    t0 = time.monotonic()
    sent, tcpreplay = replay(lab, path, rate, loops)
    sent_s = time.monotonic() - t0
    out, err = proc.communicate(timeout=DRAIN_LIMIT)
    err = first + err
    total = time.monotonic() - t0
    data = json.loads(out)
    live = data.get("capture", {}).get("live") or data.get("live", {})
    return {
        "rate": rate,
        "sent": sent,
        "analysed": data["capture"]["packets"],
        "kernel_dropped": live.get("kernel_dropped"),
        "queue_dropped": live.get("queue_dropped"),
        "interface_dropped": live.get("interface_dropped"),
        "complete": live.get("complete"),
        "stopped_by": live.get("stopped_by"),
        "lost": sent - data["capture"]["packets"],
        "replay_s": round(sent_s, 2),
        "until_summary_s": round(total, 2),
        "tcpreplay": tcpreplay,
        "stderr_tail": err.strip().splitlines()[-4:] if err else [],
    }


def run_tcpdump(lab: Lab, path: Path, rate: str, loops: int) -> dict[str, object]:
    out = OUT / "live-tcpdump.pcap"
    cmd = ["ip", "netns", "exec", lab.ns_b, "tcpdump", "-n", "-i", lab.veth_b, "-w", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(SETTLE)
    sent, _ = replay(lab, path, rate, loops)
    time.sleep(1.0)
    proc.send_signal(2)
    _, err = proc.communicate(timeout=60)
    got = [line for line in err.splitlines() if "captured" in line or "dropped" in line]
    return {"rate": rate, "sent": sent, "tcpdump": got}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--packets", type=int, default=50_000)
    ap.add_argument("--rates", default="50000,100000,top")
    ap.add_argument("--loops", type=int, default=1)
    ap.add_argument("--tcpdump", action="store_true", help="also run tcpdump -w on the same replay")
    ap.add_argument("--extra", default="", help="extra options for `live`, space-separated")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"live-realistic-{args.packets}.pcap"
    if not path.exists():
        make = [sys.executable, str(REPO / "bench" / "make_capture.py"), "--kind", "realistic"]
        subprocess.run([*make, "--packets", str(args.packets), "--out", str(path)], check=True)
    sent = args.packets * args.loops
    with Lab() as lab:
        for rate in args.rates.split(","):
            print(json.dumps(run_ours(lab, path, rate, args.loops, sent, args.extra.split())), flush=True)
            if args.tcpdump and shutil.which("tcpdump"):
                print(json.dumps(run_tcpdump(lab, path, rate, args.loops)), flush=True)


if __name__ == "__main__":
    main()
