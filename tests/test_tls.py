"""TLS: record layer across records and segments, hellos, JA3/JA3S/JA4/JA4S, certificates, handshake
stages, alerts, the tracker's section, the terminal tables, and agreement with tshark on real captures.

Messages are built byte by byte here (the builders below follow RFC 8446 / RFC 5246 layouts), so each
test states exactly what is on the wire.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import shutil
import struct
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analyzer import registry
from analyzer.dissectors.tls import (
    HRR_RANDOM,
    MAX_HANDSHAKE_LENGTH,
    MAX_RECORD_LENGTH,
    TlsAlert,
    TlsClientHello,
    TlsDissector,
    TlsHandshake,
    TlsMalformedMessage,
    TlsServerHello,
    cipher_name,
    parse_certificate_list,
    parse_client_hello,
    parse_server_hello,
    parse_sslv2_client_hello,
    version_name,
)
from analyzer.dissectors.tls import fingerprints as fp
from analyzer.dissectors.x509 import X509Record, hostname_matches, parse_certificate
from analyzer.errors import Malformed
from analyzer.flows import Flow
from analyzer.report.sections.tls import tls_tables
from analyzer.trackers import tls as tls_tracker
from analyzer.trackers.tls import TlsTracker
from tests.oracle import (
    SAMPLES,
    SHARED_PCAPS,
    analyze_json,
    needs_shared,
    needs_tshark,
    truth,
    tshark_frame_count,
    tshark_output,
)
from tests.streamkit import conversation_frames, flow_of, fuzz_feed, of, tcp_frame, write_pcap

# -- wire builders --------------------------------------------------------------------------------------


def u8(n: int) -> bytes:
    return bytes([n])


def u16(n: int) -> bytes:
    return struct.pack("!H", n)


def u24(n: int) -> bytes:
    return n.to_bytes(3, "big")


def vec8(b: bytes) -> bytes:
    return u8(len(b)) + b


def vec16(b: bytes) -> bytes:
    return u16(len(b)) + b


def vec24(b: bytes) -> bytes:
    return u24(len(b)) + b


def u16s(values: list[int] | tuple[int, ...]) -> bytes:
    return b"".join(u16(v) for v in values)


def record(ctype: int, body: bytes, version: int = 0x0303) -> bytes:
    return u8(ctype) + u16(version) + vec16(body)


def hs(mtype: int, body: bytes) -> bytes:
    return u8(mtype) + vec24(body)


def ext(etype: int, body: bytes = b"") -> bytes:
    return u16(etype) + vec16(body)


def sni_ext(name: str) -> bytes:
    return ext(0, vec16(u8(0) + vec16(name.encode())))


def alpn_ext(*protocols: str) -> bytes:
    return ext(16, vec16(b"".join(vec8(p.encode()) for p in protocols)))


def groups_ext(*groups: int) -> bytes:
    return ext(10, vec16(u16s(groups)))


def formats_ext(*formats: int) -> bytes:
    return ext(11, vec8(bytes(formats)))


def sigalgs_ext(*algs: int) -> bytes:
    return ext(13, vec16(u16s(algs)))


def versions_ext(*versions: int) -> bytes:
    return ext(43, vec8(u16s(versions)))


def key_share_ext(group: int, key: bytes = b"\x11" * 32) -> bytes:
    """A ClientHello key_share: a list of one KeyShareEntry."""
    return ext(51, vec16(u16(group) + vec16(key)))


def server_key_share(group: int, key: bytes = b"\x12" * 32) -> bytes:
    """A ServerHello key_share: one KeyShareEntry."""
    return ext(51, u16(group) + vec16(key))


def client_hello(
    exts: list[bytes],
    ciphers: tuple[int, ...] = (0xC02F, 0xC030, 0x009C),
    version: int = 0x0303,
    session_id: bytes = b"",
) -> bytes:
    body = u16(version) + b"\xaa" * 32 + vec8(session_id) + vec16(u16s(ciphers)) + vec8(b"\x00")
    body += vec16(b"".join(exts))
    return hs(1, body)


def server_hello(
    cipher: int,
    exts: list[bytes],
    version: int = 0x0303,
    random: bytes = b"\xbb" * 32,
    session_id: bytes = b"",
) -> bytes:
    body = u16(version) + random + vec8(session_id) + u16(cipher) + u8(0)
    if exts:
        body += vec16(b"".join(exts))
    return hs(2, body)


def certificate_msg(ders: list[bytes]) -> bytes:
    return hs(11, vec24(b"".join(vec24(d) for d in ders)))


CCS = record(20, b"\x01")


def app_data(n: int, fill: int = 0x5A) -> bytes:
    return record(23, bytes([fill]) * n)


# -- the JA4 specification's example hello (FoxIO technical_details/JA4.md), with GREASE added ---------

SPEC_CIPHERS = (0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC013, 0xC014,
                0x009C, 0x009D, 0x002F, 0x0035)  # fmt: skip
SPEC_SIGALGS = (0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601)
SPEC_EXTENSIONS = [
    ext(0x1A1A),  # GREASE
    ext(0x001B, b"\x02\x00\x02"),
    sni_ext("www.example.com"),
    key_share_ext(0x001D),
    alpn_ext("h2", "http/1.1"),
    ext(0x4469, b"\x00\x03\x02h2"),
    ext(0x0017),
    ext(0x002D, b"\x01\x01"),
    sigalgs_ext(*SPEC_SIGALGS),
    ext(0x0005, b"\x01\x00\x00\x00\x00"),
    ext(0x0023),
    ext(0x0012),
    versions_ext(0x3A3A, 0x0304, 0x0303),
    ext(0xFF01, b"\x00"),
    formats_ext(0),
    groups_ext(0x4A4A, 0x001D, 0x0017, 0x0018),
    ext(0x0015, b"\x00" * 16),
    ext(0xFAFA, b"\x00"),  # GREASE
]
SPEC_HELLO = client_hello(SPEC_EXTENSIONS, ciphers=(0x0A0A, *SPEC_CIPHERS), session_id=b"\x01" * 32)
SPEC_JA4 = "t13d1516h2_8daaf6152771_e5627efa2ab1"
SPEC_JA3_FULL = (
    "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,"
    "27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,29-23-24,0"
)

# -- certificates (Ed25519 keys from fixed seeds: deterministic) --------------------------------------

NOT_BEFORE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
NOT_AFTER = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
CAPTURE_TS = dt.datetime(2024, 6, 1, tzinfo=dt.UTC).timestamp()


def _key(seed: str) -> Any:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(seed.encode()).digest())


def _cert(
    cn: str,
    key_seed: str,
    issuer_cn: str,
    issuer_seed: str,
    sans: list[str] | None,
    ca: bool = False,
    not_after: dt.datetime = NOT_AFTER,
) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import NameOID

    key, issuer_key = _key(key_seed), _key(issuer_seed)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_cn)]))
        .public_key(key.public_key())
        .serial_number(int.from_bytes(hashlib.sha256(cn.encode()).digest()[:8], "big"))
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]), critical=False
        )
    der: bytes = builder.sign(issuer_key, None).public_bytes(serialization.Encoding.DER)
    return der


@functools.cache
def certs() -> dict[str, bytes]:
    many = ["*.example.com", "example.com"] + [f"host{i:03d}.example.org" for i in range(150)]
    return {
        "leaf": _cert("www.example.com", "leaf", "Test CA", "ca", many),
        "ca": _cert("Test CA", "ca", "Test CA", "ca", None, ca=True),
        "expired": _cert(
            "old.example.com", "old", "Test CA", "ca", ["old.example.com"], not_after=NOT_BEFORE
        ),
        "selfsigned": _cert("dev.example.org", "dev", "dev.example.org", "dev", ["dev.example.org"]),
        "cn_only": _cert("cn.example.net", "cn", "Test CA", "ca", None),
    }


# -- a flow to hang dissectors on -----------------------------------------------------------------------

CLIENT_IP, SERVER_IP = bytes([192, 0, 2, 10]), bytes([203, 0, 113, 5])


def make_flow(dport: int = 443) -> Flow:
    return flow_of(tcp_frame(CLIENT_IP, SERVER_IP, 50000, dport, 1000, 0, 0x02, b""), 1.0)


def write_conversation(path: Path, exchanges: list[tuple[bool, bytes]], dport: int = 443) -> Path:
    """A pcap of one TCP connection: handshake, the given segments in order, FIN teardown."""
    frames = conversation_frames(CLIENT_IP, SERVER_IP, dport, exchanges, pure_acks=False, final_ack=False)
    return write_pcap(path, ((int(CAPTURE_TS) + i, 0, fr) for i, fr in enumerate(frames)))


def feed_all(d: TlsDissector, items: list[tuple[bool, bytes]], chunk: int | None = None) -> list[object]:
    """Feed (from_client, bytes) items in order, optionally cut into `chunk`-byte pieces; then close."""
    events: list[object] = []
    for from_client, data in items:
        step = chunk or len(data) or 1
        for i in range(0, len(data), step):
            events += d.feed(data[i : i + step], from_client, CAPTURE_TS)
    return events + d.close(CAPTURE_TS + 1)


def the_handshake(events: list[object]) -> TlsHandshake:
    (rec,) = of(events, TlsHandshake)
    return rec


# -- TLS 1.2 conversation used by several tests -----------------------------------------------------------

SH12 = server_hello(0xC02F, [ext(0xFF01, b"\x00"), formats_ext(0), alpn_ext("h2"), ext(0x0017)])
SKE = hs(12, u8(3) + u16(0x001D) + vec8(b"\x22" * 32) + u16(0x0807) + vec16(b"\x33" * 64))
SHD = hs(14, b"")
CH12 = client_hello(
    [sni_ext("www.example.com"), alpn_ext("h2", "http/1.1"), groups_ext(0x1D, 0x17), formats_ext(0),
     sigalgs_ext(0x0403, 0x0804)],
)  # fmt: skip


def tls12_items() -> list[tuple[bool, bytes]]:
    flight = SH12 + certificate_msg([certs()["leaf"], certs()["ca"]]) + SKE + SHD
    return [
        (True, record(22, CH12, version=0x0301)),
        (False, record(22, flight)),
        (True, record(22, hs(16, vec8(b"\x44" * 32))) + CCS + record(22, b"\x55" * 40)),
        (False, CCS + record(22, b"\x66" * 40)),
        (True, app_data(100)),
        (False, app_data(300) + app_data(50)),
    ]


# == fingerprints: published vectors ==================================================================


def test_ja4_spec_hash_vectors() -> None:
    """The three hash examples of FoxIO's JA4.md and the JA4S.md example."""
    assert fp.ja4(0x0303, [0x0304], SPEC_CIPHERS, [0x0000, 0x0010, 0x000D], SPEC_SIGALGS, b"h2").split("_")[
        1
    ] == ("8daaf6152771")
    exts = [0x001B, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002D, 0x000D, 0x0005, 0x0023, 0x0012, 0x002B,
            0xFF01, 0x000B, 0x000A, 0x0015]  # fmt: skip
    assert fp.ja4(0x0303, [0x0304], SPEC_CIPHERS, exts, SPEC_SIGALGS, b"h2") == SPEC_JA4
    assert fp.ja4(0x0303, [0x0304], SPEC_CIPHERS, exts, [], b"h2") == "t13d1516h2_8daaf6152771_6d807ffa2a79"
    assert (
        fp.ja4s(0x0303, None, 0xC030, [0x0005, 0x0017, 0xFF01, 0x0000], None) == "t120400_c030_4e8089b08790"
    )


