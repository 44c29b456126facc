"""Tests for DNS: message parser (names, compression, rdata), UDP parser, TCP framing, tracker, report.

Messages are built byte by byte here (so compression pointers are exactly where a test wants them)
and frames with scapy; counts are compared with tshark on the samples and the shared real captures.
"""

from __future__ import annotations

import struct
from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

from analyzer.decode import Decoder, packet
from analyzer.dissectors import dns
from analyzer.dissectors.dns import (
    MAX_RECORDS_PER_MESSAGE,
    QTYPE_NAMES,
    DnsMessageEvent,
    DnsTcpDissector,
    DnsWeird,
    MxData,
    SoaData,
    SrvData,
    opcode_name,
    parse,
    parse_message,
    parse_message_partial,
    qclass_name,
    qtype_name,
    rcode_name,
    rdata_text,
    read_name,
)
from analyzer.errors import Malformed
from analyzer.flows import FlowTable
from analyzer.report.sections.dns import dns_tables
from analyzer.report.terminal import render
from analyzer.trackers import dns as dns_tracker
from tests.oracle import (
    SAMPLES,
    needs_shared,
    needs_tshark,
    shared_entry,
    summary_of_frames,
    truth,
    tshark_fields,
)

# --- building messages ---------------------------------------------------------------------------


def name(text: str) -> bytes:
    """Uncompressed wire form of a dotted name ("" is the root)."""
    out = b"".join(bytes([len(lab)]) + lab.encode() for lab in text.split(".") if lab)
    return out + b"\0"


def ptr(offset: int) -> bytes:
    return struct.pack("!H", 0xC000 | offset)


def header(
    ident: int = 0x1234, flags: int = 0x0100, qd: int = 0, an: int = 0, ns: int = 0, ar: int = 0
) -> bytes:
    return struct.pack("!HHHHHH", ident, flags, qd, an, ns, ar)


def question(qname: bytes, qtype: int = 1, qclass: int = 1) -> bytes:
    return qname + struct.pack("!HH", qtype, qclass)


def rr(owner: bytes, rtype: int, rdata: bytes, ttl: int = 300, rclass: int = 1) -> bytes:
    return owner + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata


RESPONSE = 0x8180  # QR, RD, RA, NOERROR


def query_msg(qname: str = "www.example.com", qtype: int = 1, ident: int = 0x1234) -> bytes:
    return header(ident, 0x0100, qd=1) + question(name(qname), qtype)


def response_msg(
    qname: str = "www.example.com",
    qtype: int = 1,
    ident: int = 0x1234,
    flags: int = RESPONSE,
    answers: list[tuple[int, bytes]] | None = None,
    authority: list[tuple[int, bytes]] | None = None,
) -> bytes:
    """A response whose records all use a pointer to the question name (offset 12)."""
    answers = answers if answers is not None else [(1, bytes([192, 0, 2, 10]))]
    authority = authority or []
    body = header(ident, flags, qd=1, an=len(answers), ns=len(authority)) + question(name(qname), qtype)
    for rtype, rdata in answers + authority:
        body += rr(ptr(12), rtype, rdata)
    return body


# --- names and compression -----------------------------------------------------------------------


def test_plain_and_root_names() -> None:
    data = header() + name("www.example.com") + name("")
    assert read_name(data, 12) == ("www.example.com", 12 + 17)
    assert read_name(data, 29) == ("<Root>", 30)


def test_good_compression_chain() -> None:
    # "example.com" at 12; "www" + pointer to it at 25; "a" + pointer to "www.example.com" at 31
    data = header() + name("example.com") + b"\x03www" + ptr(12) + b"\x01a" + ptr(25)
    assert read_name(data, 12) == ("example.com", 25)
    assert read_name(data, 25) == ("www.example.com", 31)
    assert read_name(data, 31) == ("a.www.example.com", 35)
    cache: dns.NameCache = {}
    assert read_name(data, 31, cache)[0] == "a.www.example.com"
    # the name read and every pointer target it passed: (text from there, wire length from there)
    assert cache == {31: ("a.www.example.com", 19), 25: ("www.example.com", 17), 12: ("example.com", 13)}
    assert read_name(data, 35 - 2, cache) == ("www.example.com", 35)  # served from the cache


def test_pointer_to_itself_is_a_loop() -> None:
    data = header() + ptr(12)
    with pytest.raises(Malformed) as exc:
        read_name(data, 12)
    assert exc.value.reason == "dns.pointer_loop"


def test_pointer_into_own_run_is_a_loop() -> None:
    # a label then a pointer back to that label's start: points backwards but inside its own run
    data = header() + b"\x03abc" + ptr(12)
    with pytest.raises(Malformed) as exc:
        read_name(data, 12)
    assert exc.value.reason == "dns.pointer_loop"


def test_two_pointers_chasing_each_other_is_a_loop() -> None:
    # name at 14 points to 12, which points to 14: the second jump does not land earlier
    data = header() + ptr(14) + ptr(12)
    with pytest.raises(Malformed) as exc:
        read_name(data, 14)
    assert exc.value.reason in ("dns.pointer_loop", "dns.pointer_forward")
    with pytest.raises(Malformed) as exc:
        read_name(data, 12)
    assert exc.value.reason == "dns.pointer_forward"


def test_forward_pointer() -> None:
    data = header() + b"\x03www" + ptr(20) + name("example.com")
    with pytest.raises(Malformed) as exc:
        read_name(data, 12)
    assert exc.value.reason == "dns.pointer_forward"


def test_out_of_bounds_pointer() -> None:
    data = header() + b"\x03www" + ptr(0x3FFF)
    with pytest.raises(Malformed) as exc:
        read_name(data, 12)
    assert exc.value.reason == "dns.pointer_out_of_bounds"


def test_cut_pointer_and_cut_label() -> None:
    for data in (header() + b"\xc0", header() + b"\x05ab", header() + b"\x03www"):
        with pytest.raises(Malformed) as exc:
            read_name(data, 12)
        assert exc.value.reason == "dns.name_truncated"


@pytest.mark.parametrize("kind", [0x40, 0x80])
def test_reserved_label_types(kind: int) -> None:
    data = header() + bytes([kind | 1]) + b"a\0"
    with pytest.raises(Malformed) as exc:
        read_name(data, 12)
    assert exc.value.reason == "dns.bad_label_type"


