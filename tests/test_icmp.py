"""ICMP and ICMPv6: names, quoted datagrams tied to their flows, echo pairing, malformed input, tshark."""

from __future__ import annotations

import struct
from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import (
    ICMPv6DestUnreach,
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    ICMPv6PacketTooBig,
    IPv6,
    IPv6ExtHdrDestOpt,
)
from scapy.layers.l2 import Ether
from scapy.packet import Packet as ScapyPacket
from scapy.packet import Raw

from analyzer.decode import Decoder, Packet
from analyzer.dissectors import icmp as icmp_mod
from analyzer.dissectors.icmp import (
    IcmpEcho,
    IcmpError,
    IcmpMessage,
    icmp_name,
    parse_icmpv4,
    parse_icmpv6,
)
from analyzer.errors import Malformed
from analyzer.parallel import analyze_parallel
from analyzer.report.terminal import render
from analyzer.trackers import icmp as icmp_tracker
from analyzer.trackers.conn import ConnRecord
from tests.oracle import (
    SAMPLES,
    SHARED_PCAPS,
    analyze_json,
    needs_shared,
    needs_tshark,
    summary_of_frames,
    truth,
    tshark_fields,
)

MAC_A, MAC_B = "00:00:5e:00:53:0a", "00:00:5e:00:53:0b"

# --- helpers ------------------------------------------------------------------------------------


def icmp4(icmp_type: int, code: int, rest: bytes = b"\0\0\0\0", body: bytes = b"") -> bytes:
    """ICMPv4 message bytes (checksum left 0: nothing here verifies it)."""
    return struct.pack("!BBH", icmp_type, code, 0) + rest + body


def frame4(src: str, dst: str, message: bytes) -> bytes:
    return bytes(Ether(src=MAC_A, dst=MAC_B) / IP(src=src, dst=dst, proto=1) / Raw(message))


def frame6(src: str, dst: str, layer: ScapyPacket | bytes) -> bytes:
    if isinstance(layer, bytes):
        return bytes(Ether(src=MAC_A, dst=MAC_B) / IPv6(src=src, dst=dst, nh=58) / Raw(layer))
    return bytes(Ether(src=MAC_A, dst=MAC_B) / IPv6(src=src, dst=dst) / layer)


def decode(frame: bytes, ts: float = 1.0) -> Packet:
    pkt = Decoder().decode(ts, 1, frame, len(frame))
    assert pkt.malformed is None, pkt.malformed
    return pkt


def parse(frame: bytes) -> list[Any]:
    pkt = decode(frame)
    parser = parse_icmpv4 if pkt.proto == 1 else parse_icmpv6
    return parser(pkt.payload, pkt)


def error_of(events: list[Any]) -> IcmpError:
    errors = [e for e in events if isinstance(e, IcmpError)]
    assert len(errors) == 1
    return errors[0]


def run(frames: list[tuple[float, bytes]]) -> dict[str, Any]:
    """Our summary JSON for frames fed through the whole pipeline."""
    return summary_of_frames(frames)


def udp_datagram(src: str, sport: int, dst: str, dport: int, payload: bytes = b"x" * 20) -> bytes:
    return bytes(IP(src=src, dst=dst, id=7, flags="DF") / UDP(sport=sport, dport=dport) / Raw(payload))


# --- names --------------------------------------------------------------------------------------

