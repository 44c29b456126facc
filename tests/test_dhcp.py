"""DHCP: the BOOTP/DHCP parser, each client's lease lifecycle, and agreement with tshark.

Unit tests build real Ethernet/IPv4/UDP frames (BOOTP bytes written here with struct) and run them
through the pipeline, so parser, registry wiring and tracker are exercised together.
"""

from __future__ import annotations

import struct
from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from analyzer.decode import Packet
from analyzer.dissectors import dhcp as parser
from analyzer.errors import Malformed
from analyzer.pipeline import Pipeline
from analyzer.report.terminal import render
from analyzer.trackers import dhcp4, dhcp_common
from tests.oracle import (
    SAMPLES,
    SHARED_PCAPS,
    analyze_json,
    needs_shared,
    needs_tshark,
    shared_entry,
    truth_files,
    tshark_fields,
)

# --- building messages --------------------------------------------------------------------------

RFC_MESSAGE_NAMES = {
    "1": "DISCOVER",
    "2": "OFFER",
    "3": "REQUEST",
    "4": "DECLINE",
    "5": "ACK",
    "6": "NAK",
    "7": "RELEASE",
    "8": "INFORM",
    "9": "FORCERENEW",
    "10": "LEASEQUERY",
    "11": "LEASEUNASSIGNED",
    "12": "LEASEUNKNOWN",
    "13": "LEASEACTIVE",
}
"""RFC 2132/4388 names of option 53 values, written out independently of the parser's table."""
TYPE = {v: int(k) for k, v in RFC_MESSAGE_NAMES.items()}
COOKIE = b"\x63\x82\x53\x63"
CLIENT = "00:00:5e:00:53:a1"
CLIENT2 = "00:00:5e:00:53:b2"
SRV1, SRV1_MAC = "192.0.2.1", "00:00:5e:00:53:01"
SRV2, SRV2_MAC = "192.0.2.3", "00:00:5e:00:53:67"
ADDR = "192.0.2.101"
BCAST = "255.255.255.255"
T0 = 1_700_000_000.0


def ip4(text: str) -> bytes:
    return bytes(int(x) for x in text.split("."))


def mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def opt(code: int, value: bytes) -> bytes:
    return bytes([code, len(value)]) + value


def u32(n: int) -> bytes:
    return struct.pack("!I", n)


def header(
    op: int,
    xid: int,
    chaddr: str = CLIENT,
    *,
    ciaddr: str = "0.0.0.0",
    yiaddr: str = "0.0.0.0",
    giaddr: str = "0.0.0.0",
    flags: int = 0,
    sname: bytes = b"",
    file: bytes = b"",
) -> bytes:
    return struct.pack(
        "!BBBBIHH4s4s4s4s16s64s128s",
        op,
        1,
        6,
        0,
        xid,
        0,
        flags,
        ip4(ciaddr),
        ip4(yiaddr),
        ip4("0.0.0.0"),
        ip4(giaddr),
        mac(chaddr),
        sname,
        file,
    )


def dhcp(msg: str, xid: int, *options: bytes, chaddr: str = CLIENT, end: bool = True, **kw: Any) -> bytes:
    """A DHCP message: header, cookie, option 53, the options, end, padded to 300 bytes."""
    op = 2 if msg in ("OFFER", "ACK", "NAK") else 1
    body = header(op, xid, chaddr, **kw) + COOKIE + opt(53, bytes([TYPE[msg]])) + b"".join(options)
    return (body + (b"\xff" if end else b"")).ljust(300, b"\0")


def server_opts(server: str = SRV1, lease: int | None = 3600) -> list[bytes]:
    out = [opt(54, ip4(server))]
    if lease is not None:
        out.append(opt(51, u32(lease)))
    return [*out, opt(1, ip4("255.255.255.0")), opt(3, ip4(SRV1)), opt(15, b"example.test")]


def frame(
    payload: bytes,
    *,
    src: str = "0.0.0.0",
    dst: str = BCAST,
    from_server: bool = False,
    src_mac: str = CLIENT,
    dst_mac: str = "ff:ff:ff:ff:ff:ff",
) -> bytes:
    sport, dport = (67, 68) if from_server else (68, 67)
    pkt = Ether(src=src_mac, dst=dst_mac) / IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / payload
    return bytes(pkt)


class Capture:
    """Frames fed to a real Pipeline at given packet times."""

    def __init__(self) -> None:
        self.pipe = Pipeline()

    def send(self, at: float, data: bytes) -> None:
        self.pipe.process(T0 + at, 1, data, len(data))

    def client(
        self, at: float, payload: bytes, src: str = "0.0.0.0", dst: str = BCAST, who: str = CLIENT
    ) -> None:
        dst_mac = "ff:ff:ff:ff:ff:ff" if dst == BCAST else SRV1_MAC
        self.send(at, frame(payload, src=src, dst=dst, src_mac=who, dst_mac=dst_mac))

    def server(self, at: float, payload: bytes, server: str = SRV1, server_mac: str = SRV1_MAC) -> None:
        self.send(at, frame(payload, src=server, dst=BCAST, from_server=True, src_mac=server_mac))

    def result(self) -> dict[str, Any]:
        self.pipe.end_of_input()
        out: dict[str, Any] = self.pipe.summary().to_json()
        return out

    def dhcp(self) -> dict[str, Any]:
        section: dict[str, Any] = self.result()["dhcp"]
        return section


def dora(cap: Capture, at: float = 0.0, lease: int = 3600, xid: int = 0x1001, *extra: bytes) -> None:
    ident = [opt(61, b"\x01" + mac(CLIENT)), opt(12, b"laptop-a"), opt(60, b"MSFT 5.0")]
    cap.client(at, dhcp("DISCOVER", xid, *ident, opt(55, bytes([1, 3, 6, 15, 51, 54]))))
    cap.server(at + 0.01, dhcp("OFFER", xid, *server_opts(lease=lease), *extra, yiaddr=ADDR))
    cap.client(at + 1, dhcp("REQUEST", xid, *ident, opt(50, ip4(ADDR)), opt(54, ip4(SRV1))))
    cap.server(at + 1.01, dhcp("ACK", xid, *server_opts(lease=lease), *extra, yiaddr=ADDR))