def test_label_of_63_is_fine_and_name_over_255_is_not() -> None:
    label = "a" * 63
    ok = ".".join([label] * 3 + ["b" * 61])  # 4 * 64 - 2 + 1 = 255 bytes on the wire
    assert len(name(ok)) == 255
    assert read_name(header() + name(ok), 12)[0] == ok
    too_long = ok + "c"
    with pytest.raises(Malformed) as exc:
        read_name(header() + name(too_long.replace("bc", "b.c")), 12)
    assert exc.value.reason == "dns.name_too_long"


def test_name_over_255_through_pointers() -> None:
    base = name(".".join(["a" * 63] * 3))  # 193 bytes at 12
    data = header() + base + b"\x3f" + b"x" * 63 + ptr(12)  # 64 more: 257
    with pytest.raises(Malformed) as exc:
        read_name(data, 12 + len(base))
    assert exc.value.reason == "dns.name_too_long"
    # the same through the cache
    cache: dns.NameCache = {}
    read_name(data, 12, cache)
    data2 = data
    with pytest.raises(Malformed):
        read_name(data2, 12 + len(base), cache)


def test_label_escapes() -> None:
    data = header() + b"\x03a.b" + b"\x03a b" + b"\x02\xff\\" + b"\0"
    assert read_name(data, 12)[0] == "a\\.b.a\\032b.\\255\\\\"


# --- tables ----------------------------------------------------------------------------------------

IANA_TYPES = {
    "A": 1, "NS": 2, "MD": 3, "MF": 4, "CNAME": 5, "SOA": 6, "MB": 7, "MG": 8, "MR": 9, "NULL": 10,
    "WKS": 11, "PTR": 12, "HINFO": 13, "MINFO": 14, "MX": 15, "TXT": 16, "RP": 17, "AFSDB": 18,
    "SIG": 24, "KEY": 25, "AAAA": 28, "LOC": 29, "SRV": 33, "NAPTR": 35, "KX": 36, "CERT": 37,
    "DNAME": 39, "OPT": 41, "APL": 42, "DS": 43, "SSHFP": 44, "IPSECKEY": 45, "RRSIG": 46, "NSEC": 47,
    "DNSKEY": 48, "DHCID": 49, "NSEC3": 50, "NSEC3PARAM": 51, "TLSA": 52, "SMIMEA": 53, "HIP": 55,
    "CDS": 59, "CDNSKEY": 60, "OPENPGPKEY": 61, "CSYNC": 62, "ZONEMD": 63, "SVCB": 64, "HTTPS": 65,
    "SPF": 99, "EUI48": 108, "EUI64": 109, "TKEY": 249, "TSIG": 250, "IXFR": 251, "AXFR": 252,
    "MAILB": 253, "MAILA": 254, "ANY": 255, "URI": 256, "CAA": 257,
}  # fmt: skip


@pytest.mark.parametrize(("mnemonic", "number"), sorted(IANA_TYPES.items()))
def test_every_listed_record_type_has_its_iana_name(mnemonic: str, number: int) -> None:
    assert qtype_name(number) == mnemonic
    data = query_msg("example.com", number)
    assert parse_message(data).questions[0].qtype_name == mnemonic


def test_unknown_and_obsolete_types_show_as_type_n() -> None:
    assert qtype_name(30) == "TYPE30"  # NXT, as the reference truth shows it
    assert qtype_name(65280) == "TYPE65280"
    assert len(set(QTYPE_NAMES.values())) == len(QTYPE_NAMES)


def test_rcode_opcode_class_names() -> None:
    expected = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET"]
    expected += ["NXRRSET", "NOTAUTH", "NOTZONE"]
    assert [rcode_name(i) for i in range(11)] == expected
    assert rcode_name(16) == "BADVERS" and rcode_name(23) == "BADCOOKIE" and rcode_name(12) == "RCODE12"
    assert [opcode_name(i) for i in (0, 1, 2, 4, 5, 6, 3)] == [
        "QUERY", "IQUERY", "STATUS", "NOTIFY", "UPDATE", "DSO", "OPCODE3",
    ]  # fmt: skip
    assert qclass_name(1) == "IN" and qclass_name(3) == "CH" and qclass_name(0x8001) == "CLASS32769"


# --- messages and rdata --------------------------------------------------------------------------


def test_header_flags() -> None:
    flags = 0x8000 | (4 << 11) | 0x0400 | 0x0200 | 0x0100 | 0x0080 | 0x0020 | 0x0010 | 5
    msg = parse_message(header(0xBEEF, flags))
    assert (msg.id, msg.qr, msg.opcode, msg.aa, msg.tc, msg.rd, msg.ra) == (0xBEEF, True, 4, *[True] * 4)
    assert (msg.ad, msg.cd, msg.z, msg.rcode) == (True, True, 3, 5)
    plain = parse_message(header(1, 0))
    assert not (plain.qr or plain.aa or plain.tc or plain.rd or plain.ra or plain.ad or plain.cd)


def test_extended_rcode_from_opt() -> None:
    opt = b"\0" + struct.pack("!HHIH", 41, 1232, 1 << 24, 0)  # upper rcode bits = 1
    msg = parse_message(header(1, 0x8000, ar=1) + opt)
    assert msg.rcode == 0 and msg.extended_rcode == 16
    assert rcode_name(msg.extended_rcode) == "BADVERS"


def _answers(*records: tuple[int, bytes]) -> Any:
    return parse_message(response_msg(answers=list(records))).answers


def test_decode_a_and_aaaa() -> None:
    a, aaaa = _answers((1, bytes([192, 0, 2, 1])), (28, bytes.fromhex("20010db8" + "00" * 11 + "01")))
    assert a.data == "192.0.2.1" and a.rtype_name == "A" and a.ttl == 300 and a.name == "www.example.com"
    assert aaaa.data == "2001:db8::1"
    assert rdata_text(a) == "192.0.2.1"


def test_decode_cname_ns_ptr_with_compression() -> None:
    # rdata "cdn" + pointer to the question name at 12
    target = b"\x03cdn" + ptr(12)
    cname, ns, ptr_rr = _answers((5, target), (2, target), (12, target))
    assert cname.data == ns.data == ptr_rr.data == "cdn.www.example.com"
    assert [r.rtype_name for r in (cname, ns, ptr_rr)] == ["CNAME", "NS", "PTR"]


