"""`pcap-analyzer logs`: Zeek-shaped logs whose field names and types are Zeek's own, one row per
transaction, with Zeek's TSV header and escaping, the same bytes on every run."""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from analyzer.cli import main
from analyzer.report.zeek import LOG_TABLE, STREAMED_LOGS, log_fields, write_logs
from analyzer.report.zeek.tsv import tsv_value
from tests.oracle import (
    REPO,
    SAMPLES,
    analyze_json,
    needs_tshark,
    sample_files,
    tshark_count,
    tshark_frame_count,
)

_ID = {"id.orig_h": "addr", "id.orig_p": "port", "id.resp_h": "addr", "id.resp_p": "port"}

ZEEK_SCHEMAS: dict[str, dict[str, str]] = {
    # scripts/base/protocols/conn/main.zeek, type Conn::Info (conn_id from scripts/base/init-bare.zeek)
    "conn": {"ts": "time", "uid": "string", **_ID, "proto": "enum", "service": "string"}
    | {"duration": "interval", "orig_bytes": "count", "resp_bytes": "count", "conn_state": "string"}
    | {"local_orig": "bool", "local_resp": "bool", "missed_bytes": "count", "history": "string"}
    | {"orig_pkts": "count", "orig_ip_bytes": "count", "resp_pkts": "count", "resp_ip_bytes": "count"}
    | {"tunnel_parents": "set[string]", "ip_proto": "count"},
    # scripts/base/protocols/dns/main.zeek, type DNS::Info
    "dns": {"ts": "time", "uid": "string", **_ID, "proto": "enum", "trans_id": "count", "rtt": "interval"}
    | {"query": "string", "qclass": "count", "qclass_name": "string", "qtype": "count"}
    | {"qtype_name": "string", "rcode": "count", "rcode_name": "string", "AA": "bool", "TC": "bool"}
    | {"RD": "bool", "RA": "bool", "Z": "count", "answers": "vector[string]", "TTLs": "vector[interval]"}
    | {"rejected": "bool", "opcode": "count", "opcode_name": "string"},
    # scripts/base/protocols/dhcp/main.zeek, type DHCP::Info
    "dhcp": {"ts": "time", "uids": "set[string]", "client_addr": "addr", "server_addr": "addr"}
    | {"mac": "string", "host_name": "string", "client_fqdn": "string", "domain": "string"}
    | {"requested_addr": "addr", "assigned_addr": "addr", "lease_time": "interval"}
    | {"client_message": "string", "server_message": "string", "msg_types": "vector[string]"}
    | {"duration": "interval"},
    # scripts/base/protocols/ssl/main.zeek, type SSL::Info (+ cert_chain_fps, client_cert_chain_fps,
    # sni_matches_cert from scripts/base/protocols/ssl/files.zeek)
    "ssl": {"ts": "time", "uid": "string", **_ID, "version": "string", "cipher": "string"}
    | {"curve": "string", "server_name": "string", "resumed": "bool", "last_alert": "string"}
    | {"next_protocol": "string", "established": "bool", "ssl_history": "string"}
    | {"cert_chain_fps": "vector[string]", "client_cert_chain_fps": "vector[string]"}
    | {"sni_matches_cert": "bool"},
    # scripts/base/files/x509/main.zeek, type X509::Info (X509::Certificate, SubjectAlternativeName and
    # BasicConstraints from scripts/base/init-bare.zeek)
    "x509": {"ts": "time", "fingerprint": "string", "certificate.version": "count"}
    | {"certificate.serial": "string", "certificate.subject": "string", "certificate.issuer": "string"}
    | {"certificate.not_valid_before": "time", "certificate.not_valid_after": "time"}
    | {"certificate.key_alg": "string", "certificate.sig_alg": "string", "certificate.key_type": "string"}
    | {"certificate.key_length": "count", "certificate.exponent": "string", "certificate.curve": "string"}
    | {"san.dns": "vector[string]", "san.uri": "vector[string]", "san.email": "vector[string]"}
    | {"san.ip": "vector[addr]", "basic_constraints.ca": "bool", "basic_constraints.path_len": "count"}
    | {"host_cert": "bool", "client_cert": "bool"},
    # scripts/base/protocols/http/main.zeek, type HTTP::Info (+ orig_fuids ... resp_mime_types from
    # scripts/base/protocols/http/entities.zeek)
    "http": {"ts": "time", "uid": "string", **_ID, "trans_depth": "count", "method": "string"}
    | {"host": "string", "uri": "string", "referrer": "string", "version": "string"}
    | {"user_agent": "string", "origin": "string", "request_body_len": "count"}
    | {"response_body_len": "count", "status_code": "count", "status_msg": "string"}
    | {"info_code": "count", "info_msg": "string", "tags": "set[enum]", "username": "string"}
    | {"password": "string", "proxied": "set[string]", "orig_fuids": "vector[string]"}
    | {"orig_filenames": "vector[string]", "orig_mime_types": "vector[string]"}
    | {
        "resp_fuids": "vector[string]",
        "resp_filenames": "vector[string]",
        "resp_mime_types": "vector[string]",
    },
    # scripts/base/protocols/ftp/info.zeek, type FTP::Info (FTP::ExpectedDataChannel logged inline)
    "ftp": {"ts": "time", "uid": "string", **_ID, "user": "string", "password": "string"}
    | {"command": "string", "arg": "string", "mime_type": "string", "file_size": "count"}
    | {"reply_code": "count", "reply_msg": "string", "data_channel.passive": "bool"}
    | {"data_channel.orig_h": "addr", "data_channel.resp_h": "addr", "data_channel.resp_p": "port"}
    | {"fuid": "string"},
    # scripts/base/protocols/smtp/main.zeek, type SMTP::Info (+ fuids from smtp/files.zeek)
    "smtp": {"ts": "time", "uid": "string", **_ID, "trans_depth": "count", "helo": "string"}
    | {"mailfrom": "string", "rcptto": "set[string]", "date": "string", "from": "string"}
    | {"to": "set[string]", "cc": "set[string]", "reply_to": "string", "msg_id": "string"}
    | {"in_reply_to": "string", "subject": "string", "x_originating_ip": "addr"}
    | {"first_received": "string", "second_received": "string", "last_reply": "string"}
    | {"path": "vector[addr]", "user_agent": "string", "tls": "bool", "fuids": "vector[string]"},
    # scripts/base/protocols/smb/main.zeek, type SMB::FileInfo (SMB::MACTimes inline)
    "smb_files": {"ts": "time", "uid": "string", **_ID, "fuid": "string", "action": "enum"}
    | {"path": "string", "name": "string", "size": "count", "prev_name": "string"}
    | {"times.modified": "time", "times.accessed": "time", "times.created": "time", "times.changed": "time"},
    # scripts/base/protocols/smb/main.zeek, type SMB::TreeInfo
    "smb_mapping": {"ts": "time", "uid": "string", **_ID, "path": "string", "service": "string"}
    | {"native_file_system": "string", "share_type": "string"},
    # scripts/base/frameworks/notice/main.zeek, type Notice::Info
    "notice": {"ts": "time", "uid": "string", **_ID, "fuid": "string", "file_mime_type": "string"}
    | {"file_desc": "string", "proto": "enum", "note": "enum", "msg": "string", "sub": "string"}
    | {"src": "addr", "dst": "addr", "p": "port", "n": "count", "peer_descr": "string"}
    | {"actions": "set[enum]", "email_dest": "set[string]", "suppress_for": "interval"},
    # scripts/base/frameworks/notice/weird.zeek, type Weird::Info
    "weird": {"ts": "time", "uid": "string", **_ID, "name": "string", "addl": "string"}
    | {"notice": "bool", "peer": "string", "source": "string"},
}
"""Zeek's documented log schemas (field -> Zeek type), read from github.com/zeek/zeek at commit
a13de64fbbdb01f90961c04719b308fbbb6d199e, the `&log` fields of each script's `type Info: record`."""
PACKAGE_FIELDS: dict[str, dict[str, str]] = {
    "ssl": {"ja3": "string", "ja3s": "string", "ja4": "string", "ja4s": "string"},
}
"""Fields Zeek packages add to a log (ja3/ja3s: salesforce/ja3 ja3.zeek, ja3s.zeek; ja4/ja4s:
FoxIO-LLC/ja4 zeek/ja4/main.zeek, zeek/ja4s/main.zeek): allowed beside Zeek's own."""
MUST_HAVE: dict[str, set[str]] = {
    "conn": {"ts", "uid", *_ID, "proto", "service", "duration", "conn_state", "history"},
    "dns": {"ts", "uid", *_ID, "trans_id", "rtt", "query", "qtype", "qtype_name", "rcode", "rcode_name"}
    | {"AA", "TC", "RD", "RA", "answers", "TTLs", "rejected", "qclass_name"},
    "dhcp": {"uids", "client_addr", "server_addr", "mac", "host_name", "requested_addr", "assigned_addr"}
    | {"lease_time", "msg_types", "duration"},
    "ssl": {"version", "ssl_history", "ja3", "ja4", "server_name", "established"},
    "x509": {"fingerprint", "certificate.subject", "certificate.not_valid_after", "san.dns"},
    "http": {"trans_depth", "method", "host", "uri", "status_code"},
    "ftp": {"user", "command", "arg", "reply_code"},
    "smtp": {"helo", "mailfrom", "rcptto", "subject", "tls"},
    "smb_files": {"action", "path", "name"},
    "smb_mapping": {"path", "share_type"},
    "notice": {"ts", "note", "msg", "sub", "n"},
    "weird": {"ts", "uid", "name", "addl"},
}
"""Fields each of our logs must have (the ones the issue names, and what tools such as RITA read)."""
TIME = re.compile(r"^-?\d+\.\d{6}$")
COUNT = re.compile(r"^\d+$")