def only_row(section: dict[str, Any]) -> dict[str, Any]:
    assert len(section["leases"]) == 1
    row: dict[str, Any] = section["leases"][0]
    return row


def steps(row: dict[str, Any]) -> list[str]:
    return [e["step"] for e in row["timeline"]]


def bare_packet(ts: float = 1.0) -> Packet:
    pkt = Packet(ts, 1, b"", 0)
    pkt.src_ip, pkt.dst_ip, pkt.sport, pkt.dport = ip4("0.0.0.0"), ip4(BCAST), 68, 67
    pkt.l2_src, pkt.l2_dst = mac(CLIENT), b"\xff" * 6
    return pkt


# --- lifecycle ----------------------------------------------------------------------------------


def test_full_dora_grants_an_active_lease() -> None:
    cap = Capture()
    dora(cap)
    section = cap.dhcp()
    assert section["by_message_type"] == {"DISCOVER": 1, "OFFER": 1, "REQUEST": 1, "ACK": 1}
    row = only_row(section)
    assert row["mac"] == CLIENT
    assert row["state"] == "active"
    assert (row["assigned_addr"], row["server_addr"], row["lease_time"]) == (ADDR, SRV1, 3600)
    assert row["start"] == pytest.approx(T0 + 1.01)
    assert row["expires"] == pytest.approx(row["start"] + 3600)
    assert (row["renewal_time"], row["rebinding_time"]) == (1800, 3150)
    assert row["msg_types"] == ["DISCOVER", "OFFER", "REQUEST", "ACK"]
    assert (row["host_name"], row["client_software"], row["domain"]) == (
        "laptop-a",
        "MSFT 5.0",
        "example.test",
    )
    assert row["client_id"] == "01:" + CLIENT
    assert row["leases_granted"] == 1 and row["offered_by"] == [SRV1]
    assert steps(row) == ["discover", "offer", "select", "grant"]
    assert section["servers"][0]["server_addr"] == SRV1
    assert section["servers"][0]["mac"] == SRV1_MAC
    assert section["findings"] == []


def test_renewal_at_t1_extends_the_lease() -> None:
    cap = Capture()
    dora(cap)
    renew = dhcp("REQUEST", 0x1002, ciaddr=ADDR)
    cap.client(1801.01, renew, src=ADDR, dst=SRV1)
    cap.server(1801.02, dhcp("ACK", 0x1002, *server_opts(), ciaddr=ADDR, yiaddr=ADDR))
    row = only_row(cap.dhcp())
    assert row["state"] == "active"
    assert (row["renewals"], row["rebinds"], row["leases_granted"]) == (1, 0, 1)
    assert row["start"] == pytest.approx(T0 + 1801.02)
    assert row["bound_since"] == pytest.approx(T0 + 1.01)
    assert row["expires"] == pytest.approx(T0 + 1801.02 + 3600)
    assert steps(row)[-2:] == ["renew", "extend"]
    assert row["timeline"][-2]["note"] == "at 0.50 of lease (T1 at 0.50)"


def test_rebinding_at_t2_is_a_broadcast_request_with_ciaddr() -> None:
    cap = Capture()
    dora(cap)
    cap.client(3151.01, dhcp("REQUEST", 0x1003, ciaddr=ADDR), src=ADDR, dst=BCAST)
    cap.server(3151.02, dhcp("ACK", 0x1003, *server_opts(), ciaddr=ADDR, yiaddr=ADDR))
    row = only_row(cap.dhcp())
    assert (row["renewals"], row["rebinds"], row["state"]) == (0, 1, "active")
    assert steps(row)[-2:] == ["rebind", "extend"]
    assert row["timeline"][-2]["note"] == "at 0.88 of lease (T2 at 0.88)"


def test_relayed_request_with_ciaddr_is_a_rebind() -> None:
    cap = Capture()
    dora(cap)
    relayed = dhcp("REQUEST", 0x1005, ciaddr=ADDR, giaddr="198.51.100.1")
    cap.send(3200, frame(relayed, src="198.51.100.1", dst=SRV1, src_mac=SRV2_MAC, dst_mac=SRV1_MAC))
    row = only_row(cap.dhcp())
    assert (row["renewals"], row["rebinds"]) == (0, 1)


def test_nak_refuses_the_request_and_is_a_finding() -> None:
    cap = Capture()
    cap.client(0, dhcp("REQUEST", 7, opt(50, ip4("10.9.9.9"))))
    nak = dhcp("NAK", 7, opt(54, ip4(SRV1)), opt(56, b"wrong network"))
    cap.server(0.01, nak)
    section = cap.dhcp()
    row = only_row(section)
    assert row["state"] == "nak" and row["naks"] == 1 and row["reboots"] == 1
    assert row["assigned_addr"] is None
    assert row["server_message"] == "wrong network"
    assert [(f["kind"], f["addr"], f["detail"]) for f in section["findings"]] == [
        ("nak", "10.9.9.9", "wrong network")
    ]


def test_nak_of_a_renewal_ends_the_active_lease() -> None:
    cap = Capture()
    dora(cap)
    cap.client(1800, dhcp("REQUEST", 0x2002, ciaddr=ADDR), src=ADDR, dst=SRV1)
    cap.server(1800.01, dhcp("NAK", 0x2002, opt(54, ip4(SRV1))))
    row = only_row(cap.dhcp())
    assert row["state"] == "nak"
    assert row["ended"] == pytest.approx(T0 + 1800.01)
    assert row["assigned_addr"] == ADDR  # the lease that ended


def test_release_ends_the_lease() -> None:
    cap = Capture()
    dora(cap)
    release = dhcp("RELEASE", 0x1004, opt(54, ip4(SRV1)), ciaddr=ADDR)
    cap.client(100, release, src=ADDR, dst=SRV1)
    section = cap.dhcp()
    row = only_row(section)
    assert row["state"] == "released" and row["releases"] == 1
    assert row["ended"] == pytest.approx(T0 + 100)
    assert section["by_message_type"]["RELEASE"] == 1
    assert section["findings"] == []


def test_release_without_a_lease_is_a_finding() -> None:
    cap = Capture()
    cap.client(0, dhcp("RELEASE", 5, ciaddr="192.0.2.50"), src="192.0.2.50", dst=SRV1)
    section = cap.dhcp()
    assert only_row(section)["state"] == "no_lease"
    assert [f["kind"] for f in section["findings"]] == ["release_without_lease"]


