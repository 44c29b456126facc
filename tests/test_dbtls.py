"""MySQL and PostgreSQL switching to TLS: the preface readers, the hand-over to the TLS dissector, the
payload signatures, the real captures (tls-edge/) against tshark, and fuzzing.

Messages are built byte by byte after the MySQL client/server protocol (HandshakeV10, SSLRequest
packet) and the PostgreSQL frontend/backend protocol 3 (SSLRequest, StartupMessage).
"""

from __future__ import annotations

import struct
from typing import Any

import pytest
from hypothesis import given, settings

from analyzer import registry
from analyzer.classify import classify
from analyzer.dissectors.base import TlsUpgrade
from analyzer.dissectors.dbtls import (
    MAX_PREFACE_BYTES,
    MysqlDissector,
    PostgresqlDissector,
)
from analyzer.dissectors.tls import TlsClientHello, TlsHandshake, TlsServerHello
from analyzer.errors import Malformed
from analyzer.signatures import is_mysql, is_postgresql
from tests.oracle import SHARED_PCAPS, analyze_json, needs_shared, needs_tshark, tshark_frame_count
from tests.streamkit import (
    FUZZ_GAPS,
    bytewise,
    client_hello,
    flow_of,
    fuzz_chunks,
    fuzz_feed,
    of,
    server_hello,
    tcp_frame,
    whole,
)

CLIENT, SERVER = bytes([192, 0, 2, 10]), bytes([192, 0, 2, 46])
TS = 1_700_000_000.0


def flow(port: int) -> Any:
    return flow_of(tcp_frame(CLIENT, SERVER, 50000, port, 1000, 0, 0x02, b""), TS)


def mysql_packet(seq: int, payload: bytes) -> bytes:
    return len(payload).to_bytes(3, "little") + bytes([seq]) + payload


GREETING = mysql_packet(
    0,
    b"\x0a8.0.28\x00"
    + struct.pack("<I", 7)
    + b"12345678\x00"
    + struct.pack("<H", 0xFFFF)
    + b"\xff"
    + struct.pack("<HH", 2, 0xDFFF)
    + bytes([21])
    + bytes(10)
    + b"abcdefghijkl\x00caching_sha2_password\x00",
)
SSL_REQUEST = mysql_packet(1, struct.pack("<IIB", 0x01AFAA05, 1 << 24, 0xFF) + bytes(23))
SSL_REQUEST_320 = mysql_packet(1, struct.pack("<H", 0x0A05) + b"\x00\x00\x01")
LOGIN = mysql_packet(1, struct.pack("<IIB", 0x01AFA205, 1 << 24, 0xFF) + bytes(23) + b"root\x00\x00")
PG_SSL = bytes.fromhex("0000000804d2162f")
PG_STARTUP = struct.pack("!II", 8 + 21, 196608) + b"user\x00app\x00database\x00a\x00\x00"
HELLO, REPLY = client_hello("db.example.com"), server_hello()

MYSQL_TLS = [(False, GREETING), (True, SSL_REQUEST), (True, HELLO), (False, REPLY)]
PG_TLS = [(True, PG_SSL), (False, b"S"), (True, HELLO), (False, REPLY)]


def run(d: Any, script: list[tuple[bool, bytes]], cut: Any = whole) -> list[Any]:
    events: list[Any] = []
    for i, (from_client, data) in enumerate(script):
        for piece in cut(data):
            events += d.feed(piece, from_client, TS + i)
    return events + d.close(TS + len(script))


