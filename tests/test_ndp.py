"""Neighbor Discovery: options, malformed messages, the inventory (routers, RS answers, bindings,
DAD, unsolicited NAs, redirects), and agreement with tshark."""

from __future__ import annotations

import struct
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scapy.layers.inet import UDP
from scapy.layers.inet6 import (
    ICMPv6ND_NA,
    ICMPv6ND_NS,
    ICMPv6ND_RA,
    ICMPv6ND_Redirect,
    ICMPv6ND_RS,
    ICMPv6NDOptDNSSL,
    ICMPv6NDOptDstLLAddr,
    ICMPv6NDOptMTU,
    ICMPv6NDOptPrefixInfo,
    ICMPv6NDOptRDNSS,
    ICMPv6NDOptRedirectedHdr,
    ICMPv6NDOptRouteInfo,
    ICMPv6NDOptSrcLLAddr,
    IPv6,
)
from scapy.layers.l2 import Ether
from scapy.packet import Packet as ScapyPacket
from scapy.packet import Raw

from analyzer.decode import Decoder, Packet
from analyzer.dissectors.icmp import IcmpMessage, parse_icmpv6
from analyzer.dissectors.ndp import NdpMessage, parse_ndp
from analyzer.report.terminal import render
from analyzer.trackers import ndp as ndp_tracker
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

ROUTER_MAC, HOST_MAC, OTHER_MAC = "00:00:5e:00:53:01", "00:00:5e:00:53:10", "00:00:5e:00:53:20"
ROUTER_LL, HOST_LL = "fe80::1", "fe80::10"
ALL_NODES, ALL_ROUTERS = "ff02::1", "ff02::2"

# --- helpers ------------------------------------------------------------------------------------


def frame(src: str, dst: str, layer: ScapyPacket | bytes, mac: str = HOST_MAC, hlim: int = 255) -> bytes:
    ip = IPv6(src=src, dst=dst, hlim=hlim)
    if isinstance(layer, bytes):
        ip.nh = 58
        layer = Raw(layer)
    return bytes(Ether(src=mac, dst="33:33:00:00:00:01") / ip / layer)


def decode(data: bytes) -> Packet:
    pkt = Decoder().decode(1.0, 1, data, len(data))
    assert pkt.malformed is None and pkt.proto == 58
    return pkt


def nd(data: bytes) -> NdpMessage:
    pkt = decode(data)
    events = parse_icmpv6(pkt.payload, pkt)
    assert isinstance(events[0], IcmpMessage)
    msgs = [e for e in events if isinstance(e, NdpMessage)]
    assert len(msgs) == 1
    assert events[0].malformed == msgs[0].malformed
    return msgs[0]


def run(frames: list[tuple[float, bytes]]) -> dict[str, Any]:
    return summary_of_frames(frames)


def ra(lifetime: int = 1800) -> ScapyPacket:
    return (
        ICMPv6ND_RA(chlim=64, routerlifetime=lifetime, reachabletime=30000, retranstimer=1000)
        / ICMPv6NDOptSrcLLAddr(lladdr=ROUTER_MAC)
        / ICMPv6NDOptMTU(mtu=1500)
        / ICMPv6NDOptPrefixInfo(
            prefixlen=64, L=1, A=1, validlifetime=86400, preferredlifetime=14400, prefix="2001:db8:1::"
        )
    )


def ra_frame(dst: str = ALL_NODES, src: str = ROUTER_LL, lifetime: int = 1800) -> bytes:
    return frame(src, dst, ra(lifetime), mac=ROUTER_MAC)


def probe(target: str, mac: str = HOST_MAC) -> bytes:
    return frame("::", "ff02::1:ff00:10", ICMPv6ND_NS(tgt=target), mac=mac)


def na(target: str, mac: str, solicited: bool = False, dst: str = ALL_NODES) -> bytes:
    msg = ICMPv6ND_NA(R=0, S=int(solicited), O=1, tgt=target) / ICMPv6NDOptDstLLAddr(lladdr=mac)
    return frame(target, dst, msg, mac=mac)


# --- decoding -----------------------------------------------------------------------------------