def test_decline_after_ack() -> None:
    cap = Capture()
    dora(cap)
    cap.client(2, dhcp("DECLINE", 0x1001, opt(50, ip4(ADDR)), opt(54, ip4(SRV1))))
    section = cap.dhcp()
    row = only_row(section)
    assert row["state"] == "declined" and row["declines"] == 1
    assert row["ended"] == pytest.approx(T0 + 2)
    assert [(f["kind"], f["addr"]) for f in section["findings"]] == [("decline", ADDR)]


def test_inform_gets_parameters_but_no_lease() -> None:
    cap = Capture()
    here = "192.0.2.30"
    cap.client(0, dhcp("INFORM", 9, opt(55, bytes([1, 3, 6])), ciaddr=here), src=here, dst=SRV1)
    cap.server(0.01, dhcp("ACK", 9, *server_opts(lease=None), ciaddr=here))
    section = cap.dhcp()
    row = only_row(section)
    assert row["state"] == "informed"
    assert row["assigned_addr"] is None and row["leases_granted"] == 0
    assert row["informs"] == 1 and row["client_addr"] == here
    assert steps(row) == ["inform", "inform-ack"]
    assert section["by_message_type"] == {"INFORM": 1, "ACK": 1}
    assert section["findings"] == []


def test_lease_that_expires_within_the_capture() -> None:
    cap = Capture()
    dora(cap, lease=60)
    # Unrelated traffic 2 minutes later ends the capture after the lease ran out.
    cap.send(130, frame(b"x" * 20, src="192.0.2.7", dst="192.0.2.8", src_mac=SRV2_MAC))
    row = only_row(cap.dhcp())
    assert row["state"] == "expired"
    assert row["ended"] == pytest.approx(T0 + 61.01)
    assert row["expires"] == row["ended"]
    assert row["timeline"][-1]["step"] == "expired"


def test_lease_still_valid_at_the_end_is_active() -> None:
    cap = Capture()
    dora(cap, lease=60)
    cap.send(50, frame(b"x" * 20, src="192.0.2.7", dst="192.0.2.8", src_mac=SRV2_MAC))
    assert only_row(cap.dhcp())["state"] == "active"


def test_renewal_after_expiry_is_a_new_binding() -> None:
    cap = Capture()
    dora(cap, lease=60)
    cap.client(200, dhcp("REQUEST", 0x3000, ciaddr=ADDR), src=ADDR, dst=SRV1)
    cap.server(200.01, dhcp("ACK", 0x3000, *server_opts(lease=60), yiaddr=ADDR))
    row = only_row(cap.dhcp())
    assert row["state"] == "active" and row["leases_granted"] == 2
    assert "expired" in steps(row)
    assert row["timeline"][steps(row).index("renew")]["note"] is None  # no active lease to measure


def test_two_competing_servers_and_an_offer_not_taken() -> None:
    cap = Capture()
    xid = 0x4000
    cap.client(0, dhcp("DISCOVER", xid))
    cap.server(0.01, dhcp("OFFER", xid, *server_opts(SRV1), yiaddr=ADDR))
    cap.server(0.02, dhcp("OFFER", xid, *server_opts(SRV2), yiaddr="192.0.2.150"), SRV2, SRV2_MAC)
    cap.client(1, dhcp("REQUEST", xid, opt(50, ip4("192.0.2.150")), opt(54, ip4(SRV2))))
    cap.server(1.01, dhcp("ACK", xid, *server_opts(SRV2), yiaddr="192.0.2.150"), SRV2, SRV2_MAC)
    section = cap.dhcp()
    row = only_row(section)
    assert (row["assigned_addr"], row["server_addr"]) == ("192.0.2.150", SRV2)
    assert row["offers"] == 2 and row["offered_by"] == [SRV1, SRV2]
    kinds = {f["kind"]: f for f in section["findings"]}
    assert set(kinds) == {"competing_servers", "offer_not_taken", "multiple_servers"}
    assert (kinds["offer_not_taken"]["server_addr"], kinds["offer_not_taken"]["addr"]) == (SRV1, ADDR)
    assert [s["server_addr"] for s in section["servers"]] == [SRV1, SRV2]
    assert section["servers"][1]["by_message_type"] == {"OFFER": 1, "ACK": 1}


def test_offer_never_requested_is_not_taken_when_the_transaction_times_out() -> None:
    cap = Capture()
    cap.client(0, dhcp("DISCOVER", 0x5000))
    cap.server(0.01, dhcp("OFFER", 0x5000, *server_opts(), yiaddr=ADDR))
    # Later traffic makes the pipeline sweep (expire) past the transaction timeout.
    for at in range(20, 200, 20):
        cap.send(at, frame(b"x" * 20, src="192.0.2.7", dst="192.0.2.8", src_mac=SRV2_MAC))
    section = cap.dhcp()
    assert only_row(section)["state"] == "no_lease"
    [finding] = section["findings"]
    assert finding["kind"] == "offer_not_taken" and "no REQUEST" in finding["detail"]
    assert finding["ts"] < T0 + 200  # reported by expire(), not only at finish


def test_infinite_lease_never_expires() -> None:
    cap = Capture()
    dora(cap, lease=0xFFFFFFFF)
    cap.send(10**7, frame(b"x" * 20, src="192.0.2.7", dst="192.0.2.8", src_mac=SRV2_MAC))
    section = cap.dhcp()
    row = only_row(section)
    assert row["state"] == "active" and row["infinite"] is True
    assert row["lease_time"] == 4294967295 and row["expires"] is None
    assert section["servers"][0]["lease_times"] == [4294967295]


def test_only_discover_client_still_has_one_row() -> None:
    cap = Capture()
    cap.client(0, dhcp("DISCOVER", 1))
    cap.client(4, dhcp("DISCOVER", 1))
    cap.client(5, dhcp("DISCOVER", 2, chaddr=CLIENT2), who=CLIENT2)
    section = cap.dhcp()
    assert [(r["mac"], r["state"]) for r in section["leases"]] == [
        (CLIENT, "no_lease"),
        (CLIENT2, "no_lease"),
    ]
    assert section["client_count"] == 2 and section["by_message_type"] == {"DISCOVER": 3}


