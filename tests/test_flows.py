"""Tests for analyzer.flows: direction-independent keys, originator choice, Zeek conn_state and
history, idle expiry by packet time, eviction of a full table, and deterministic uids."""

import functools
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, IPv6

from analyzer.decode import Decoder, Packet
from analyzer.flows import (
    CLOSED_LINGER,
    IDLE_TIMEOUT,
    SWEEP_INTERVAL,
    Flow,
    FlowTable,
    flow_key,
    make_uid,
)

CLIENT, SERVER = "10.0.0.1", "10.0.0.2"
CPORT, SPORT = 40000, 80
V6_CLIENT, V6_SERVER = "2001:db8::1", "2001:db8::2"


@functools.cache
def _frame(src: str, dst: str, layer: str, a: object, b: object, flags: str, payload: bytes) -> bytes:
    ip = IP(src=src, dst=dst) if ":" not in src else IPv6(src=src, dst=dst)
    if layer == "tcp":
        return bytes(ip / TCP(sport=a, dport=b, flags=flags, seq=1000, ack=2000) / payload)
    if layer == "udp":
        return bytes(ip / UDP(sport=a, dport=b) / payload)
    if layer == "icmp":
        return bytes(ip / ICMP(type=a, code=b, id=1, seq=1) / payload)
    echo = ICMPv6EchoRequest if a == 128 else ICMPv6EchoReply
    return bytes(ip / echo(id=1, seq=1) / payload)


def decode(data: bytes, ts: float) -> Packet:
    p = Decoder().decode(ts, 101, data, len(data))
    assert p.malformed is None and p.payload_end > 0
    return p


def c2s(flags: str, payload: bytes = b"", ts: float = 0.0) -> Packet:
    """A TCP segment from the client (ephemeral port) to the server (port 80)."""
    return decode(_frame(CLIENT, SERVER, "tcp", CPORT, SPORT, flags, payload), ts)


def s2c(flags: str, payload: bytes = b"", ts: float = 0.0) -> Packet:
    return decode(_frame(SERVER, CLIENT, "tcp", SPORT, CPORT, flags, payload), ts)


def udp(src: str, dst: str, sport: int, dport: int, payload: bytes = b"x", ts: float = 0.0) -> Packet:
    return decode(_frame(src, dst, "udp", sport, dport, "", payload), ts)


def icmp(src: str, dst: str, icmp_type: int, ts: float = 0.0) -> Packet:
    return decode(_frame(src, dst, "icmp", icmp_type, 0, "", b"ping"), ts)


def icmp6(src: str, dst: str, icmp_type: int, ts: float = 0.0) -> Packet:
    return decode(_frame(src, dst, "icmp6", icmp_type, 0, "", b"ping"), ts)


def feed(table: FlowTable, packets: list[Packet]) -> Flow:
    """Run packets through the table as the pipeline does; they must all belong to one flow."""
    flows = set()
    flow = None
    for pkt in packets:
        flow, from_orig, closed = table.find(pkt)
        assert closed == []
        flow.update(pkt, from_orig)
        flows.add(id(flow))
    assert flow is not None and len(flows) == 1
    return flow


def run(packets: list[Packet]) -> Flow:
    return feed(FlowTable(), packets)


# --- keys and directions ------------------------------------------------------------------------------


@given(
    proto=st.sampled_from([6, 17, 1, 58]),
    a_ip=st.binary(min_size=4, max_size=4),
    b_ip=st.binary(min_size=4, max_size=4),
    a_port=st.integers(0, 65535),
    b_port=st.integers(0, 65535),
)
def test_flow_key_is_direction_independent(
    proto: int, a_ip: bytes, b_ip: bytes, a_port: int, b_port: int
) -> None:
    key = flow_key(proto, a_ip, a_port, b_ip, b_port)
    assert key == flow_key(proto, b_ip, b_port, a_ip, a_port)
    assert key[0] == proto
    assert {(key[1], key[2]), (key[3], key[4])} == {(a_ip, a_port), (b_ip, b_port)}


