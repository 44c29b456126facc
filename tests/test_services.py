"""Hybrid classification summed up: services by how they were recognised, port/payload mismatches,
TLS upgrades; and the classifier's preference for the port's own protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from analyzer.classify import classify
from analyzer.dissectors.base import TlsUpgrade
from analyzer.report.sections.services import services_tables
from analyzer.report.terminal import render
from analyzer.trackers.conn import ConnRecord
from analyzer.trackers.services import (
    MAX_MISMATCHES,
    MAX_UNKNOWN_PORTS,
    UNKNOWN_PORTS_LISTED,
    ServicesTracker,
)
from tests.oracle import SAMPLES, SHARED_PCAPS, analyze_json, needs_shared, needs_tshark, tshark_fields
from tests.streamkit import client_hello
from tests.test_ftp import CLIENT, SERVER, Capture, ftp_capture


def conn(
    uid: str, resp_p: int, service: str | None, how: str | None, proto: str = "tcp", **kw: Any
) -> ConnRecord:
    fields: dict[str, Any] = {
        "ts": 1.0,
        "uid": uid,
        "orig_h": CLIENT,
        "orig_p": 50000,
        "resp_h": SERVER,
        "resp_p": resp_p,
        "proto": proto,
        "service": service,
        "service_how": how,
        "duration": 0.0,
        "orig_bytes": 10,
        "resp_bytes": 20,
        "conn_state": "SF",
        "missed_bytes": 0,
        "history": "ShADadFf",
        "orig_pkts": 1,
        "orig_ip_bytes": 50,
        "resp_pkts": 1,
        "resp_ip_bytes": 60,
    }
    fields.update(kw)
    return ConnRecord(**fields)


def test_services_and_mismatches_from_records() -> None:
    t = ServicesTracker()
    for rec in [
        conn("C1", 21, "ftp", "both"),
        conn("C2", 2121, "ftp", "payload"),
        conn("C3", 443, "http", "payload"),
        conn("C4", 50000, "ftp-data", "expected", parent_uid="C1"),
        conn("C5", 53, "dns", "port", proto="udp"),
        conn("C6", 9999, None, None),
    ]:
        t.handle(rec)
    out = t.finish()
    assert out["services"]["ftp"] == {
        "flows": 2,
        "bytes": 60,
        "by": {"port": 0, "payload": 1, "both": 1, "expected": 0},
    }
    assert out["services"]["ftp-data"]["by"]["expected"] == 1
    assert out["services"]["dns"]["by"]["port"] == 1
    assert set(out["services"]) == {"ftp", "http", "ftp-data", "dns", "unknown"}
    assert out["services"]["unknown"] == {
        "flows": 1,
        "bytes": 30,
        "by": {},
        "ports": [{"proto": "tcp", "port": 9999, "flows": 1, "bytes": 30}],
    }
    assert [(m["uid"], m["service"], m["port_service"], m["kind"]) for m in out["mismatches"]] == [
        ("C2", "ftp", None, "unusual_port"),
        ("C3", "http", "tls", "port_mismatch"),
    ]
    assert out["mismatches"][0]["id.resp_p"] == 2121


def test_mismatch_list_is_bounded_but_counts_are_not() -> None:
    t = ServicesTracker()
    for i in range(MAX_MISMATCHES + 5):
        t.handle(conn(f"C{i}", 2121, "ftp", "payload"))
    out = t.finish()
    assert len(out["mismatches"]) == MAX_MISMATCHES
    assert out["services"]["ftp"]["by"]["payload"] == MAX_MISMATCHES + 5


def test_upgrades_get_their_endpoints() -> None:
    t = ServicesTracker()
    t.handle(TlsUpgrade(2.0, "C1", "ftp", "AUTH TLS"))
    t.handle(conn("C1", 21, "ftp", "both"))
    (up,) = t.finish()["upgrades"]
    assert (up["protocol"], up["command"], up["id.resp_p"], up["id.orig_h"]) == (
        "ftp",
        "AUTH TLS",
        21,
        CLIENT,
    )


def test_nothing_seen_no_sections() -> None:
    t = ServicesTracker()
    t.handle(conn("C1", 0, None, None, proto="icmp"))
    assert t.finish() == {}


def test_unknown_ports_are_bounded_and_ranked() -> None:
    t = ServicesTracker()
    for i in range(MAX_UNKNOWN_PORTS + 10):
        t.handle(conn(f"C{i}", 10000 + i, None, None, proto="udp"))
    t.handle(conn("X", 10001, None, None, proto="udp"))
    unknown = t.finish()["services"]["unknown"]
    assert unknown["flows"] == MAX_UNKNOWN_PORTS + 11
    assert unknown["ports"][0] == {"proto": "udp", "port": -1, "flows": 10, "bytes": 300}
    assert unknown["ports"][1] == {"proto": "udp", "port": 10001, "flows": 2, "bytes": 60}
    assert len(unknown["ports"]) == UNKNOWN_PORTS_LISTED
    text = render({"services": {"unknown": unknown}}, ["services"])
    assert "10001" in text and "no port or payload named" in text


# -- the classifier ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("port", "payload", "from_client", "expected"),
    [
        ("ftp", b"220 ProFTPD Server (mail.example.com)\r\n", False, ("ftp", "both")),
        (None, b"220 ProFTPD Server (mail.example.com)\r\n", False, ("ftp", "payload")),
        ("smtp", b"220 ftp.example.com ESMTP Postfix\r\n", False, ("smtp", "both")),
        (None, b"220 ftp.example.com ESMTP Postfix\r\n", False, ("smtp", "payload")),
        ("smtp", b"220 mail.example.com ready\r\n", False, ("smtp", "both")),
        ("tls", b"GET / HTTP/1.1\r\n", True, ("http", "payload")),
        ("smb", b"\x00\x00\x00\x40\xfeSMB", True, ("smb", "both")),
        (None, b"\x00\x00\x00\x40\xfeSMB", True, ("smb", "payload")),
        ("ftp", b"USER bob\r\n", True, ("ftp", "port")),
    ],
)
def test_classify(port: str | None, payload: bytes, from_client: bool, expected: tuple[str, str]) -> None:
    assert classify(port, payload, from_client) == expected


# -- through the pipeline ---------------------------------------------------------------------------


def test_ftp_on_2121_is_a_mismatch(tmp_path: Path) -> None:
    summary = analyze_json(str(ftp_capture(tmp_path, server_port=2121)))
    (m,) = summary["mismatches"]
    assert (m["service"], m["id.resp_p"], m["port_service"], m["kind"]) == ("ftp", 2121, None, "unusual_port")
    assert summary["services"]["ftp"]["by"] == {"port": 0, "payload": 1, "both": 0, "expected": 0}
    text = render(summary, ["services"])
    assert "known protocol on a non-standard port" in text and "2121" in text


def test_standard_port_carrying_something_else(tmp_path: Path) -> None:
    cap = Capture()
    c = cap.connect(CLIENT, 50123, SERVER, 443)
    c.send(True, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    c.send(False, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    c.close()
    summary = analyze_json(str(cap.write(tmp_path / "http443.pcap")))
    (m,) = summary["mismatches"]
    assert (m["service"], m["port_service"], m["kind"]) == ("http", "tls", "port_mismatch")


def test_auth_tls_upgrade_listed(tmp_path: Path) -> None:
    cap = Capture()
    c = cap.connect(CLIENT, 50200, SERVER, 21)
    c.send(False, b"220 FTP ready\r\n")
    c.send(True, b"AUTH TLS\r\n")
    c.send(False, b"234 Go ahead\r\n")
    c.send(True, client_hello("secure.example"))
    c.close()
    summary = analyze_json(str(cap.write(tmp_path / "authtls.pcap")))
    (up,) = summary["upgrades"]
    assert (up["protocol"], up["command"], up["id.resp_p"]) == ("ftp", "AUTH TLS", 21)
    assert summary["tls"]["client_hello"] == 1
    assert "AUTH TLS" in render(summary, ["services"])


@needs_tshark
def test_samples_services() -> None:
    s = analyze_json(str(SAMPLES / "mixed.pcap"))["services"]
    assert s["ftp"]["by"]["both"] == 1 and s["ftp-data"]["by"]["expected"] == 3
    # tshark: the SMB flows' TCP payload (no SMB segment is retransmitted in the sample)
    smb_filter = "tcp.port==445 || tcp.port==139"
    smb = tshark_fields(str(SAMPLES / "mixed.pcap"), smb_filter, ("tcp.len", "tcp.stream"))
    assert len({stream for _, stream in smb}) == 3
    assert s["smb"] == {
        "flows": 3,
        "bytes": sum(int(length) for length, _ in smb),
        "by": {"port": 0, "payload": 0, "both": 3, "expected": 0},
    }
    assert all(set(v) == {"flows", "bytes", "by"} for k, v in s.items() if k != "unknown")


@needs_shared
def test_get_to_ssh_port_is_a_port_mismatch() -> None:
    summary = analyze_json(str(SHARED_PCAPS / "nanosecond/zeek-get-to-ssh-server.pcap"))
    (m,) = summary["mismatches"]
    assert (m["service"], m["id.resp_p"], m["port_service"], m["kind"]) == (
        "http",
        22,
        "ssh",
        "port_mismatch",
    )


def test_terminal_tables_escape() -> None:
    summary = {
        "services": {"x\x1b[2J": {"flows": 1, "bytes": 2, "by": {"port": 1}}},
        "mismatches": [],
        "upgrades": [{"ts": 1.0, "uid": "C", "protocol": "smtp", "command": "STARTTLS\x1b"}],
    }
    text = "\n".join(str(r) for t in services_tables(summary) for r in t.rows)
    assert "\x1b" not in text and "\\e[2J" in text
