"""The CLI through Click's CliRunner: formats, output file, and every bad-input case."""

from __future__ import annotations

import gzip
import json
import struct
from pathlib import Path

from click.testing import CliRunner

from analyzer.capture import writer
from analyzer.cli import main
from analyzer.summary import SCHEMA

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