@pytest.mark.parametrize(
    ("alpn", "expected"),
    [
        (b"h2", "h2"),
        (b"http/1.1", "h1"),
        (b"h", "hh"),
        (None, "00"),
        (b"", "00"),
        (b"\xab", "ab"),
        (b"\xab\xcd", "ad"),
        (b"\x30\xab", "3b"),
        (b"\x30\x31\xab\xcd", "3d"),
        (b"\x30\xab\xcd\x31", "01"),
    ],
)
def test_ja4_alpn_rules(alpn: bytes | None, expected: str) -> None:
    assert fp.ja4_alpn(alpn) == expected


def test_ja4_empty_lists_and_counts() -> None:
    assert fp.ja4(0x0301, None, [], [], [], None) == "t10i000000_000000000000_000000000000"
    assert fp.ja4(0x9999, None, list(range(1, 200)), [0], [], None).startswith("t00d9901")


def test_grease_values() -> None:
    grease = [0x0A0A + 0x1010 * i for i in range(16)]
    assert all(fp.is_grease(g) for g in grease)
    assert not any(fp.is_grease(v) for v in (0x0A0B, 0x0000, 0x1301, 0xC02F, 0xFF01, 0x0A1A, 0x1A0A))


def test_spec_hello_through_the_dissector_gives_the_spec_ja4_and_grease_free_ja3() -> None:
    events = TlsDissector(make_flow()).feed(record(22, SPEC_HELLO, 0x0301), True, 1.0)
    (ch,) = of(events, TlsClientHello)
    assert ch.ja4 == SPEC_JA4
    assert ch.ja3_full == SPEC_JA3_FULL
    assert ch.ja3 == hashlib.md5(SPEC_JA3_FULL.encode()).hexdigest()
    assert ch.server_name == "www.example.com"
    assert ch.alpn == ("h2", "http/1.1")
    assert ch.supported_versions == (0x3A3A, 0x0304, 0x0303) and ch.offers_tls13
    assert ch.ciphers[0] == 0x0A0A and len(ch.ciphers) == 16  # events keep GREASE; fingerprints drop it
    assert ch.groups == (0x4A4A, 0x1D, 0x17, 0x18) and ch.point_formats == (0,)
    assert ch.signature_algorithms == SPEC_SIGALGS


