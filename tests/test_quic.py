"""QUIC: Initial packet protection on the RFC 9001 / RFC 9369 test vectors, CRYPTO reassembly, the
per-flow dissector, and our `quic` section against tshark's decrypted QUIC hellos on the sample
capture and on the shared real captures."""

from __future__ import annotations

import contextlib
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from analyzer.dissectors import quic_crypto as qc
from analyzer.dissectors.quic import (
    MAX_CONNECTIONS_PER_FLOW,
    MAX_CRYPTO_BYTES,
    CryptoStream,
    QuicClientHello,
    QuicConnection,
    QuicDissector,
    QuicPackets,
    QuicServerHello,
    QuicWeird,
    initial_frames,
    looks_like_quic,
    parse_long_header,
    quic_ja4,
    read_varint,
    unprotect,
    version_name,
)
from analyzer.dissectors.tls import parse_client_hello
from analyzer.errors import Malformed
from tests import quic_vectors as vec
from tests.oracle import SAMPLES, SHARED_PCAPS, analyze_json, needs_shared, needs_tshark, truth, tshark_fields
from tests.streamkit import flow_of

QUIC_SAMPLE = SAMPLES / "quic.pcap"
HELLO_FILTER = "quic && tls.handshake.type == 1 && !icmp && !icmpv6"


def _dissector() -> QuicDissector:
    """A dissector on a real UDP flow 192.0.2.10:50000 -> 203.0.113.1:443, labelled by its port."""
    frame = Ether(src="00:00:5e:00:53:10", dst="00:00:5e:00:53:01") / IP(src="192.0.2.10", dst="203.0.113.1")
    flow = flow_of(bytes(frame / UDP(sport=50000, dport=443) / Raw(b"q")), 1.0)
    flow.service, flow.service_how = "quic", "port"
    return QuicDissector(flow)


def _of(events: list[Any], kind: type) -> list[Any]:
    return [e for e in events if type(e) is kind]


# -- RFC test vectors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "server", "expected"),
    [
        (qc.QUIC_V1, False, vec.V1_CLIENT_KEYS),
        (qc.QUIC_V1, True, vec.V1_SERVER_KEYS),
        (qc.QUIC_V2, False, vec.V2_CLIENT_KEYS),
        (qc.QUIC_V2, True, vec.V2_SERVER_KEYS),
    ],
)
def test_initial_keys_match_the_rfc(version: int, server: bool, expected: tuple[str, str, str]) -> None:
    keys = qc.initial_keys(version, vec.DCID, server)
    assert (keys.key.hex(), keys.iv.hex(), keys.hp.hex()) == expected


@pytest.mark.parametrize(
    ("packet", "version", "kind_bits"),
    [(vec.V1_CLIENT_INITIAL, qc.QUIC_V1, 0), (vec.V2_CLIENT_INITIAL, qc.QUIC_V2, 1)],
)
def test_rfc_client_initial_opens_to_the_clienthello(packet: bytes, version: int, kind_bits: int) -> None:
    hdr = parse_long_header(packet, 0)
    assert (hdr.kind, hdr.version, hdr.dcid, hdr.end) == ("initial", version, vec.DCID, 1200)
    assert (packet[0] >> 4) & 3 == kind_bits  # v2 remaps the Initial type bits
    pn, plain = unprotect(packet, hdr, qc.initial_keys(version, vec.DCID, False), -1)
    assert pn == vec.CLIENT_PACKET_NUMBER
    assert plain == vec.CLIENT_PLAIN_PAYLOAD
    ((offset, data),) = initial_frames(plain)
    assert offset == 0 and data[0] == 1  # one CRYPTO frame holding a ClientHello
    hello = parse_client_hello(data[4:])
    assert hello.server_name == "example.com"
    assert hello.alpn == (b"alpn",)
    assert quic_ja4(hello).startswith("q13d0211an_")  # 2 ciphers, 11 extensions, ALPN a..n