def test_decode_mx() -> None:
    (mx,) = _answers((15, struct.pack("!H", 10) + b"\x04mail" + ptr(16)))
    assert mx.data == MxData(10, "mail.example.com")
    assert rdata_text(mx) == "10 mail.example.com"


def test_decode_txt() -> None:
    (txt,) = _answers((16, b"\x0bv=spf1 -all" + b"\x00" + b'\x03a"\x01'))
    assert txt.data == (b"v=spf1 -all", b"", b'a"\x01')
    assert rdata_text(txt) == '"v=spf1 -all" "" "a\\"\\001"'


def test_decode_soa() -> None:
    rdata = (
        b"\x03ns1"
        + ptr(16)
        + b"\x0ahostmaster"
        + ptr(16)
        + struct.pack("!IIIII", 2024, 7200, 900, 1209600, 300)
    )
    (soa,) = _answers((6, rdata))
    assert soa.data == SoaData("ns1.example.com", "hostmaster.example.com", 2024, 7200, 900, 1209600, 300)
    assert rdata_text(soa) == "ns1.example.com hostmaster.example.com 2024 7200 900 1209600 300"


def test_decode_srv_and_keep_unknown_raw() -> None:
    srv, caa = _answers(
        (33, struct.pack("!HHH", 1, 5, 5060) + name("sip.example.com")), (257, b"\0\x05issueca")
    )
    assert srv.data == SrvData(1, 5, 5060, "sip.example.com")
    assert caa.data is None and caa.rdata == b"\0\x05issueca"
    assert rdata_text(caa) == "\\# 9 000569737375656361"  # RFC 3597 generic form


@pytest.mark.parametrize(
    ("rtype", "rdata", "reason"),
    [
        (1, b"\1\2\3", "dns.bad_rdata"),
        (28, b"\0" * 4, "dns.bad_rdata"),
        (5, name("a.b") + b"x", "dns.bad_rdata"),
        (15, b"\0", "dns.bad_rdata"),
        (16, b"\x05abc", "dns.bad_rdata"),
        (6, name("a") + name("b") + b"\0" * 19, "dns.bad_rdata"),
        (5, b"\x05ab", "dns.name_truncated"),  # the name runs past the message
    ],
)
def test_bad_rdata(rtype: int, rdata: bytes, reason: str) -> None:
    good = (1, bytes([192, 0, 2, 9]))
    data = response_msg(answers=[good, (rtype, rdata)])
    with pytest.raises(Malformed) as exc:
        parse_message(data)
    assert exc.value.reason == reason
    partial, error = parse_message_partial(data)
    assert error is not None and error.reason == reason
    assert len(partial.questions) == 1 and [r.data for r in partial.answers] == ["192.0.2.9"]


def test_rdata_name_running_into_the_next_record() -> None:
    # CNAME rdata of 2 bytes ("\x01a"); the next record's owner (a pointer) would complete the name
    data = response_msg(answers=[(5, b"\x01a"), (1, b"\1\2\3\4")])
    with pytest.raises(Malformed) as exc:
        parse_message(data)
    assert exc.value.reason == "dns.bad_rdata" and "past the rdata" in exc.value.detail


def test_truncated_message_keeps_what_was_read() -> None:
    data = response_msg(answers=[(1, b"\1\2\3\4"), (1, b"\5\6\7\x08")])[:-3]
    partial, error = parse_message_partial(data)
    assert error is not None and error.reason == "dns.truncated"
    assert (
        partial.ancount == 2 and len(partial.answers) == 1 and partial.questions[0].name == "www.example.com"
    )


def test_header_claims_more_questions_than_present() -> None:
    data = header(1, 0x0100, qd=3) + question(name("a.example"), 28)
    partial, error = parse_message_partial(data)
    assert error is not None and error.reason == "dns.name_truncated"
    assert [q.qtype_name for q in partial.questions] == ["AAAA"]


def test_record_cap() -> None:
    n = MAX_RECORDS_PER_MESSAGE + 1
    data = header(1, 0x0100, qd=n) + question(name("x"), 1) + question(ptr(12), 1) * (n - 1)
    with pytest.raises(Malformed) as exc:
        parse_message(data)
    assert exc.value.reason == "dns.too_many_records"
    partial, _ = parse_message_partial(data)
    assert len(partial.questions) == MAX_RECORDS_PER_MESSAGE


def test_short_header() -> None:
    with pytest.raises(Malformed) as exc:
        parse_message_partial(b"\0" * 11)
    assert exc.value.reason == "dns.short_header"


def test_scapy_built_message_parses() -> None:
    """A message as another implementation writes it (scapy compresses names on request)."""
    pkt = DNS(
        id=7,
        qr=1,
        rd=1,
        ra=1,
        qd=DNSQR(qname="host.example.org", qtype="A"),
        an=[
            DNSRR(rrname="host.example.org", type="CNAME", rdata="edge.example.org", ttl=60),
            DNSRR(rrname="edge.example.org", type="A", rdata="198.51.100.7", ttl=30),
        ],
    )
    msg = parse_message(bytes(pkt.compress()))
    assert msg.questions[0].name == "host.example.org"
    assert [(r.rtype_name, r.data, r.ttl) for r in msg.answers] == [
        ("CNAME", "edge.example.org", 60),
        ("A", "198.51.100.7", 30),
    ]


# --- fuzz ------------------------------------------------------------------------------------------

VALID = [
    response_msg(answers=[(1, b"\1\2\3\4"), (5, b"\x03cdn" + ptr(12)), (16, b"\x02hi")]),
    response_msg(answers=[(15, b"\0\x0a" + ptr(12)), (6, ptr(12) + ptr(12) + b"\0" * 20)]),
    query_msg("a.b.c.example", 28),
]


@given(st.binary(max_size=600))
def test_fuzz_random_bytes_only_malformed(data: bytes) -> None:
    try:
        msg = parse_message(data)
    except Malformed:
        return
    assert msg.size == len(data)


@given(st.sampled_from(VALID), st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=6))
def test_fuzz_mutated_messages_only_malformed(base: bytes, edits: list[tuple[int, int]]) -> None:
    data = bytearray(base)
    for pos, value in edits:
        data[pos % len(data)] = value
    try:
        msg, _ = parse_message_partial(bytes(data))
    except Malformed:
        return
    for rr_ in msg.answers:
        rdata_text(rr_)


# --- frames and the UDP parser ---------------------------------------------------------------------

