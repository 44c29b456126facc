"""`pcap-analyzer events`: JSON lines, one per event, with _path and Zeek field names, streamed."""

from __future__ import annotations

import dataclasses
import importlib
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from analyzer.cli import main
from analyzer.report.jsonl import (
    HIDDEN,
    JsonLinesWriter,
    declared,
    default_path,
    event_path,
    event_record,
    write_events,
)
from analyzer.trackers.conn import ConnRecord
from tests.oracle import SAMPLES

MIXED = SAMPLES / "mixed.pcap"
PATHS = {"conn", "dns", "dhcp", "icmp", "ndp", "tls", "x509", "http", "smtp", "pop3", "imap", "ftp", "smb"}
SAMPLE_PASSWORDS = ("hunter2", "wrong-password", "s3cret")
"""Passwords sent in the sample captures (sample_pcaps/make_samples.py): never in the output."""


def lines_of(*args: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(main, ["events", *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture(scope="module")
def mixed_events() -> list[dict[str, Any]]:
    return lines_of(str(MIXED))


EXPECTED_PATHS: dict[str, str] = {
    "analyzer.trackers.conn.ConnRecord": "conn",
    "analyzer.pipeline.Weird": "weird",
    "analyzer.dissectors.base.ExpectedConnection": "expected_conn",
    "analyzer.dissectors.dns.DnsMessageEvent": "dns",
    "analyzer.dissectors.dns.DnsWeird": "weird",
    "analyzer.dissectors.dhcp.DhcpMessage": "dhcp",
    "analyzer.dissectors.dhcp.Dhcpv6Message": "dhcpv6",
    "analyzer.dissectors.icmp.IcmpMessage": "icmp",
    "analyzer.dissectors.icmp.IcmpError": "icmp",
    "analyzer.dissectors.icmp.IcmpEcho": "icmp",
    "analyzer.dissectors.ndp.NdpMessage": "ndp",
    "analyzer.dissectors.tls.TlsClientHello": "tls",
    "analyzer.dissectors.tls.TlsServerHello": "tls",
    "analyzer.dissectors.tls.TlsAlert": "tls",
    "analyzer.dissectors.tls.TlsHandshake": "tls",
    "analyzer.dissectors.x509.X509Record": "x509",
    "analyzer.dissectors.http.HttpRequest": "http",
    "analyzer.dissectors.http.HttpTransaction": "http",
    "analyzer.dissectors.smtp.SmtpCommand": "smtp",
    "analyzer.dissectors.pop3.Pop3Command": "pop3",
    "analyzer.dissectors.imap.ImapCommand": "imap",
    "analyzer.dissectors.ftp.FtpCommand": "ftp",
    "analyzer.dissectors.ftp.FtpDataRecord": "ftp",
    "analyzer.dissectors.smb.SmbCommand": "smb",
    "analyzer.dissectors.smb.SmbWeird": "weird",
    "analyzer.dissectors.smb.SmbFileRecord": "smb",
}
"""Event class -> the `_path` it must get (what the old EVENT_PATHS registry said; now each class
declares it with log_path(), or takes its protocol module's name)."""


def _class(key: str) -> type:
    module, _, name = key.rpartition(".")
    cls: type = getattr(importlib.import_module(module), name)
    return cls


def test_every_event_class_declares_its_path() -> None:
    for key, path in EXPECTED_PATHS.items():
        cls = _class(key)
        assert dataclasses.is_dataclass(cls), key
        declared_path = declared(cls, "log_path") or default_path(cls)
        assert declared_path == path, key
        assert "log_path" not in {f.name for f in dataclasses.fields(cls)}  # a static method, not a field


def test_shared_events_name_their_path_by_a_field() -> None:
    from analyzer.dissectors.base import TlsUpgrade
    from analyzer.dissectors.textproto import MailGap

    for cls in (TlsUpgrade, MailGap):
        via = declared(cls, "log_path_field")
        assert via in {f.name for f in dataclasses.fields(cls)}, cls


def test_default_path_follows_the_protocol_package() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Hello:
        ts: float

    Hello.__module__ = "analyzer.dissectors.tls.handshake"
    assert default_path(Hello) == "tls"
    assert event_path(Hello(1.0)) == "tls"


def test_jsonl_option_is_a_deprecated_no_op() -> None:
    result = CliRunner().invoke(main, ["events", str(SAMPLES / "dns.pcap"), "--jsonl"])
    assert result.exit_code == 0
    assert "--jsonl is deprecated" in result.stderr
    plain = CliRunner().invoke(main, ["events", str(SAMPLES / "dns.pcap")])
    assert result.stdout == plain.stdout
    assert "--jsonl" not in CliRunner().invoke(main, ["events", "--help"]).output


def test_every_kind_of_the_mixed_sample(mixed_events: list[dict[str, Any]]) -> None:
    kinds = Counter(e["_path"] for e in mixed_events)
    assert set(kinds) >= PATHS, PATHS - set(kinds)
    assert all(isinstance(e["ts"], float | int) for e in mixed_events)
    assert all("_type" in e for e in mixed_events)


def test_zeek_field_names(mixed_events: list[dict[str, Any]]) -> None:
    conn = [e for e in mixed_events if e["_path"] == "conn"]
    assert {"ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "conn_state"} <= set(
        conn[0]
    )
    assert (
        len(conn)
        == json.loads(CliRunner().invoke(main, ["analyze", str(MIXED), "--format", "json"]).stdout)["flows"][
            "count"
        ]
    )
    http = next(e for e in mixed_events if e["_type"] == "HttpTransaction")
    assert http["id.resp_p"] in (80, 8080) and http["uid"].startswith("C")
    dns = next(e for e in mixed_events if e["_path"] == "dns")
    assert "id.orig_h" in dns and "message" in dns


def test_flat_keys_replace_every_dot() -> None:
    events = lines_of(str(MIXED), "--flat-keys")

    def keys(v: Any) -> list[str]:
        if isinstance(v, dict):
            return [*v, *(k for x in v.values() for k in keys(x))]
        if isinstance(v, list):
            return [k for x in v for k in keys(x)]
        return []

    assert all("." not in k for e in events for k in keys(e))
    conn = next(e for e in events if e["_path"] == "conn")
    assert "id_orig_h" in conn and "id.orig_h" not in conn


def test_path_filter() -> None:
    events = lines_of(str(MIXED), "--path", "dns,weird")
    assert events and {e["_path"] for e in events} <= {"dns", "weird"}


def test_passwords_never_written(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    result = CliRunner().invoke(
        main, ["events", str(SAMPLES / "mail.pcap"), str(SAMPLES / "ftp.pcap"), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "PASS" in text and "USER" in text  # the commands are there ...
    for secret in SAMPLE_PASSWORDS:
        assert secret not in text  # ... their arguments are not


def test_secret_fields_are_hidden_whatever_the_dissector_did() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Login:
        ts: float
        uid: str
        user: str
        password: str | None
        password_sent: bool

    rec = event_record(Login(1.0, "Cx", "bob", "hunter2", True))
    assert rec["password"] == HIDDEN and rec["password_sent"] is True and rec["user"] == "bob"
    assert event_record(Login(1.0, "Cx", "bob", None, False))["password"] is None


def test_unknown_event_class_gets_its_module_name() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Thing:
        ts: float

    Thing.__module__ = "analyzer.dissectors.quic"
    assert event_path(Thing(1.0)) == "quic"
    assert event_record(Thing(1.0)) == {"_path": "quic", "_type": "Thing", "ts": 1.0}


def test_weird_fields_use_zeek_names() -> None:
    from analyzer.pipeline import Weird

    rec = event_record(Weird(2.5, None, "dns.name_loop", "at 12"))
    assert rec == {
        "_path": "weird",
        "_type": "Weird",
        "ts": 2.5,
        "uid": None,
        "name": "dns.name_loop",
        "addl": "at 12",
    }


def test_events_are_written_as_they_come() -> None:
    """The lines of the first file are out before the second file is read: nothing is collected."""
    out = io.StringIO()
    seen_at_end_of_file: list[int] = []
    writer = write_events(
        [str(SAMPLES / "dns.pcap"), str(SAMPLES / "icmp.pcap")],
        out,
        on_file=lambda stats: seen_at_end_of_file.append(out.getvalue().count("\n")),
    )
    assert 0 < seen_at_end_of_file[0] < seen_at_end_of_file[1] == writer.written


def test_writer_counts_and_filters() -> None:
    out = io.StringIO()
    writer = JsonLinesWriter(out, paths=["conn"])
    rec = ConnRecord(1.0, "C1", "a", 1, "b", 2, "udp", None, None, 0.0, 0, 0, "S0", 0, "", 1, 28, 0, 0)
    writer(rec)
    writer(object())
    assert writer.written == 1 and json.loads(out.getvalue())["id.resp_p"] == 2


def test_unreadable_input_exits_2_after_the_rest(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"not a capture at all")
    result = CliRunner().invoke(main, ["events", str(SAMPLES / "ndp.pcap"), str(bad)])
    assert result.exit_code == 2
    assert '"_path":"ndp"' in result.stdout and "pcap-analyzer:" in result.stderr