def _scalar_ok(cell: str, kind: str) -> bool:
    if kind in ("time", "interval"):
        return bool(TIME.match(cell))
    if kind in ("count", "port"):
        return bool(COUNT.match(cell))
    if kind == "bool":
        return cell in ("T", "F")
    if kind == "addr":
        try:
            ipaddress.ip_address(cell)
        except ValueError:
            return False
        return True
    return "\t" not in cell and "\n" not in cell


def cell_ok(cell: str, kind: str) -> bool:
    """A TSV cell is unset, empty or a well-formed value of its Zeek type."""
    if cell == "-":
        return True
    for prefix in ("set[", "vector["):
        if kind.startswith(prefix):
            if cell == "(empty)":
                return True
            return all(_scalar_ok(part, kind[len(prefix) : -1]) for part in cell.split(","))
    if cell == "(empty)":
        return kind in ("string", "enum")
    return _scalar_ok(cell, kind)


def read_tsv(path: Path) -> tuple[dict[str, str], list[str], list[str], list[list[str]]]:
    """(header fields, #fields, #types, rows) of a Zeek TSV log, as zeek-cut reads it."""
    header: dict[str, str] = {}
    names: list[str] = []
    types: list[str] = []
    rows: list[list[str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#separator "):
            header["separator"] = line.split(" ", 1)[1]
        elif line.startswith("#"):
            key, _, value = line[1:].partition("\t")
            if key == "fields":
                names = value.split("\t")
            elif key == "types":
                types = value.split("\t")
            else:
                header[key] = value
        else:
            rows.append(line.split("\t"))
    return header, names, types, rows


@pytest.fixture(scope="module")
def mixed_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("logs")
    write_logs([str(SAMPLES / "mixed.pcap")], str(out))
    return out


def test_declared_fields_are_zeeks() -> None:
    for name in [*STREAMED_LOGS, *LOG_TABLE]:
        zeek = ZEEK_SCHEMAS[name] | PACKAGE_FIELDS.get(name, {})
        fields = dict(log_fields(name))
        assert len(fields) == len(log_fields(name)), f"{name}: a field twice"
        assert {f: t for f, t in fields.items() if zeek.get(f) != t} == {}, name
        assert MUST_HAVE[name] <= set(fields), (name, MUST_HAVE[name] - set(fields))


@pytest.mark.parametrize("name", sample_files())
def test_every_sample_writes_zeek_typed_tsv(name: str, tmp_path: Path) -> None:
    result = write_logs([str(SAMPLES / name)], str(tmp_path))
    assert set(result.rows) == set(ZEEK_SCHEMAS)
    for log in ZEEK_SCHEMAS:
        header, names, types, rows = read_tsv(tmp_path / f"{log}.log")
        assert header["separator"] == "\\x09" and header["path"] == log
        assert header["set_separator"] == "," and header["unset_field"] == "-"
        assert header["empty_field"] == "(empty)"
        assert re.match(r"^\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d$", header["open"]), header
        assert re.match(r"^\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d$", header["close"]), header
        zeek = ZEEK_SCHEMAS[log] | PACKAGE_FIELDS.get(log, {})
        assert [zeek[n] for n in names] == types, log
        assert len(rows) == result.rows[log]
        for row in rows:
            assert len(row) == len(names), (log, row)
            bad = [(n, c, t) for n, c, t in zip(names, row, types, strict=True) if not cell_ok(c, t)]
            assert bad == [], (log, bad)


JSON_TYPES: dict[str, tuple[type, ...]] = {
    "time": (float, int),
    "interval": (float, int),
    "count": (int,),
    "port": (int,),
    "bool": (bool,),
    "addr": (str,),
    "string": (str,),
    "enum": (str,),
}


def test_json_logs_keep_one_type_per_field(tmp_path: Path) -> None:
    write_logs([str(SAMPLES / "mixed.pcap")], str(tmp_path), "json")
    for log in ZEEK_SCHEMAS:
        types = dict(log_fields(log))
        for line in (tmp_path / f"{log}.log").read_text().splitlines():
            row: dict[str, Any] = json.loads(line)
            assert set(row) <= set(types)
            for key, value in row.items():
                kind = types[key]
                inner = kind[kind.index("[") + 1 : -1] if "[" in kind else None
                if inner is None:
                    assert type(value) in JSON_TYPES[kind], (log, key, value)
                else:
                    assert isinstance(value, list), (log, key, value)
                    assert all(type(v) in JSON_TYPES[inner] for v in value), (log, key, value)


def test_one_row_per_transaction(mixed_logs: Path) -> None:
    data = analyze_json(str(SAMPLES / "mixed.pcap"))
    rows = {log: read_tsv(mixed_logs / f"{log}.log")[3] for log in ZEEK_SCHEMAS}
    assert len(rows["conn"]) == data["flows"]["count"]
    assert len(rows["http"]) == data["http"]["request_count"]
    dns_total = sum(
        data[s]["transactions"]["answered"] + data[s]["transactions"]["unanswered"]
        for s in ("dns", "mdns", "llmnr")
    )
    assert len(rows["dns"]) == dns_total
    assert len(rows["ssl"]) == data["tls"]["handshake_count"]
    assert len(rows["x509"]) == data["tls"]["certificate_count"]
    assert len(rows["notice"]) == len(data["findings"])
    assert len(rows["weird"]) == len(data["weird"])
    assert len(rows["smtp"]) == len(data["smtp"]["sessions"])
    # http: one row per request/response pair, not three per exchange
    uids = [(r[1], r[6]) for r in rows["http"]]
    assert len(uids) == len(set(uids))


def test_dns_rows_have_zeek_names(mixed_logs: Path) -> None:
    _, names, _, rows = read_tsv(mixed_logs / "dns.log")
    by_query = {
        (r[names.index("query")], r[names.index("qtype_name")]): dict(zip(names, r, strict=True))
        for r in rows
    }
    www = by_query["www.example.com", "A"]
    assert www["qtype_name"] == "A" and www["rcode_name"] == "NOERROR" and www["answers"] == "203.0.113.10"
    assert TIME.match(www["rtt"]) and www["proto"] == "udp"
    assert by_query["nosuch.example.com", "A"]["rcode_name"] == "NXDOMAIN"


def test_dhcp_rows_are_lease_exchanges(mixed_logs: Path) -> None:
    _, names, _, rows = read_tsv(mixed_logs / "dhcp.log")
    exchanges = [dict(zip(names, r, strict=True)) for r in rows]
    first = exchanges[0]
    assert first["msg_types"] == "DISCOVER,OFFER,REQUEST,ACK"
    assert first["assigned_addr"] == "192.0.2.101" and first["lease_time"] == "3600.000000"
    assert first["mac"] == "00:00:5e:00:53:a1" and first["host_name"] == "laptop-a"
    assert any(e["msg_types"] == "REQUEST,ACK" for e in exchanges)  # the renewal is its own row


def test_ssl_versions_and_history(mixed_logs: Path) -> None:
    _, names, _, rows = read_tsv(mixed_logs / "ssl.log")
    versions = {r[names.index("version")] for r in rows}
    assert versions == {"TLSv12", "TLSv13", "-"}
    assert "CsxknGIiL" in {r[names.index("ssl_history")] for r in rows}


def test_ftp_password_never_written(mixed_logs: Path) -> None:
    text = (mixed_logs / "ftp.log").read_text()
    assert "<hidden>" in text
    _, names, _, rows = read_tsv(mixed_logs / "ftp.log")
    assert {r[names.index("password")] for r in rows} <= {"<hidden>", "-"}


def test_same_bytes_every_run(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    write_logs([str(SAMPLES / "mixed.pcap")], str(a))
    write_logs([str(SAMPLES / "mixed.pcap")], str(b))
    for log in ZEEK_SCHEMAS:
        assert (a / f"{log}.log").read_bytes() == (b / f"{log}.log").read_bytes()
    header = read_tsv(a / "conn.log")[0]
    assert header["open"] == "2024-03-01-10-00-00" and header["close"] == "2024-03-01-19-00-02"


def test_tsv_escaping_as_zeek() -> None:
    assert tsv_value("a\tb", "string") == "a\\x09b"
    assert tsv_value("a\\b", "string") == "a\\x5cb"
    assert tsv_value("-", "string") == "\\x2d"
    assert tsv_value("(empty)", "string").startswith("\\x28")
    assert tsv_value("", "string") == "(empty)"
    assert tsv_value(None, "count") == "-"
    assert tsv_value([], "set[string]") == "(empty)"
    assert tsv_value(["a,b", "c"], "vector[string]") == "a\\x2cb,c"
    assert tsv_value("a,b", "string") == "a,b"
    assert tsv_value("x\x1b[31m", "string") == "x\\x1b[31m"
    assert tsv_value(True, "bool") == "T"
    assert tsv_value(1.5, "interval") == "1.500000"


def test_cli_logs_command(tmp_path: Path) -> None:
    out = tmp_path / "logs"
    result = CliRunner().invoke(main, ["logs", str(SAMPLES / "dns.pcap"), "-d", str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    lines = (out / "dns.log").read_text().splitlines()
    assert lines and all(json.loads(line)["uid"].startswith("C") for line in lines)
    bad = CliRunner().invoke(main, ["logs", str(tmp_path / "missing.pcap"), "-d", str(out)])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    blocked = tmp_path / "file"
    blocked.write_text("x")
    nowhere = CliRunner().invoke(main, ["logs", str(SAMPLES / "dns.pcap"), "-d", str(blocked / "sub")])
    assert nowhere.exit_code == 2 and nowhere.stderr.startswith("pcap-analyzer: --directory ")
    assert nowhere.stderr.count("\n") == 1  # one line, before any work


@needs_tshark
def test_rows_match_tshark_counts(mixed_logs: Path) -> None:
    path = str(SAMPLES / "mixed.pcap")
    assert len(read_tsv(mixed_logs / "http.log")[3]) == tshark_frame_count(path, "http.request && !icmp")
    assert len(read_tsv(mixed_logs / "ssl.log")[3]) == tshark_frame_count(path, "tls.handshake.type == 1")
    _, names, _, rows = read_tsv(mixed_logs / "dns.log")
    answered = [r for r in rows if r[names.index("rcode")] != "-"]
    # one row per DNS message answered (tshark: one dns.flags.response per message, two in one segment)
    responses = tshark_count(path, "dns && !icmp && !icmpv6", "dns.flags.response")["1"]
    assert len(answered) == responses


def test_every_log_is_documented() -> None:
    text = (REPO / "docs" / "logs.md").read_text()
    assert [log for log in ZEEK_SCHEMAS if f"| `{log}.log` |" not in text] == []