# == stream feeding =====================================================================================

SSL2_SPECS = bytes.fromhex("010080030080") + bytes.fromhex("00002f000035") + bytes.fromhex("0000ff")
SSL2_BODY = u8(1) + u16(0x0301) + u16(len(SSL2_SPECS)) + u16(0) + u16(16) + SSL2_SPECS + bytes(range(16))
SSL2_HELLO = u16(0x8000 | len(SSL2_BODY)) + SSL2_BODY
HRR = server_hello(0x1302, [ext(43, u16(0x0304)), ext(51, u16(0x0017))], random=HRR_RANDOM)

HELLOS = {
    "client_hello_sslv2": (True, SSL2_HELLO),
    "hello_retry_request": (False, record(22, HRR)),
    "client_hello_tls12": (True, record(22, CH12, version=0x0301)),
    "client_hello_spec": (True, record(22, SPEC_HELLO, version=0x0301)),
    "server_hello_tls12": (False, record(22, SH12)),
    "server_hello_tls13": (
        False,
        record(22, server_hello(0x1302, [ext(43, u16(0x0304)), server_key_share(0x1D)])),
    ),
}


def _hello_summary(events: list[object]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for e in events:
        if isinstance(e, TlsClientHello):
            out.append(("ch", str(e.server_name), str(e.ja3), e.ja4))
        elif isinstance(e, TlsServerHello):
            out.append(("sh", version_name(e.version), cipher_name(e.cipher), e.ja3s, e.ja4s))
    return out


@pytest.mark.parametrize("name", sorted(HELLOS))
def test_hello_whole_bytewise_and_with_trailing_data(name: str) -> None:
    from_client, data = HELLOS[name]
    whole = _hello_summary(TlsDissector(make_flow()).feed(data, from_client, 1.0))
    assert len(whole) == 1
    d = TlsDissector(make_flow())
    bytewise: list[object] = []
    for i in range(len(data)):
        bytewise += d.feed(data[i : i + 1], from_client, 1.0)
    assert _hello_summary(bytewise) == whole
    # trailing data: the start of the next record in the same chunk changes nothing (yet)
    d = TlsDissector(make_flow())
    trailing = d.feed(data + app_data(40)[:3], from_client, 1.0)
    assert _hello_summary(trailing) == whole
    assert d.feed(app_data(40)[3:], from_client, 1.1) == []


def test_tls13_server_hello_fields() -> None:
    (sh,) = of(TlsDissector(make_flow()).feed(HELLOS["server_hello_tls13"][1], False, 1.0), TlsServerHello)
    assert sh.version == 0x0304 and sh.legacy_version == 0x0303 and sh.version_name == "TLS 1.3"
    assert sh.cipher_name == "TLS_AES_256_GCM_SHA384" and sh.key_share_group == 0x1D
    assert not sh.hello_retry_request
    assert sh.ja3s_full == "771,4866,43-51"
    assert sh.ja4s == fp.ja4s(0x0303, 0x0304, 0x1302, [43, 51], None) and sh.ja4s.startswith("t130200_1302_")


def test_client_hello_over_one_byte_records() -> None:
    split = b"".join(record(22, CH12[i : i + 1]) for i in range(len(CH12)))
    for chunk in (None, 1, 7):
        events = feed_all(TlsDissector(make_flow()), [(True, split)], chunk)
        (ch,) = of(events, TlsClientHello)
        assert ch.server_name == "www.example.com" and ch.alpn == ("h2", "http/1.1")
        assert not of(events, TlsMalformedMessage)


def test_several_messages_in_one_record_and_one_message_over_records_and_segments() -> None:
    flight = SH12 + certificate_msg([certs()["leaf"], certs()["ca"]]) + SKE + SHD
    one_record = [(False, record(22, flight))]
    many_records = [(False, b"".join(record(22, flight[i : i + 1000]) for i in range(0, len(flight), 1000)))]
    results = []
    for items in (one_record, many_records):
        for chunk in (None, 97, 1):
            events = feed_all(TlsDissector(make_flow()), [(True, record(22, CH12)), *items], chunk)
            rec = the_handshake(events)
            results.append((len(of(events, X509Record)), rec.history, rec.curve, rec.stages))
    assert results[0] == (
        2,
        "Csxkn",
        "x25519",
        ("client_hello", "server_hello", "certificate", "key_exchange"),
    )
    assert all(r == results[0] for r in results)


def test_certificate_chain_over_many_segments_decoded() -> None:
    leaf = certs()["leaf"]
    assert len(leaf) > 3000  # 152 SANs: in 61-byte chunks the chain spans ~60 segments
    events = feed_all(TlsDissector(make_flow()), tls12_items(), chunk=61)
    leaf_rec, ca_rec = of(events, X509Record)
    assert leaf_rec.fingerprint == hashlib.sha256(leaf).hexdigest()
    assert leaf_rec.subject == "CN=www.example.com" and leaf_rec.issuer == "CN=Test CA"
    assert leaf_rec.san_dns[:2] == ("*.example.com", "example.com") and len(leaf_rec.san_dns) == 152
    assert leaf_rec.host_cert and leaf_rec.chain_index == 0 and not leaf_rec.client_cert
    assert leaf_rec.not_valid_before == NOT_BEFORE.timestamp()
    assert leaf_rec.not_valid_after == NOT_AFTER.timestamp()
    assert leaf_rec.sni == "www.example.com" and leaf_rec.sni_matches is True
    assert not leaf_rec.expired and not leaf_rec.self_signed and leaf_rec.key_type == "ed25519"
    assert leaf_rec.basic_constraints_ca is False
    assert ca_rec.self_signed and ca_rec.basic_constraints_ca is True and ca_rec.sni is None
    assert ca_rec.sni_matches is None and not ca_rec.host_cert
    rec = the_handshake(events)
    assert rec.cert_chain_fps == (leaf_rec.fingerprint, ca_rec.fingerprint)
    assert rec.sni_matches_cert is True


def test_full_tls12_handshake_stages_history_and_completion() -> None:
    events = feed_all(TlsDissector(make_flow()), tls12_items())
    rec = the_handshake(events)
    assert rec.history == "CsxknGIi"  # Zeek's letters; encrypted Finished and data add none
    assert rec.established
    assert rec.stages == (
        "client_hello", "server_hello", "certificate", "key_exchange", "change_cipher_spec", "finished",
        "application_data",
    )  # fmt: skip
    assert (rec.version, rec.cipher, rec.curve) == (
        "TLS 1.2",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "x25519",
    )
    assert rec.server_name == "www.example.com" and rec.next_protocol == "h2"
    assert (rec.client_app_bytes, rec.server_app_bytes) == (100, 350)
    assert not rec.resumed and rec.last_alert is None and not rec.lost_sync
    assert rec.ja3 == fp.ja3_hash(of(events, TlsClientHello)[0].ja3_full or "")
    assert rec.ja3s == fp.ja3_hash("771,49199,65281-11-16-23")


def test_not_established_without_the_servers_change_cipher_spec() -> None:
    items = tls12_items()[:3]
    rec = the_handshake(feed_all(TlsDissector(make_flow()), items))
    assert not rec.established and rec.history == "CsxknGI"


def test_tls13_established_from_both_sides_ciphertext() -> None:
    ch = client_hello([sni_ext("api.example.net"), versions_ext(0x0304, 0x0303), key_share_ext(0x1D)])
    sh = server_hello(0x1301, [ext(43, u16(0x0304)), server_key_share(0x1D)])
    items = [
        (True, record(22, ch, 0x0301)),
        (False, record(22, sh) + CCS + app_data(600) + app_data(53)),
        (True, CCS + app_data(53)),
        (True, app_data(20)),
    ]
    rec = the_handshake(feed_all(TlsDissector(make_flow()), items))
    assert rec.history == "CsiI" and rec.version == "TLS 1.3" and rec.curve == "x25519"
    assert rec.established and rec.stages[-1] == "application_data"
    assert (rec.client_app_bytes, rec.server_app_bytes) == (73, 653)
    # without the client's reply the session is not established
    rec = the_handshake(feed_all(TlsDissector(make_flow()), items[:2]))
    assert not rec.established


def test_hello_retry_request_is_a_flagged_server_hello_and_the_second_hello_parses() -> None:
    ch = client_hello([versions_ext(0x0304), key_share_ext(0x1D)])
    ch2 = client_hello([versions_ext(0x0304), key_share_ext(0x0017, b"\x04" * 65)])
    sh = server_hello(0x1302, [ext(43, u16(0x0304)), server_key_share(0x0017, b"\x04" * 65)])
    items = [
        (True, record(22, ch, 0x0301)),
        (False, record(22, HRR) + CCS),
        (True, CCS + record(22, ch2)),
        (False, record(22, sh) + app_data(100)),
        (True, app_data(60)),
    ]
    events = feed_all(TlsDissector(make_flow()), items)
    first, second = of(events, TlsServerHello)
    assert first.hello_retry_request and not second.hello_retry_request
    assert first.version == second.version == 0x0304
    assert len(of(events, TlsClientHello)) == 2
    rec = the_handshake(events)
    assert rec.hello_retry_request and rec.history == "CjiICs" and rec.established
    assert (rec.client_hellos, rec.server_hellos) == (2, 2)
    assert rec.stages[:3] == ("client_hello", "hello_retry_request", "change_cipher_spec")


def test_session_id_resumption() -> None:
    sid = b"\x07" * 32
    items = [
        (True, record(22, client_hello([sni_ext("a.example")], session_id=sid))),
        (False, record(22, server_hello(0xC02F, [], session_id=sid)) + CCS + record(22, b"\x01" * 40)),
        (True, CCS + record(22, b"\x02" * 40) + app_data(10)),
    ]
    rec = the_handshake(feed_all(TlsDissector(make_flow()), items))
    assert rec.resumed and rec.established and rec.history == "CsiI"


def test_sslv2_compatible_client_hello() -> None:
    v2 = SSL2_HELLO
    sh = record(22, server_hello(0x002F, [], version=0x0301), version=0x0301)
    for chunk in (None, 1):
        events = feed_all(TlsDissector(make_flow()), [(True, v2), (False, sh)], chunk)
        (ch,) = of(events, TlsClientHello)
        assert ch.sslv2 and ch.version == 0x0301 and ch.ja3 is None
        assert ch.ciphers == (0x010080, 0x030080, 0x2F, 0x35, 0xFF)
        assert ch.ja4.startswith("t10i0300")  # the three TLS-compatible cipher kinds
        (sh_ev,) = of(events, TlsServerHello)
        assert sh_ev.version_name == "TLS 1.0"
        assert the_handshake(events).sslv2_hello
    assert parse_sslv2_client_hello(SSL2_BODY).ciphers == ch.ciphers


# == alerts ===============================================================================================


def test_plaintext_fatal_alert_and_encrypted_alert() -> None:
    ch = record(22, client_hello([sni_ext("legacy.example.com"), versions_ext(0x0304)]))
    events = feed_all(TlsDissector(make_flow()), [(True, ch), (False, record(21, b"\x02\x28"))])
    (alert,) = of(events, TlsAlert)
    assert (alert.level, alert.description, alert.level_name, alert.description_name) == (
        2, 40, "fatal", "handshake_failure",
    )  # fmt: skip
    assert not alert.from_client
    rec = the_handshake(events)
    assert rec.last_alert == "handshake_failure" and not rec.established and rec.history == "Cl"
    events = feed_all(TlsDissector(make_flow()), [*tls12_items(), (True, record(21, b"\x77" * 26))])
    (alert,) = of(events, TlsAlert)
    assert alert.level is None and alert.level_name == alert.description_name == "encrypted"
    assert alert.from_client and the_handshake(events).history == "CsxknGIiL"


def test_unknown_alert_values_are_named_by_number() -> None:
    events = TlsDissector(make_flow()).feed(record(21, b"\x03\xc8\x01\x00"), False, 1.0)
    first, second = of(events, TlsAlert)
    assert (first.level_name, first.description_name) == ("level(3)", "unknown(200)")
    assert (second.level_name, second.description_name) == ("warning", "close_notify")


# == gaps =================================================================================================


def test_gap_inside_application_data_keeps_record_sync() -> None:
    d = TlsDissector(make_flow())
    for from_client, data in tls12_items()[:-1]:
        d.feed(data, from_client, 1.0)
    data = app_data(300)
    d.feed(data[:100], False, 1.0)
    assert d.gap(150, False, 1.0) == []
    events = d.feed(data[250:] + record(21, b"\x01\x00"), False, 1.0)
    (alert,) = of(events, TlsAlert)
    assert alert.description_name == "close_notify"
    assert not the_handshake(d.close(2.0)).lost_sync


def test_gap_across_records_loses_that_direction_only() -> None:
    d = TlsDissector(make_flow())
    d.feed(record(22, CH12), True, 1.0)
    flight = record(22, SH12 + SHD)
    d.feed(flight[:10], False, 1.0)
    d.gap(len(flight) - 10, False, 1.0)
    assert d.feed(record(21, b"\x02\x28"), False, 1.1) == []  # ignored: no sync on this side
    events = d.feed(record(21, b"\x01\x00"), True, 1.2)  # the client side still parses
    assert of(events, TlsAlert)[0].description_name == "close_notify"
    assert the_handshake(d.close(2.0)).lost_sync


# == malformed input ======================================================================================


def test_record_claiming_more_than_the_limit_is_malformed_before_buffering() -> None:
    d = TlsDissector(make_flow())
    with pytest.raises(Malformed) as exc:
        d.feed(u8(23) + u16(0x0303) + u16(MAX_RECORD_LENGTH + 1), True, 1.0)
    assert exc.value.reason == "tls.record_too_long"
    d = TlsDissector(make_flow())
    d.feed(u8(23) + u16(0x0303) + u16(MAX_RECORD_LENGTH) + b"\x00" * 10, True, 1.0)  # at the limit: fine


def test_handshake_claiming_16_mb_is_malformed_from_its_header() -> None:
    d = TlsDissector(make_flow())
    with pytest.raises(Malformed) as exc:
        d.feed(record(22, u8(1) + u24(0xFFFFFF)), True, 1.0)
    assert exc.value.reason == "tls.handshake_too_long"
    # a Certificate gets the chain allowance, a ClientHello does not
    d = TlsDissector(make_flow())
    assert d.feed(record(22, u8(11) + u24(MAX_HANDSHAKE_LENGTH + 1)), False, 1.0) == []
    with pytest.raises(Malformed):
        TlsDissector(make_flow()).feed(record(22, u8(1) + u24(MAX_HANDSHAKE_LENGTH + 1)), True, 1.0)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x63\x03\x03\x00\x01\x00", "tls.bad_record_type"),
        (b"\x16\x02\x00\x00\x01\x00", "tls.bad_record_version"),
        (b"GET / HTTP/1.1\r\n", "tls.bad_record_type"),
        (b"\x80\x03\x02\x00\x02", "tls.bad_record_type"),  # SSLv2 header with a non-hello message
        (b"\x80\x02\x01\x03\x01", "tls.sslv2_bad_length"),
    ],
)
def test_hopeless_record_headers(data: bytes, reason: str) -> None:
    with pytest.raises(Malformed) as exc:
        TlsDissector(make_flow()).feed(data, True, 1.0)
    assert exc.value.reason == reason