V4_UNREACHABLE = {
    0: "net unreachable",
    1: "host unreachable",
    2: "protocol unreachable",
    3: "port unreachable",
    4: "fragmentation needed and DF set",
    5: "source route failed",
    6: "destination network unknown",
    7: "destination host unknown",
    8: "source host isolated",
    9: "communication with destination network administratively prohibited",
    10: "communication with destination host administratively prohibited",
    11: "destination network unreachable for type of service",
    12: "destination host unreachable for type of service",
    13: "communication administratively prohibited",
    14: "host precedence violation",
    15: "precedence cutoff in effect",
}
V6_UNREACHABLE = {
    0: "no route to destination",
    1: "communication with destination administratively prohibited",
    2: "beyond scope of source address",
    3: "address unreachable",
    4: "port unreachable",
    5: "source address failed ingress/egress policy",
    6: "reject route to destination",
    7: "error in source routing header",
    8: "headers too long",
}
OTHER_CODES = {
    (4, 5, 0): "Redirect: redirect datagram for the network",
    (4, 5, 1): "Redirect: redirect datagram for the host",
    (4, 5, 2): "Redirect: redirect datagram for the type of service and network",
    (4, 5, 3): "Redirect: redirect datagram for the type of service and host",
    (4, 11, 0): "Time Exceeded: time to live exceeded in transit",
    (4, 11, 1): "Time Exceeded: fragment reassembly time exceeded",
    (4, 12, 0): "Parameter Problem: pointer indicates the error",
    (4, 12, 1): "Parameter Problem: missing a required option",
    (4, 12, 2): "Parameter Problem: bad length",
    (4, 0, 0): "Echo Reply",
    (4, 8, 0): "Echo Request",
    (4, 4, 0): "Source Quench",
    (4, 13, 0): "Timestamp",
    (6, 2, 0): "Packet Too Big",
    (6, 3, 0): "Time Exceeded: hop limit exceeded in transit",
    (6, 3, 1): "Time Exceeded: fragment reassembly time exceeded",
    (6, 4, 0): "Parameter Problem: erroneous header field encountered",
    (6, 4, 1): "Parameter Problem: unrecognized Next Header type encountered",
    (6, 4, 2): "Parameter Problem: unrecognized IPv6 option encountered",
    (6, 4, 3): "Parameter Problem: IPv6 First Fragment has incomplete IPv6 Header Chain",
    (6, 128, 0): "Echo Request",
    (6, 129, 0): "Echo Reply",
    (6, 133, 0): "Router Solicitation",
    (6, 134, 0): "Router Advertisement",
    (6, 135, 0): "Neighbor Solicitation",
    (6, 136, 0): "Neighbor Advertisement",
    (6, 137, 0): "Redirect",
    (6, 143, 0): "Multicast Listener Report v2",
}


@pytest.mark.parametrize("code", sorted(V4_UNREACHABLE))
def test_icmpv4_unreachable_code_names(code: int) -> None:
    assert icmp_name(4, 3, code) == f"Destination Unreachable: {V4_UNREACHABLE[code]}"


@pytest.mark.parametrize("code", sorted(V6_UNREACHABLE))
def test_icmpv6_unreachable_code_names(code: int) -> None:
    assert icmp_name(6, 1, code) == f"Destination Unreachable: {V6_UNREACHABLE[code]}"


@pytest.mark.parametrize(("version", "icmp_type", "code"), sorted(OTHER_CODES))
def test_other_type_and_code_names(version: int, icmp_type: int, code: int) -> None:
    assert icmp_name(version, icmp_type, code) == OTHER_CODES[(version, icmp_type, code)]


def test_unknown_types_and_codes_still_have_names() -> None:
    assert icmp_name(4, 3, 16) == "Destination Unreachable: code 16"
    assert icmp_name(6, 1, 9) == "Destination Unreachable: code 9"
    assert icmp_name(4, 8, 1) == "Echo Request: code 1"
    assert icmp_name(4, 99, 0) == "Type 99"
    assert icmp_name(6, 250, 3) == "Type 250: code 3"


def test_every_named_v4_type_and_v6_type_has_a_name() -> None:
    for version, table in ((4, icmp_mod.ICMPV4_TYPE_NAMES), (6, icmp_mod.ICMPV6_TYPE_NAMES)):
        for t, name in table.items():
            assert icmp_name(version, t, 0).startswith(name)


# --- quoted datagrams ---------------------------------------------------------------------------


def test_port_unreachable_quote_and_sentence() -> None:
    quote = udp_datagram("10.0.0.5", 53211, "10.0.0.9", 161)
    events = parse(frame4("10.0.0.9", "10.0.0.5", icmp4(3, 3, body=quote)))
    assert isinstance(events[0], IcmpMessage)
    assert (events[0].icmp_type, events[0].icmp_code, events[0].malformed) == (3, 3, None)
    err = error_of(events)
    assert (err.proto, err.orig_h, err.orig_p, err.resp_h, err.resp_p) == (
        17,
        "10.0.0.5",
        53211,
        "10.0.0.9",
        161,
    )
    assert err.reporter == "10.0.0.9" and err.malformed is None
    assert icmp_tracker.describe_error(err) == (
        "UDP 10.0.0.5:53211 → 10.0.0.9:161 refused: port unreachable (reported by 10.0.0.9)"
    )


def test_rfc792_minimum_quote_is_complete() -> None:
    quote = udp_datagram("10.0.0.5", 1, "10.0.0.9", 2)[:28]  # IP header + 64 bits
    err = error_of(parse(frame4("10.0.0.1", "10.0.0.5", icmp4(3, 1, body=quote))))
    assert err.malformed is None and err.orig_p == 1 and err.quote_len == 28