@pytest.mark.parametrize("cut", [whole, bytewise], ids=["whole", "bytewise"])
@pytest.mark.parametrize(
    "factory,port,script,protocol,command",
    [
        (MysqlDissector, 3306, MYSQL_TLS, "mysql", "SSL Request"),
        (PostgresqlDissector, 5432, PG_TLS, "postgresql", "SSLRequest"),
    ],
    ids=["mysql", "postgresql"],
)
def test_upgrade_hands_the_stream_to_tls(
    factory: Any, port: int, script: list[tuple[bool, bytes]], protocol: str, command: str, cut: Any
) -> None:
    f = flow(port)
    events = run(factory(f), script, cut)
    (up,) = of(events, TlsUpgrade)
    assert (up.protocol, up.command, up.uid) == (protocol, command, f.uid)
    (hello,) = of(events, TlsClientHello)
    assert hello.server_name == "db.example.com" and hello.resp_p == port
    assert len(of(events, TlsServerHello)) == 1
    (rec,) = of(events, TlsHandshake)
    assert rec.history == "Cs" and f.service == protocol


def test_request_and_hello_in_one_segment_with_trailing_data() -> None:
    """The client's SSL request and ClientHello in one segment; 'S' and the server's first record too."""
    events = run(MysqlDissector(flow(3306)), [(False, GREETING), (True, SSL_REQUEST + HELLO), (False, REPLY)])
    assert len(of(events, TlsClientHello)) == 1 and len(of(events, TlsServerHello)) == 1
    events = run(PostgresqlDissector(flow(5432)), [(True, PG_SSL + HELLO), (False, b"S" + REPLY)])
    assert len(of(events, TlsClientHello)) == 1 and len(of(events, TlsServerHello)) == 1
    assert len(of(events, TlsUpgrade)) == 1


def test_old_protocol_ssl_request_upgrades() -> None:
    script = [(False, GREETING), (True, SSL_REQUEST_320), (True, HELLO)]
    assert len(of(run(MysqlDissector(flow(3306)), script), TlsClientHello)) == 1


@pytest.mark.parametrize(
    "factory,script",
    [
        (MysqlDissector, [(False, GREETING), (True, LOGIN), (True, HELLO)]),  # login in clear text
        (MysqlDissector, [(False, mysql_packet(0, b"\xff\x6a\x04Host is blocked"))]),  # ERR instead
        (MysqlDissector, [(True, SSL_REQUEST), (True, HELLO)]),  # the client spoke first
        (PostgresqlDissector, [(True, PG_SSL), (False, b"N"), (True, PG_STARTUP), (True, HELLO)]),
        (PostgresqlDissector, [(True, PG_STARTUP), (False, b"R\x00\x00\x00\x08\x00\x00\x00\x00")]),
        (PostgresqlDissector, [(False, b"S"), (True, HELLO)]),  # an answer nobody asked for
    ],
    ids=["mysql-login", "mysql-err", "mysql-client-first", "pg-refused", "pg-startup", "pg-unasked"],
)
def test_clear_text_sessions_are_skipped(factory: Any, script: list[tuple[bool, bytes]]) -> None:
    d = factory(flow(3306))
    events = run(d, script)
    assert events == []
    assert d._client == bytearray() and d._server == bytearray()  # nothing is kept


def test_a_gap_in_the_preface_gives_up_quietly() -> None:
    d = PostgresqlDissector(flow(5432))
    assert d.feed(PG_SSL[:4], True, TS) == []
    assert d.gap(4, True, TS) == []
    assert run(d, [(False, b"S"), (True, HELLO)]) == []


def test_gap_after_the_upgrade_reaches_tls() -> None:
    d = MysqlDissector(flow(3306))
    assert d.feed(GREETING, False, TS) == []
    assert len(of(d.feed(SSL_REQUEST, True, TS), TlsUpgrade)) == 1
    assert d.feed(HELLO[:20], True, TS) == []
    events = d.gap(len(HELLO) - 20, True, TS) + d.close(TS + 1)
    (hello,) = of(events, TlsClientHello)  # reported from what it holds
    assert hello.truncated


