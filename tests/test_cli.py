"""The CLI through Click's CliRunner: formats, output file, and every bad-input case."""

from __future__ import annotations

import fcntl
import gzip
import json
import os
import pty
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from analyzer.capture import writer
from analyzer.cli import main
from analyzer.preflight import EXIT_USAGE, EXIT_WRITE_FAILED, output_width
from analyzer.summary import SCHEMA
from tests.oracle import require
from tests.wholeness import appears_whole, identifiers

PCAP_HEADER = writer.file_header(snaplen=65535)


def eth_udp_frame(payload: bytes = b"hello") -> bytes:
    udp = struct.pack("!HHHH", 40000, 9999, 8 + len(payload), 0) + payload
    ip = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])
    )
    return b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00" + ip + udp


def record(ts: int, frame: bytes) -> bytes:
    return writer.record(ts, 0, frame)


def write_pcap(path: Path, n: int) -> bytes:
    data = PCAP_HEADER + b"".join(record(1700000000 + i, eth_udp_frame()) for i in range(n))
    path.write_bytes(data)
    return data


def test_json_summary_core_keys(tmp_path: Path) -> None:
    pcap = tmp_path / "three.pcap"
    write_pcap(pcap, 3)
    result = CliRunner().invoke(main, ["analyze", str(pcap), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["schema"] == SCHEMA
    assert data["capture"]["packets"] == 3
    assert data["capture"]["link_types"] == {"EN10MB": 3}
    assert data["protocols"]["eth"] == 3 and data["protocols"]["ipv4"] == 3 and data["protocols"]["udp"] == 3
    assert data["flows"]["count"] == 1
    assert data["malformed"] == {}


def test_table_output_and_output_file(tmp_path: Path) -> None:
    pcap = tmp_path / "two.pcap"
    write_pcap(pcap, 2)
    out = tmp_path / "report.txt"
    result = CliRunner().invoke(main, ["analyze", str(pcap), "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "Protocol hierarchy" in text and "udp" in text and "192.0.2.1:40000" in text


def test_gzip_and_stdin(tmp_path: Path) -> None:
    raw = write_pcap(tmp_path / "x.pcap", 4)
    gz = tmp_path / "x.pcap.gz"
    gz.write_bytes(gzip.compress(raw))
    result = CliRunner().invoke(main, ["analyze", str(gz), "--format", "json"])
    assert json.loads(result.output)["capture"]["packets"] == 4
    result = CliRunner().invoke(main, ["analyze", "-", "--format", "json"], input=raw)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["capture"]["packets"] == 4


def test_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["analyze", str(tmp_path / "nope.pcap")])
    assert result.exit_code != 0
    assert "nope.pcap" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_directory(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["analyze", str(tmp_path)])
    assert result.exit_code != 0
    assert str(tmp_path) in result.stderr and "Traceback" not in result.stderr


def test_not_a_capture(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("this is not a capture\n")
    result = CliRunner().invoke(main, ["analyze", str(bad)])
    assert result.exit_code != 0
    assert "notes.txt" in result.stderr and "not a pcap" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_truncated_capture_reports_good_packets_and_offset(tmp_path: Path) -> None:
    full = write_pcap(tmp_path / "full.pcap", 5)
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(full[:-10])  # the fifth record loses its last 10 bytes
    result = CliRunner().invoke(main, ["analyze", str(cut), "--format", "json"])
    assert result.exit_code != 0
    data = json.loads(result.stdout)
    assert data["capture"]["packets"] == 4
    line = result.stderr.strip()
    assert "cut.pcap" in line and "truncated" in line and len(line.splitlines()) == 1
    offset = 24 + 4 * (16 + len(eth_udp_frame()))
    assert data["capture"]["files"][0]["error_offset"] == offset  # where the cut record starts
    assert str(offset) in line


def test_help_and_module_entry_point() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0 and "analyze" in result.output


# -- nothing cut: identifiers whole in a pipe and on an 80-column terminal ------------------------------

REPO = Path(__file__).resolve().parent.parent
MIXED = REPO / "sample_pcaps" / "mixed.pcap"
MIXED_NG = REPO / "sample_pcaps" / "mixed.pcapng"


def run_cli(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "analyzer", *args], capture_output=True, cwd=REPO, **kwargs)


def test_piped_table_cuts_no_identifier(tmp_path: Path) -> None:
    data = json.loads(run_cli("analyze", str(MIXED), "--format", "json").stdout)
    with (tmp_path / "out.txt").open("wb") as fh:  # `analyze mixed.pcap > out.txt`
        subprocess.run(
            [sys.executable, "-m", "analyzer", "analyze", str(MIXED)], stdout=fh, check=True, cwd=REPO
        )
    text = (tmp_path / "out.txt").read_text(encoding="utf-8")
    assert "…" not in text
    wanted = identifiers(data)
    assert len(wanted) > 150  # distinct addresses, MACs and endpoints of every section
    missing = sorted(v for v in wanted if not appears_whole(v, text))
    assert not missing, missing[:10]
    assert max(len(line) for line in text.splitlines()) > 80  # no width limit on a pipe


def on_terminal(columns: int, *args: str) -> str:
    """The command's standard output when it is a terminal of `columns` columns (a pseudo-terminal)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {**os.environ, "COLUMNS": str(columns)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "analyzer", *args],
        stdout=follower,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
        env=env,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def test_terminal_at_80_columns_keeps_addresses_and_ports() -> None:
    data = json.loads(run_cli("analyze", str(MIXED), "--format", "json").stdout)
    text = on_terminal(80, "analyze", str(MIXED))
    assert "== Capture" in text and "…" not in text
    missing = sorted(v for v in identifiers(data) if not appears_whole(v, text))
    assert not missing, missing[:10]
    lines = text.splitlines()
    narrow = sum(len(line) <= 80 for line in lines)
    assert narrow / len(lines) > 0.97, [line for line in lines if len(line) > 80][:5]
    wide = on_terminal(80, "analyze", str(MIXED), "--wide", "--section", "icmp")
    assert max(len(line) for line in wide.splitlines()) > 80


def test_output_width_follows_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    assert output_width("out.txt", False) is None
    assert output_width(None, True) is None
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    assert output_width(None, False) is None


def test_top_states_the_total_and_what_was_left_out() -> None:
    result = CliRunner().invoke(main, ["analyze", str(MIXED), "--section", "flows", "--top", "5"])
    assert result.exit_code == 0, result.output
    assert "(103 flows) [top 5 of 103; --top 25 for all]" in result.output
    block = result.output.split("== Top conversations")[1].split("\n\n")[0]
    assert len([line for line in block.splitlines() if line.startswith(("tcp", "udp", "icmp"))]) == 5


def test_ipv6_endpoints_are_bracketed_in_every_format(tmp_path: Path) -> None:
    table = CliRunner().invoke(main, ["analyze", str(MIXED)]).output
    markdown = CliRunner().invoke(main, ["analyze", str(MIXED), "--format", "markdown"]).output
    markdown = markdown.replace("\\[", "[").replace("\\]", "]")  # as the Markdown renders
    CliRunner().invoke(main, ["analyze", str(MIXED), "--format", "csv", "-o", str(tmp_path / "csv")])
    csv_text = "\n".join(p.read_text() for p in sorted((tmp_path / "csv").iterdir()))
    for text in (table, markdown, csv_text):
        assert "[2001:db8:1::10]:51003" in text and "[2001:db8:2::20]:80" in text
        assert "2001:db8:2::20:80" not in text and "2001:db8:1::1:2 " not in text


# -- errors before work: one line, non-zero, within a second ----------------------------------------------

BIG = [str(MIXED)] * 60
"""Inputs that take seconds to analyse: a check that runs after the analysis would show in the time."""


@pytest.mark.parametrize(
    "args",
    [
        ["analyze", *BIG, "-o", "/nonexistent/x.txt"],
        ["analyze", *BIG, "--format", "json", "-o", "/nonexistent/dir/x.json"],
        ["report", *BIG, "-o", "/nonexistent/x.html"],
        ["events", *BIG, "-o", "/nonexistent/x.jsonl"],
        ["analyze", *BIG, "-o", "{tmp}"],
        ["analyze", *BIG, "--format", "csv", "-o", "{tmp}/existing_file"],
        ["analyze", *BIG, "--format", "csv", "-o", "/nonexistent/a/b"],
        ["live", "-i", "nosuch0", "-c", "1", "-o", "/nonexistent/x.txt"],
        ["live", "-i", "nosuch0", "-c", "1", "-w", "/nonexistent/x.pcap"],
        ["analyze", *BIG, "--section", "dnss"],
        ["analyze", *BIG, "--section", "dns", "--section", "tlsx"],
        ["report", *BIG, "--section", "dnsx", "-o", "{tmp}/r.html"],
        ["events", *BIG, "--path", "dnss"],
        ["analyze", *BIG, "--cluster", "tcp://127.0.0.1:1"],
        ["analyze", *BIG, "--cluster", "tcp://[::1"],
    ],
)
def test_bad_output_section_path_or_cluster_fail_fast(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "existing_file").write_text("keep me")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    start = time.monotonic()
    result = CliRunner().invoke(main, args)
    elapsed = time.monotonic() - start
    assert result.exit_code == EXIT_USAGE, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pcap-analyzer: "), result.stderr
    assert "Traceback" not in result.output and result.stdout == ""
    assert elapsed < 1.0, elapsed
    assert (tmp_path / "existing_file").read_text() == "keep me"
    assert not Path("/nonexistent").exists()


def test_unknown_section_lists_the_valid_ones() -> None:
    result = CliRunner().invoke(main, ["analyze", str(MIXED), "--section", "dns,nosuch"])
    assert result.exit_code == EXIT_USAGE
    line = result.stderr.strip()
    assert line.startswith("pcap-analyzer: no such section: nosuch (sections: ")
    assert "capture, " in line and "flows, " in line
    assert "dns" in line and "dhcp" in line and "smb" in line
    result = CliRunner().invoke(main, ["events", str(MIXED), "--path", "conn,nosuch"])
    assert result.exit_code == EXIT_USAGE and "conn, dhcp" in result.stderr and "nosuch" in result.stderr


def test_write_failure_after_the_analysis_is_one_line() -> None:
    for args in (["analyze", str(MIXED), "-o", "/dev/full"], ["events", str(MIXED), "-o", "/dev/full"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == EXIT_WRITE_FAILED, result.output
        assert result.stderr.strip().splitlines() == [result.stderr.strip()]
        assert "cannot write /dev/full" in result.stderr and "Traceback" not in result.output


def test_every_help_has_an_example() -> None:
    for command in [None, *main.commands]:
        args = [command, "--help"] if command else ["--help"]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, command
        assert "Example" in result.output and "pcap-analyzer " in result.output.split("Example")[1], command


# -- the capture block against capinfos ---------------------------------------------------------------


def test_gzip_file_size_is_the_compressed_size_as_capinfos_says(tmp_path: Path) -> None:
    gz = tmp_path / "mixed.pcap.gz"
    gz.write_bytes(gzip.compress(MIXED.read_bytes()))
    theirs = capinfos(gz)
    data = json.loads(run_cli("analyze", str(gz), "--format", "json").stdout)["capture"]["files"][0]
    assert data["file_size"] == gz.stat().st_size == leading_number(theirs["File size"])
    assert data["bytes"] == leading_number(theirs["Data size"])


def capinfos(path: Path) -> dict[str, str]:
    require("capinfos")
    out = subprocess.run(
        ["capinfos", "-M", str(path)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TZ": "UTC"},
    ).stdout
    facts = {}
    for line in out.splitlines():
        key, sep, value = line.partition(":")
        if sep and not line.startswith(" "):
            facts[key.strip()] = value.strip()
    facts["interfaces"] = str(out.count("Interface #"))
    return facts


def leading_number(text: str) -> float:
    return float(text.split()[0].replace(",", ""))


@pytest.mark.parametrize("path", [MIXED, MIXED_NG])
def test_capture_block_agrees_with_capinfos(path: Path) -> None:
    theirs = capinfos(path)
    data = json.loads(run_cli("analyze", str(path), "--format", "json").stdout)
    ours = data["capture"]["files"][0]
    assert ours["packets"] == int(theirs["Number of packets"])
    assert ours["file_size"] == leading_number(theirs["File size"])
    assert ours["bytes"] == leading_number(theirs["Data size"])
    assert len(ours["interfaces"]) == int(theirs["Number of interfaces in file"]) == int(theirs["interfaces"])
    assert f"{ours['duration']:.6f}" == f"{leading_number(theirs['Capture duration']):.6f}"
    assert f"{ours['data_rate']:.2f}" == f"{leading_number(theirs['Data byte rate']):.2f}"
    assert f"{ours['bit_rate']:.2f}" == f"{leading_number(theirs['Data bit rate']):.2f}"
    assert f"{ours['avg_packet_size']:.2f}" == f"{leading_number(theirs['Average packet size']):.2f}"
    assert f"{ours['packet_rate']:.2f}" == f"{leading_number(theirs['Average packet rate']):.2f}"
    limit = theirs["Packet size limit"]
    if "(not set)" not in limit:  # pcap: the file header's snaplen; pcapng: per interface
        assert ours["snaplen"] == leading_number(limit.split(":")[-1])
    text = CliRunner().invoke(main, ["analyze", str(path), "--section", "capture"]).output
    assert "Capture (times in UTC)" in text
    assert f"first packet (UTC)   {theirs['First packet time']}" in text
    assert f"last packet (UTC)    {theirs['Last packet time']}" in text
    assert f"average packet size  {theirs['Average packet size'].replace(' bytes', '')} bytes" in text
    assert "duration             9 h 0 min 2 s (32402.003140 s)" in text
    assert f"snap length          {ours['snaplen']} bytes" in text and "file size" in text


def test_reader_closing_the_pipe_is_not_an_error() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "analyzer", "analyze", str(MIXED), str(MIXED_NG), "--top", "1000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
        bufsize=0,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(10).startswith(b"== ")  # `... | head -c 10`
    proc.stdout.close()
    assert proc.wait(timeout=60) == 0
    assert b"Traceback" not in proc.stderr.read()