def test_quote_cut_after_the_ports_is_truncated_but_decoded() -> None:
    quote = udp_datagram("10.0.0.5", 40004, "10.0.0.9", 514)[:24]
    err = error_of(parse(frame4("10.0.0.9", "10.0.0.5", icmp4(3, 3, body=quote))))
    assert (err.orig_p, err.resp_p) == (40004, 514)
    assert err.malformed == "icmp.quote_truncated"


def test_quote_cut_before_the_ports() -> None:
    quote = udp_datagram("10.0.0.5", 40004, "10.0.0.9", 514)[:22]
    events = parse(frame4("10.0.0.9", "10.0.0.5", icmp4(3, 3, body=quote)))
    err = error_of(events)
    assert (err.orig_h, err.resp_h, err.orig_p, err.resp_p) == ("10.0.0.5", "10.0.0.9", None, None)
    assert err.malformed == "icmp.quote_truncated" == events[0].malformed
    assert icmp_tracker.describe_error(err).startswith("UDP 10.0.0.5 → 10.0.0.9 refused")


def test_quote_cut_inside_the_ip_header() -> None:
    quote = udp_datagram("10.0.0.5", 1, "10.0.0.9", 2)[:8]
    err = error_of(parse(frame4("10.0.0.1", "10.0.0.5", icmp4(3, 1, body=quote))))
    assert err.proto is None and err.orig_h is None
    assert err.malformed == "icmp.quote_truncated"
    assert "quote unreadable" in icmp_tracker.describe_error(err)


def test_empty_quote() -> None:
    err = error_of(parse(frame4("10.0.0.1", "10.0.0.5", icmp4(11, 0))))
    assert err.malformed == "icmp.quote_empty" and err.quote_len == 0


def test_short_original_datagram_quoted_whole_is_not_truncated() -> None:
    quote = bytes(IP(src="10.0.0.5", dst="10.0.0.9", proto=17) / Raw(b"\x01\x02\x03\x04"))  # 24 bytes in all
    err = error_of(parse(frame4("10.0.0.9", "10.0.0.5", icmp4(3, 3, body=quote))))
    assert err.malformed is None and (err.orig_p, err.resp_p) == (0x0102, 0x0304)


def test_quoted_non_first_fragment_has_no_ports_and_is_fine() -> None:
    quote = bytes(IP(src="10.0.0.5", dst="10.0.0.9", proto=17, frag=100) / Raw(b"\xff" * 8))
    err = error_of(parse(frame4("10.0.0.9", "10.0.0.5", icmp4(11, 1, body=quote))))
    assert err.malformed is None and err.orig_p is None and err.proto == 17


def test_frag_needed_mtu_and_tcp_quote() -> None:
    quote = bytes(IP(src="10.10.1.4", dst="74.53.140.153", flags="DF") / TCP(sport=1470, dport=25))[:28]
    err = error_of(parse(frame4("192.168.1.1", "10.10.1.4", icmp4(3, 4, struct.pack("!HH", 0, 1492), quote))))
    assert err.mtu == 1492 and (err.orig_p, err.resp_p) == (1470, 25)
    assert icmp_tracker.describe_error(err) == (
        "TCP 10.10.1.4:1470 → 74.53.140.153:25 too big: fragmentation needed and DF set, next-hop MTU 1492"
        " (reported by 192.168.1.1)"
    )


def test_redirect_gateway_and_parameter_problem_pointer() -> None:
    quote = udp_datagram("10.0.0.5", 1, "10.9.9.9", 2)
    err = error_of(parse(frame4("10.0.0.1", "10.0.0.5", icmp4(5, 1, bytes([10, 0, 0, 254]), quote))))
    assert err.gateway == "10.0.0.254"
    assert "use gateway 10.0.0.254" in icmp_tracker.describe_error(err)
    err = error_of(parse(frame4("10.0.0.1", "10.0.0.5", icmp4(12, 0, bytes([9, 0, 0, 0]), quote))))
    assert err.pointer == 9


def test_quoted_echo_request_maps_to_its_icmp_flow_ports() -> None:
    echo = bytes(IP(src="10.0.0.5", dst="10.0.0.9", proto=1) / Raw(icmp4(8, 0, struct.pack("!HH", 1, 1))))
    err = error_of(parse(frame4("10.0.0.1", "10.0.0.5", icmp4(3, 1, body=echo))))
    assert (err.proto, err.orig_p, err.resp_p, err.quoted_icmp) == (1, 8, 0, "Echo Request")
    assert icmp_tracker.describe_error(err).startswith(
        "ICMP 10.0.0.5 → 10.0.0.9 (Echo Request) undeliverable"
    )