def test_lying_hello_is_reported_and_the_next_message_still_parses() -> None:
    good = client_hello([sni_ext("x.example")])
    lying = good[:4] + good[4:39] + u16(0x4000) + good[41:]  # cipher vector longer than the message
    events = TlsDissector(make_flow()).feed(record(22, lying + SH12), True, 1.0)
    (bad,) = of(events, TlsMalformedMessage)
    assert bad.reason == "tls.client_hello_bad_length"
    assert not of(events, TlsClientHello)
    assert len(of(events, TlsServerHello)) == 1  # framing was intact: parsing went on


def test_lying_extension_keeps_the_hello() -> None:
    bad_sni = ext(0, vec16(u8(0) + u16(200) + b"short"))
    events = TlsDissector(make_flow()).feed(record(22, client_hello([bad_sni, alpn_ext("h2")])), True, 1.0)
    (ch,) = of(events, TlsClientHello)
    assert ch.server_name is None and ch.alpn == ("h2",)
    assert [m.reason for m in of(events, TlsMalformedMessage)] == ["tls.client_hello_bad_length"]


def test_undecodable_certificate_is_reported_and_the_rest_of_the_chain_decoded() -> None:
    msg = certificate_msg([b"\x30\x03\x02\x01\x00", certs()["ca"]])
    events = TlsDissector(make_flow()).feed(record(22, msg), False, 1.0)
    assert [m.reason for m in of(events, TlsMalformedMessage)] == ["x509.bad_certificate"]
    (rec,) = of(events, X509Record)
    assert rec.subject == "CN=Test CA" and rec.chain_index == 1