def test_retransmitted_init_reboot_request_counts_once() -> None:
    cap = Capture()
    for at in (0, 4, 8):
        cap.client(at, dhcp("REQUEST", 0x6000, opt(50, ip4(ADDR))))
    cap.server(8.01, dhcp("ACK", 0x6000, *server_opts(), yiaddr=ADDR))
    row = only_row(cap.dhcp())
    assert row["reboots"] == 1 and row["state"] == "active"
    assert [e["note"] for e in row["timeline"][:3]] == [None, "retransmission", "retransmission"]


def test_plain_bootp_reply_counts_as_no_option_53() -> None:
    cap = Capture()
    request = (header(1, 0x7000) + b"\0" * 64).ljust(300, b"\0")
    reply = (header(2, 0x7000, yiaddr=ADDR) + b"\0" * 64).ljust(300, b"\0")
    cap.client(0, request)
    cap.server(0.01, reply)
    section = cap.dhcp()
    assert section["by_message_type"] == {"BOOTP_NO_OPTION_53": 2}
    row = only_row(section)
    assert (row["assigned_addr"], row["infinite"], row["state"]) == (ADDR, True, "active")
    assert section["malformed"] == {"dhcp.no_magic_cookie": 2}


# --- limits -------------------------------------------------------------------------------------


def limit(monkeypatch: pytest.MonkeyPatch, name: str, value: int) -> None:
    """Lower a tracker limit in every module that reads it (dhcp_common defines, dhcp4 imports)."""
    for module in (dhcp_common, dhcp4):
        if hasattr(module, name):
            monkeypatch.setattr(module, name, value)


def test_client_limit_counts_overflow(monkeypatch: pytest.MonkeyPatch) -> None:
    limit(monkeypatch, "MAX_CLIENTS", 2)
    cap = Capture()
    for i in range(4):
        who = f"00:00:5e:00:53:{i:02x}"
        cap.client(i, dhcp("DISCOVER", i, chaddr=who), who=who)
    section = cap.dhcp()
    assert len(section["leases"]) == 2
    assert section["overflow"]["clients"] == 2
    assert section["by_message_type"] == {"DISCOVER": 4}  # still counted


def test_transaction_limit_counts_overflow(monkeypatch: pytest.MonkeyPatch) -> None:
    limit(monkeypatch, "MAX_XIDS_PER_CLIENT", 3)
    limit(monkeypatch, "MAX_TIMELINE_PER_CLIENT", 4)
    cap = Capture()
    for xid in range(6):
        cap.client(xid * 0.1, dhcp("DISCOVER", xid))
    section = cap.dhcp()
    assert section["overflow"]["xids"] == 3
    row = only_row(section)
    assert len(row["timeline"]) == 4 and row["timeline_dropped"] == 2


# --- parser -------------------------------------------------------------------------------------


def test_options_are_decoded_through_the_table() -> None:
    fqdn_wire = b"\x05\x00\x00" + b"\x04host\x07example\x04test\x00"
    relay = opt(82, b"\x01\x03abc" + b"\x02\x02\x00\x01")
    routes = opt(121, b"\x18\xc0\x00\x02" + ip4(SRV1) + b"\x00" + ip4("192.0.2.254"))
    payload = dhcp(
        "ACK",
        1,
        *server_opts(),
        opt(6, ip4("192.0.2.53") + ip4("192.0.2.54")),
        opt(58, u32(100)),
        opt(59, u32(175)),
        opt(77, b"\x04abcd\x02xy"),
        opt(81, fqdn_wire),
        relay,
        routes,
        opt(200, b"\x01\x02"),
        yiaddr=ADDR,
    )
    msg = parser.parse_message(payload, bare_packet())
    assert msg.msg_type_name == "ACK" and msg.op == 2
    assert (msg.server_id, msg.lease_time, msg.renewal_time, msg.rebinding_time) == (SRV1, 3600, 100, 175)
    assert msg.option(1) == "255.255.255.0"
    assert msg.option(3) == (SRV1,)
    assert msg.option(6) == ("192.0.2.53", "192.0.2.54")
    assert msg.domain == "example.test"
    assert msg.option(77) == ("abcd", "xy")
    assert msg.client_fqdn == "host.example.test"
    assert msg.option(82) == ("circuit_id=61:62:63", "remote_id=00:01")
    assert msg.option(121) == (f"192.0.2.0/24 via {SRV1}", "0.0.0.0/0 via 192.0.2.254")
    unknown = next(o for o in msg.options if o.code == 200)
    assert (unknown.name, unknown.raw, unknown.value) == ("option_200", b"\x01\x02", "01:02")
    assert msg.yiaddr == ADDR and msg.mac == CLIENT and msg.problems == ()


def test_client_options_and_ascii_fqdn() -> None:
    payload = dhcp(
        "REQUEST",
        2,
        opt(55, bytes([1, 3, 6, 15])),
        opt(61, b"\x01" + mac(CLIENT)),
        opt(81, b"\x00\x00\x00laptop.example."),
        opt(77, b"plain-class"),
        flags=0x8000,
    )
    msg = parser.parse_message(payload, bare_packet())
    assert msg.option(55) == (1, 3, 6, 15)
    assert msg.client_id == "01:" + CLIENT
    assert msg.client_fqdn == "laptop.example."
    assert msg.option(77) == ("plain-class",)
    assert msg.broadcast is True and msg.to_broadcast is True


def test_long_option_split_in_pieces_is_concatenated() -> None:
    payload = dhcp("OFFER", 3, opt(6, ip4("192.0.2.53")), opt(6, ip4("192.0.2.54")), yiaddr=ADDR)
    msg = parser.parse_message(payload, bare_packet())
    assert msg.option(6) == ("192.0.2.53", "192.0.2.54")
    assert [o.code for o in msg.options] == [53, 6]


def test_option_overload_reads_file_then_sname() -> None:
    file_area = (opt(53, bytes([TYPE["ACK"]])) + opt(51, u32(600)) + b"\xff").ljust(128, b"\0")
    sname_area = (opt(12, b"from-sname") + b"\xff").ljust(64, b"\0")
    body = header(2, 8, yiaddr=ADDR, sname=sname_area, file=file_area)
    payload = (body + COOKIE + opt(52, b"\x03") + opt(54, ip4(SRV1)) + b"\xff").ljust(300, b"\0")
    msg = parser.parse_message(payload, bare_packet())
    assert msg.msg_type_name == "ACK" and msg.lease_time == 600
    assert msg.host_name == "from-sname" and msg.server_id == SRV1
    assert (msg.sname, msg.file) == ("", "")
    assert msg.problems == ()
    plain = parser.parse_message(dhcp("ACK", 8, yiaddr=ADDR, sname=b"srv\0", file=b"boot.img"), bare_packet())
    assert (plain.sname, plain.file) == ("srv", "boot.img")