def test_icmpv6_unreachable_quote_through_extension_header() -> None:
    inner = bytes(
        IPv6(src="fe80::beef", dst="fe80::dead") / IPv6ExtHdrDestOpt() / UDP(sport=30000, dport=13000)
    )
    err = error_of(parse(frame6("fe80::dead", "fe80::beef", ICMPv6DestUnreach(code=4) / Raw(inner))))
    assert (err.ip_version, err.icmp_type, err.icmp_code) == (6, 1, 4)
    assert (err.orig_h, err.orig_p, err.resp_h, err.resp_p) == ("fe80::beef", 30000, "fe80::dead", 13000)
    assert icmp_tracker.describe_error(err) == (
        "UDP [fe80::beef]:30000 → [fe80::dead]:13000 refused: port unreachable (reported by fe80::dead)"
    )


def test_packet_too_big_mtu() -> None:
    inner = bytes(IPv6(src="2001:db8::1", dst="2001:db8::2") / TCP(sport=5000, dport=443) / Raw(b"a" * 1400))
    err = error_of(
        parse(frame6("2001:db8::fe", "2001:db8::1", ICMPv6PacketTooBig(mtu=1280) / Raw(inner[:1232])))
    )
    assert err.mtu == 1280 and err.resp_p == 443 and err.malformed is None


def test_icmpv6_quote_cut_inside_header() -> None:
    inner = bytes(IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=1, dport=2))
    events = parse(frame6("2001:db8::fe", "2001:db8::1", ICMPv6DestUnreach(code=0) / Raw(inner[:30])))
    assert error_of(events).malformed == "icmp.quote_truncated"
    assert events[0].icmp_type == 1 and events[0].malformed == "icmp.quote_truncated"


def _mpls_extension(label: int, ttl: int = 1) -> bytes:
    obj = struct.pack("!HBB", 8, 1, 1) + struct.pack("!I", (label << 12) | 0x100 | ttl)
    header = bytearray(b"\x20\x00\x00\x00")
    total = sum(struct.unpack("!4H", bytes(header) + obj[:4])) + sum(struct.unpack("!2H", obj[4:]))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    header[2:4] = struct.pack("!H", ~total & 0xFFFF)
    return bytes(header) + obj


def test_rfc4884_mpls_extension_compat_mode() -> None:
    """Length field 0, quote padded to 128 bytes, extension with a valid checksum (the tcpdump trace)."""
    quote = udp_datagram("12.4.4.4", 42315, "12.1.1.1", 33435)[:40].ljust(128, b"\0")
    msg = icmp4(11, 0, body=quote + _mpls_extension(100704))
    err = error_of(parse(frame4("10.5.0.1", "12.4.4.4", msg)))
    assert err.mpls_labels == (100704,) and err.extension_classes == (1,)
    assert err.quote_len == 128 and err.malformed is None
    assert "MPLS label 100704" in icmp_tracker.describe_error(err)


def test_rfc4884_compliant_length_field() -> None:
    quote = udp_datagram("12.4.4.4", 42315, "12.1.1.1", 33435)[:40]
    msg = icmp4(
        3, 3, bytes([0, 10, 0, 0]), quote.ljust(128, b"\0") + _mpls_extension(16)
    )  # 10 words = 40 bytes
    err = error_of(parse(frame4("12.1.1.1", "12.4.4.4", msg)))
    assert err.quote_len == 40 and err.mpls_labels == (16,)


def test_rfc4884_bad_object_length_is_malformed() -> None:
    quote = udp_datagram("12.4.4.4", 1, "12.1.1.1", 2)[:40]
    bad_ext = b"\x20\x00\x00\x00" + struct.pack("!HBB", 2, 1, 1)
    msg = icmp4(3, 3, bytes([0, 10, 0, 0]), quote.ljust(128, b"\0") + bad_ext)
    events = parse(frame4("12.1.1.1", "12.4.4.4", msg))
    assert error_of(events).malformed == "icmp.extension_bad_object_length"
    assert events[0].malformed == "icmp.extension_bad_object_length"


def test_no_extension_without_valid_checksum() -> None:
    quote = udp_datagram("12.4.4.4", 1, "12.1.1.1", 2)[:40].ljust(128, b"\0")
    garbage = b"\x20\x00\x12\x34" + struct.pack("!HBB", 8, 1, 1) + b"\0\0\0\0"
    err = error_of(parse(frame4("12.1.1.1", "12.4.4.4", icmp4(3, 3, body=quote + garbage))))
    assert err.mpls_labels == () and err.quote_len == 128 + len(garbage)


# --- flows --------------------------------------------------------------------------------------