def test_flow_key_separates_conversations() -> None:
    a, b = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    base = flow_key(6, a, 1000, b, 80)
    assert base != flow_key(17, a, 1000, b, 80)
    assert base != flow_key(6, a, 1001, b, 80)
    assert base != flow_key(6, a, 80, b, 1000)  # ports swapped between the hosts: another flow


def test_find_same_flow_both_directions() -> None:
    table = FlowTable()
    flow, from_orig, closed = table.find(c2s("S"))
    assert (from_orig, closed) == (True, [])
    back, back_orig, _ = table.find(s2c("SA"))
    assert back is flow and back_orig is False
    again, again_orig, _ = table.find(c2s("A"))
    assert again is flow and again_orig is True
    assert len(table) == 1 and table.created == 1
    assert (flow.orig_h, flow.orig_port, flow.resp_h, flow.resp_port) == (CLIENT, CPORT, SERVER, SPORT)
    assert (flow.proto, flow.proto_name) == (6, "tcp")
    a, b = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    assert table.get(flow_key(6, a, CPORT, b, SPORT)) is flow
    assert table.get(flow_key(6, b, SPORT, a, CPORT)) is flow
    assert table.get(flow_key(17, a, CPORT, b, SPORT)) is None


def test_counters_per_direction() -> None:
    pkts = [c2s("S"), s2c("SA"), c2s("A"), c2s("PA", b"GET /"), s2c("PA", b"200 OK here")]
    flow = run(pkts)
    assert (flow.orig_pkts, flow.resp_pkts) == (3, 2)
    assert (flow.orig_bytes, flow.resp_bytes) == (5, 11)
    assert flow.orig_ip_bytes == sum(p.wirelen for p in (pkts[0], pkts[2], pkts[3]))
    assert flow.resp_ip_bytes == pkts[1].wirelen + pkts[4].wirelen
    assert (flow.isn_orig, flow.isn_resp) == (1000, 1000)


def test_syn_ack_seen_first_reverses() -> None:
    table = FlowTable()
    flow, from_orig, _ = table.find(s2c("SA"))
    assert from_orig is False
    assert (flow.orig_h, flow.orig_port, flow.resp_h, flow.resp_port) == (CLIENT, CPORT, SERVER, SPORT)


def test_syn_decides_even_from_a_low_port() -> None:
    flow, from_orig, _ = FlowTable().find(s2c("S"))  # a SYN from port 80 to 40000: its sender opens
    assert from_orig is True
    assert (flow.orig_h, flow.orig_port) == (SERVER, SPORT)


def test_midstream_from_well_known_port_reverses() -> None:
    flow, from_orig, _ = FlowTable().find(s2c("PA", b"data"))
    assert from_orig is False
    assert (flow.orig_h, flow.orig_port) == (CLIENT, CPORT)


@pytest.mark.parametrize(
    ("sport", "dport", "reversed_"),
    [(53, 40000, True), (40000, 53, False), (40000, 40001, False), (53, 53, False), (123, 123, False)],
)
def test_udp_originator_by_ports(sport: int, dport: int, reversed_: bool) -> None:
    flow, from_orig, _ = FlowTable().find(udp(SERVER, CLIENT, sport, dport))
    assert from_orig is (not reversed_)
    assert flow.orig_h == (CLIENT if reversed_ else SERVER)
    assert flow.orig_port == (dport if reversed_ else sport)


def test_icmp_echo_request_and_reply_share_a_flow() -> None:
    table = FlowTable()
    flow, from_orig, _ = table.find(icmp(CLIENT, SERVER, 8))
    reply, reply_orig, _ = table.find(icmp(SERVER, CLIENT, 0))
    assert reply is flow and (from_orig, reply_orig) == (True, False)
    assert (flow.orig_h, flow.orig_port, flow.resp_port) == (CLIENT, 8, 0)
    assert flow.proto_name == "icmp"