@pytest.mark.parametrize(
    ("packet", "version"), [(vec.V1_SERVER_INITIAL, qc.QUIC_V1), (vec.V2_SERVER_INITIAL, qc.QUIC_V2)]
)
def test_rfc_server_initial_opens_with_keys_from_the_client_dcid(packet: bytes, version: int) -> None:
    hdr = parse_long_header(packet, 0)
    assert hdr.dcid == b"" and hdr.scid == bytes.fromhex("f067a5502a4262b5")
    pn, plain = unprotect(packet, hdr, qc.initial_keys(version, vec.DCID, True), -1)
    assert (pn, plain) == (vec.SERVER_PACKET_NUMBER, vec.SERVER_PLAIN_PAYLOAD)
    with pytest.raises(Malformed, match=r"quic\.decrypt_failed"):
        unprotect(packet, hdr, qc.initial_keys(version, vec.DCID, False), -1)  # wrong side's keys


def test_rfc_exchange_through_the_dissector() -> None:
    d = _dissector()
    events = d.feed(vec.V1_CLIENT_INITIAL, True, 1.0)
    (hello,) = _of(events, QuicClientHello)
    assert (hello.server_name, hello.alpn, hello.version) == ("example.com", ("alpn",), "v1")
    assert hello.client_initial_dcid == vec.DCID.hex()
    # the server's Initial goes to the client's (empty) SCID: the connection is found by it
    (sh,) = _of(d.feed(vec.V1_SERVER_INITIAL, False, 1.1), QuicServerHello)
    assert (sh.cipher, sh.cipher_name, sh.tls_version) == (0x1301, "TLS_AES_128_GCM_SHA256", 0x0304)
    assert sh.ja4s.startswith("q130200_1301_")  # QUIC, TLS 1.3, 2 extensions, no ALPN; cipher
    closed = d.close(2.0)
    (conn,) = _of(closed, QuicConnection)
    assert (conn.server_name, conn.cipher, conn.history, conn.server_scid) == (
        "example.com",
        "TLS_AES_128_GCM_SHA256",
        "Ii",
        "f067a5502a4262b5",
    )
    (packets,) = _of(closed, QuicPackets)
    assert dict(packets.by_type) == {"initial": 2} and packets.decrypted_initials == 2


def test_a_retransmitted_initial_does_not_count_a_second_hello() -> None:
    d = _dissector()
    assert len(_of(d.feed(vec.V1_CLIENT_INITIAL, True, 1.0), QuicClientHello)) == 1
    again = d.feed(vec.V1_CLIENT_INITIAL, True, 1.5)
    assert _of(again, QuicClientHello) == [] and _of(again, QuicWeird) == []


def test_coalesced_packets_are_all_read() -> None:
    d = _dissector()
    d.feed(vec.V1_CLIENT_INITIAL, True, 1.0)
    # a server datagram: its Initial, then a Handshake packet, then a short-header packet
    handshake = bytes([0xE1]) + b"\x00\x00\x00\x01" + b"\x00" + b"\x08" + bytes(8) + b"\x40\x20" + bytes(32)
    short = bytes([0x41]) + bytes(30)
    events = d.feed(vec.V1_SERVER_INITIAL + handshake + short, False, 1.1)
    assert len(_of(events, QuicServerHello)) == 1
    (packets,) = _of(d.close(2.0), QuicPackets)
    assert dict(packets.by_type) == {"initial": 2, "handshake": 1, "1rtt": 1}


def test_a_corrupted_initial_is_a_weird_and_the_flow_goes_on() -> None:
    d = _dissector()
    bad = bytearray(vec.V1_CLIENT_INITIAL)
    bad[600] ^= 0xFF
    (weird,) = d.feed(bytes(bad), True, 1.0)
    assert isinstance(weird, QuicWeird) and weird.reason == "quic.decrypt_failed"
    assert len(_of(d.feed(vec.V1_CLIENT_INITIAL, True, 1.1), QuicClientHello)) == 1