def test_unreachable_is_tied_to_the_refused_flow() -> None:
    datagram = udp_datagram("10.0.0.5", 53211, "10.0.0.9", 161)
    frames = [
        (1.0, bytes(Ether(src=MAC_A, dst=MAC_B, type=0x0800)) + datagram),
        (1.01, frame4("10.0.0.9", "10.0.0.5", icmp4(3, 3, body=datagram))),
    ]
    out = run(frames)
    udp_flow = next(f for f in out["flows"]["top"] if f["proto"] == "udp")
    (record,) = out["icmp"]["v4"]["unreachable"]
    assert record["refused_uid"] == udp_flow["uid"]
    assert record["id.orig_h"] == "10.0.0.5" and record["id.resp_p"] == 161
    assert (
        record["description"]
        == "UDP 10.0.0.5:53211 → 10.0.0.9:161 refused: port unreachable (reported by 10.0.0.9)"
    )
    assert out["icmp"]["v4"]["by_type_code"] == {"3/3": 1}
    assert out["icmp"]["v4"]["names"] == {"3/3": "Destination Unreachable: port unreachable"}


def test_unreachable_without_its_flow_has_no_uid() -> None:
    datagram = udp_datagram("10.0.0.5", 53211, "10.0.0.9", 161)
    out = run([(1.0, frame4("10.0.0.9", "10.0.0.5", icmp4(3, 3, body=datagram)))])
    assert out["icmp"]["v4"]["unreachable"][0]["refused_uid"] is None


def _conn(uid: str, first: float, last: float) -> ConnRecord:
    return ConnRecord(
        ts=first,
        uid=uid,
        orig_h="10.0.0.5",
        orig_p=53211,
        resp_h="10.0.0.9",
        resp_p=161,
        proto="udp",
        service=None,
        service_how=None,
        duration=last - first,
        orig_bytes=0,
        resp_bytes=0,
        conn_state="S0",
        missed_bytes=0,
        history="D",
        orig_pkts=1,
        orig_ip_bytes=48,
        resp_pkts=0,
        resp_ip_bytes=0,
    )


def _refused_uids(order: list[str], error_ts: float, conns: list[ConnRecord]) -> list[str | None]:
    """Feed a port unreachable (parsed from real bytes, at error_ts) and ConnRecords in the given order.
    The quote goes the other way round from the ConnRecords: matching does not care about direction."""
    pkt = decode(
        frame4("10.0.0.9", "10.0.0.5", icmp4(3, 3, body=udp_datagram("10.0.0.9", 161, "10.0.0.5", 53211)))
    )
    pkt.ts = error_ts
    tracker = icmp_tracker.IcmpTracker()
    events = parse_icmpv4(pkt.payload, pkt)
    for what in order:
        for event in events if what == "error" else conns:
            if type(event) in tracker.EVENT_TYPES:
                tracker.handle(event)
    return [r["refused_uid"] for r in tracker.finish()["icmp"]["v4"]["unreachable"]]


def test_refused_flow_found_whatever_the_replay_order() -> None:
    conns = [_conn("Cold", 0.0, 5.0), _conn("Clive", 100.0, 100.5)]
    assert _refused_uids(["error", "conns"], 100.6, conns) == ["Clive"]
    assert _refused_uids(["conns", "error"], 100.6, conns) == ["Clive"]  # flow closed before the error
    assert _refused_uids(["error", "conns"], 30.0, conns) == ["Cold"]  # old flow still in its idle timeout
    assert _refused_uids(["error", "conns"], 90.0, conns) == [None]  # timed out, next one not started


def test_parallel_merge_ties_the_same_flows() -> None:
    path = SAMPLES / "icmp.pcap"
    single = analyze_json(str(path))["icmp"]
    merged = analyze_parallel([str(path)], jobs=3)[0].to_json()["icmp"]
    assert merged == single
    assert sum(r["refused_uid"] is not None for r in single["v4"]["unreachable"]) >= 5


def test_error_lists_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(icmp_tracker, "MAX_ERROR_ROWS", 2)
    datagram = udp_datagram("10.0.0.5", 1, "10.0.0.9", 2)
    frames = [(1.0 + i, frame4("10.0.0.9", "10.0.0.5", icmp4(3, 3, body=datagram))) for i in range(5)]
    frames += [(9.0 + i, frame4("10.0.0.1", "10.0.0.5", icmp4(11, 0, body=datagram))) for i in range(3)]
    v4 = run(frames)["icmp"]["v4"]
    assert len(v4["unreachable"]) == 2 and v4["unreachable_dropped"] == 3
    assert len(v4["errors"]) == 2 and v4["errors_dropped"] == 1
    assert v4["by_type_code"] == {"3/3": 5, "11/0": 3}