@pytest.mark.parametrize(
    "data,reason",
    [
        (mysql_packet(0, b"\x09old server\x00"), "mysql.bad_greeting"),
        (b"\xff\xff\xff\x00\x0a", "mysql.bad_length"),
        (b"HTTP/1.1 200 OK\r\n\r\n", "mysql.bad_length"),
    ],
)
def test_not_a_mysql_greeting_is_malformed(data: bytes, reason: str) -> None:
    with pytest.raises(Malformed) as exc:
        MysqlDissector(flow(3306)).feed(data, False, TS)
    assert exc.value.reason == reason


def test_preface_is_bounded() -> None:
    d = PostgresqlDissector(flow(5432))
    d.feed(PG_SSL, True, TS)
    with pytest.raises(Malformed) as exc:
        d.feed(b"x" * (MAX_PREFACE_BYTES + 1), True, TS)
    assert exc.value.reason == "postgresql.preface_too_long"


# -- payload signatures and the registry ----------------------------------------------------------------


def test_signatures() -> None:
    """The classifier's signatures (analyzer/signatures.py) recognise what these dissectors read;
    direction is not trusted there (a capture may miss a flow's first packet)."""
    assert is_postgresql(PG_SSL, True) and is_postgresql(PG_STARTUP, True)
    assert is_postgresql(bytes.fromhex("0000000804d21630"), True)  # GSSENCRequest
    assert is_postgresql(PG_SSL, False)
    assert not is_postgresql(struct.pack("!II", 29, 196608) + b"x" * 21, True)  # no user
    assert not is_postgresql(HELLO, True)
    assert is_mysql(GREETING, False) and is_mysql(GREETING, True)
    assert not is_mysql(mysql_packet(0, b"\x0aX\x01\x02"), False)
    assert not is_mysql(LOGIN, False)
    assert not is_mysql(b"SSH-2.0-OpenSSH\r\n", False)


def test_registry_and_classifier() -> None:
    assert registry.TCP_SERVICES[3306] == "mysql" and registry.TCP_SERVICES[5432] == "postgresql"
    assert registry.STREAM_DISSECTORS["mysql"] is MysqlDissector
    assert registry.STREAM_DISSECTORS["postgresql"] is PostgresqlDissector
    assert classify(None, PG_SSL, True) == ("postgresql", "payload")  # e.g. PostgreSQL on 15432
    assert classify("mysql", GREETING, False) == ("mysql", "both")
    assert classify(None, GREETING, False) == ("mysql", "payload")


# -- fuzz --------------------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(fuzz_chunks([GREETING, SSL_REQUEST, LOGIN, PG_SSL, b"S", b"N", PG_STARTUP, HELLO, REPLY]), FUZZ_GAPS)
def test_fuzz_only_malformed_escapes(chunks: list[tuple[bool, bytes]], gaps: list[int]) -> None:
    for factory in (MysqlDissector, PostgresqlDissector):
        fuzz_feed(factory(flow(3306)), chunks, dict(enumerate(gaps)), TS)


# -- real captures ---------------------------------------------------------------------------------------

EDGE = SHARED_PCAPS / "tls-edge"
CAPTURES = {
    "zeek-tls-12-amazon-rds.pcap": ("mysql", 3306),
    "suricata-pgsql-upgrade-tls-input.pcap": ("postgresql", 5432),
    "zeek-psql-aws-ssl-require-15432.pcap": ("postgresql", 15432),
}


@needs_shared
@needs_tshark
@pytest.mark.parametrize("name", sorted(CAPTURES))
def test_real_upgrades_agree_with_tshark(name: str) -> None:
    path = str(EDGE / name)
    ours = analyze_json(path)
    protocol, port = CAPTURES[name]
    assert [(u["protocol"], u["id.resp_p"]) for u in ours["upgrades"]] == [(protocol, port)]
    assert ours["tls"]["client_hello"] == tshark_frame_count(path, "tls.handshake.type == 1") == 1
    assert ours["tls"]["server_hello"] == tshark_frame_count(path, "tls.handshake.type == 2") == 1
    assert ours["services"][protocol]["flows"] >= 1