CLIENT, SERVER, SERVER2 = "192.0.2.10", "198.51.100.53", "198.51.100.54"
ETH = Ether(src="00:00:5e:00:53:01", dst="00:00:5e:00:53:02")
"""Explicit MACs: scapy would otherwise try ARP resolution while building frames."""


def udp_frame(src: str, dst: str, sport: int, dport: int, payload: bytes) -> bytes:
    ip = IPv6(src=src, dst=dst) if ":" in src else IP(src=src, dst=dst)
    return bytes(ETH / ip / UDP(sport=sport, dport=dport) / payload)


def run(frames: list[tuple[float, bytes]]) -> dict[str, Any]:
    return summary_of_frames(frames)


def test_parse_datagram_event() -> None:
    pkt = Decoder().decode(1.5, 1, udp_frame(CLIENT, SERVER, 40000, 53, query_msg()), 100)
    (event,) = parse(pkt.payload, pkt)
    assert isinstance(event, DnsMessageEvent)
    assert (event.service, event.proto, event.src_h, event.dst_h) == ("dns", "udp", CLIENT, SERVER)
    assert event.message.questions[0].name == "www.example.com" and event.malformed is None
    pkt = Decoder().decode(1.5, 1, udp_frame(CLIENT, "224.0.0.251", 5353, 5353, query_msg()), 100)
    assert parse(pkt.payload, pkt)[0].service == "mdns"  # type: ignore[attr-defined]
    with pytest.raises(Malformed):
        parse(b"\0\1\2", pkt)


def test_pipeline_pairs_counts_and_decodes() -> None:
    ns_rdata = b"\x03ns1" + ptr(16)
    frames = [
        (10.0, udp_frame(CLIENT, SERVER, 40000, 53, query_msg("www.example.com", 1, 1))),
        (10.02, udp_frame(SERVER, CLIENT, 53, 40000, response_msg("www.example.com", 1, 1))),
        (11.0, udp_frame(CLIENT, SERVER, 40001, 53, query_msg("nope.example.com", 28, 2))),
        (11.5, udp_frame(SERVER, CLIENT, 53, 40001, response_msg("nope.example.com", 28, 2, 0x8183, []))),
        # retransmitted after 1 s, answered once (rtt from the first send)
        (12.0, udp_frame(CLIENT, SERVER, 40002, 53, query_msg("slow.example.com", 1, 3))),
        (13.0, udp_frame(CLIENT, SERVER, 40002, 53, query_msg("slow.example.com", 1, 3))),
        (13.1, udp_frame(SERVER, CLIENT, 53, 40002, response_msg("slow.example.com", 1, 3))),
        # a referral from a non-recursive server: no answers, NS in authority
        (14.0, udp_frame(CLIENT, SERVER2, 40003, 53, query_msg("www.example.com", 1, 4))),
        (
            14.01,
            udp_frame(
                SERVER2, CLIENT, 53, 40003, response_msg("www.example.com", 1, 4, 0x8100, [], [(2, ns_rdata)])
            ),
        ),
        # an authoritative answer
        (14.1, udp_frame(CLIENT, SERVER2, 40004, 53, query_msg("www.example.com", 1, 5))),
        (14.11, udp_frame(SERVER2, CLIENT, 53, 40004, response_msg("www.example.com", 1, 5, 0x8500))),
        # never answered, a response nobody asked for
        (15.0, udp_frame(CLIENT, SERVER, 40005, 53, query_msg("lost.example.com", 16, 6))),
        (15.5, udp_frame(SERVER, CLIENT, 53, 40006, response_msg("stray.example.com", 1, 7))),
        # mDNS and LLMNR are counted in their own sections
        (16.0, udp_frame(CLIENT, "224.0.0.251", 5353, 5353, query_msg("printer.local", 12, 0))),
        (16.1, udp_frame(CLIENT, "224.0.0.252", 50000, 5355, query_msg("wpad", 1, 8))),
    ]
    out = run(frames)
    d = out["dns"]
    assert d["query_count"] == 7 and d["response_count"] == 6
    assert d["queries_by_qtype"] == {"A": 5, "AAAA": 1, "TXT": 1}
    assert d["responses_by_rcode"] == {"NOERROR": 5, "NXDOMAIN": 1}
    assert d["opcodes"] == {"QUERY": 13}
    tx = d["transactions"]
    assert (tx["answered"], tx["unanswered"], tx["retransmissions"], tx["unmatched_responses"]) == (
        5,
        1,
        1,
        1,
    )
    assert tx["rtt_median"] == pytest.approx(0.02) and tx["rtt_p95"] == pytest.approx(1.1)
    assert d["referrals"] == 1
    assert [r["host"] for r in d["resolvers"]] == [SERVER]
    assert d["resolvers"][0]["clients"] == 1 and d["resolvers"][0]["responses"] == 4
    assert d["authoritative"] == [{"host": SERVER2, "responses": 2, "aa_responses": 1, "clients": 1}]
    assert d["top_names"][0] == {"name": "www.example.com", "count": 3}
    assert d["nxdomain_names"] == [{"name": "nope.example.com", "count": 1}]
    assert d["clients"] == [{"host": CLIENT, "queries": 7, "qtypes": {"A": 5, "AAAA": 1, "TXT": 1}}]
    assert [(u["query"], u["qtype_name"], u["rcode"]) for u in d["unanswered"]] == [
        ("lost.example.com", "TXT", None)
    ]
    rows = {(r["trans_id"], r["query"]): r for r in d["answers"]}
    first = rows[(1, "www.example.com")]
    assert (
        first["answers"] == ["192.0.2.10"]
        and first["TTLs"] == [300.0]
        and first["rtt"] == pytest.approx(0.02)
    )
    assert (first["id.orig_h"], first["id.resp_p"], first["proto"], first["rcode_name"]) == (
        CLIENT,
        53,
        "udp",
        "NOERROR",
    )
    assert (first["RD"], first["RA"], first["AA"], first["rejected"]) == (True, True, False, False)
    assert rows[(2, "nope.example.com")]["rejected"] is True
    assert rows[(3, "slow.example.com")]["rtt"] == pytest.approx(1.1)
    assert rows[(5, "www.example.com")]["AA"] is True
    assert rows[(7, "stray.example.com")]["rtt"] is None
    assert set(first) >= {"ts", "uid", "qclass", "qclass_name", "qtype", "TC", "Z", "trans_id"}
    assert out["mdns"]["query_count"] == 1 and out["mdns"]["queries_by_qtype"] == {"PTR": 1}
    assert out["llmnr"]["query_count"] == 1 and out["llmnr"]["top_names"] == [{"name": "wpad", "count": 1}]