# --- echo ---------------------------------------------------------------------------------------


def ping(src: str, dst: str, ident: int, seq: int, reply: bool = False) -> bytes:
    return frame4(src, dst, icmp4(0 if reply else 8, 0, struct.pack("!HH", ident, seq), b"p" * 16))


def test_echo_decoding() -> None:
    events = parse(ping("10.0.0.5", "10.0.0.9", 0x1234, 7))
    echo = events[1]
    assert isinstance(echo, IcmpEcho)
    assert (echo.request, echo.ident, echo.seq, echo.data_len) == (True, 0x1234, 7, 16)
    events = parse(frame6("2001:db8::1", "2001:db8::2", ICMPv6EchoReply(id=9, seq=3, data=b"abc")))
    assert isinstance(events[1], IcmpEcho) and (events[1].request, events[1].ident, events[1].seq) == (
        False,
        9,
        3,
    )


def test_echo_pairing_rtt_and_unanswered_destinations() -> None:
    frames = []
    for seq in (1, 2, 3):
        frames.append((seq * 1.0, ping("10.0.0.5", "10.0.0.9", 77, seq)))
        frames.append((seq * 1.0 + 0.020 + seq / 1000, ping("10.0.0.9", "10.0.0.5", 77, seq, reply=True)))
    frames.append((5.0, ping("10.0.0.5", "10.0.0.99", 78, 1)))
    frames.append((5.5, ping("10.0.0.5", "10.0.0.99", 78, 2)))
    frames.append((6.0, ping("10.0.0.8", "10.0.0.5", 1, 1, reply=True)))  # nobody asked
    frames.append((6.1, frame6("2001:db8::1", "2001:db8::2", ICMPv6EchoRequest(id=5, seq=1))))
    frames.append((6.15, frame6("2001:db8::2", "2001:db8::1", ICMPv6EchoReply(id=5, seq=1))))
    echo = run(frames)["icmp"]["echo"]
    assert (echo["requests"], echo["replies"], echo["answered"]) == (6, 5, 4)
    assert (echo["unanswered"], echo["unmatched_replies"]) == (2, 1)
    rows = {r["dst"]: r for r in echo["destinations"]}
    assert echo["destinations"][0]["dst"] == "10.0.0.99"  # most unanswered first
    assert rows["10.0.0.99"]["unanswered"] == 2 and rows["10.0.0.99"]["answered"] == 0
    assert rows["10.0.0.9"]["answered"] == 3
    assert rows["10.0.0.9"]["rtt"] == {"min": 0.021, "avg": 0.022, "max": 0.023}
    assert rows["2001:db8::2"]["rtt"]["min"] == pytest.approx(0.05)


def test_same_ident_different_pair_does_not_match() -> None:
    frames = [
        (1.0, ping("10.0.0.5", "10.0.0.9", 1, 1)),
        (1.1, ping("10.0.0.7", "10.0.0.5", 1, 1, reply=True)),
    ]
    echo = run(frames)["icmp"]["echo"]
    assert echo["answered"] == 0 and echo["unanswered"] == 1 and echo["unmatched_replies"] == 1


def test_late_reply_after_timeout_is_unanswered_and_unmatched() -> None:
    frames = [(0.0, ping("10.0.0.5", "10.0.0.9", 1, 1))]
    frames += [(t, ping("10.0.0.6", "10.0.0.7", 2, int(t), reply=True)) for t in (15.0, 45.0)]  # drive expiry
    frames.append((80.0, ping("10.0.0.9", "10.0.0.5", 1, 1, reply=True)))
    echo = run(frames)["icmp"]["echo"]
    assert echo["unanswered"] == 1 and echo["answered"] == 0 and echo["unmatched_replies"] == 3


def test_echo_timeout_does_not_depend_on_expire_calls() -> None:
    tracker = icmp_tracker.IcmpTracker()
    request, reply = (
        decode(ping("10.0.0.5", "10.0.0.9", 1, 1)),
        decode(ping("10.0.0.9", "10.0.0.5", 1, 1, True)),
    )
    reply.ts = request.ts + icmp_tracker.ECHO_TIMEOUT + 1
    for pkt in (request, reply):
        for event in parse_icmpv4(pkt.payload, pkt):
            tracker.handle(event)
    echo = tracker.finish()["icmp"]["echo"]
    assert (echo["answered"], echo["unanswered"], echo["unmatched_replies"]) == (0, 1, 1)