# -- pieces -------------------------------------------------------------------------------------------


def test_varints_of_every_size() -> None:
    for raw, value in ((b"\x25", 37), (b"\x7b\xbd", 15293), (b"\x9d\x7f\x3e\x7d", 494878333)):
        assert read_varint(raw, 0, len(raw)) == (value, len(raw))
    raw = bytes.fromhex("c2197c5eff14e88c")
    assert read_varint(raw, 0, 8) == (151288809941952652, 8)
    with pytest.raises(Malformed):
        read_varint(raw, 0, 7)


def test_crypto_stream_puts_fragments_back_in_order() -> None:
    msg = b"\x01\x00\x00\x0a" + bytes(range(10))
    stream = CryptoStream()
    for offset, data in ((10, msg[10:]), (0, msg[:4]), (3, msg[3:7])):  # overlapping, out of order
        assert stream.add(offset, data) is None
    assert stream.take() == []  # bytes 7..9 still missing
    assert stream.add(7, msg[7:10]) is None
    assert stream.take() == [(1, bytes(range(10)))]
    assert stream.add(0, msg) is None and stream.take() == []  # retransmission: ignored
    assert stream.add(MAX_CRYPTO_BYTES, b"x") == "quic.crypto_overflow"


def test_version_names() -> None:
    assert [version_name(v) for v in (1, qc.QUIC_V2, 0xFF00001D, 0xFACEB002, 0x1A2A3A4A, 0x12345678)] == [
        "v1",
        "v2",
        "draft-29",
        "mvfst-27",
        "reserved",
        "0x12345678",
    ]


def test_payload_signature_wants_a_whole_client_initial() -> None:
    assert looks_like_quic(vec.V1_CLIENT_INITIAL) and looks_like_quic(vec.V2_CLIENT_INITIAL)
    assert not looks_like_quic(vec.V1_SERVER_INITIAL)  # a server Initial is no first datagram
    assert not looks_like_quic(vec.V1_CLIENT_INITIAL[:1199])
    assert not looks_like_quic(b"\xc0\x0a\x0b\x0c\x0d" + bytes(1300))  # unknown version


def _initial(dcid: bytes, plain: bytes = vec.CLIENT_PLAIN_PAYLOAD, pn: int = 0) -> bytes:
    """A v1 client Initial protected with the keys of `dcid` (2-byte packet number, empty SCID)."""
    keys = qc.initial_keys(qc.QUIC_V1, dcid, False)
    header = bytearray(b"\xc1\x00\x00\x00\x01" + bytes([len(dcid)]) + dcid + b"\x00\x00")
    header += (0x4000 | (2 + len(plain) + 16)).to_bytes(2, "big") + pn.to_bytes(2, "big")
    sealed = qc.seal_payload(keys, pn, bytes(header), plain)
    mask = qc.hp_mask(keys.hp, sealed[2:18])
    header[0] ^= mask[0] & 0x0F
    header[-2] ^= mask[1]
    header[-1] ^= mask[2]
    return bytes(header) + sealed


def test_connections_per_flow_are_bounded() -> None:
    d = _dissector()
    hellos = reasons = 0
    for i in range(MAX_CONNECTIONS_PER_FLOW + 5):
        for ev in d.feed(_initial(i.to_bytes(8, "big")), True, float(i)):
            hellos += isinstance(ev, QuicClientHello)
            reasons += isinstance(ev, QuicWeird) and ev.reason == "quic.too_many_connections"
    assert (hellos, reasons) == (MAX_CONNECTIONS_PER_FLOW, 5)
    assert len(_of(d.close(100.0), QuicConnection)) == MAX_CONNECTIONS_PER_FLOW