def test_router_advertisement_with_every_option() -> None:
    msg = (
        ICMPv6ND_RA(
            chlim=64, M=1, O=1, H=0, prf=1, routerlifetime=1800, reachabletime=30000, retranstimer=1000
        )
        / ICMPv6NDOptSrcLLAddr(lladdr=ROUTER_MAC)
        / ICMPv6NDOptMTU(mtu=1480)
        / ICMPv6NDOptPrefixInfo(
            prefixlen=64, L=1, A=0, validlifetime=86400, preferredlifetime=14400, prefix="2001:db8:1::"
        )
        / ICMPv6NDOptPrefixInfo(
            prefixlen=48, L=0, A=1, validlifetime=0xFFFFFFFF, preferredlifetime=0, prefix="2001:db8::"
        )
        / ICMPv6NDOptRDNSS(lifetime=600, dns=["2001:db8:1::53", "2001:db8:1::54"])
        / ICMPv6NDOptDNSSL(lifetime=900, searchlist=["example.com", "corp.example.org"])
        / ICMPv6NDOptRouteInfo(plen=56, prf=3, rtlifetime=300, prefix="2001:db8:ff00::")
    )
    m = nd(frame(ROUTER_LL, ALL_NODES, msg, mac=ROUTER_MAC))
    assert (m.msg_type, m.msg_name, m.malformed, m.hop_limit) == (134, "RA", None, 255)
    assert m.ra is not None
    assert (m.ra.cur_hop_limit, m.ra.managed, m.ra.other_config, m.ra.home_agent) == (64, True, True, False)
    assert (m.ra.preference, m.ra.router_lifetime, m.ra.reachable_time, m.ra.retrans_timer) == (
        "high",
        1800,
        30000,
        1000,
    )
    o = m.options
    assert o.source_ll == ROUTER_MAC and o.mtu == 1480 and m.l2_src == ROUTER_MAC
    p1, p2 = o.prefixes
    assert (p1.prefix, p1.on_link, p1.autonomous, p1.valid_lifetime, p1.preferred_lifetime) == (
        "2001:db8:1::/64",
        True,
        False,
        86400,
        14400,
    )
    assert (p2.prefix, p2.on_link, p2.autonomous, p2.valid_lifetime) == (
        "2001:db8::/48",
        False,
        True,
        0xFFFFFFFF,
    )
    assert o.rdnss == ("2001:db8:1::53", "2001:db8:1::54") and o.rdnss_lifetime == 600
    assert o.dnssl == ("example.com", "corp.example.org") and o.dnssl_lifetime == 900
    (route,) = o.routes
    assert (route.prefix, route.preference, route.lifetime) == ("2001:db8:ff00::/56", "low", 300)


def test_neighbor_solicitation_and_advertisement() -> None:
    msg = ICMPv6ND_NS(tgt="2001:db8:1::20") / ICMPv6NDOptSrcLLAddr(lladdr=HOST_MAC)
    ns = nd(frame("2001:db8:1::10", "ff02::1:ff00:20", msg))
    assert (ns.msg_name, ns.target, ns.options.source_ll, ns.na) == ("NS", "2001:db8:1::20", HOST_MAC, None)
    adv = nd(na("2001:db8:1::20", OTHER_MAC, solicited=True, dst="2001:db8:1::10"))
    assert adv.na is not None
    assert (adv.na.router, adv.na.solicited, adv.na.override) == (False, True, True)
    assert (adv.target, adv.options.target_ll) == ("2001:db8:1::20", OTHER_MAC)


def test_router_solicitation_from_unspecified() -> None:
    rs = nd(frame("::", ALL_ROUTERS, ICMPv6ND_RS()))
    assert (rs.msg_name, rs.src, rs.options.source_ll, rs.malformed) == ("RS", "::", None, None)


def test_redirect_with_redirected_header() -> None:
    offending = bytes(
        IPv6(src="2001:db8:1::10", dst="2001:db8:2::1") / UDP(sport=45000, dport=53) / Raw(b"q" * 30)
    )
    msg = (
        ICMPv6ND_Redirect(tgt="fe80::2", dst="2001:db8:2::1")
        / ICMPv6NDOptDstLLAddr(lladdr=OTHER_MAC)
        / ICMPv6NDOptRedirectedHdr(pkt=offending)
    )
    m = nd(frame(ROUTER_LL, HOST_LL, msg, mac=ROUTER_MAC))
    assert (m.msg_name, m.target, m.destination, m.options.target_ll) == (
        "Redirect",
        "fe80::2",
        "2001:db8:2::1",
        OTHER_MAC,
    )
    q = m.options.redirected
    assert q is not None and (q.src, q.dst, q.proto, q.sport, q.dport) == (
        "2001:db8:1::10",
        "2001:db8:2::1",
        17,
        45000,
        53,
    )
    redirects = run([(1.0, frame(ROUTER_LL, HOST_LL, msg, mac=ROUTER_MAC))])["ndp"]["redirects"]
    assert redirects[0]["redirected"] == "UDP [2001:db8:1::10]:45000 → [2001:db8:2::1]:53"
    assert redirects[0]["target_mac"] == OTHER_MAC