def test_pending_echo_table_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(icmp_tracker, "MAX_PENDING_ECHOES", 3)
    monkeypatch.setattr(icmp_tracker, "MAX_ECHO_DESTINATIONS", 2)
    frames = [(1.0 + i / 10, ping("10.0.0.5", f"10.0.1.{i}", 1, i)) for i in range(5)]
    frames.append((2.0, ping("10.0.1.4", "10.0.0.5", 1, 4, reply=True)))
    frames.append((2.1, ping("10.0.1.0", "10.0.0.5", 1, 0, reply=True)))  # its request was evicted
    echo = run(frames)["icmp"]["echo"]
    assert echo["pending_evicted"] == 2
    assert echo["answered"] == 1 and echo["unmatched_replies"] == 1 and echo["unanswered"] == 2
    assert len(echo["destinations"]) == 2 and echo["destinations_dropped"] == 3


# --- malformed ----------------------------------------------------------------------------------


def test_short_messages_are_counted_and_flagged() -> None:
    pkt = decode(frame4("10.0.0.1", "10.0.0.2", icmp4(8, 0, b"")[:4]))
    events: list[Any] = parse_icmpv4(pkt.payload, pkt)
    assert len(events) == 1 and events[0].malformed == "icmp.truncated" and events[0].icmp_type == 8
    pkt6 = decode(frame6("2001:db8::1", "2001:db8::2", b"\x01\x04\x00\x00"))
    events6: list[Any] = parse_icmpv6(pkt6.payload, pkt6)
    assert len(events6) == 1 and events6[0].malformed == "icmpv6.truncated"
    with pytest.raises(Malformed):
        parse_icmpv4(b"\x08\x00", pkt)
    out = run([(1.0, frame4("10.0.0.1", "10.0.0.2", icmp4(8, 0, b"")[:6]))])
    assert out["icmp"]["v4"]["by_type_code"] == {"8/0": 1}
    assert out["icmp"]["malformed"] == {"icmp.truncated": 1}


_PKT4 = decode(frame4("10.0.0.1", "10.0.0.2", icmp4(8, 0)))
_PKT6 = decode(frame6("2001:db8::1", "2001:db8::2", ICMPv6EchoRequest()))


def _check(events: list[Any], version: int, message: bytes) -> None:
    assert isinstance(events[0], IcmpMessage)
    assert (events[0].ip_version, events[0].icmp_type, events[0].icmp_code) == (
        version,
        message[0],
        message[1],
    )


@given(st.binary(max_size=300))
def test_fuzz_icmpv4_raw(message: bytes) -> None:
    try:
        events = parse_icmpv4(message, _PKT4)
    except Malformed:
        assert len(message) < 4
        return
    _check(events, 4, message)


@given(st.sampled_from([3, 4, 5, 11, 12, 0, 8]), st.integers(0, 255), st.binary(max_size=250))
def test_fuzz_icmpv4_errors(icmp_type: int, code: int, tail: bytes) -> None:
    message = bytes([icmp_type, code]) + tail
    try:
        events = parse_icmpv4(message, _PKT4)
    except Malformed:
        assert len(message) < 4
        return
    _check(events, 4, message)


@given(st.integers(0, 255), st.binary(max_size=40), st.binary(max_size=200))
def test_fuzz_icmpv4_with_ipv4_looking_quote(icmp_type: int, head: bytes, tail: bytes) -> None:
    message = bytes([icmp_type % 16, 0, 0, 0, 0, 0, 0, 0, 0x45]) + head + tail
    _check(parse_icmpv4(message, _PKT4), 4, message)


@given(st.binary(max_size=300))
def test_fuzz_icmpv6_raw(message: bytes) -> None:
    try:
        events = parse_icmpv6(message, _PKT6)
    except Malformed:
        assert len(message) < 4
        return
    _check(events, 6, message)


@given(st.sampled_from([1, 2, 3, 4, 128, 129, 133, 134, 135, 136, 137]), st.binary(min_size=3, max_size=250))
def test_fuzz_icmpv6_typed(icmp_type: int, tail: bytes) -> None:
    message = bytes([icmp_type]) + tail
    _check(parse_icmpv6(message, _PKT6), 6, message)


# --- against tshark -----------------------------------------------------------------------------

ICMP_FILES = [f["file"] for f in truth().get("files", []) if f.get("icmp") or f.get("ndp")]
"""Every shared capture whose truth has an icmp or ndp section (icmp4-unreach, icmp6-unreach, ndp,
vlan, sll, ip-fragments and smtp)."""


TSHARK_ICMP_FIELDS = (
    "icmp.type",
    "icmp.code",
    "icmpv6.type",
    "icmpv6.code",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "udp.srcport",
    "udp.dstport",
    "tcp.srcport",
    "tcp.dstport",
)
V4_ERRORS, V6_ERRORS = {"3", "4", "5", "11", "12"}, {"1", "2", "3", "4"}