def test_query_expires_after_timeout() -> None:
    late = dns_tracker.QUERY_TIMEOUT + 15
    frames = [
        (100.0, udp_frame(CLIENT, SERVER, 40000, 53, query_msg("a.example", 1, 1))),
        (100.0 + late, udp_frame(CLIENT, SERVER, 40001, 53, query_msg("b.example", 1, 2))),
        (100.0 + late + 0.5, udp_frame(SERVER, CLIENT, 53, 40000, response_msg("a.example", 1, 1))),
        (100.0 + late + 0.6, udp_frame(SERVER, CLIENT, 53, 40001, response_msg("b.example", 1, 2))),
    ]
    tx = run(frames)["dns"]["transactions"]
    assert (tx["answered"], tx["unanswered"], tx["unmatched_responses"]) == (1, 1, 1)


def test_pending_table_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dns_tracker, "MAX_PENDING_QUERIES", 3)
    frames = [
        (1.0 + i, udp_frame(CLIENT, SERVER, 41000, 53, query_msg(f"n{i}.example", 1, i))) for i in range(5)
    ]
    frames.append((9.0, udp_frame(SERVER, CLIENT, 53, 41000, response_msg("n0.example", 1, 0))))
    frames.append((9.1, udp_frame(SERVER, CLIENT, 53, 41000, response_msg("n4.example", 1, 4))))
    tx = run(frames)["dns"]["transactions"]
    assert tx["pending_overflow"] == 2 and tx["answered"] == 1 and tx["unmatched_responses"] == 1
    assert tx["unanswered"] == 2


def test_same_id_different_question_is_not_a_retransmission() -> None:
    frames = [
        (1.0, udp_frame(CLIENT, SERVER, 41000, 53, query_msg("a.example", 1, 9))),
        (1.1, udp_frame(CLIENT, SERVER, 41000, 53, query_msg("a.example", 28, 9))),
        (1.2, udp_frame(SERVER, CLIENT, 53, 41000, response_msg("a.example", 28, 9))),
        (1.3, udp_frame(SERVER, CLIENT, 53, 41000, response_msg("a.example", 1, 9))),
    ]
    d = run(frames)["dns"]
    assert d["transactions"]["retransmissions"] == 0 and d["transactions"]["answered"] == 2
    assert {(r["qtype_name"], round(r["rtt"], 3)) for r in d["answers"]} == {("A", 0.3), ("AAAA", 0.1)}


def test_malformed_body_still_counted() -> None:
    bad = response_msg(answers=[(1, b"\1\2\3")])
    frames = [(1.0, udp_frame(SERVER, CLIENT, 53, 41000, bad))]
    d = run(frames)["dns"]
    assert d["response_count"] == 1 and d["responses_by_rcode"] == {"NOERROR": 1}
    assert d["malformed"] == {"dns.bad_rdata": 1}


# --- TCP -------------------------------------------------------------------------------------------


def framed(msg: bytes) -> bytes:
    return struct.pack("!H", len(msg)) + msg


def tcp_dissector() -> DnsTcpDissector:
    pkt = Decoder().decode(
        0.0, 1, bytes(ETH / IP(src=CLIENT, dst=SERVER) / TCP(sport=40000, dport=53, flags="S")), 60
    )
    flow, _, _ = FlowTable().find(pkt)
    return DnsTcpDissector(flow)


TCP_MESSAGES = [query_msg("a.example", 1, 1), query_msg("b.example", 28, 2), query_msg("c.example", 15, 3)]
TCP_STREAM = b"".join(framed(m) for m in TCP_MESSAGES)


def _names(events: list[object]) -> list[str]:
    return [e.message.questions[0].name for e in events if isinstance(e, DnsMessageEvent)]


def test_tcp_whole_stream_several_per_segment() -> None:
    d = tcp_dissector()
    events = d.feed(TCP_STREAM, True, 1.0)
    assert _names(events) == ["a.example", "b.example", "c.example"]
    assert all(isinstance(e, DnsMessageEvent) and e.proto == "tcp" and e.is_orig for e in events)
    assert d.close(2.0) == []


def test_tcp_byte_by_byte() -> None:
    d = tcp_dissector()
    events: list[object] = []
    for i in range(len(TCP_STREAM)):
        events += d.feed(TCP_STREAM[i : i + 1], True, 1.0)
    assert _names(events) == ["a.example", "b.example", "c.example"]
    assert d.close(2.0) == []


@pytest.mark.parametrize("cut", [1, 2, 5, 20, len(framed(TCP_MESSAGES[0])) + 1])
def test_tcp_split_across_segments(cut: int) -> None:
    d = tcp_dissector()
    first = d.feed(TCP_STREAM[:cut], True, 1.0)
    rest = d.feed(TCP_STREAM[cut:], True, 1.1)
    assert _names(first + rest) == ["a.example", "b.example", "c.example"]
    assert all(e.ts == 1.1 for e in rest)  # type: ignore[attr-defined]


def test_tcp_trailing_data_is_reported_at_close() -> None:
    d = tcp_dissector()
    events = d.feed(TCP_STREAM + b"\x00\x40\x12\x34", True, 1.0)
    assert len(_names(events)) == 3
    (weird,) = d.close(2.0)
    assert isinstance(weird, DnsWeird) and weird.reason == "dns.tcp_incomplete"


def test_tcp_directions_are_independent() -> None:
    d = tcp_dissector()
    reply = framed(response_msg("a.example", 1, 1))
    out = d.feed(TCP_STREAM[:7], True, 1.0) + d.feed(reply[:9], False, 1.1)
    out += d.feed(TCP_STREAM[7:], True, 1.2) + d.feed(reply[9:], False, 1.3)
    msgs = [e for e in out if isinstance(e, DnsMessageEvent)]
    assert [(m.is_orig, m.message.qr) for m in msgs] == [
        (True, False),
        (True, False),
        (True, False),
        (False, True),
    ]


def test_tcp_short_message_is_a_weird_and_framing_continues() -> None:
    d = tcp_dissector()
    events = d.feed(framed(b"") + framed(b"\1\2\3") + framed(TCP_MESSAGES[0]), True, 1.0)
    assert [e.reason for e in events if isinstance(e, DnsWeird)] == ["dns.short_header", "dns.short_header"]
    assert _names(events) == ["a.example"]