def test_icmp_echo_reply_first_reverses() -> None:
    table = FlowTable()
    flow, from_orig, _ = table.find(icmp(SERVER, CLIENT, 0))
    assert from_orig is False
    assert (flow.orig_h, flow.resp_h) == (CLIENT, SERVER)
    assert table.find(icmp(CLIENT, SERVER, 8))[:2] == (flow, True)


def test_icmpv6_echo_pair() -> None:
    table = FlowTable()
    flow, from_orig, _ = table.find(icmp6(V6_SERVER, V6_CLIENT, 129))
    assert from_orig is False and flow.orig_h == V6_CLIENT
    assert table.find(icmp6(V6_CLIENT, V6_SERVER, 128))[:2] == (flow, True)


# --- conn_state and history -------------------------------------------------------------------------

HANDSHAKE = [("c", "S"), ("s", "SA"), ("c", "A")]

# Sequences of (side, flags[, payload]) and Zeek's conn_state for them
# (base/protocols/conn/main.zeek, from each side's TCP endpoint state).
CONN_STATES = [
    ("S0", [("c", "S")]),
    ("S0", [("c", "S"), ("c", "S")]),  # retransmitted SYN
    ("S0", [("c", "S"), ("s", "A")]),  # a bare ACK of the SYN does not make the responder active
    ("REJ", [("c", "S"), ("s", "RA")]),
    ("REJ", [("c", "S"), ("s", "RA"), ("c", "R")]),
    ("S1", HANDSHAKE),
    ("S1", [("c", "S"), ("s", "SA")]),
    ("S1", [*HANDSHAKE, ("c", "PA", b"GET"), ("s", "PA", b"OK")]),
    ("SF", [*HANDSHAKE, ("c", "FA"), ("s", "FA"), ("c", "A")]),
    ("S2", [*HANDSHAKE, ("c", "FA")]),
    ("S3", [*HANDSHAKE, ("s", "FA")]),
    ("RSTO", [*HANDSHAKE, ("c", "RA")]),
    ("RSTO", [*HANDSHAKE, ("c", "FA"), ("c", "R")]),
    ("RSTR", [*HANDSHAKE, ("s", "R")]),
    ("RSTR", [*HANDSHAKE, ("c", "FA"), ("s", "R")]),
    ("RSTOS0", [("c", "S"), ("c", "R")]),
    ("RSTRH", [("s", "SA"), ("s", "R")]),
    ("SH", [("c", "S"), ("c", "F")]),
    ("SHR", [("s", "SA"), ("s", "FA")]),
    ("OTH", [("c", "PA", b"x"), ("s", "A")]),
    ("OTH", [("c", "S"), ("s", "PA", b"data")]),  # a responder talking without SYN-ACK
    ("OTH", [("c", "PA", b"x"), ("c", "R")]),  # no SYN before the originator's RST
    # Midstream connections (no handshake seen) that are later closed:
    ("SF", [("c", "PA", b"x"), ("s", "PA", b"y"), ("c", "FA"), ("s", "FA")]),
    ("SH", [("c", "PA", b"x"), ("s", "A"), ("c", "FA")]),
    ("SHR", [("c", "PA", b"x"), ("s", "A"), ("s", "FA")]),
    ("RSTRH", [("c", "PA", b"x"), ("s", "R")]),
]


def build(steps: list[tuple]) -> list[Packet]:
    out = []
    for i, step in enumerate(steps):
        side, flags = step[0], step[1]
        payload = step[2] if len(step) > 2 else b""
        out.append((c2s if side == "c" else s2c)(flags, payload, ts=float(i)))
    return out


@pytest.mark.parametrize(
    ("state", "steps"), CONN_STATES, ids=[f"{s}-{i}" for i, (s, _) in enumerate(CONN_STATES)]
)
def test_tcp_conn_state(state: str, steps: list[tuple]) -> None:
    flow = run(build(steps))
    assert flow.conn_state == state, flow.history