def test_pipeline_counts_the_malformed_record_and_detaches(tmp_path: Path) -> None:
    ch = record(22, CH12)
    bogus = u8(22) + u16(0x0303) + u16(0xFFFF)  # a 64 KiB record claim
    path = write_conversation(tmp_path / "bad.pcap", [(True, ch), (True, bogus + b"\x00" * 100), (True, ch)])
    summary = analyze_json(str(path))
    assert summary["malformed"].get("tls.record_too_long") == 1
    assert summary["tls"]["client_hello"] == 1  # the hello before counts; nothing after the detach


# == certificates ==========================================================================================


@pytest.mark.parametrize(
    ("host", "names", "ok"),
    [
        ("www.example.com", ["www.example.com"], True),
        ("WWW.Example.COM.", ["www.example.com"], True),
        ("a.example.com", ["*.example.com"], True),
        ("example.com", ["*.example.com"], False),
        ("a.b.example.com", ["*.example.com"], False),
        ("foo.example.com", ["f*.example.com"], True),
        ("bar.example.com", ["f*.example.com"], False),
        ("a.com", ["*.com"], False),
        ("x.example.org", ["*.example.com", "x.example.org"], True),
        ("", ["*.example.com"], False),
    ],
)
def test_hostname_matching(host: str, names: list[str], ok: bool) -> None:
    assert hostname_matches(host, names) is ok


def test_certificate_findings_at_capture_time() -> None:
    c = certs()

    def parse(der: bytes, ts: float = CAPTURE_TS, sni: str | None = "www.example.com") -> X509Record:
        return parse_certificate(der, ts=ts, uid="C1", chain_index=0, client_cert=False, sni=sni)

    assert parse(c["expired"]).expired and not parse(c["leaf"]).expired
    assert parse(c["leaf"], ts=NOT_AFTER.timestamp() + 1).expired
    assert parse(c["leaf"], ts=NOT_BEFORE.timestamp() - 1).not_yet_valid
    assert parse(c["selfsigned"]).self_signed and not parse(c["expired"]).self_signed
    assert parse(c["leaf"], sni="nope.example.net").sni_matches is False
    assert parse(c["leaf"], sni=None).sni_matches is None
    assert parse(c["cn_only"], sni="cn.example.net").sni_matches is True  # no SAN: the CN counts
    assert (
        parse(c["leaf"]).serial
        == f"{int.from_bytes(hashlib.sha256(b'www.example.com').digest()[:8], 'big'):X}"
    )
    with pytest.raises(Malformed) as exc:
        parse(b"\x30\x82\x01\x00garbage")
    assert exc.value.reason == "x509.bad_certificate"