def tshark_icmp(path: str) -> tuple[dict[str, dict[str, int]], list[tuple[str, ...]]]:
    """tshark's counts keyed "type/code" from the first (outermost) ICMP header of each frame, and
    (inner src, inner dst, sport, dport) of every ICMP error whose quoted IP header tshark could read;
    one tshark run per file."""
    counts: dict[str, Counter[str]] = {"v4": Counter(), "v6": Counter()}
    errors: list[tuple[str, ...]] = []
    rows = tshark_fields(path, "icmp || icmpv6", TSHARK_ICMP_FIELDS)
    for t4, c4, t6, c6, src4, dst4, src6, dst6, us, ud, ts_, td in rows:
        for version, t, c, src, dst, error_types in (
            ("v4", t4, c4, src4, dst4, V4_ERRORS),
            ("v6", t6, c6, src6, dst6, V6_ERRORS),
        ):
            if not t:
                continue
            first = t.split(",")[0]
            counts[version][f"{first}/{c.split(',')[0]}"] += 1
            if first in error_types and "," in src:
                sport, dport = (us or ts_).split(",")[-1], (ud or td).split(",")[-1]
                errors.append((src.split(",")[-1], dst.split(",")[-1], sport, dport))
    return {v: dict(c) for v, c in counts.items()}, sorted(errors)


def our_errors(ours: dict[str, Any]) -> list[tuple[str, ...]]:
    rows = []
    for version in ("v4", "v6"):
        for r in ours["icmp"][version]["unreachable"] + ours["icmp"][version]["errors"]:
            if r["proto"] is None:
                continue  # quoted IP header unreadable
            ports = ("", "")
            if r["proto"] in ("udp", "tcp") and r["id.orig_p"] is not None:
                ports = (str(r["id.orig_p"]), str(r["id.resp_p"]))
            rows.append((r["id.orig_h"], r["id.resp_h"], *ports))
    return sorted(rows)


def assert_like_tshark(path: str) -> None:
    ours = analyze_json(path)
    theirs, errors = tshark_icmp(path)
    for version in ("v4", "v6"):
        assert ours["icmp"][version]["by_type_code"] == theirs[version], version
        assert set(ours["icmp"][version]["names"]) == set(theirs[version])
    assert our_errors(ours) == errors
    assert ours["icmp"]["malformed"] == {} or "sample_pcaps" in path


@needs_tshark
@pytest.mark.parametrize("name", ["icmp.pcap", "ndp.pcap"])
def test_samples_match_tshark(name: str) -> None:
    path = SAMPLES / name
    assert_like_tshark(str(path))


@needs_tshark
def test_sample_icmp_findings() -> None:
    path = SAMPLES / "icmp.pcap"
    ours = analyze_json(str(path))
    echo = ours["icmp"]["echo"]
    requests = tshark_fields(str(path), "icmp.type==8 || icmpv6.type==128", ("frame.number",))
    answered = tshark_fields(str(path), "icmp.resp_to || icmpv6.resp_to", ("frame.number",))
    assert echo["requests"] == len(requests)
    assert echo["answered"] == len(answered)
    assert echo["unanswered"] == len(requests) - len(answered) >= 1
    mtus = [int(m) for (m,) in tshark_fields(str(path), "icmp.type==3 && icmp.code==4", ("icmp.mtu",))]
    assert [r["mtu"] for r in ours["icmp"]["v4"]["unreachable"] if r["icmp_code"] == 4] == mtus
    ptb = [int(m) for (m,) in tshark_fields(str(path), "icmpv6.type==2", ("icmpv6.mtu",))]
    assert [r["mtu"] for r in ours["icmp"]["v6"]["errors"] if r["icmp_type"] == 2] == ptb
    assert "Echo reachability" in render(ours, ["icmp"])


@needs_shared
@needs_tshark
@pytest.mark.parametrize("rel", ICMP_FILES)
def test_real_captures_match_tshark(rel: str) -> None:
    assert_like_tshark(str(SHARED_PCAPS / rel))


@needs_shared
@needs_tshark
def test_mpls_traceroute_labels_match_tshark() -> None:
    path = str(SHARED_PCAPS / "icmp4-unreach" / "tcpdump-mpls-traceroute.pcap")
    ours = analyze_json(path)
    theirs = [int(v) for (v,) in tshark_fields(path, "icmp.mpls.label", ("icmp.mpls.label",))]
    labels = [label for r in ours["icmp"]["v4"]["errors"] for label in r["mpls_labels"]]
    assert labels == theirs and theirs