def test_unknown_options_are_listed() -> None:
    nonce = bytes([14, 1]) + b"\x01\x02\x03\x04\x05\x06"
    m = nd(frame("::", "ff02::1:ff00:10", bytes(ICMPv6ND_NS(tgt="fe80::10")) + nonce))
    assert m.options.other == (14,) and m.malformed is None


# --- malformed ----------------------------------------------------------------------------------

RA_FIXED = bytes([134, 0, 0, 0, 64, 0]) + struct.pack("!HII", 1800, 0, 0)
SLLA = bytes([1, 1]) + bytes.fromhex("00005e005301")
MALFORMED_CASES = {
    "ndp.option_zero_length": RA_FIXED + SLLA + bytes([5, 0, 0, 0, 0, 0, 5, 220]),
    "ndp.option_overrun": RA_FIXED + SLLA + bytes([3, 4]) + bytes(14),
    "ndp.option_truncated": RA_FIXED + SLLA + bytes([1]),
    "ndp.bad_prefix_option": RA_FIXED + SLLA + bytes([3, 1, 64, 0xC0, 0, 0, 0, 0]),
    "ndp.bad_mtu_option": RA_FIXED + SLLA + bytes([5, 2]) + bytes(14),
    "ndp.bad_rdnss_option": RA_FIXED + SLLA + bytes([25, 2]) + bytes(14),
    "ndp.bad_dnssl_name": RA_FIXED + SLLA + bytes([31, 2, 0, 0, 0, 0, 0, 60, 9]) + b"abc" + bytes(4),
    "ndp.bad_prefix_length": RA_FIXED + SLLA + bytes([3, 4, 200, 0xC0]) + bytes(28),
    "ndp.truncated": bytes([135, 0, 0, 0, 0, 0, 0, 0]) + bytes(8),
}


@pytest.mark.parametrize("reason", sorted(MALFORMED_CASES))
def test_malformed_messages_are_counted_not_crashed(reason: str) -> None:
    data = frame(ROUTER_LL, ALL_NODES, MALFORMED_CASES[reason], mac=ROUTER_MAC)
    m = nd(data)
    assert m.malformed == reason
    if reason != "ndp.truncated":
        assert m.options.source_ll == ROUTER_MAC  # options before the bad one are kept
    out = run([(1.0, data)])
    name = "NS" if reason == "ndp.truncated" else "RA"
    assert out["ndp"]["by_type"][name] == 1
    assert out["ndp"]["malformed"] == {reason: 1}
    assert out["icmp"]["malformed"] == {reason: 1}
    assert out["ndp"]["routers"] == []  # a malformed RA teaches nothing


def test_hop_limit_not_255_is_counted() -> None:
    out = run([(1.0, frame(ROUTER_LL, ALL_NODES, ra(), mac=ROUTER_MAC, hlim=64))])
    assert out["ndp"]["hop_limit_not_255"] == 1


PKT = decode(frame("::", ALL_ROUTERS, ICMPv6ND_RS()))


@given(st.sampled_from([133, 134, 135, 136, 137]), st.binary(max_size=200))
def test_fuzz_ndp_bodies(msg_type: int, tail: bytes) -> None:
    message = bytes([msg_type, 0]) + tail
    m = parse_ndp(message, PKT, "C1")
    assert m.msg_type == msg_type
    assert m.malformed is None or m.malformed.startswith("ndp.")