def test_option_running_past_the_end_keeps_what_came_before() -> None:
    body = header(1, 9) + COOKIE + opt(53, b"\x01") + opt(12, b"ok") + b"\x3d\x10\x01\x02"
    msg = parser.parse_message(body, bare_packet())
    assert msg.msg_type_name == "DISCOVER" and msg.host_name == "ok"
    assert msg.problems == ("dhcp.option_past_end",)
    lone_code = parser.parse_message(header(1, 9) + COOKIE + b"\x35", bare_packet())
    assert lone_code.msg_type is None and lone_code.problems == ("dhcp.option_past_end",)


def test_missing_magic_cookie_is_plain_bootp() -> None:
    msg = parser.parse_message(header(1, 10) + b"\x00\x00\x00\x00" + opt(53, b"\x01"), bare_packet())
    assert msg.msg_type is None and msg.msg_type_name == "BOOTP_NO_OPTION_53"
    assert msg.options == () and msg.problems == ("dhcp.no_magic_cookie",)


def test_missing_end_option_is_noted() -> None:
    msg = parser.parse_message(header(1, 11) + COOKIE + opt(53, b"\x03"), bare_packet())
    assert msg.msg_type_name == "REQUEST"
    assert msg.problems == ("dhcp.no_end_option",)


def test_wrong_option_length_is_noted_and_value_dropped() -> None:
    msg = parser.parse_message(dhcp("ACK", 12, opt(51, b"\x00\x10"), opt(54, b"\x01")), bare_packet())
    assert msg.lease_time is None and msg.server_id is None
    assert msg.problems == ("dhcp.bad_option_length",)


def test_short_header_raises_malformed() -> None:
    with pytest.raises(Malformed) as err:
        parser.parse_message(header(1, 13)[:200], bare_packet())
    assert err.value.reason == "dhcp.short_header"


def test_malformed_messages_are_counted_not_crashing() -> None:
    cap = Capture()
    cap.client(0, header(1, 20) + COOKIE + opt(53, b"\x01") + b"\x0c\x40abc")
    cap.client(1, header(1, 21) + COOKIE + opt(53, b"\x01"))
    cap.client(2, header(1, 22)[:100])
    result = cap.result()
    section = result["dhcp"]
    assert section["by_message_type"] == {"DISCOVER": 2}
    assert section["malformed"] == {"dhcp.option_past_end": 1, "dhcp.no_end_option": 1}
    assert result["malformed"]["dhcp.short_header"] == 1


OVERLOADED_HEAD = st.tuples(st.binary(min_size=64, max_size=64), st.binary(min_size=128, max_size=128)).map(
    lambda areas: header(2, 1, sname=areas[0], file=areas[1]) + COOKIE + opt(52, b"\x03")
)
FUZZ_INPUTS = st.one_of(
    st.binary(max_size=600),
    st.binary(max_size=400).map(lambda tail: header(1, 1) + COOKIE + tail),
    st.tuples(OVERLOADED_HEAD, st.binary(max_size=100)).map(lambda parts: parts[0] + parts[1]),
)
"""Random bytes, random options after a valid header, and random overloaded sname/file areas."""


@given(FUZZ_INPUTS)
def test_fuzz_random_bytes_only_malformed_escapes(data: bytes) -> None:
    try:
        msg = parser.parse_message(data, bare_packet())
    except Malformed:
        assert len(data) < parser.BOOTP_HEADER.size
        return
    assert len(data) >= parser.BOOTP_HEADER.size
    assert all(p.startswith("dhcp.") for p in msg.problems)


VALID = dhcp(
    "ACK",
    0x99,
    *server_opts(),
    opt(81, b"\x04\x00\x00\x04host\x00"),
    opt(82, b"\x01\x01x"),
    opt(121, b"\x08\x0a" + ip4(SRV1)),
    opt(77, b"\x02ab"),
    opt(52, b"\x03"),
    yiaddr=ADDR,
)