def test_a_hello_split_over_two_initials_counts_once_in_the_second() -> None:
    hello = vec.CLIENT_PLAIN_PAYLOAD[4:245]  # the ClientHello message (CRYPTO frame header cut)
    first = b"\x06\x40\x64" + (0x4000 | (len(hello) - 100)).to_bytes(2, "big") + hello[100:] + b"\x01"
    second = b"\x00\x00\x06\x00\x40\x64" + hello[:100]
    dcid = bytes.fromhex("0011223344556677")
    d = _dissector()
    assert _of(d.feed(_initial(dcid, first + bytes(900)), True, 1.0), QuicClientHello) == []
    (ev,) = _of(d.feed(_initial(dcid, second + bytes(900), pn=1), True, 1.1), QuicClientHello)
    assert ev.server_name == "example.com" and ev.ts == 1.1


# -- fuzz: only Malformed leaves the parsers; nothing leaves the dissector ----------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=1300), st.integers(min_value=0, max_value=40))
def test_fuzz_parsers_raise_only_malformed(data: bytes, start: int) -> None:
    try:
        hdr = parse_long_header(data, min(start, len(data)))
        if hdr.kind == "initial":
            unprotect(data, hdr, qc.initial_keys(hdr.version, hdr.dcid, False), -1)
    except Malformed:
        pass
    with contextlib.suppress(Malformed):
        initial_frames(data)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 1199), st.integers(0, 255)), max_size=6),
    st.integers(min_value=0, max_value=1200),
)
def test_fuzz_dissector_never_raises(flips: list[tuple[int, int]], cut: int) -> None:
    pkt = bytearray(vec.V1_CLIENT_INITIAL)
    for pos, value in flips:
        pkt[pos] = value
    d = _dissector()
    d.feed(bytes(pkt[:cut]), True, 1.0)
    d.feed(bytes(pkt), True, 1.1)
    d.feed(vec.V1_SERVER_INITIAL, False, 1.2)
    d.close(2.0)


# -- against tshark -----------------------------------------------------------------------------------


def _tshark_quic(path: str) -> tuple[int, Counter[str], int]:
    """(frames with a QUIC ClientHello, SNI counts, frames with a QUIC ServerHello) as tshark sees them."""
    hellos = tshark_fields(path, HELLO_FILTER, ("frame.number", "tls.handshake.extensions_server_name"))
    sni: Counter[str] = Counter(name for _, names in hellos for name in names.split(",") if name)
    servers = tshark_fields(path, "quic && tls.handshake.type == 2 && !icmp && !icmpv6", ("frame.number",))
    return len(hellos), sni, len(servers)


def test_sample_quic_section() -> None:
    quic = analyze_json(str(QUIC_SAMPLE))["quic"]
    assert quic["client_hello"] == 6 and quic["server_hello"] == 3
    assert quic["sni"] == {
        "vn.example.com": 2,
        "alt-port.example.org": 1,
        "quic.example.com": 1,
        "retry.example.com": 1,
        "v2.example.net": 1,
    }
    assert quic["versions"] == {"v1": 4, "draft-29": 1, "v2": 1}
    assert quic["retries"] == 1 and quic["packets"]["version_negotiation"] == 1
    assert quic["ciphers"] == {"TLS_AES_128_GCM_SHA256": 3}
    assert quic["malformed_packets"] == {}
    retry = next(c for c in quic["connections"] if c["server_name"] == "retry.example.com")
    assert retry["retry"] and retry["history"] == "IrIi"


def test_quic_hellos_stay_out_of_tls_and_port_9443_is_found_by_payload() -> None:
    summary = analyze_json(str(QUIC_SAMPLE))
    assert summary["tls"]["client_hello"] == 0 and summary["tls"]["sni"] == {}
    alt = next(c for c in summary["quic"]["connections"] if c["id.resp_p"] == 9443)
    assert alt["server_name"] == "alt-port.example.org"
    assert summary["services"]["quic"]["by"] == {"port": 0, "payload": 1, "both": 4, "expected": 0}