# == tracker and JSON ======================================================================================


def _section(events: list[object]) -> dict[str, Any]:
    tracker = TlsTracker()
    for e in events:
        if type(e) in TlsTracker.EVENT_TYPES:
            tracker.handle(e)
    section: dict[str, Any] = tracker.finish()["tls"]
    return section


def test_section_shape_and_names() -> None:
    events = feed_all(TlsDissector(make_flow()), tls12_items())
    refused = [
        (True, record(22, client_hello([sni_ext("legacy.example.com"), versions_ext(0x0304)]))),
        (False, record(21, b"\x02\x28")),
    ]
    events += feed_all(TlsDissector(make_flow()), refused)
    tls = _section(events)
    assert tls["client_hello"] == 2 and tls["server_hello"] == 1
    assert tls["versions"] == {"TLS 1.2": 1}
    assert tls["sni"] == {"legacy.example.com": 1, "www.example.com": 1}
    assert tls["alpn"] == {"h2": 1, "http/1.1": 1} and tls["alpn_selected"] == {"h2": 1}
    assert tls["ciphers"] == {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": 1}
    assert tls["alerts"] == {"fatal handshake_failure": 1}
    assert tls["incomplete_handshakes"] == 1 and tls["established"] == 1
    assert sum(tls["ja3"].values()) == 2 and sum(tls["ja4"].values()) == 2
    assert tls["ja3s"] == {fp.ja3_hash("771,49199,65281-11-16-23"): 1} and len(tls["ja4s"]) == 1
    hs0 = tls["handshakes"][0]
    for key in ("ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "version", "cipher", "curve",
                "server_name", "next_protocol", "established", "history", "ja3", "ja3s", "ja4", "ja4s",
                "resumed", "last_alert"):  # fmt: skip
        assert key in hs0, key
    assert hs0["id.resp_p"] == 443 and hs0["history"] == "CsxknGIi"
    cert = tls["certificates"][0]
    for key in ("fingerprint", "certificate.subject", "certificate.issuer", "certificate.serial",
                "certificate.not_valid_before", "certificate.not_valid_after", "san.dns", "expired",
                "self_signed", "sni_matches"):  # fmt: skip
        assert key in cert, key
    assert cert["certificate.subject"] == "CN=www.example.com" and cert["sni_matches"] is True
    assert tls["certificate_findings"] == {
        "expired": 0,
        "not_yet_valid": 0,
        "self_signed": 1,
        "sni_mismatch": 0,
    }


def test_tracker_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tls_tracker, "MAX_HANDSHAKES", 3)
    tracker = TlsTracker()
    tracker.sni.limit = 5
    for i in range(10):
        events = feed_all(
            TlsDissector(make_flow()), [(True, record(22, client_hello([sni_ext(f"h{i}.example")])))]
        )
        for e in events:
            tracker.handle(e)
    tls = tracker.finish()["tls"]
    assert len(tls["sni"]) == 6 and tls["sni"][tls_tracker.OTHER_KEY] == 5
    assert len(tls["handshakes"]) == 3 and tls["handshake_count"] == 10 and tls["incomplete_handshakes"] == 10


def test_terminal_tables_escape_wire_text() -> None:
    events = feed_all(
        TlsDissector(make_flow()), [(True, record(22, client_hello([sni_ext("evil\x1b[31m.example")])))]
    )
    tables = tls_tables({"tls": _section(events)})
    sni = next(t for t in tables if t.title == "Top SNI")
    assert sni.rows[0][0] == "evil\\e[31m.example"
    assert tls_tables({"tls": _section([])}) == []


def test_registry_wiring() -> None:
    for service in ("tls", "smtps", "pop3s", "imaps", "ftps"):
        assert registry.STREAM_DISSECTORS[service] is TlsDissector
    assert TlsTracker in registry.TRACKERS


# == fuzz ==================================================================================================

_VALID_STREAM = tls12_items()


@given(st.lists(st.tuples(st.booleans(), st.binary(max_size=300)), max_size=12))
def test_fuzz_random_bytes_only_malformed_escapes(chunks: list[tuple[bool, bytes]]) -> None:
    fuzz_feed(TlsDissector(make_flow()), chunks, {}, 1.0, step=0, close_after=1.0)


@given(
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=8),
    st.integers(1, 200),
)
def test_fuzz_mutated_handshake_only_malformed_escapes(flips: list[tuple[int, int]], chunk: int) -> None:
    stream = bytearray(b"".join(data for _, data in _VALID_STREAM))
    bounds = []
    pos = 0
    for fc, data in _VALID_STREAM:
        bounds.append((fc, pos, pos + len(data)))
        pos += len(data)
    for where, value in flips:
        stream[where % len(stream)] = value
    d = TlsDissector(make_flow())
    try:
        for fc, start, end in bounds:
            for i in range(start, end, chunk):
                d.feed(bytes(stream[i : min(i + chunk, end)]), fc, 1.0)
        d.close(2.0)
    except Malformed:
        pass


@given(st.binary(max_size=400))
def test_fuzz_message_parsers(data: bytes) -> None:
    for parse in (parse_client_hello, parse_server_hello, parse_certificate_list, parse_sslv2_client_hello):
        with contextlib.suppress(Malformed):
            parse(data)


@given(st.lists(st.tuples(st.integers(0, 10**5), st.integers(0, 255)), min_size=1, max_size=4))
def test_fuzz_certificate_decoding(flips: list[tuple[int, int]]) -> None:
    der = bytearray(certs()["ca"])
    for where, value in flips:
        der[where % len(der)] = value
    with contextlib.suppress(Malformed):
        parse_certificate(bytes(der), ts=CAPTURE_TS, uid="C1", chain_index=0, client_cert=False, sni="a.b")


# == agreement with tshark =================================================================================

TSHARK_FIELDS = (
    "tls.handshake.type",
    "tls.handshake.extensions_server_name",
    "tls.handshake.ja3",
    "tls.handshake.ja3s",
    "tls.handshake.version",
    "tls.handshake.extensions.supported_version",
    "tls.handshake.ciphersuite",
    "tls.handshake.extensions_alpn_str",
)