def test_tcp_gap_inside_a_message_loses_only_that_message() -> None:
    d = tcp_dissector()
    one = framed(TCP_MESSAGES[0])
    out = d.feed(one[:6], True, 1.0)
    out += d.gap(4, True, 1.1)
    out += d.feed(one[10:] + framed(TCP_MESSAGES[1]), True, 1.2)
    assert [e.reason for e in out if isinstance(e, DnsWeird)] == ["dns.tcp_gap"]
    assert _names(out) == ["b.example"]


def test_tcp_gap_over_a_length_prefix_gives_up_the_direction() -> None:
    d = tcp_dissector()
    one = framed(TCP_MESSAGES[0])
    out = d.feed(one[:6], True, 1.0) + d.gap(len(one), True, 1.1) + d.feed(TCP_STREAM, True, 1.2)
    assert _names(out) == [] and len(out) == 1 and isinstance(out[0], DnsWeird)
    assert _names(d.feed(framed(response_msg()), False, 1.3)) == ["www.example.com"]  # other side goes on


@given(st.lists(st.integers(1, 40), max_size=30), st.binary(max_size=80))
def test_fuzz_tcp_chunking(cuts: list[int], junk: bytes) -> None:
    stream = TCP_STREAM + junk
    d = tcp_dissector()
    events: list[object] = []
    pos = 0
    for c in cuts:
        events += d.feed(stream[pos : pos + c], True, 1.0)
        pos += c
    events += d.feed(stream[pos:], True, 1.0)
    events += d.close(2.0)
    assert _names(events)[:3] == ["a.example", "b.example", "c.example"]
    assert all(isinstance(e, DnsMessageEvent | DnsWeird) for e in events)


def test_tcp_through_the_pipeline() -> None:
    def seg(
        src: str, sport: int, dst: str, dport: int, flags: str, seq: int, ack: int, data: bytes = b""
    ) -> bytes:
        return bytes(
            ETH / IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack) / data
        )

    c, s = (CLIENT, 40000), (SERVER, 53)
    replies = framed(response_msg("a.example", 1, 1)) + framed(response_msg("b.example", 28, 2, 0x8183, []))
    frames = [
        (1.0, seg(*c, *s, "S", 1000, 0)),
        (1.01, seg(*s, *c, "SA", 5000, 1001)),
        (1.02, seg(*c, *s, "A", 1001, 5001)),
        (1.03, seg(*c, *s, "PA", 1001, 5001, TCP_STREAM[:30])),
        (1.04, seg(*c, *s, "PA", 1031, 5001, TCP_STREAM[30:])),
        (1.10, seg(*s, *c, "PA", 5001, 1001 + len(TCP_STREAM), replies[:20])),
        (1.11, seg(*s, *c, "PA", 5021, 1001 + len(TCP_STREAM), replies[20:])),
    ]
    d = run(frames)["dns"]
    assert d["query_count"] == 3 and d["response_count"] == 2 and d["messages_over_tcp"] == 5
    assert d["queries_by_qtype"] == {"A": 1, "AAAA": 1, "MX": 1}
    assert d["responses_by_rcode"] == {"NOERROR": 1, "NXDOMAIN": 1}
    assert d["transactions"]["answered"] == 2 and d["transactions"]["unanswered"] == 1


# --- report ----------------------------------------------------------------------------------------


def test_terminal_tables_escape_wire_names() -> None:
    evil = "x\x1b[31m.example"
    frames = [
        (
            1.0,
            udp_frame(
                CLIENT, SERVER, 40000, 53, header(1, 0x0100, qd=1) + question(b"\x06x\x1b[31m\x07example\x00")
            ),
        ),
        (1.1, udp_frame(SERVER, CLIENT, 53, 40000, response_msg("www.example.com", 1, 1))),
    ]
    summary = run(frames)
    assert summary["dns"]["top_names"][0]["name"] == "x\\027[31m.example" != evil
    text = render(summary, ["dns"])
    assert "DNS queries by type (1 queries)" in text and "DNS resolvers" in text and "\x1b" not in text
    titles = [t.title for t in dns_tables(summary) if t.rows]
    assert "DNS top queried names" in titles and "Multicast name resolution" not in titles


# --- differential against tshark -------------------------------------------------------------------


def tshark_dns(path: str, proto: str = "dns") -> dict[str, Any]:
    """Per-message counts as the truth's "how" describes: questions follow dns.count.queries (zones)."""
    fields: tuple[str, ...] = ("dns.flags.response", "dns.flags.opcode", "dns.flags.rcode")
    fields += ("dns.count.queries", "dns.count.zones", "dns.qry.type")
    rows = tshark_fields(str(path), f"{proto} && !icmp && !icmpv6", fields)
    queries: Counter[str] = Counter()
    rcodes: Counter[str] = Counter()
    nq = nr = 0
    for row in rows:
        resp, opc, rc, cq, cz, qt = (list(filter(None, v.split(","))) for v in (*row, "", "", "", "", "")[:6])
        rc_it, cq_it, cz_it, qt_it = iter(rc), iter(cq), iter(cz), iter(qt)
        for is_resp, opcode in zip(resp, opc, strict=False):
            n = int(next(cz_it if opcode == "5" else cq_it, "0"))
            types = [qtype_name(int(t)) for t in (next(qt_it, None) for _ in range(n)) if t is not None]
            if is_resp == "1":
                nr += 1
                rcodes[rcode_name(int(next(rc_it)))] += 1
            else:
                nq += 1
                queries.update(types)
    return {
        "query_count": nq,
        "response_count": nr,
        "queries_by_qtype": dict(queries),
        "responses_by_rcode": dict(rcodes),
    }


def ours(section: dict[str, Any]) -> dict[str, Any]:
    return {
        k: section[k] for k in ("query_count", "response_count", "queries_by_qtype", "responses_by_rcode")
    }


def _analyze(path: str) -> dict[str, Any]:
    from tests.oracle import analyze_json

    return analyze_json(path)


SAMPLE_FILES = [p for p in ("dns.pcap", "mixed.pcap") if (SAMPLES / p).exists()]


@needs_tshark
@pytest.mark.parametrize("sample", SAMPLE_FILES)
def test_samples_agree_with_tshark(sample: str) -> None:
    path = str(SAMPLES / sample)
    out = _analyze(path)
    for proto in ("dns", "mdns", "llmnr"):
        assert ours(out[proto]) == tshark_dns(path, proto), proto
    assert out["dns"]["query_count"] > 0