@needs_tshark
def test_sample_agrees_with_tshark() -> None:
    hellos, sni, servers = _tshark_quic(str(QUIC_SAMPLE))
    quic = analyze_json(str(QUIC_SAMPLE))["quic"]
    assert (quic["client_hello"], Counter(quic["sni"]), quic["server_hello"]) == (hellos, sni, servers)


def _shared_quic_files() -> list[str]:
    return [f["file"] for f in truth().get("files", []) if "quic" in f]


@needs_shared
@pytest.mark.parametrize("rel", _shared_quic_files())
def test_shared_captures_match_the_truth(rel: str) -> None:
    entry = next(f for f in truth()["files"] if f["file"] == rel)
    quic = analyze_json(str(SHARED_PCAPS / rel))["quic"]
    assert quic["client_hello"] == entry["quic"]["frames_with_client_hello"]
    assert sorted(quic["sni"]) == sorted(entry["quic"]["sni"])
    assert quic["malformed_packets"] == {}


@needs_shared
@needs_tshark
@pytest.mark.parametrize("rel", _shared_quic_files())
def test_shared_captures_agree_with_tshark(rel: str) -> None:
    path = str(SHARED_PCAPS / rel)
    hellos, sni, _ = _tshark_quic(path)
    quic = analyze_json(path)["quic"]
    assert (quic["client_hello"], Counter(quic["sni"])) == (hellos, sni)


@needs_shared
def test_suricata_ja4_matches_the_published_value() -> None:
    """suricata-verify tests/ja4-quic/test.yaml expects this JA4 on all 11 QUIC events."""
    quic = analyze_json(str(SHARED_PCAPS / "quic" / "suricata-ja4-quic-input.pcap"))["quic"]
    assert quic["ja4"] == {"q13d0310h3_55b375c5d22e_cd85d2d88918": 11}
    assert quic["connection_count"] == 11 and quic["server_hello"] == 0


@needs_shared
def test_v2_and_fragmented_hello_connections() -> None:
    v2 = analyze_json(str(SHARED_PCAPS / "quic" / "zeek-quicv2-echo-443.pcap"))["quic"]
    assert v2["versions"] == {"v2": 1} and v2["ciphers"] == {"TLS_AES_128_GCM_SHA256": 1}
    frag = analyze_json(str(SHARED_PCAPS / "quic" / "zeek-quic-multiple-initial-fragmented-crypto.pcap"))
    (conn,) = frag["quic"]["connections"]
    # the client switched its DCID to the server's SCID, keeping the keys of its first DCID
    assert conn["client_initial_dcid"] == "5f6d2fa7a8d40742" and conn["server_scid"] == "ff6d2fa7a8d40742"
    assert frag["quic"]["decrypted_initials"] == 12


def test_terminal_report_has_the_quic_tables() -> None:
    from analyzer.report.terminal import render

    text = render(analyze_json(str(QUIC_SAMPLE)), sections=["quic"], width=None)
    assert "== QUIC overview ==" in text and "== QUIC connections ==" in text
    assert "alt-port.example.org" in text and "q13d" in text
    assert render(analyze_json(str(SAMPLES / "dns.pcap")), sections=["quic"]) == ""


def test_a_client_initial_seen_as_coming_from_the_server_side_still_opens() -> None:
    """On two high ports the flow's roles are a guess: the first Initial that opens with client keys
    is the client's, whichever side the flow table put it on."""
    d = _dissector()
    assert len(_of(d.feed(vec.V1_CLIENT_INITIAL, False, 1.0), QuicClientHello)) == 1
    other = _dissector()
    assert other.feed(vec.V1_SERVER_INITIAL, False, 1.0) == []  # a server Initial with no client
    (packets,) = _of(other.close(2.0), QuicPackets)
    assert dict(packets.by_type) == {"initial": 1, "initial_without_client": 1}