@given(
    st.sampled_from([133, 134, 135, 136, 137]),
    st.lists(
        st.tuples(st.sampled_from([1, 2, 3, 4, 5, 14, 24, 25, 31]), st.integers(0, 5), st.binary(max_size=48))
    ),
)
def test_fuzz_ndp_option_chains(msg_type: int, options: list[tuple[int, int, bytes]]) -> None:
    body = bytes([msg_type, 0]) + bytes(38)
    for opt_type, units, data in options:
        body += bytes([opt_type, units]) + data[: max(units * 8 - 2, 0)].ljust(max(units * 8 - 2, 0), b"\0")
    events = parse_icmpv6(body, PKT)
    assert isinstance(events[0], IcmpMessage) and isinstance(events[1], NdpMessage)


# --- inventory ----------------------------------------------------------------------------------


def test_dad_probe_without_answer_is_no_conflict() -> None:
    dad = run([(1.0, probe("fe80::10")), (2.0, probe("fe80::10"))])["ndp"]["dad"]
    assert len(dad) == 1
    assert (dad[0]["target"], dad[0]["mac"], dad[0]["probes"], dad[0]["conflict"]) == (
        "fe80::10",
        HOST_MAC,
        2,
        False,
    )


def test_dad_conflict_when_another_node_defends() -> None:
    out = run([(1.0, probe("2001:db8:1::20", mac=HOST_MAC)), (1.4, na("2001:db8:1::20", OTHER_MAC))])["ndp"]
    (row,) = out["dad"]
    assert row["conflict"] and row["conflict_kind"] == "defended"
    assert (row["defender"], row["defender_mac"], row["conflict_ts"]) == ("2001:db8:1::20", OTHER_MAC, 1.4)
    assert out["unsolicited_na"] == []  # the defending NA answered the probe


def test_own_announcement_after_dad_is_not_a_conflict() -> None:
    out = run([(1.0, probe("fe80::10", mac=HOST_MAC)), (1.9, na("fe80::10", HOST_MAC))])["ndp"]
    assert out["dad"][0]["conflict"] is False
    assert [u["target"] for u in out["unsolicited_na"]] == ["fe80::10"]


def test_defence_after_the_dad_window_is_an_unsolicited_na() -> None:
    late = 1.0 + ndp_tracker.DAD_WINDOW + 1
    out = run([(1.0, probe("fe80::10")), (late, na("fe80::10", OTHER_MAC))])["ndp"]
    assert out["dad"][0]["conflict"] is False and len(out["unsolicited_na"]) == 1


def test_simultaneous_dad_probes_conflict() -> None:
    dad = run([(1.0, probe("fe80::99", mac=HOST_MAC)), (1.5, probe("fe80::99", mac=OTHER_MAC))])["ndp"]["dad"]
    assert [(d["mac"], d["conflict_kind"], d["defender_mac"]) for d in dad] == [
        (HOST_MAC, "simultaneous", OTHER_MAC),
        (OTHER_MAC, "simultaneous", HOST_MAC),
    ]


def test_solicited_na_is_not_unsolicited() -> None:
    out = run([(1.0, na("2001:db8:1::20", OTHER_MAC, solicited=True, dst="2001:db8:1::10"))])["ndp"]
    assert out["unsolicited_na"] == [] and out["bindings"][0]["mac"] == OTHER_MAC


@pytest.mark.parametrize(
    ("times", "mean", "verdict"),
    [
        ((0.0, 200.0, 400.0), 200.0, "about"),
        ((0.0, 190.0), 190.0, "about"),
        ((0.0, 30.0, 60.0), 30.0, "shorter"),
        ((0.0, 600.0), 600.0, "longer"),
        ((0.0,), None, None),
    ],
)
def test_ra_intervals_compared_with_200s(
    times: tuple[float, ...], mean: float | None, verdict: str | None
) -> None:
    (router,) = run([(t + 1.0, ra_frame()) for t in times])["ndp"]["routers"]
    assert router["ra_count"] == len(times)
    assert router["interval_mean"] == mean and router["interval_vs_nominal"] == verdict
    assert router["interval_count"] == len(times) - 1
    assert router["nominal_interval"] == 200.0


def test_router_inventory_fields() -> None:
    (router,) = run([(1.0, ra_frame(lifetime=0))])["ndp"]["routers"]
    assert (router["address"], router["mac"], router["default_router"], router["mtu"]) == (
        ROUTER_LL,
        ROUTER_MAC,
        False,
        1500,
    )
    assert router["prefixes"][0]["prefix"] == "2001:db8:1::/64" and router["prefixes"][0]["autonomous"]


