"""The broad classifier: every flow of sample_pcaps/services.pcap named with the expected service and
`service_how`; strong signatures that stay silent on random bytes; the port tables and signature table
consistent with each other; the classifier's port-first rule for TCP and UDP."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analyzer import registry
from analyzer.classify import KNOWN_SERVICES, classify, classify_datagram, port_only
from analyzer.pipeline import Pipeline
from analyzer.ports import TCP_SERVICES, UDP_SERVICES, port_service
from analyzer.signatures import SIGNATURES, STRONG_TCP, STRONG_UDP, rtp_pair
from analyzer.trackers.conn import ConnRecord
from tests.oracle import SAMPLES

SERVICES_PCAP = SAMPLES / "services.pcap"

EXPECTED: dict[tuple[str, int], tuple[str | None, str | None]] = {
    # standard ports: port and payload agree
    ("tcp", 22): ("ssh", "both"),
    ("tcp", 23): ("telnet", "both"),
    ("tcp", 139): ("smb", "both"),
    ("tcp", 3306): ("mysql", "both"),
    ("tcp", 5432): ("postgresql", "both"),
    ("tcp", 3389): ("rdp", "both"),
    ("tcp", 6379): ("redis", "both"),
    ("tcp", 27017): ("mongodb", "both"),
    ("tcp", 1883): ("mqtt", "both"),
    ("tcp", 5900): ("vnc", "both"),
    ("tcp", 6881): ("bittorrent", "both"),
    ("tcp", 6667): ("irc", "both"),
    ("tcp", 5222): ("xmpp", "both"),
    ("tcp", 1080): ("socks", "both"),
    ("tcp", 2049): ("nfs", "both"),
    ("tcp", 111): ("sunrpc", "both"),
    ("tcp", 135): ("dcerpc", "both"),
    ("tcp", 389): ("ldap", "both"),
    ("tcp", 88): ("kerberos", "both"),
    ("tcp", 554): ("rtsp", "both"),
    ("tcp", 179): ("bgp", "both"),
    ("tcp", 1723): ("pptp", "both"),
    ("tcp", 502): ("modbus", "both"),
    ("tcp", 5672): ("amqp", "both"),
    ("tcp", 873): ("rsync", "both"),
    ("tcp", 9418): ("git", "both"),
    ("tcp", 10051): ("zabbix", "both"),
    ("tcp", 119): ("nntp", "both"),
    ("tcp", 1099): ("java-rmi", "both"),
    ("tcp", 5060): ("sip", "both"),
    ("udp", 123): ("ntp", "both"),
    ("udp", 3478): ("stun", "both"),
    ("udp", 1900): ("ssdp", "both"),
    ("udp", 137): ("netbios-ns", "both"),
    ("udp", 161): ("snmp", "both"),
    ("udp", 514): ("syslog", "both"),
    ("udp", 5060): ("sip", "both"),
    ("udp", 443): ("quic", "both"),
    ("udp", 69): ("tftp", "both"),
    ("udp", 88): ("kerberos", "both"),
    ("udp", 389): ("ldap", "both"),
    ("udp", 6881): ("bittorrent", "both"),
    ("udp", 51820): ("wireguard", "both"),
    ("udp", 17500): ("dropbox", "both"),
    ("udp", 57621): ("spotify", "both"),
    ("udp", 53): ("dns", "both"),
    ("udp", 5353): ("mdns", "both"),
    ("udp", 5355): ("llmnr", "both"),
    # unusual ports: the payload alone names the flow
    ("tcp", 2222): ("ssh", "payload"),
    ("tcp", 2323): ("telnet", "payload"),
    ("tcp", 3307): ("mysql", "payload"),
    ("tcp", 5433): ("postgresql", "payload"),
    ("tcp", 3390): ("rdp", "payload"),
    ("tcp", 7000): ("redis", "payload"),
    ("tcp", 51413): ("bittorrent", "payload"),
    ("udp", 5349): ("stun", "payload"),
    ("udp", 1514): ("syslog", "payload"),
    ("udp", 16100): ("snmp", "payload"),
    ("udp", 5080): ("sip", "payload"),
    ("udp", 4444): ("dtls", "payload"),
    ("udp", 40392): ("rtcp", "payload"),
    ("udp", 40400): ("rtp", "payload"),  # two datagrams of one stream agree
    # a service port, no recognisable payload (or none at all): the port alone
    ("tcp", 5901): ("vnc", "port"),
    # nothing names these
    ("tcp", 45000): (None, None),
    ("udp", 45001): (None, None),
}
"""(transport, server port) of each flow in services.pcap -> (service, service_how)."""


def conn_records(path: str) -> list[ConnRecord]:
    records: list[ConnRecord] = []
    pipe = Pipeline(event_sink=lambda e: records.append(e) if isinstance(e, ConnRecord) else None)
    pipe.run_file(path)
    return records


@pytest.fixture(scope="module")
def services_flows() -> list[ConnRecord]:
    return conn_records(str(SERVICES_PCAP))


def test_every_sample_flow_named_as_expected(services_flows: list[ConnRecord]) -> None:
    got: dict[tuple[str, int], list[tuple[str | None, str | None]]] = {}
    for rec in services_flows:
        got.setdefault((rec.proto, rec.resp_p), []).append((rec.service, rec.service_how))
    ntp = got.pop(("udp", 123))
    assert sorted(ntp, key=str) == [("ntp", "both"), ("ntp", "port")]  # a real one and 10 stray bytes
    assert {k: v[0] for k, v in got.items()} == {k: v for k, v in EXPECTED.items() if k != ("udp", 123)}
    assert all(len(v) == 1 for v in got.values())


def test_sample_covers_forty_protocols(services_flows: list[ConnRecord]) -> None:
    names = {rec.service for rec in services_flows if rec.service}
    assert len(names) >= 40
    for must in ("ssh", "ntp", "quic", "stun", "ssdp", "netbios-ns", "ldap", "kerberos", "snmp", "sip"):
        assert must in names
    for must in ("rdp", "syslog", "mdns", "llmnr", "bittorrent", "smb", "telnet", "mysql", "postgresql"):
        assert must in names
    assert "mqtt" in names and "rtp" in names


def test_sample_summary_lists_the_unknown() -> None:
    pipe = Pipeline()
    pipe.run_file(str(SERVICES_PCAP))
    services: dict[str, Any] = pipe.summary().to_json()["services"]
    unknown = services["unknown"]
    assert unknown["flows"] == 2 and unknown["bytes"] == 128
    assert unknown["ports"] == [
        {"proto": "tcp", "port": 45000, "flows": 1, "bytes": 64},
        {"proto": "udp", "port": 45001, "flows": 1, "bytes": 64},
    ]
    assert services["ssh"]["by"] == {"port": 0, "payload": 1, "both": 1, "expected": 0}
    assert services["ntp"]["by"] == {"port": 1, "payload": 0, "both": 1, "expected": 0}


# -- the tables ------------------------------------------------------------------------------------------


def test_tables_are_consistent() -> None:
    assert registry.TCP_SERVICES is TCP_SERVICES and registry.UDP_SERVICES is UDP_SERVICES
    for sig in SIGNATURES:
        assert sig.transport in ("tcp", "udp", "any")
        if sig.transport in ("tcp", "any"):  # a TCP name a port can propose (tests/test_robustness.py)
            assert sig.name in TCP_SERVICES.values() or sig.transport == "any", sig.name
    # every service that has a dissector or parser is one a port proposes
    assert set(registry.STREAM_DISSECTORS) <= set(TCP_SERVICES.values())
    assert set(registry.DATAGRAM_PARSERS) <= set(UDP_SERVICES.values())
    assert len({s.name for s in SIGNATURES} | KNOWN_SERVICES) >= 40


def _random_payloads(n: int) -> list[bytes]:
    rng = random.Random(20240301)
    return [rng.randbytes(rng.choice((8, 20, 48, 64, 148, 300, 1200))) for _ in range(n)]


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_strong_signatures_stay_silent_on_random_bytes(transport: str) -> None:
    table = STRONG_TCP if transport == "tcp" else STRONG_UDP
    fired = [
        (name, data[:8].hex())
        for data in _random_payloads(20000)
        for name, test in table
        if test(data, True) or test(data, False)
    ]
    assert fired == []


@pytest.mark.parametrize(
    ("port_label", "payload", "expected"),
    [
        ("ntp", b"\x23" + bytes(47), ("ntp", "both")),
        ("ntp", b"junk", ("ntp", "port")),
        (None, b"\x23" + bytes(47), (None, None)),  # NTP's signature is weak: no name on odd ports
        ("dns", b"SSH-2.0-x", ("dns", "port")),  # UDP has no SSH signature
        (None, b"\x00\x01\x00\x00\x21\x12\xa4\x42" + bytes(12), ("stun", "payload")),
        ("dns", b"\x00\x01\x00\x00\x21\x12\xa4\x42" + bytes(12), ("stun", "payload")),
        (None, b"NOTIFY * HTTP/1.1\r\nHOST: x\r\n\r\n", ("ssdp", "payload")),
    ],
)
def test_classify_datagram(
    port_label: str | None, payload: bytes, expected: tuple[str | None, str | None]
) -> None:
    assert classify_datagram(port_label, payload, True) == expected


@pytest.mark.parametrize(
    ("port_label", "payload", "from_client", "expected"),
    [
        ("ssh", b"SSH-2.0-OpenSSH_9.6\r\n", True, ("ssh", "both")),
        (None, b"SSH-2.0-OpenSSH_9.6\r\n", False, ("ssh", "payload")),
        ("http", b"SSH-2.0-OpenSSH_9.6\r\n", False, ("ssh", "payload")),
        ("sip", b"OPTIONS sip:a@b SIP/2.0\r\n", True, ("sip", "both")),
        (None, b"OPTIONS sip:a@b SIP/2.0\r\n", True, ("sip", "payload")),  # SIP before HTTP
        (None, b"OPTIONS * HTTP/1.1\r\n", True, ("http", "payload")),
        (
            None,
            b"\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00\x03\x00\x00\x00",
            True,
            ("rdp", "payload"),
        ),
        (None, b"\x03\x00\x00\x09\x02\xf0\x80\x00\x00", True, (None, None)),  # TPKT alone is weak
        ("telnet", b"\xff\xfd\x18", False, ("telnet", "both")),
        (None, b"\xff\xfd\x18", False, (None, None)),  # one negotiation is too weak off port 23
        ("smtps", b"\x17\x03\x03\x00\x20", True, ("smtps", "both")),
        (None, b"\x17\x03\x03\x00\x20", True, (None, None)),  # a bare record header is weak
    ],
)
def test_classify_tcp(
    port_label: str | None, payload: bytes, from_client: bool, expected: tuple[str | None, str | None]
) -> None:
    assert classify(port_label, payload, from_client) == expected


def test_port_only() -> None:
    assert port_only("tcp", 50000, 22) == ("ssh", "port")
    assert port_only("udp", 123, 50000) == ("ntp", "port")
    assert port_only("udp", 50000, 50001) == (None, None)
    assert port_only("icmp", 0, 0) == (None, None)
    assert port_service("tcp", 50000, 443) == "tls" and port_service("udp", 50000, 443) == "quic"


@given(st.sampled_from([None, *sorted(KNOWN_SERVICES)]), st.binary(max_size=600), st.booleans())
def test_classifiers_never_raise(port_label: str | None, payload: bytes, from_client: bool) -> None:
    for fn in (classify, classify_datagram):
        service, how = fn(port_label, payload, from_client)
        assert (service is None) == (how is None)
        assert how in (None, "port", "payload", "both")
    assert rtp_pair(payload[:12], payload) in (True, False)
    assert port_only("udp", len(payload), 53) == ("dns", "port")


def test_rtp_needs_two_agreeing_datagrams() -> None:
    first = bytes.fromhex("806f03e800027100") + b"\x5e\xed\x5e\xed" + bytes(40)
    second = bytes.fromhex("806f03e9000271a0") + b"\x5e\xed\x5e\xed" + bytes(40)
    assert rtp_pair(first[:12], second)
    assert not rtp_pair(first[:12], second[:8] + b"\x00\x00\x00\x01" + second[12:])  # another SSRC
    assert not rtp_pair(second[:12], first)  # the sequence number went back
    payloads = [b"\x80\x6f" + p[2:] for p in _random_payloads(4000)]  # headers that pass alone
    assert not any(rtp_pair(a[:12], b) for a, b in itertools.pairwise(payloads))