@functools.cache
def tshark_tls(path: str) -> dict[str, Counter[str]]:
    """tshark's view of the hellos, per message. Out-of-order segments are reassembled too
    (`tcp.reassemble_out_of_order`), as our reassembler does: without it tshark misses e.g. the real
    ServerHello of zeek-hrr.pcap, which arrives after a later segment."""
    args = ["-o", "tcp.reassemble_out_of_order:TRUE", "-Y", "tls.handshake.type && tcp && !icmp && !icmpv6",
            "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=;"]  # fmt: skip
    for f in TSHARK_FIELDS:
        args += ["-e", f]
    out = tshark_output(path, *args)
    counts: dict[str, Counter[str]] = {
        k: Counter() for k in ("ch", "sh", "sni", "ja3", "ja3s", "version", "cipher")
    }
    for line in out.splitlines():
        types, snis, ja3s_c, ja3s_s, versions, supported, ciphers, _alpn = (
            v.split(";") if v else [] for v in line.split("\t")
        )
        n_ch, n_sh = types.count("1"), types.count("2")
        counts["ch"]["n"] += n_ch
        counts["sh"]["n"] += n_sh
        counts["sni"].update(snis)
        counts["ja3"].update(ja3s_c)
        counts["ja3s"].update(ja3s_s)
        if n_sh:
            assert n_sh == 1 and n_ch == 0, "one ServerHello per frame in these captures"
            chosen = int(supported[-1], 16) if supported else int(versions[-1], 16)
            counts["version"][version_name(chosen)] += 1
            counts["cipher"][cipher_name(int(ciphers[-1], 16))] += 1
    return counts


class _StartTlsShim:
    """Stands in for the mail/FTP dissectors until they exist: hands each direction to `TlsDissector`
    from its first TLS record on (after STARTTLS / AUTH TLS), as they will."""

    def __init__(self, flow: Flow) -> None:
        self.tls = TlsDissector(flow)
        self.started = {True: False, False: False}

    def feed(self, data: bytes, from_client: bool, ts: float) -> list[object]:
        if not self.started[from_client]:
            at = 0 if data.startswith(b"\x16\x03") else data.find(b"\r\n\x16\x03")
            if at < 0:
                return []
            self.started[from_client] = True
            data = data[at + 2 if at else 0 :]
        return self.tls.feed(data, from_client, ts)

    def gap(self, size: int, from_client: bool, ts: float) -> list[object]:
        return self.tls.gap(size, from_client, ts) if self.started[from_client] else []

    def close(self, ts: float) -> list[object]:
        return self.tls.close(ts)


STARTTLS_SERVICES = ("smtp", "imap", "pop3", "ftp")