def test_every_zeek_tcp_state_is_covered() -> None:
    zeek = {"S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH"}
    assert {s for s, _ in CONN_STATES} == zeek


def test_udp_and_icmp_conn_state() -> None:
    table = FlowTable()
    q = feed(table, [udp(CLIENT, SERVER, 40000, 53)])
    assert q.conn_state == "S0"
    feed(table, [udp(SERVER, CLIENT, 53, 40000)])
    assert q.conn_state == "SF"
    only_reply = run([udp(SERVER, CLIENT, 53, 40001)])  # reversed by ports: only the responder spoke
    assert only_reply.conn_state == "SHR"
    ping = run([icmp(CLIENT, SERVER, 8), icmp(SERVER, CLIENT, 0)])
    assert ping.conn_state == "OTH"  # Zeek gives ICMP flows no state


@pytest.mark.parametrize(
    ("steps", "history"),
    [
        (
            [
                *HANDSHAKE,
                ("c", "PA", b"GET"),
                ("s", "A"),
                ("s", "PA", b"OK"),
                ("c", "A"),
                ("c", "PA", b"more"),
                ("c", "FA"),
                ("s", "FA"),
                ("c", "A"),
            ],
            "ShADadFf",
        ),
        ([("c", "S"), ("s", "RA")], "Sr"),
        ([*HANDSHAKE, ("c", "R")], "ShAR"),
        ([("s", "SA"), ("c", "A"), ("c", "PA", b"x")], "hAD"),
        ([("c", "PA", b"x"), ("c", "PA", b"y"), ("s", "PA", b"z")], "Dd"),
        ([("c", "S"), ("c", "SF")], "SQ"),  # SYN+FIN: Zeek's multi-flag letter
        ([*HANDSHAKE, ("s", "FR")], "ShAi"),  # FIN+RST in one segment
    ],
)
def test_history(steps: list[tuple], history: str) -> None:
    assert run(build(steps)).history == history


# --- expiry and eviction ------------------------------------------------------------------------------


def test_sweep_is_due_only_every_sweep_interval() -> None:
    table = FlowTable()
    assert table.due(100.0) is False  # the first packet only schedules the first sweep
    assert table.due(100.0 + SWEEP_INTERVAL - 0.01) is False
    assert table.due(100.0 + SWEEP_INTERVAL) is True
    table.sweep(100.0 + SWEEP_INTERVAL + 3)
    assert table.due(100.0 + 2 * SWEEP_INTERVAL + 2) is False
    assert table.due(100.0 + 2 * SWEEP_INTERVAL + 3) is True


def test_idle_timeouts_by_protocol() -> None:
    assert (IDLE_TIMEOUT[6], IDLE_TIMEOUT[17]) == (300.0, 60.0)
    table = FlowTable()
    tcp_flow = feed(table, [c2s("S", ts=0.0), s2c("SA", ts=0.0), c2s("A", ts=0.0)])
    udp_flow = feed(table, [udp(CLIENT, SERVER, 40000, 53, ts=0.0)])
    ping = feed(table, [icmp(CLIENT, SERVER, 8, ts=0.0)])
    assert table.sweep(60.0) == []  # idle for exactly the timeout: not yet
    assert set(map(id, table.sweep(60.5))) == {id(udp_flow), id(ping)}
    assert len(table) == 1 and table.expired == 2
    assert table.sweep(300.0) == []
    assert table.sweep(300.5) == [tcp_flow]
    assert (len(table), table.expired) == (0, 3)


def test_activity_postpones_expiry() -> None:
    table = FlowTable()
    flow = feed(table, [udp(CLIENT, SERVER, 40000, 53, ts=0.0)])
    feed(table, [udp(SERVER, CLIENT, 53, 40000, ts=50.0)])
    assert table.sweep(100.0) == []
    assert (flow.first_ts, flow.last_ts, flow.duration) == (0.0, 50.0, 50.0)
    assert table.sweep(110.5) == [flow]


