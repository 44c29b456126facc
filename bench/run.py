"""The benchmark, run on demand (never as a timed test).

Builds the benchmark captures if missing, then measures in one run, on the same files:
`pcap-analyzer analyze FILE --format json` against `tshark -q -z io,phs -r FILE`, wall time and peak
resident memory (as /usr/bin/time -v reports it), packets per second, the ratios, the pcapng/pcap
time ratio and start-up time. Prints a Markdown block; `--append-docs` appends it to
docs/performance.md with the date and the machine.

    python bench/run.py [--packets 1000000] [--append-docs]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"


def measure(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one command, from GNU time."""
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", proc.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    assert wall and rss, proc.stderr
    hours = float(wall.group(1) or 0)
    seconds = hours * 3600 + float(wall.group(2)) * 60 + float(wall.group(3))
    return seconds, int(rss.group(1)) / 1024


def build(packets: int, pcapng: bool) -> Path:
    suffix = "pcapng" if pcapng else "pcap"
    path = OUT / f"bench-{packets}.{suffix}"
    if not path.exists():
        cmd = [
            sys.executable,
            str(REPO / "bench" / "make_capture.py"),
            "--packets",
            str(packets),
            "--out",
            str(path),
        ]
        subprocess.run([*cmd, *(["--pcapng"] if pcapng else [])], check=True)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--append-docs", action="store_true")
    args = ap.parse_args()
    analyzer = shutil.which("pcap-analyzer") or "pcap-analyzer"
    pcap, pcapng = build(args.packets, False), build(args.packets, True)
    ours = ["pcap-analyzer", "analyze", "--format", "json", "-o", os.devnull]
    rows = []
    t_ours, m_ours = measure([analyzer, *ours[1:], str(pcap)])
    t_ng, m_ng = measure([analyzer, *ours[1:], str(pcapng)])
    t_tshark, m_tshark = measure(["tshark", "-q", "-z", "io,phs", "-r", str(pcap)])
    t_help, _ = measure([analyzer, "--help"])
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one.pcap"
        subprocess.run(
            [sys.executable, str(REPO / "bench" / "make_capture.py"), "--packets", "1", "--out", str(one)],
            check=True, capture_output=True,
        )  # fmt: skip
        t_one, _ = measure([analyzer, "analyze", str(one), "--format", "json", "-o", os.devnull])
    n = args.packets
    rows.append(("pcap-analyzer analyze (pcap)", t_ours, n / t_ours, m_ours))
    rows.append(("pcap-analyzer analyze (pcapng)", t_ng, n / t_ng, m_ng))
    rows.append(("tshark -q -z io,phs (pcap)", t_tshark, n / t_tshark, m_tshark))
    lines = [
        f"### {dt.date.today().isoformat()} — {platform.node()}, {os.cpu_count()} cores,"
        f" Python {platform.python_version()}",
        "",
        f"File: {n:,} packets, {pcap.stat().st_size / 1e6:.0f} MB (`python bench/run.py --packets {n}`).",
        "",
        "| run | seconds | packets/s | peak RSS MB |",
        "|---|---:|---:|---:|",
        *[f"| {name} | {t:.2f} | {pps:,.0f} | {m:.0f} |" for name, t, pps, m in rows],
        "",
        f"- speed-up over tshark: **{t_tshark / t_ours:.1f}×** (target ≥ 5×)",
        f"- pcapng / pcap time: **{t_ng / t_ours:.2f}** (target ≤ 1.15)",
        f"- start-up: `--help` {t_help:.2f} s, one-packet file {t_one:.2f} s (target < 0.3 s)",
        f"- peak memory: {max(m_ours, m_ng):.0f} MB (target < 250 MB)",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.append_docs:
        with open(REPO / "docs" / "performance.md", "a", encoding="utf-8") as fh:
            fh.write("\n" + text)


if __name__ == "__main__":
    main()