@given(
    st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), max_size=12), st.integers(0, 400)
)
def test_fuzz_mutated_message_only_malformed_escapes(edits: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(VALID)
    for where, value in edits:
        data[where] = value
    cut_data = bytes(data[: len(data) - cut])
    try:
        msg = parser.parse_message(cut_data, bare_packet())
    except Malformed:
        assert len(cut_data) < parser.BOOTP_HEADER.size
    else:
        known = {*parser.MESSAGE_TYPES.values(), "BOOTP_NO_OPTION_53"}
        assert msg.msg_type_name in known or msg.msg_type_name.startswith("TYPE")
        assert all(p.startswith("dhcp.") for p in msg.problems)
    cap = Capture()
    cap.client(0, cut_data)
    cap.server(0.01, bytes(data))
    section = cap.dhcp()
    assert sum(section["by_message_type"].values()) + cap.pipe.malformed["dhcp.short_header"] == 2


# --- terminal -----------------------------------------------------------------------------------


def test_terminal_tables_escape_wire_text() -> None:
    cap = Capture()
    ident = opt(12, b"evil\x1b[31mhost")
    cap.client(0, dhcp("DISCOVER", 1, ident))
    cap.server(0.01, dhcp("OFFER", 1, *server_opts(), yiaddr=ADDR))
    cap.client(1, dhcp("REQUEST", 1, ident, opt(50, ip4(ADDR)), opt(54, ip4(SRV1))))
    cap.server(1.01, dhcp("ACK", 1, *server_opts(), yiaddr=ADDR))
    text = render(cap.result(), ["dhcp"])
    for title in ("DHCP messages by type", "DHCP leases", "DHCP servers", "DHCP lease timeline"):
        assert title in text
    assert "\x1b" not in text and "evil\\e[31mhost" in text
    assert ADDR in text and "active" in text


def test_terminal_skips_dhcp_when_none_seen() -> None:
    assert render(Capture().result(), ["dhcp"]) == ""


# --- against tshark -----------------------------------------------------------------------------

FILTER = "dhcp && !icmp && !icmpv6"


def tshark_view(path: str) -> tuple[Counter[str], dict[str, list[str]], dict[str, str]]:
    """tshark's message types, per-client sequence (by chaddr) and last assigned yiaddr per client."""
    rows = tshark_fields(path, FILTER, ("dhcp.option.dhcp", "dhcp.hw.mac_addr", "dhcp.ip.your"))
    types: Counter[str] = Counter()
    sequences: dict[str, list[str]] = {}
    assigned: dict[str, str] = {}
    for value, macs, yiaddr in rows:
        name = RFC_MESSAGE_NAMES.get(value, f"TYPE{value}") if value else "BOOTP_NO_OPTION_53"
        types[name] += 1
        chaddr = macs.split(",")[0]  # option 61 may repeat the address; chaddr comes first
        sequences.setdefault(chaddr, []).append(name)
        if name == "ACK" and yiaddr != "0.0.0.0":
            assigned[chaddr] = yiaddr
    return types, sequences, assigned


def assert_agrees(path: str) -> dict[str, Any]:
    types, sequences, assigned = tshark_view(path)
    ours = analyze_json(path)["dhcp"]
    assert ours["by_message_type"] == dict(types)
    assert {r["mac"]: r["msg_types"] for r in ours["leases"]} == sequences
    assert {r["mac"]: r["assigned_addr"] for r in ours["leases"] if r["assigned_addr"]} == assigned
    assert ours["malformed"] == {}
    section: dict[str, Any] = ours
    return section


@needs_tshark
def test_sample_capture_agrees_with_tshark() -> None:
    path = SAMPLES / "dhcp.pcap"
    section = assert_agrees(str(path))
    states = {r["host_name"]: r["state"] for r in section["leases"]}
    assert states == {
        "laptop-a": "released",
        "phone-b": "expired",
        "printer-c": "informed",
        "camera-d": "declined",
    }
    kinds = Counter(f["kind"] for f in section["findings"])
    assert kinds["competing_servers"] == 1 and kinds["offer_not_taken"] == 1 and kinds["nak"] == 1


@needs_shared
@needs_tshark
@pytest.mark.parametrize("rel", truth_files("dhcp"))
def test_real_captures_agree_with_tshark(rel: str) -> None:
    path = str(SHARED_PCAPS / rel)
    section = assert_agrees(path)
    expected = shared_entry(rel)["dhcp"]
    assert section["by_message_type"] == expected["by_message_type"]
    assert len({r["mac"] for r in section["leases"]}) == expected["client_count"]


LIFECYCLE_FIELDS = (
    "dhcp.hw.mac_addr",
    "dhcp.option.dhcp",
    "dhcp.id",
    "dhcp.ip.client",
    "dhcp.ip.your",
    "dhcp.option.ip_address_lease_time",
    "dhcp.option.dhcp_server_id",
    "dhcp.option.requested_ip_address",
)


def tshark_lifecycle(path: str) -> dict[str, dict[str, Any]]:
    """Each client's lease lifecycle, reduced here from tshark's `dhcp.*` fields by RFC 2131 alone
    (independent of our tracker): an ACK binds yiaddr (a new grant unless that address is already
    bound), DECLINE ends the binding as "declined", RELEASE with a ciaddr as "released" (one without
    ciaddr names no lease), a REQUEST with ciaddr renews (4.3.2), one with only option 50 is
    INIT-REBOOT (counted per xid), NAK and INFORM are counted."""
    clients: dict[str, dict[str, Any]] = {}
    for macs, mtype, xid, ciaddr, yiaddr, lease, _server, requested in tshark_fields(
        path, "dhcp", LIFECYCLE_FIELDS
    ):
        c = clients.setdefault(macs.split(",")[0], {"naks": 0, "informs": 0, "renewals": 0})
        c.setdefault("granted", 0)
        c.setdefault("reboot_xids", set())
        c.setdefault("bound", None)
        if mtype == "5":
            if c["bound"] != yiaddr:
                c["granted"] += 1
            c.update(bound=yiaddr, state="active", addr=yiaddr, lease=int(lease))
        elif mtype == "4" or (mtype == "7" and ciaddr != "0.0.0.0"):
            c.update(bound=None, state="declined" if mtype == "4" else "released")
        elif mtype == "3" and ciaddr != "0.0.0.0":
            c["renewals"] += 1
        elif mtype == "3" and requested and not _server:
            c["reboot_xids"].add(xid)
        elif mtype in ("6", "8"):
            c["naks" if mtype == "6" else "informs"] += 1
    return clients


@needs_shared
@needs_tshark
@pytest.mark.parametrize(
    "rel",
    [
        "dhcp/zeek-dhcp.pcap",  # frames 1-3 DISCOVER/OFFER/REQUEST, 4 NAK, 5-6 INIT-REBOOT REQUEST/ACK
        # of 128.2.6.189 for 900 s, 7 DECLINE, 8 RELEASE without ciaddr, 9 INFORM
        "dhcp/suricata-bug-2158-public-ex1_section8_Sofacy.pcap",  # 1-4 DORA, infinite lease (0xffffffff);
        # 5-6 a renewing REQUEST (ciaddr 192.168.35.10) and its ACK
        "ndp/suricata-output-eve-ftp-data-input.pcap",  # 11 INIT-REBOOT xids for 192.168.0.13, 10 ACKs of
        # 604800 s, 2 INFORMs (frames 911, 1033)
    ],
)
def test_real_capture_lifecycles(rel: str) -> None:
    expected = tshark_lifecycle(str(SHARED_PCAPS / rel))
    rows = analyze_json(str(SHARED_PCAPS / rel))["dhcp"]["leases"]
    assert {r["mac"] for r in rows} == set(expected)
    for row in rows:
        c = expected[row["mac"]]
        assert (row["state"], row["assigned_addr"], row["lease_time"]) == (c["state"], c["addr"], c["lease"])
        assert row["infinite"] == (c["lease"] == 0xFFFFFFFF)
        assert (row["leases_granted"], row["renewals"]) == (c["granted"], c["renewals"])
        reboots = len(c["reboot_xids"])
        assert (row["naks"], row["informs"], row["reboots"]) == (c["naks"], c["informs"], reboots)


# --- DHCPv6 -------------------------------------------------------------------------------------

V6_CLIENT_LL = "fe80::a1"
V6_SERVER1, V6_SERVER2 = "fe80::1", "fe80::3"
ALL_SERVERS = "ff02::1:2"
V6_ADDR = "2001:db8::101"
V6_TYPES = {
    "SOLICIT": 1,
    "ADVERTISE": 2,
    "REQUEST": 3,
    "RENEW": 5,
    "REPLY": 7,
    "RELEASE": 8,
    "RELAY-FORW": 12,
}
TSHARK_V6_NAMES = {"1": "SOLICIT", "2": "ADVERTISE", "3": "REQUEST", "5": "RENEW", "7": "REPLY"}
TSHARK_V6_NAMES.update({"8": "RELEASE", "12": "RELAY-FORW"})
"""tshark's dhcpv6.msgtype numbers -> RFC 8415 names (written out here, not taken from the parser)."""


def o6(code: int, value: bytes) -> bytes:
    return struct.pack("!HH", code, len(value)) + value


def duid_ll(mac_text: str) -> bytes:
    return struct.pack("!HH", 3, 1) + mac(mac_text)


def ia_na(addr: str | None, valid: int = 3600, iaid: int = 7, status: bytes = b"") -> bytes:
    import ipaddress

    inner = b""
    if addr is not None:
        inner = o6(5, ipaddress.IPv6Address(addr).packed + struct.pack("!II", valid // 2, valid))
    return o6(3, struct.pack("!III", iaid, valid // 2, valid * 4 // 5) + inner + status)


def v6(msg: str, xid: int, *options: bytes) -> bytes:
    return bytes([V6_TYPES[msg]]) + xid.to_bytes(3, "big") + b"".join(options)


def v6_frame(payload: bytes, src: str, dst: str, from_server: bool = False, src_mac: str = CLIENT) -> bytes:
    from scapy.layers.inet6 import IPv6

    sport, dport = (547, 546) if from_server else (546, 547)
    return bytes(
        Ether(src=src_mac, dst="33:33:00:01:00:02")
        / IPv6(src=src, dst=dst)
        / UDP(sport=sport, dport=dport)
        / payload
    )


CLIENT_ID = o6(1, duid_ll(CLIENT))
SERVER1_ID = o6(2, duid_ll(SRV1_MAC))
SERVER2_ID = o6(2, duid_ll(SRV2_MAC))


def v6_exchange() -> list[tuple[float, bytes]]:
    """SOLICIT, two ADVERTISEs, REQUEST, REPLY, RENEW, REPLY, RELEASE, REPLY."""
    ident = [CLIENT_ID, o6(39, b"\x00\x06laptop\x00"), o6(16, struct.pack("!IH", 311, 8) + b"MSFT 5.0")]
    s1 = (V6_SERVER1, V6_CLIENT_LL)
    return [
        (0.0, v6_frame(v6("SOLICIT", 1, *ident, ia_na(None)), V6_CLIENT_LL, ALL_SERVERS)),
        (0.01, v6_frame(v6("ADVERTISE", 1, CLIENT_ID, SERVER1_ID, ia_na(V6_ADDR)), *s1, True, SRV1_MAC)),
        (
            0.02,
            v6_frame(
                v6("ADVERTISE", 1, CLIENT_ID, SERVER2_ID, ia_na("2001:db8::9")),
                V6_SERVER2,
                V6_CLIENT_LL,
                True,
                SRV2_MAC,
            ),
        ),
        (1.0, v6_frame(v6("REQUEST", 2, *ident, SERVER1_ID, ia_na(V6_ADDR)), V6_CLIENT_LL, ALL_SERVERS)),
        (1.01, v6_frame(v6("REPLY", 2, CLIENT_ID, SERVER1_ID, ia_na(V6_ADDR)), *s1, True, SRV1_MAC)),
        (1800.0, v6_frame(v6("RENEW", 3, CLIENT_ID, SERVER1_ID, ia_na(V6_ADDR)), V6_CLIENT_LL, ALL_SERVERS)),
        (1800.01, v6_frame(v6("REPLY", 3, CLIENT_ID, SERVER1_ID, ia_na(V6_ADDR)), *s1, True, SRV1_MAC)),
        (
            1900.0,
            v6_frame(v6("RELEASE", 4, CLIENT_ID, SERVER1_ID, ia_na(V6_ADDR)), V6_CLIENT_LL, ALL_SERVERS),
        ),
    ]


def v6_section(frames: list[tuple[float, bytes]]) -> dict[str, Any]:
    cap = Capture()
    for at, data in frames:
        cap.send(at, data)
    section: dict[str, Any] = cap.result()["dhcpv6"]
    return section


def test_dhcpv6_exchange_lifecycle() -> None:
    frames = v6_exchange()
    cap = Capture()
    for at, data in frames[:5]:
        cap.send(at, data)
    active = cap.result()["dhcpv6"]
    row = only_row(active)
    assert row["state"] == "active" and row["mac"] == CLIENT
    assert row["host_name"] == "laptop" and row["client_software"] == "MSFT 5.0"
    [held] = row["assigned"]
    assert (held["addr"], held["valid_lifetime"], held["kind"]) == (V6_ADDR, 3600, "na")
    assert held["expires"] == pytest.approx(T0 + 1.01 + 3600)
    assert held["server_id"] == "00:03:00:01:" + SRV1_MAC
    assert [f["kind"] for f in active["findings"]] == ["competing_servers", "multiple_servers"]
    section = v6_section(frames)
    row = only_row(section)
    assert row["state"] == "released" and row["renewals"] == 1 and row["releases"] == 1
    assert row["ended"] == pytest.approx(T0 + 1900)
    assert section["by_message_type"] == {
        "ADVERTISE": 2,
        "REPLY": 2,
        "SOLICIT": 1,
        "REQUEST": 1,
        "RENEW": 1,
        "RELEASE": 1,
    }
    assert [e["step"] for e in row["timeline"]][-4:] == ["grant", "renew", "grant", "release"]


def test_dhcpv6_binding_expires_and_failure_status() -> None:
    late = v6_frame(v6("SOLICIT", 9, o6(1, duid_ll(CLIENT2))), "fe80::b2", ALL_SERVERS, src_mac=CLIENT2)
    frames = [*v6_exchange()[3:5], (10_000.0, late)]
    section = v6_section([(at, data) for at, data in frames])
    first = section["leases"][0]
    assert first["state"] == "expired" and first["ended"] == pytest.approx(T0 + 1.01 + 3600)
    nak = ia_na(None, status=o6(13, b"\x00\x02no addresses"))
    refused = [
        (0.0, v6_frame(v6("REPLY", 5, CLIENT_ID, SERVER1_ID, nak), V6_SERVER1, V6_CLIENT_LL, True, SRV1_MAC))
    ]
    out = v6_section(refused)
    assert only_row(out)["state"] == "refused" and only_row(out)["status"] == "NoAddrsAvail"
    assert [f["kind"] for f in out["findings"]] == ["status"]


def test_dhcpv6_relay_and_prefix_delegation() -> None:
    import ipaddress

    prefix = o6(26, struct.pack("!IIB", 1800, 3600, 56) + ipaddress.IPv6Address("2001:db8:100::").packed)
    inner = v6("REPLY", 6, CLIENT_ID, SERVER1_ID, o6(25, struct.pack("!III", 1, 900, 1400) + prefix))
    relay = bytes([13, 0]) + bytes(16) + ipaddress.IPv6Address(V6_CLIENT_LL).packed + o6(9, inner)
    msg = parser.parse_v6_message(relay, bare_packet())
    assert msg.msg_types == ("RELAY-REPL", "REPLY") and msg.xid == 6
    [lease] = msg.leases
    assert (lease.kind, lease.addr, lease.valid, lease.t1) == ("pd", "2001:db8:100::/56", 3600, 900)
    assert msg.client_mac == CLIENT and msg.problems == ()


def test_dhcpv6_malformed() -> None:
    with pytest.raises(Malformed) as err:
        parser.parse_v6_message(b"\x01\x00", bare_packet())
    assert err.value.reason == "dhcpv6.short_header"
    cut = parser.parse_v6_message(v6("SOLICIT", 1, CLIENT_ID)[:-3], bare_packet())
    assert cut.problems == ("dhcpv6.option_past_end",) and cut.client_duid is None
    no_inner = parser.parse_v6_message(bytes([12, 0]) + bytes(32), bare_packet())
    assert no_inner.problems == ("dhcpv6.no_relay_message",)
    nested = v6("SOLICIT", 1, CLIENT_ID)
    for _ in range(40):
        nested = bytes([12, 0]) + bytes(32) + o6(9, nested)
    deep = parser.parse_v6_message(nested, bare_packet())
    assert deep.problems == ("dhcpv6.relay_too_deep",) and len(deep.msg_types) == parser.MAX_RELAY_DEPTH + 1


V6_CODES = st.sampled_from([1, 2, 3, 4, 5, 9, 13, 14, 16, 25, 26, 39, 200])
V6_OPTION = st.tuples(V6_CODES, st.binary(max_size=40)).map(lambda co: o6(*co))
IA_FIXED = st.one_of(
    st.binary(min_size=12, max_size=12), st.binary(min_size=4, max_size=4), st.binary(max_size=12)
)
V6_IA = st.tuples(st.sampled_from([3, 4, 25]), IA_FIXED, st.lists(V6_OPTION, max_size=4))
V6_STRUCTURED = st.tuples(
    st.integers(0, 255),
    st.lists(st.one_of(V6_OPTION, V6_IA.map(lambda ia: o6(ia[0], ia[1] + b"".join(ia[2])))), max_size=6),
).map(lambda m: bytes([m[0]]) + b"\0\0\1" + b"".join(m[1]))
"""DHCPv6 messages of random type whose options (and IA sub-options) have real TLV framing."""


@given(
    st.one_of(
        st.binary(max_size=300),
        st.binary(max_size=300).map(lambda b: bytes([12, 0]) + bytes(32) + b),
        V6_STRUCTURED,
        V6_STRUCTURED.map(lambda inner: bytes([13, 0]) + bytes(32) + o6(9, inner)),
    )
)
def test_fuzz_dhcpv6_only_malformed_escapes(data: bytes) -> None:
    try:
        msg = parser.parse_v6_message(data, bare_packet())
    except Malformed as exc:
        assert exc.reason in ("dhcpv6.short_header", "dhcpv6.short_relay_header")
        return
    assert msg.msg_types and all(p.startswith("dhcpv6.") for p in msg.problems)


@needs_tshark
def test_dhcpv6_built_capture_agrees_with_tshark(tmp_path: Any) -> None:
    from scapy.utils import wrpcap

    inner = v6("SOLICIT", 8, CLIENT_ID)
    relay = bytes([12, 1]) + bytes(16) + bytes(16) + o6(9, inner)
    frames = [*v6_exchange(), (2000.0, v6_frame(relay, "2001:db8::fe", "ff05::1:3"))]
    path = tmp_path / "dhcpv6.pcap"
    packets = [Ether(data) for _, data in frames]
    for (at, _), pkt in zip(frames, packets, strict=True):
        pkt.time = T0 + at
    wrpcap(str(path), packets)
    theirs = Counter({TSHARK_V6_NAMES[k]: v for k, v in tshark_count_v6(str(path)).items()})
    ours = analyze_json(str(path))["dhcpv6"]
    assert ours["by_message_type"] == dict(theirs)
    assert ours["by_message_type"]["RELAY-FORW"] == 1 and ours["by_message_type"]["SOLICIT"] == 2


def tshark_count_v6(path: str) -> Counter[str]:
    from tests.oracle import tshark_count

    return tshark_count(path, "dhcpv6 && !icmpv6", "dhcpv6.msgtype")


@needs_shared
@needs_tshark
def test_dhcpv6_real_capture_agrees_with_tshark() -> None:
    path = str(SHARED_PCAPS / "ndp/suricata-output-eve-ftp-data-input.pcap")
    theirs = {TSHARK_V6_NAMES[k]: v for k, v in tshark_count_v6(path).items()}
    ours = analyze_json(path)["dhcpv6"]
    assert ours["by_message_type"] == theirs == {"SOLICIT": 3}
    row = only_row(ours)
    assert (row["mac"], row["host_name"], row["state"]) == ("08:2e:5f:76:32:97", "jaekuryu-HP", "no_lease")