@pytest.fixture
def starttls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mail/FTP flows without a registered dissector get the shim, so STARTTLS sessions are seen."""
    for service in STARTTLS_SERVICES:
        if service not in registry.STREAM_DISSECTORS:
            monkeypatch.setitem(registry.STREAM_DISSECTORS, service, _StartTlsShim)


def _compare(path: str) -> None:
    ours = analyze_json(path)["tls"]
    theirs = tshark_tls(path)
    assert ours["client_hello"] == theirs["ch"]["n"]
    assert ours["server_hello"] == theirs["sh"]["n"]
    assert ours["sni"] == dict(theirs["sni"])
    assert ours["ja3"] == dict(theirs["ja3"])
    assert ours["ja3s"] == dict(theirs["ja3s"])
    assert ours["versions"] == dict(theirs["version"])
    assert ours["ciphers"] == dict(theirs["cipher"])


SAMPLE_FILES = ["tls.pcap", "mail.pcap", "mixed.pcap", "mixed.pcapng"]


@needs_tshark
@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_samples_agree_with_tshark(name: str, starttls: None) -> None:
    path = SAMPLES / name
    _compare(str(path))


def _shared_tls_files() -> list[str]:
    return [f["file"] for f in truth().get("files", []) if "tls" in f]


@needs_shared
@needs_tshark
@pytest.mark.parametrize("rel", _shared_tls_files())
def test_shared_captures_agree_with_tshark(rel: str, starttls: None) -> None:
    _compare(str(SHARED_PCAPS / rel))


@needs_shared
def test_hrr_capture_sees_the_out_of_order_server_hello() -> None:
    """zeek-hrr.pcap: TRUTH.json (tshark without out-of-order reassembly) has 1 ServerHello; the real
    ServerHello is in frame 11, which arrives after frame 9 and is reassembled by us (and by tshark with
    tcp.reassemble_out_of_order)."""
    path = SHARED_PCAPS / "tls" / "zeek-hrr.pcap"
    tls = analyze_json(str(path))["tls"]
    assert tls["server_hello"] == 2 and tls["hello_retry_requests"] == 1
    assert tls["versions"] == {"TLS 1.3": 2}
    (hs0,) = tls["handshakes"]
    assert hs0["history"] == "CjiICs" and hs0["established"]


# JA4 published for the same captures in nDPI's test results (ntop/nDPI tests/cfgs/default/result/
# <name>.out): the three real-traffic vectors this corpus shares with them. nDPI departs from the FoxIO
# spec in part a twice: "sp" for the first ALPN "spdy/3.1" (the spec takes its first and LAST
# characters: "s1"), and "d" for a hello without a server_name extension (the spec says "i").
NDPI_JA4 = {
    "tls/ndpi-443-safari.pcap": {"t12d2010h2_2a284e3b0c56_f05fdf8c38a9"},
    "icmp6-unreach/ndpi-6in4tunnel.pcap": {
        "t12d660800_05dad94a8930_ad3c3a211394",
        "t12d1311sp_94beff773b37_06a4338d0495",
    },
    "imap/ndpi-imap-starttls.pcap": {"t12d910500_383454ac02f4_a1e935682795"},
}
NDPI_PART_A_DEVIATIONS = {"t12d1311sp": "t12d1311s1", "t12d910500": "t12i910500"}


@needs_shared
@pytest.mark.parametrize("rel", sorted(NDPI_JA4))
def test_ja4_agrees_with_ndpi_published_results(rel: str, starttls: None) -> None:
    ours = set(analyze_json(str(SHARED_PCAPS / rel))["tls"]["ja4"])
    expected = set()
    for ja4 in NDPI_JA4[rel]:
        part_a, rest = ja4.split("_", 1)
        expected.add(NDPI_PART_A_DEVIATIONS.get(part_a, part_a) + "_" + rest)
    assert ours == expected


# -- the package split (issue 17): every name others import stays importable -------------------------------


def test_package_reexports_and_module_sizes() -> None:
    import analyzer.dissectors.tls as pkg
    from analyzer.dissectors import tls_fingerprints

    for name in pkg.__all__:
        assert getattr(pkg, name) is not None, name
    assert pkg.ja4 is fp.ja4 is tls_fingerprints.ja4
    assert pkg.parse_client_hello is parse_client_hello
    assert TlsClientHello.__module__ == "analyzer.dissectors.tls.events"
    folder = Path(pkg.__file__).parent
    for module in folder.glob("*.py"):
        if module.name != "constants.py":  # IANA tables: data aside
            assert len(module.read_text().splitlines()) <= 800, module.name


# -- ClientHellos cut short (issue 16) ---------------------------------------------------------------------

CUT_HELLO = client_hello(
    [ext(0x0A0A), sni_ext("cut.example.com"), alpn_ext("h2"), groups_ext(0x001D), sigalgs_ext(0x0403)],
    ciphers=(0x1301, 0xC02F, 0xC030, 0x009C),
)
SNI_END = 4 + 2 + 32 + 1 + 2 + 8 + 2 + 2 + 4 + 4 + 2 + 1 + 2 + len("cut.example.com")
"""Bytes of CUT_HELLO (handshake header included) up to the end of its server_name extension."""


@pytest.mark.parametrize("cut", range(6, len(CUT_HELLO)))
def test_truncated_hello_holds_a_prefix_of_the_whole_one(cut: int) -> None:
    from analyzer.dissectors.tls import parse_truncated_client_hello

    whole_fields = parse_client_hello(CUT_HELLO[4:])
    part = parse_truncated_client_hello(CUT_HELLO[4:cut])
    assert part.truncated and part.version == 0x0303
    assert whole_fields.ciphers[: len(part.ciphers)] == part.ciphers
    assert whole_fields.extensions[: len(part.extensions)] == part.extensions
    assert part.server_name == ("cut.example.com" if cut >= SNI_END else None)
    assert part.ja3_full() is None


@pytest.mark.parametrize("how", ["gap", "close"])
def test_hello_cut_short_is_reported_flagged_with_what_it_holds(how: str) -> None:
    d = TlsDissector(make_flow())
    rec = record(22, CUT_HELLO, version=0x0301)
    events = d.feed(rec[: 5 + SNI_END + 3], True, CAPTURE_TS)
    assert not of(events, TlsClientHello)  # still waiting for the rest
    if how == "gap":
        events += d.gap(len(rec) - 5 - SNI_END - 3, True, CAPTURE_TS + 1)
        events += d.feed(record(22, SHD), False, CAPTURE_TS + 2)
    events += d.close(CAPTURE_TS + 3)
    (hello,) = of(events, TlsClientHello)
    assert hello.truncated and hello.ts == CAPTURE_TS
    assert hello.server_name == "cut.example.com" and hello.ciphers == (0x1301, 0xC02F, 0xC030, 0x009C)
    assert hello.ja3 is None and hello.ja4 == ""
    hs_rec = the_handshake(events)
    assert hs_rec.server_name == "cut.example.com" and hs_rec.client_hellos == 1 and hs_rec.ja4 is None
    tracker = TlsTracker()
    for ev in events:
        if type(ev) in TlsTracker.EVENT_TYPES:
            tracker.handle(ev)
    tls = tracker.finish()["tls"]
    assert tls["client_hello"] == 0 and tls["client_hello_truncated"] == 1 and tls["sni"] == {}


def test_whole_hello_is_not_truncated_and_a_stub_is_not_a_hello() -> None:
    events = feed_all(TlsDissector(make_flow()), [(True, record(22, CUT_HELLO))])
    (hello,) = of(events, TlsClientHello)
    assert not hello.truncated and hello.ja4
    d = TlsDissector(make_flow())
    events = d.feed(record(22, CUT_HELLO)[:10], True, CAPTURE_TS) + d.close(CAPTURE_TS)  # 5 hello bytes
    assert of(events, TlsClientHello) == [] and of(events, TlsHandshake) == []


@given(st.binary(max_size=300))
def test_truncated_hello_parser_only_raises_malformed(data: bytes) -> None:
    from analyzer.dissectors.tls import parse_truncated_client_hello

    try:
        fields = parse_truncated_client_hello(data)
    except Malformed:
        assert len(data) < 2
    else:
        assert fields.truncated


# -- retransmitted and duplicated hellos, through the pipeline ------------------------------------------


def test_retransmitted_and_duplicated_hello_counts_once(tmp_path: Path) -> None:
    hello = record(22, CUT_HELLO, version=0x0301)
    frames = conversation_frames(
        CLIENT_IP,
        SERVER_IP,
        443,
        [(True, hello), (False, record(22, SH12))],
        pure_acks=False,
        final_ack=False,
    )
    # frames: SYN, SYN/ACK, ACK, hello, ServerHello, FIN, FIN: retransmit the hello, duplicate the reply
    frames = [*frames[:4], frames[3], frames[4], frames[4], *frames[5:]]
    path = write_pcap(tmp_path / "retrans.pcap", ((int(CAPTURE_TS) + i, 0, f) for i, f in enumerate(frames)))
    tls = analyze_json(str(path))["tls"]
    assert tls["client_hello"] == 1 and tls["server_hello"] == 1
    if shutil.which("tshark"):
        _compare(str(path))


# -- the edge sample, against tshark ------------------------------------------------------------------------

EDGE = SAMPLES / "tls_edge.pcap"


@needs_tshark
def test_tls_edge_sample_agrees_with_tshark() -> None:
    """Snapped hello (443), retransmitted hello and duplicated reply (443), TLS on 9443, MySQL (3306)
    and PostgreSQL (5432) upgrades, and a PostgreSQL session that stays in clear text."""
    _compare(str(EDGE))
    ours = analyze_json(str(EDGE))
    theirs = tshark_tls(str(EDGE))
    ports = Counter(h["id.resp_p"] for h in ours["tls"]["handshakes"] if "C" in h["history"])
    assert ports == {443: 2, 9443: 1, 3306: 1, 5432: 1}
    assert theirs["ch"]["n"] == 4  # tshark 4.0 shows only the record header of the snapped hello
    snapped = tshark_frame_count(str(EDGE), "tls.record.content_type == 22 && _ws.short")
    assert ours["tls"]["client_hello_truncated"] == snapped == 1
    cut = [h for h in ours["tls"]["handshakes"] if h["server_name"] == "cut.example.com"]
    assert len(cut) == 1 and cut[0]["history"].endswith("C")
    assert [(u["protocol"], u["id.resp_p"]) for u in ours["upgrades"]] == [
        ("mysql", 3306),
        ("postgresql", 5432),
    ]
    assert ours["services"]["postgresql"]["flows"] == 2 and ours["services"]["mysql"]["flows"] == 1