def _truth_dns_files() -> list[str]:
    return [f["file"] for f in truth().get("files", []) if any(k in f for k in ("dns", "mdns", "llmnr"))]


@needs_shared
@needs_tshark
@pytest.mark.parametrize("rel", _truth_dns_files())
def test_shared_captures_agree_with_tshark_and_truth(rel: str) -> None:
    from tests.oracle import SHARED_PCAPS

    path = str(SHARED_PCAPS / rel)
    out = _analyze(path)
    entry = shared_entry(rel)
    for proto in ("dns", "mdns", "llmnr"):
        assert ours(out[proto]) == tshark_dns(path, proto), proto
        t = entry.get(proto)
        if t:
            assert ours(out[proto]) == {
                k: t[k] for k in ("query_count", "response_count", "queries_by_qtype", "responses_by_rcode")
            }
            assert out[proto]["opcodes"] == t["messages_by_opcode"]
            assert out[proto]["responses_by_qtype"] == t["responses_by_qtype"]


def test_dns_log_rows_are_bounded_and_the_rest_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_TRANSACTION_RECORDS, transactions are still paired and counted, but no row is kept."""
    monkeypatch.setattr(dns_tracker, "MAX_TRANSACTION_RECORDS", 2)
    frames = []
    for i in range(5):
        frames.append((1.0 + i, udp_frame(CLIENT, SERVER, 42000 + i, 53, query_msg(f"n{i}.example", 1, i))))
        frames.append(
            (1.5 + i, udp_frame(SERVER, CLIENT, 53, 42000 + i, response_msg(f"n{i}.example", 1, i)))
        )
    d = run(frames)["dns"]
    assert d["transactions"]["answered"] == 5
    assert [r["query"] for r in d["answers"]] == ["n0.example", "n1.example"]
    assert d["transactions"]["records_dropped"] == 3


# --- the cheap parse (2026-12-04): same answers as the straightforward decoder ---------------------


def reference_name(data: bytes, offset: int) -> tuple[str, int]:
    """The name decoder as first written, label by label with no cache of any kind: what the fast
    one (runs decoded at once, per-message and cross-message caches) must answer, error for error."""
    labels: list[str] = []
    pos = run_start = offset
    end: int | None = None
    wire = 0
    while True:
        if pos >= len(data):
            raise Malformed("dns.name_truncated", "")
        length = data[pos]
        if length & 0xC0 == 0xC0:
            if pos + 1 >= len(data):
                raise Malformed("dns.name_truncated", "")
            target = ((length & 0x3F) << 8) | data[pos + 1]
            end = pos + 2 if end is None else end
            if target >= len(data):
                raise Malformed("dns.pointer_out_of_bounds", "")
            if target > pos:
                raise Malformed("dns.pointer_forward", "")
            if target >= run_start:
                raise Malformed("dns.pointer_loop", "")
            pos = run_start = target
            continue
        if length & 0xC0:
            raise Malformed("dns.bad_label_type", "")
        if length == 0:
            return ".".join(labels) or "<Root>", pos + 1 if end is None else end
        if pos + 1 + length > len(data):
            raise Malformed("dns.name_truncated", "")
        wire += 1 + length
        if wire + 1 > 255:
            raise Malformed("dns.name_too_long", "")
        special = {0x2E: "\\.", 0x5C: "\\\\"}
        labels.append(
            "".join(
                chr(b) if 0x21 <= b <= 0x7E and b not in special else special.get(b, f"\\{b:03d}")
                for b in data[pos + 1 : pos + 1 + length]
            )
        )
        pos += 1 + length


def _outcome(read: Any, data: bytes, offset: int) -> tuple[str, int] | str:
    try:
        text, end = read(data, offset)
    except Malformed as exc:
        return exc.reason
    return text, end


_LABELS = st.one_of(
    st.sampled_from(
        [b"www", b"example", b"com", b"a" * 63, b"x" * 46, b"-_!?", b"a.b", b"sp ace", b"\\", b""]
    ),
    st.binary(min_size=1, max_size=63),
)
_PIECES = st.one_of(
    _LABELS.map(lambda label: bytes([len(label)]) + label),  # a label (the empty one is a root byte)
    st.integers(0, 0x3FFF).map(lambda target: struct.pack("!H", 0xC000 | target)),  # a pointer
    st.integers(0, 255).map(lambda b: bytes([b])),  # any byte (reserved label types, cut names)
)


@given(st.lists(_PIECES, max_size=40))
def test_fuzz_names_match_the_reference_decoder(pieces: list[bytes]) -> None:
    """Every offset of a random buffer of labels, pointers and junk decodes as the reference says,
    alone and through one cache shared in offset order (as a message's names share it)."""
    data = header() + b"".join(pieces)
    cache: dns.NameCache = {}
    for offset in range(12, len(data)):
        expected = _outcome(reference_name, data, offset)
        assert _outcome(read_name, data, offset) == expected
        assert _outcome(lambda d, o: read_name(d, o, cache), data, offset) == expected


@pytest.mark.parametrize(
    ("labels", "text"),
    [
        ([b"host123", b"zone45", b"example", b"com"], "host123.zone45.example.com"),
        ([b"a.b", b"c"], "a\\.b.c"),  # a dot inside a label: one dot too many, label by label
        ([b"x" * 50, b"y"], "x" * 50 + ".y"),  # length 50 is the character "2"
        ([b"_sip", b"-", b"\xff\x00", b"\\"], "_sip.-.\\255\\000.\\\\"),
        ([b"sp ace"], "sp\\032ace"),
    ],
)
def test_runs_decoded_at_once_or_label_by_label(labels: list[bytes], text: str) -> None:
    wire = b"".join(bytes([len(label)]) + label for label in labels) + b"\0"
    assert read_name(header() + wire, 12) == (text, 12 + len(wire))
    assert reference_name(header() + wire, 12) == (text, 12 + len(wire))


def test_length_bytes_that_look_like_text_are_not_text() -> None:
    """Label lengths 46 (a dot) and 33 (a "!") are length bytes, not text, whichever path decodes them."""
    labels = ["a" * 46, "b" * 33, "c"]
    assert read_name(header() + name(".".join(labels)), 12)[0] == ".".join(labels)


@pytest.mark.parametrize(
    ("counts", "cut_in"),
    [((MAX_RECORDS_PER_MESSAGE, 1, 0, 0), "answers"), ((1, 0, MAX_RECORDS_PER_MESSAGE - 1, 1), "additional")],
)
def test_record_cap_across_sections(counts: tuple[int, int, int, int], cut_in: str) -> None:
    """The cap counts questions and records together, in order; what fits is kept."""
    qd, an, ns, ar = counts
    body = question(name("x"), 1) + question(ptr(12), 1) * (qd - 1)
    body += rr(ptr(12), 1, b"\1\2\3\4") * (an + ns + ar)
    partial, error = parse_message_partial(header(1, 0x8180, qd, an, ns, ar) + body)
    assert error is not None and error.reason == "dns.too_many_records"
    kept = len(partial.questions) + len(partial.answers) + len(partial.authority) + len(partial.additional)
    assert kept == MAX_RECORDS_PER_MESSAGE and not getattr(partial, cut_in)
    # a truncation before the cap is what stops the message
    partial, error = parse_message_partial(header(1, 0x8180, qd, an, ns, ar) + body[:40])
    assert error is not None and error.reason != "dns.too_many_records"


def test_dns_classes_keep_their_fields_and_stay_read_only() -> None:
    """The JSON of `events` and `dns.log` rows and the --jobs pickling read these fields by name."""
    import dataclasses

    from analyzer.compiled import compiled_modules
    from analyzer.parallel import dumps

    fields = {
        dns.DnsQuestion: "name qtype qclass",
        dns.DnsRecord: "name rtype rclass ttl rdata data",
        dns.DnsMessage: "id qr opcode aa tc rd ra z rcode qdcount ancount nscount arcount questions answers "
        "authority additional size",
        dns.DnsMessageEvent: "ts uid orig_h orig_p resp_h resp_p proto service is_orig message malformed",
        dns.DnsWeird: "ts uid service reason detail",
        dns.MxData: "preference exchange",
        dns.SoaData: "mname rname serial refresh retry expire minimum",
        dns.SrvData: "priority weight port target",
        dns_tracker.DnsTransaction: "ts uid orig_h orig_p resp_h resp_p proto trans_id rtt query qclass "
        "qclass_name qtype qtype_name rcode rcode_name AA TC RD RA Z answers TTLs rejected",
    }
    for cls, names in fields.items():
        assert [f.name for f in dataclasses.fields(cls)] == names.split(), cls
    pkt = Decoder().decode(1.5, 1, udp_frame(SERVER, CLIENT, 53, 40000, response_msg()), 100)
    (event,) = parse(pkt.payload, pkt)
    assert isinstance(event, DnsMessageEvent)
    import pickle

    assert pickle.loads(dumps(event)) == event  # rebuilt through the constructor, field by field
    assert dataclasses.replace(event, uid="C1").message == event.message
    if "analyzer.dissectors.dns" in compiled_modules():  # mypy rejects the assignment in any build
        with pytest.raises(AttributeError):
            event.uid = "C2"  # type: ignore[misc]
        with pytest.raises(AttributeError):
            event.message.questions[0].name = "x"  # type: ignore[misc]


def test_address_texts_are_remembered_within_bounds() -> None:
    """DNS events name their flow's addresses through `ip_text`, whose memo stays bounded."""
    for i in range(packet.MAX_IP_TEXTS + 5):
        raw = bytes([10, i >> 16 & 0xFF, i >> 8 & 0xFF, i & 0xFF])
        assert packet.ip_text(raw) == f"10.{i >> 16 & 0xFF}.{i >> 8 & 0xFF}.{i & 0xFF}"
    assert 0 < len(packet._ip_texts) <= packet.MAX_IP_TEXTS
    assert packet.ip_text(bytes.fromhex("20010db8" + "00" * 11 + "01")) == "2001:db8::1"


def test_tables_list_ties_in_the_order_first_seen() -> None:
    """Counts by type, rcode and opcode come most common first and, on a tie, first seen first (as
    Counter.most_common lists them), types past 255 included."""
    qtypes = [28, 1, 1, 28, 257, 15, 257]
    frames = [
        (1.0 + i, udp_frame(CLIENT, SERVER, 41000 + i, 53, query_msg(f"t{i}.example", t, i)))
        for i, t in enumerate(qtypes)
    ]
    flags = [0x8183, 0x8180, 0x8182, 0x8180, 0x8183]
    frames += [
        (
            20.0 + i,
            udp_frame(SERVER, CLIENT, 53, 41000 + i, response_msg(f"t{i}.example", qtypes[i], i, f, [])),
        )
        for i, f in enumerate(flags)
    ]
    frames.append(
        (30.0, udp_frame(CLIENT, SERVER, 42000, 53, header(9, 0x2100, qd=1) + question(name("z"), 1)))
    )
    d = run(frames)["dns"]
    assert list(d["queries_by_qtype"].items()) == [("A", 3), ("AAAA", 2), ("CAA", 2), ("MX", 1)]
    assert list(d["responses_by_rcode"].items()) == [("NXDOMAIN", 2), ("NOERROR", 2), ("SERVFAIL", 1)]
    assert list(d["opcodes"].items()) == [("QUERY", 12), ("NOTIFY", 1)]
    assert list(d["clients"][0]["qtypes"].items()) == [("A", 3), ("AAAA", 2), ("CAA", 2), ("MX", 1)]


def test_reservoir_draws_what_randrange_draws() -> None:
    import random

    mine, theirs = random.Random(dns_tracker.RESERVOIR_SEED), random.Random(dns_tracker.RESERVOIR_SEED)
    for n in [1, 2, 3, 7, 100_001, 2**20, 2**20 + 1, 10**9]:
        for _ in range(50):
            assert dns_tracker._randbelow(mine, n) == theirs.randrange(n)


def test_pending_query_keeps_its_first_question_only() -> None:
    """A query with two questions and an OPT record: its dns.log row shows the first question."""
    opt = b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0)
    query = header(5, 0x0100, qd=2, ar=1) + question(name("one.example"), 28) + question(name("two.example"))
    frames = [(1.0, udp_frame(CLIENT, SERVER, 41000, 53, query + opt))]
    d = run(frames)["dns"]
    assert [(u["query"], u["qtype_name"], u["trans_id"]) for u in d["unanswered"]] == [
        ("one.example", "AAAA", 5)
    ]