def test_rs_answered_by_multicast_ra() -> None:
    rs = frame(HOST_LL, ALL_ROUTERS, ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr=HOST_MAC))
    out = run([(1.0, rs), (1.25, ra_frame())])["ndp"]
    (sol,) = out["solicitations"]
    assert sol["answered"] and sol["answered_by"] == ROUTER_LL and sol["delay"] == 0.25
    assert (out["rs_answered"], out["rs_unanswered"]) == (1, 0)
    assert out["routers"][0]["solicited_ras"] == 1


def test_rs_unanswered_when_ra_comes_too_late_or_to_someone_else() -> None:
    rs = frame("::", ALL_ROUTERS, ICMPv6ND_RS())
    late = 1.0 + ndp_tracker.RS_ANSWER_WINDOW + 5
    out = run([(1.0, rs), (late, ra_frame()), (late + 1, rs), (late + 1.1, ra_frame(dst="fe80::77"))])["ndp"]
    assert [s["answered"] for s in out["solicitations"]] == [False, False]
    assert (out["rs_answered"], out["rs_unanswered"]) == (0, 2)
    assert out["routers"][0]["solicited_ras"] == 0


def test_rs_at_the_end_without_ra_is_unanswered() -> None:
    out = run([(1.0, frame("::", ALL_ROUTERS, ICMPv6ND_RS()))])["ndp"]
    assert out["rs_unanswered"] == 1 and out["solicitations"][0]["answered_by"] is None


def test_bindings_and_mac_conflicts() -> None:
    ns = frame(
        "2001:db8:1::10",
        "ff02::1:ff00:20",
        ICMPv6ND_NS(tgt="2001:db8:1::20") / ICMPv6NDOptSrcLLAddr(lladdr=HOST_MAC),
    )
    frames = [
        (1.0, ns),
        (1.1, na("2001:db8:1::20", OTHER_MAC, solicited=True, dst="2001:db8:1::10")),
        (9.0, na("2001:db8:1::20", "00:00:5e:00:53:99")),
    ]
    bindings = {b["address"]: b for b in run(frames)["ndp"]["bindings"]}
    assert bindings["2001:db8:1::10"]["mac"] == HOST_MAC and bindings["2001:db8:1::10"]["learned_from"] == [
        "NS"
    ]
    taken = bindings["2001:db8:1::20"]
    assert taken["conflict"] and taken["macs"] == [OTHER_MAC, "00:00:5e:00:53:99"]
    assert taken["mac"] == "00:00:5e:00:53:99" and (taken["first_seen"], taken["last_seen"]) == (1.1, 9.0)


def test_inventory_tables_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "MAX_DAD_ROWS",
        "MAX_BINDINGS",
        "MAX_ROUTERS",
        "MAX_UNSOLICITED_NA_ROWS",
        "MAX_SOLICITATION_ROWS",
    ):
        monkeypatch.setattr(ndp_tracker, name, 1)
    frames = [(1.0 + i, probe(f"fe80::{i + 1}")) for i in range(3)]
    frames += [(5.0 + i, na(f"2001:db8::{i + 1}", OTHER_MAC)) for i in range(3)]
    frames += [(9.0 + i, ra_frame(src=f"fe80::a{i}")) for i in range(2)]
    frames += [(20.0 + 10 * i, frame("::", ALL_ROUTERS, ICMPv6ND_RS())) for i in range(3)]
    out = run(frames)["ndp"]
    assert len(out["dad"]) == 1 and out["dad_dropped"] == 2
    assert len(out["unsolicited_na"]) == 1 and out["unsolicited_na_dropped"] == 2
    assert len(out["routers"]) == 1 and out["routers_dropped"] == 1
    assert len(out["bindings"]) == 1 and out["bindings_dropped"] >= 2
    assert len(out["solicitations"]) == 1 and out["solicitations_dropped"] == 2
    assert out["by_type"] == {"RS": 3, "RA": 2, "NS": 3, "NA": 3, "Redirect": 0}


def test_sample_inventory() -> None:
    path = SAMPLES / "ndp.pcap"
    out = analyze_json(str(path))
    ndp = out["ndp"]
    (router,) = ndp["routers"]
    assert router["interval_vs_nominal"] == "about" and router["interval_mean"] == pytest.approx(200.0)
    assert ndp["rs_answered"] == 1 and ndp["rs_unanswered"] == 0
    assert [d["conflict"] for d in ndp["dad"]] == [False, False, True]
    assert len(ndp["unsolicited_na"]) == 1 and len(ndp["redirects"]) == 1
    text = render(out, ["ndp"])
    assert "Duplicate Address Detection" in text and "Routers" in text