@pytest.mark.parametrize(
    "closing", [[("c", "FA"), ("s", "FA")], [("s", "R")], [("c", "RA")]], ids=["fin-fin", "rst-r", "rst-o"]
)
def test_closed_tcp_flows_linger_briefly(closing: list[tuple]) -> None:
    table = FlowTable()
    flow = feed(table, [p for p in build([*HANDSHAKE, *closing])])
    last = flow.last_ts
    assert table.sweep(last + CLOSED_LINGER) == []
    assert table.sweep(last + CLOSED_LINGER + 0.5) == [flow]


def test_half_closed_flow_waits_for_the_tcp_timeout() -> None:
    table = FlowTable()
    flow = feed(table, build([*HANDSHAKE, ("c", "FA")]))
    assert table.sweep(flow.last_ts + 100) == []
    assert table.sweep(flow.last_ts + 300.5) == [flow]


def test_full_table_evicts_least_recently_seen() -> None:
    table = FlowTable(max_flows=10)
    flows = [feed(table, [udp(CLIENT, SERVER, 41000 + i, 53, ts=float(i))]) for i in range(10)]
    feed(table, [udp(SERVER, CLIENT, 53, 41000, ts=20.0)])  # flow 0 is busy again
    _, _, closed = table.find(udp(CLIENT, SERVER, 42000, 53, ts=21.0))
    assert closed == [flows[1]]  # the least recently seen
    assert (len(table), table.evicted, table.created) == (10, 1, 11)
    a, b = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    assert table.get(flow_key(17, a, 41000, b, 53)) is flows[0]
    assert table.get(flow_key(17, a, 41001, b, 53)) is None
    _, _, closed = table.find(udp(CLIENT, SERVER, 42001, 53, ts=22.0))
    assert closed == [flows[2]] and table.evicted == 2
    # The evicted conversation comes back as a new flow.
    again, _, closed = table.find(udp(CLIENT, SERVER, 41001, 53, ts=23.0))
    assert again is not flows[1] and closed == [flows[3]]


def test_drain_empties_the_table() -> None:
    table = FlowTable()
    feed(table, [udp(CLIENT, SERVER, 40000, 53)])
    feed(table, [c2s("S")])
    assert len(table.drain()) == 2 and len(table) == 0


# --- uids -------------------------------------------------------------------------------------------------


def test_uid_deterministic_and_shared_by_both_directions() -> None:
    pkts = build([*HANDSHAKE, ("s", "PA", b"x")])
    one, two = run(pkts), run(pkts)
    assert one.uid == two.uid
    assert one.uid == make_uid(0.0, one.key)
    reversed_start = run(build([("s", "SA"), ("c", "A")]))
    assert reversed_start.key == one.key and reversed_start.uid == one.uid  # same flow, same start


@pytest.mark.parametrize("ts", [1e30, -1e30, 1.8e19, float("inf"), float("nan")])
def test_uid_of_a_flow_at_an_absurd_time(ts: float) -> None:
    """A corrupt capture's timestamps (found by bench/fuzz.py: a pcapng with garbage ticks) still give
    a uid, and the usual times keep theirs."""
    key = run([udp(CLIENT, SERVER, 40000, 53, ts=1.0)]).key
    uid = make_uid(ts, key)
    assert len(uid) == 18 and uid.startswith("C")
    assert make_uid(1.0, key) != uid


def test_uids_differ_between_flows_and_look_like_zeek() -> None:
    uids = {run([udp(CLIENT, SERVER, 40000 + i, 53, ts=1.0)]).uid for i in range(50)}
    uids.add(run([udp(CLIENT, SERVER, 40000, 53, ts=2.0)]).uid)  # same endpoints, later start
    assert len(uids) == 51
    alphabet = set(string.ascii_letters + string.digits)
    for uid in uids:
        assert len(uid) == 18 and uid[0] == "C" and set(uid[1:]) <= alphabet
    assert len({uid[-6:] for uid in uids}) > 40  # every character carries entropy