# --- against tshark -----------------------------------------------------------------------------

NDP_NAMES = {"133": "RS", "134": "RA", "135": "NS", "136": "NA", "137": "Redirect"}
NDP_FILES = [f["file"] for f in truth().get("files", []) if f.get("ndp")]
"""Shared captures whose truth has an ndp section."""
FIELDS = (
    "icmpv6.type",
    "ipv6.src",
    "icmpv6.nd.ra.router_lifetime",
    "icmpv6.nd.ra.flag.m",
    "icmpv6.nd.ra.flag.o",
    "icmpv6.opt.prefix",
    "icmpv6.opt.prefix.length",
    "icmpv6.nd.ns.target_address",
    "icmpv6.nd.na.target_address",
    "icmpv6.opt.src_linkaddr",
    "icmpv6.opt.target_linkaddr",
    "icmpv6.nd.na.flag.s",
    "icmpv6.opt.mtu",
)


def assert_ndp_like_tshark(path: str) -> None:
    ours = analyze_json(path)["ndp"]
    rows = tshark_fields(path, "icmpv6.type >= 133 && icmpv6.type <= 137", FIELDS)
    by_type = {name: 0 for name in NDP_NAMES.values()}
    routers: dict[str, list[tuple[str, ...]]] = {}
    prefixes: set[str] = set()
    probes: list[str] = []
    bindings: set[tuple[str, str]] = set()
    unsolicited = 0
    for t, src, life, m, o, prefix, plen, ns_tgt, na_tgt, sll, tll, solicited, mtu in rows:
        first = t.split(",")[0]
        src = src.split(",")[-1]
        by_type[NDP_NAMES[first]] += 1
        if first == "134":
            routers.setdefault(src, []).append((life, m, o, mtu))
            prefixes |= {f"{p}/{n}" for p, n in zip(prefix.split(","), plen.split(","), strict=True) if p}
            if sll:
                bindings.add((src, sll))
        elif first == "135":
            if src == "::":
                probes.append(ns_tgt)
            elif sll:
                bindings.add((src, sll))
        elif first == "136":
            if tll:
                bindings.add((na_tgt, tll))
            unsolicited += solicited == "0"
    assert ours["by_type"] == by_type
    assert {r["address"]: r["ra_count"] for r in ours["routers"]} == {a: len(v) for a, v in routers.items()}
    for r in ours["routers"]:
        life, m, o, mtu = routers[r["address"]][-1]
        assert (str(r["router_lifetime"]), r["managed"], r["other_config"]) == (life, m == "1", o == "1")
        assert str(r["mtu"] or "") == mtu
    assert {p["prefix"] for r in ours["routers"] for p in r["prefixes"]} == prefixes
    assert sorted(d["target"] for d in ours["dad"] for _ in range(d["probes"])) == sorted(probes)
    ours_bindings = {(b["address"], mac) for b in ours["bindings"] for mac in b["macs"]}
    assert bindings <= ours_bindings
    defended = sum(d["conflict_kind"] == "defended" for d in ours["dad"])
    assert len(ours["unsolicited_na"]) + defended == unsolicited


@needs_tshark
def test_sample_matches_tshark() -> None:
    path = SAMPLES / "ndp.pcap"
    assert_ndp_like_tshark(str(path))


@needs_shared
@needs_tshark
@pytest.mark.parametrize("rel", NDP_FILES)
def test_real_captures_match_tshark(rel: str) -> None:
    assert_ndp_like_tshark(str(SHARED_PCAPS / rel))


def test_terminal_escapes_wire_strings() -> None:
    dnssl = bytes([31, 3, 0, 0, 0, 0, 0, 60, 9]) + b"\x1b[31mevil" + bytes(6)
    data = frame(ROUTER_LL, ALL_NODES, bytes(ra()) + dnssl, mac=ROUTER_MAC)
    out = run([(1.0, data)])
    assert out["ndp"]["routers"][0]["dnssl"] == ["\x1b[31mevil"]
    text = render(out, ["ndp"])
    assert "\\e[31mevil" in text and "\x1b" not in text
