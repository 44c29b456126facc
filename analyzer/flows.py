"""The bidirectional flow table: one Flow per conversation, keyed the same in both directions.

Theory of operation
-------------------
A flow key is (proto, low endpoint, high endpoint) with the endpoints (address bytes, port) sorted,
so both directions of a conversation hash to the same key (gopacket's FastHash idea). The first
packet decides who is the originator (Zeek's "orig"), except that a SYN-ACK seen first, or a packet
from a well-known port to an ephemeral one, makes the receiver the originator.

Each TCP flow tracks which flags each side sent; `conn_state` and `history` turn that into Zeek's
conn.log vocabulary at any time (each side's Zeek endpoint state is derived from its flags, then
Zeek's own conn_state rules apply, so a midstream flow closed by FINs is SF as in Zeek).

Flows are expired by packet time: a flow idle for longer than its protocol's timeout is closed at
the next sweep (every `SWEEP_INTERVAL` seconds of packet time), and when the table holds
`MAX_FLOWS` flows the least recently seen tenth is closed early and counted as evicted. Closing a
flow is the caller's business (the pipeline flushes its dissector); this module only decides which
flows end.
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
from collections.abc import Iterator
from typing import Any, Final

from analyzer.decode import ACK, FIN, ICMP, ICMPV6, RST, SYN, TCP, Packet, ip_text
from analyzer.tcp import TcpReassembler

MAX_FLOWS = 200_000  # not Final: read when a table is made, so a test can lower it
"""Flows held at once. 200k flows of ~1 KB each keep the table well under 250 MB; beyond that the
least recently seen flows are closed early (counted as `flows.evicted`)."""
EVICT_FRACTION: Final = 0.1
"""Share of the table closed at once when it is full, so eviction is amortised, not per packet."""
SWEEP_INTERVAL: Final = 10.0
"""Seconds of packet time between idle-expiry sweeps."""
IDLE_TIMEOUT: Final = {TCP: 300.0, 17: 60.0, ICMP: 60.0, ICMPV6: 60.0}
"""Idle seconds before a flow is closed, by IP protocol (Zeek: tcp_inactivity_timeout 5 min,
udp/icmp_inactivity_timeout 1 min)."""
DEFAULT_IDLE_TIMEOUT: Final = 60.0
CLOSED_LINGER: Final = 5.0
"""Seconds a TCP flow closed by FIN/RST stays in the table, so its last ACKs still find it."""
EPHEMERAL_PORT_START: Final = 1024
"""Ports below this are taken as service ports when guessing who originated a flow."""

ICMP_REPLY_TYPES: Final = frozenset({0, 14, 16, 18, 129, 134, 136})
"""ICMP types sent by a responder: a flow first seen with one of them started before the capture."""

PROTO_NAMES: Final = {TCP: "tcp", 17: "udp", ICMP: "icmp", ICMPV6: "icmp"}

_B62: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

FlowKey = tuple[int, bytes, int, bytes, int]


def flow_key(proto: int, a_ip: bytes, a_port: int, b_ip: bytes, b_port: int) -> FlowKey:
    """Direction-independent key: the same for (a -> b) and (b -> a)."""
    if (a_ip, a_port) <= (b_ip, b_port):
        return (proto, a_ip, a_port, b_ip, b_port)
    return (proto, b_ip, b_port, a_ip, a_port)


_UID_HEAD: Final = struct.Struct("!QBH")
_UID_TIME_MASK: Final = (1 << 64) - 1
"""The first packet's time in microseconds is hashed modulo 2**64: a corrupt capture can carry times
far past any real clock (a pcapng resolution of 10**-0 on garbage ticks), and 64 bits are plenty to
tell real flows apart."""
_UID_PORT: Final = struct.Struct("!H")


def make_uid(first_ts: float, key: FlowKey) -> str:
    """Zeek-style connection uid, derived from the flow itself so every run (and every worker) agrees."""
    proto, a_ip, a_port, b_ip, b_port = key
    micros = round(first_ts * 1e6) & _UID_TIME_MASK if math.isfinite(first_ts) else 0
    material = _UID_HEAD.pack(micros, proto, a_port) + a_ip + _UID_PORT.pack(b_port) + b_ip
    # 13 bytes (104 bits) cover 62**17, so every one of the 17 characters varies. The 17 base-62
    # digits, least significant first, are taken as 9 and 8 from two halves that fit a machine word.
    n = int.from_bytes(hashlib.blake2b(material, digest_size=13).digest(), "big") % _B62_17
    high, low = n // _B62_9, n % _B62_9
    chars = ["C"]
    for _ in range(9):
        chars.append(_B62[low % 62])
        low //= 62
    for _ in range(8):
        chars.append(_B62[high % 62])
        high //= 62
    return "".join(chars)


_B62_9: Final = 62**9
_B62_17: Final = 62**17


class Flow:
    """One conversation: endpoints, per-direction counters, TCP state, and its dissector if any."""

    __slots__ = (
        "classify_tries",
        "dissector",
        "first_ts",
        "flags_orig",
        "flags_resp",
        "history",
        "isn_orig",
        "isn_resp",
        "key",
        "last_ts",
        "missed_bytes",
        "orig_bytes",
        "orig_ip",
        "orig_ip_bytes",
        "orig_pkts",
        "orig_port",
        "parent_uid",
        "proto",
        "reassembler",
        "resp_bytes",
        "resp_ip",
        "resp_ip_bytes",
        "resp_pkts",
        "resp_port",
        "service",
        "service_how",
        "tunnel_parents",
        "uid",
    )

    def __init__(self, key: FlowKey, pkt: Packet, reverse: bool) -> None:
        self.key = key
        self.proto = pkt.proto
        if reverse:
            self.orig_ip, self.orig_port, self.resp_ip, self.resp_port = (
                pkt.dst_ip,
                pkt.dport,
                pkt.src_ip,
                pkt.sport,
            )
        else:
            self.orig_ip, self.orig_port, self.resp_ip, self.resp_port = (
                pkt.src_ip,
                pkt.sport,
                pkt.dst_ip,
                pkt.dport,
            )
        self.first_ts = self.last_ts = pkt.ts
        self.uid = make_uid(pkt.ts, key)
        self.orig_pkts = self.resp_pkts = 0
        self.orig_bytes = self.resp_bytes = 0
        """Transport payload bytes per direction (Zeek's orig_bytes/resp_bytes)."""
        self.orig_ip_bytes = self.resp_ip_bytes = 0
        """Bytes on the wire per direction."""
        self.flags_orig = self.flags_resp = 0
        """OR of the TCP flags each side sent."""
        self.history = ""
        self.isn_orig: int | None = None
        self.isn_resp: int | None = None
        self.service: str | None = None
        """Label given by classification (dns, tls, smtp, ftp-data, ...)."""
        self.service_how: str | None = None
        """How the label was reached: port, payload, both, or expected (e.g. an FTP data channel)."""
        self.classify_tries = 0
        self.dissector: Any = None
        """The stream dissector attached to this flow, if any."""
        self.reassembler: TcpReassembler | None = None
        self.parent_uid: str | None = None
        self.missed_bytes = 0
        """Bytes missing from the reassembled streams, once they were flushed (Zeek's missed_bytes)."""
        self.tunnel_parents: tuple[str, ...] = ()
        """uids of the tunnels this flow was carried in (Zeek's conn.log tunnel_parents)."""

    @property
    def orig_h(self) -> str:
        return ip_text(self.orig_ip)

    @property
    def resp_h(self) -> str:
        return ip_text(self.resp_ip)

    @property
    def proto_name(self) -> str:
        return PROTO_NAMES.get(self.proto, str(self.proto))

    def is_from_orig(self, pkt: Packet) -> bool:
        return pkt.src_ip == self.orig_ip and pkt.sport == self.orig_port

    def update(self, pkt: Packet, from_orig: bool) -> None:
        """Count one packet of this flow and track the TCP flags and history letters."""
        self.last_ts = pkt.ts
        plen = pkt.payload_len if pkt.proto in (TCP, 17) else 0
        if from_orig:
            self.orig_pkts += 1
            self.orig_bytes += plen
            self.orig_ip_bytes += pkt.wirelen
        else:
            self.resp_pkts += 1
            self.resp_bytes += plen
            self.resp_ip_bytes += pkt.wirelen
        if pkt.proto != TCP:
            return
        flags = pkt.tcp_flags
        if from_orig:
            self.flags_orig |= flags
            if flags & SYN and self.isn_orig is None:
                self.isn_orig = pkt.seq
        else:
            self.flags_resp |= flags
            if flags & SYN and self.isn_resp is None:
                self.isn_resp = pkt.seq
        letter = _history_letter(flags, plen)
        if letter:
            if from_orig:
                letter = letter.upper()
            if letter not in self.history:
                self.history += letter

    @property
    def conn_state(self) -> str:
        """Zeek's conn_state (its base/protocols/conn/main.zeek function), from each side's TCP
        endpoint state as derived from the flags it sent; UDP by who spoke; ICMP and others OTH."""
        if self.proto != TCP:
            if self.proto != 17:
                return "OTH"
            if self.orig_pkts:
                return "SF" if self.resp_pkts else "S0"
            return "SHR" if self.resp_pkts else "OTH"
        o, r = self.flags_orig, self.flags_resp
        # A SYN from the responder establishes it, and the originator once it sent a SYN (or, its
        # SYN missed, an ACK). A bare ACK answering a SYN does not make the responder active.
        os = _endpoint_state(o, self.orig_pkts, bool(r & SYN) and bool(o & (SYN | ACK)))
        rs = _endpoint_state(r, self.resp_pkts, bool(r & SYN))
        if rs == _PARTIAL and os == _SYN_SENT and not self.resp_bytes:
            rs = _INACTIVE
        o_inactive, r_inactive = os <= _PARTIAL, rs <= _PARTIAL
        if rs == _RESET:
            if os == _SYN_SENT or (os == _RESET and not self.orig_bytes and not self.resp_bytes):
                return "REJ"
            return "RSTRH" if o_inactive else "RSTR"
        if os == _RESET:
            if r_inactive:
                return "RSTOS0" if _SYN_THEN_RST.match(self.history) else "OTH"
            return "RSTO"
        if os == _CLOSED and rs == _CLOSED:
            return "SF"
        if os == _CLOSED:
            return "SH" if r_inactive else "S2"
        if rs == _CLOSED:
            return "SHR" if o_inactive else "S3"
        if os == _SYN_SENT and rs == _INACTIVE:
            return "S0"
        if os == _ESTABLISHED and rs == _ESTABLISHED:
            return "S1"
        return "OTH"

    @property
    def closed(self) -> bool:
        """A TCP flow closed by RST, or by FIN from both sides."""
        return _finished(self)

    @property
    def duration(self) -> float:
        return self.last_ts - self.first_ts


# Zeek's TCP endpoint states, in an order where "inactive or partial" is `<= _PARTIAL`.
_INACTIVE: Final = 0
_PARTIAL: Final = 1
_SYN_SENT: Final = 2
_ESTABLISHED: Final = 3
_CLOSED: Final = 4
_RESET: Final = 5

_SYN_THEN_RST: Final = re.compile(r"\^?S[^HAFGIQ]*R")
"""Zeek's RSTOS0 test on the history: the originator's SYN, then its RST, no handshake between."""


def _endpoint_state(flags: int, pkts: int, established: bool) -> int:
    """One side's Zeek TCP endpoint state, from the OR of the flags it sent (RST and FIN stick)."""
    if flags & RST:
        return _RESET
    if flags & FIN:
        return _CLOSED
    if established:
        return _ESTABLISHED
    if flags & SYN:
        return _SYN_SENT
    return _PARTIAL if pkts else _INACTIVE


def _history_letter(flags: int, plen: int) -> str:
    """Zeek history letters (lower case; the caller upper-cases the originator's)."""
    control = flags & (SYN | FIN | RST)
    if control & (control - 1):  # more than one of SYN, FIN, RST: Zeek's I (FIN+RST) or Q
        return "i" if control == FIN | RST else "q"
    if flags & RST:
        return "r"
    if flags & SYN:
        return "h" if flags & ACK else "s"
    if flags & FIN:
        return "f"
    if plen:
        return "d"
    if flags & ACK:
        return "a"
    return ""


class FlowTable:
    """Bounded table of live flows, expired by packet time."""

    def __init__(self, max_flows: int | None = None) -> None:
        self._flows: dict[FlowKey, Flow] = {}
        self.max_flows = MAX_FLOWS if max_flows is None else max_flows
        """Default read when the table is made, so a test can lower the module's limit."""
        self.created = 0
        self.evicted = 0
        self.expired = 0
        self.next_sweep = float("-inf")
        """Packet time of the next idle sweep (-inf until the first packet)."""

    def __len__(self) -> int:
        return len(self._flows)

    def __iter__(self) -> Iterator[Flow]:
        return iter(list(self._flows.values()))

    def get(self, key: FlowKey) -> Flow | None:
        return self._flows.get(key)

    def find(self, pkt: Packet) -> tuple[Flow, bool, list[Flow]]:
        """The flow of `pkt` (created if new), whether pkt goes orig->resp, and flows closed to make room."""
        key = flow_key(pkt.proto, pkt.src_ip, pkt.sport, pkt.dst_ip, pkt.dport)
        flow = self._flows.get(key)
        if flow is not None:
            return flow, pkt.src_ip == flow.orig_ip and pkt.sport == flow.orig_port, []
        closed: list[Flow] = []
        if len(self._flows) >= self.max_flows:
            closed = self._evict()
        flow = Flow(key, pkt, _starts_reversed(pkt))
        self._flows[key] = flow
        self.created += 1
        return flow, pkt.src_ip == flow.orig_ip and pkt.sport == flow.orig_port, closed

    def due(self, now: float) -> bool:
        """True when an idle sweep is due at packet time `now`."""
        if self.next_sweep == float("-inf"):
            self.next_sweep = now + SWEEP_INTERVAL
            return False
        return now >= self.next_sweep

    def sweep(self, now: float) -> list[Flow]:
        """Remove and return flows idle for longer than their timeout."""
        self.next_sweep = now + SWEEP_INTERVAL
        done = [
            f
            for f in self._flows.values()
            if now - f.last_ts > IDLE_TIMEOUT.get(f.proto, DEFAULT_IDLE_TIMEOUT)
            or (_finished(f) and now - f.last_ts > CLOSED_LINGER)
        ]
        for f in done:
            del self._flows[f.key]
        self.expired += len(done)
        return done

    def drain(self) -> list[Flow]:
        """Remove and return every flow (end of input)."""
        flows = list(self._flows.values())
        self._flows.clear()
        return flows

    def _evict(self) -> list[Flow]:
        count = max(1, int(self.max_flows * EVICT_FRACTION))
        oldest = sorted(self._flows.values(), key=lambda f: f.last_ts)[:count]
        for f in oldest:
            del self._flows[f.key]
        self.evicted += len(oldest)
        return oldest


def _finished(flow: Flow) -> bool:
    """A TCP flow closed by RST, or by FIN from both sides, can leave the table at the next sweep."""
    if flow.proto != TCP:
        return False
    both_fin = flow.flags_orig & FIN and flow.flags_resp & FIN
    return bool(both_fin or (flow.flags_orig | flow.flags_resp) & RST)


def _starts_reversed(pkt: Packet) -> bool:
    """Whether the first packet seen was sent by the responder."""
    if pkt.proto == TCP:
        flags = pkt.tcp_flags
        if flags & SYN:
            return bool(flags & ACK)
    elif pkt.proto in (ICMP, ICMPV6):
        return pkt.sport in ICMP_REPLY_TYPES
    return pkt.sport < EPHEMERAL_PORT_START <= pkt.dport


# -- the fast path ---------------------------------------------------------------------------------
#
# Theory of operation: some frames of a TCP flow only move counters: every frame of a flow wanted by
# no dissector (classified, or given up on); the bare acknowledgements (no payload) of any flow,
# dissected or not, once the sender's SYN was seen (its reassembler then has its base, and an empty
# segment changes nothing in it); and, on a dissected flow, an in-order segment lying wholly inside
# the skip zone its dissector asked for (TLS application data, an HTTP body: `tcp.DirectionReassembler
# .swallow`), short of the zone's end. When such a frame is Ethernet, optionally with one 802.1Q tag,
# then IPv4 (no options, not a fragment) or IPv6 (no extension header) then TCP, its headers sit at
# fixed offsets (`FAST_LAYOUTS`), so `FastPath.count` finds the flow by the address and port bytes as
# they are in the frame and updates it without decoding the frame or copying it out of the reader's
# buffer. It takes a frame only when the result is exactly what the per-frame path would do: the
# layout the flow's direction was learnt with, no SYN/FIN/RST (they change the TCP state), no flag bit
# the sender has not sent before, a history letter the flow already has, the whole IP packet
# captured. Anything else returns False and the caller takes the per-frame path. Entries live exactly
# as long as their flow (`forget` when it ends), at most two per flow (one per direction).

FAST_ETHERTYPE: Final = 12
"""Offset of the EtherType of an Ethernet frame (of the tagged type when 802.1Q-tagged)."""
FAST_VLAN_TAG: Final = 4
"""Bytes one 802.1Q tag adds before the inner EtherType."""
ETHERTYPE_IPV4: Final = 0x0800
ETHERTYPE_IPV6: Final = 0x86DD
ETHERTYPE_VLAN: Final = 0x8100
FAST_MIN_FRAME: Final = 54
"""Ethernet (14) + IPv4 (20) + TCP (20): the shortest frame the fast path reads."""
FAST_IP_TOTAL_LENGTH: Final = 16
"""Offset of the IPv4 total length (2 bytes) in an untagged frame (see `plain_ipv4_proto`)."""
FAST_IP_FRAGMENT: Final = 20
"""Offset of the IPv4 flags and fragment offset (2 bytes): MF and offset zero = not a fragment."""
FAST_IP_PROTO: Final = 23
"""Offset of the IPv4 protocol byte in an untagged frame."""
FAST_ETH_IP_HEADERS: Final = 34
"""Ethernet + IPv4 header bytes: the IP total length plus 14 must fit in the captured frame."""
TCP_HEADER_MIN: Final = 20
"""A TCP header without options."""

FAST_LAYOUTS: Final[tuple[tuple[str, ...], ...]] = (
    ("eth", "ipv4", "tcp"),
    ("eth", "vlan", "ipv4", "tcp"),
    ("eth", "ipv6", "tcp"),
    ("eth", "vlan", "ipv6", "tcp"),
)
"""The frame layouts the fast path reads, by number (bit 0: one 802.1Q tag; bit 1: IPv6): the
protocol layers the per-frame decoder lists for such a frame, counted once per frame taken."""
_LAYOUT_VLAN: Final = 1
_LAYOUT_IPV6: Final = 2
_FAST_CONTROL: Final = SYN | FIN | RST


def plain_ipv4_proto(data: bytes, at: int, end: int) -> int:
    """The IP protocol of the untagged Ethernet frame `data[at:end]` when it carries an unfragmented
    IPv4 packet without options, whose headers sit at fixed offsets; else -1."""
    if (
        end - at < FAST_ETH_IP_HEADERS
        or data[at + FAST_ETHERTYPE : at + FAST_ETHERTYPE + 3] != b"\x08\x00\x45"
        or data[at + FAST_IP_FRAGMENT] & 0x3F
        or data[at + FAST_IP_FRAGMENT + 1]
    ):
        return -1
    return data[at + FAST_IP_PROTO]


def fast_layout(buf: bytes, at: int, end: int) -> tuple[bytes, int, int, int] | None:
    """For an Ethernet frame `buf[at:end]` of one of the `FAST_LAYOUTS` carrying TCP, captured
    whole: (key: the address and port bytes as in the frame, layout number, offset of the TCP
    header, end of the IP packet). None for any other frame."""
    reading = _LayoutReader()
    key = reading.read(buf, at, end)
    return None if key is None else (key, reading.layout, reading.tcp, reading.ip_end)


class _LayoutReader:
    """Reads a frame's fast layout into its attributes (no tuple per frame on the hot path)."""

    __slots__ = ("ip_end", "layout", "tcp")

    def __init__(self) -> None:
        self.layout = 0
        """The layout number (an index of `FAST_LAYOUTS`)."""
        self.tcp = 0
        """Offset of the TCP header in the buffer."""
        self.ip_end = 0
        """Offset where the IP packet ends (the payload ends there; padding may follow)."""

    def read(self, buf: bytes, at: int, end: int) -> bytes | None:
        """The key of the frame `buf[at:end]` (its address and port bytes) if it has a fast layout
        and its IP packet was captured whole, the other readings in the attributes; else None."""
        if end - at < FAST_MIN_FRAME:
            return None
        l3 = at + FAST_ETHERTYPE + 2
        ethertype = (buf[at + FAST_ETHERTYPE] << 8) | buf[at + FAST_ETHERTYPE + 1]
        layout = 0
        if ethertype == ETHERTYPE_VLAN:
            ethertype = (buf[l3 + 2] << 8) | buf[l3 + 3]
            l3 += FAST_VLAN_TAG
            layout = _LAYOUT_VLAN
        if ethertype == ETHERTYPE_IPV4:
            tcp = l3 + 20
            if tcp + TCP_HEADER_MIN > end or buf[l3] != 0x45 or buf[l3 + 9] != TCP:
                return None
            if buf[l3 + 6] & 0x3F or buf[l3 + 7]:  # MF or a fragment offset
                return None
            ip_end = l3 + ((buf[l3 + 2] << 8) | buf[l3 + 3])
            key_start = l3 + 12
        elif ethertype == ETHERTYPE_IPV6:
            tcp = l3 + 40
            if tcp + TCP_HEADER_MIN > end or buf[l3] >> 4 != 6 or buf[l3 + 6] != TCP:
                return None
            payload = (buf[l3 + 4] << 8) | buf[l3 + 5]
            if not payload:  # a jumbogram, or a TSO capture: the per-frame path knows what to do
                return None
            ip_end = tcp + payload
            key_start = l3 + 8
            layout |= _LAYOUT_IPV6
        else:
            return None
        if ip_end > end or ip_end < tcp + TCP_HEADER_MIN:
            return None
        self.layout, self.tcp, self.ip_end = layout, tcp, ip_end
        return buf[key_start : tcp + 4]


class FastPath:
    """Frames counted straight from the reader's buffer, without decoding (see above)."""

    __slots__ = ("_reading", "classify_tries", "entries", "frames", "layout_frames", "wire_bytes")

    def __init__(self, classify_tries: int = 2) -> None:
        self.classify_tries = classify_tries
        """Payloads looked at before a flow is left unclassified (the pipeline's CLASSIFY_TRIES): a
        payload of a flow below it would still be classified, so it takes the per-frame path."""
        self.entries: dict[bytes, tuple[Flow, bool, int]] = {}
        """Key bytes as in a frame -> (flow, whether that direction is orig -> resp, layout)."""
        self.frames = 0
        """Frames counted here (not yet added to the pipeline's counters)."""
        self.layout_frames = [0] * len(FAST_LAYOUTS)
        """Of them, by layout (their protocol layers are counted by the caller)."""
        self.wire_bytes = 0
        """Their bytes on the wire."""
        self._reading = _LayoutReader()

    def __bool__(self) -> bool:
        return bool(self.entries)

    def learn(self, frame: bytes, layers: list[str], flow: Flow, from_orig: bool) -> None:
        """Remember the direction of `frame`, a TCP frame of `flow` that the per-frame decoder found
        to have exactly the `layers` listed, if it is of a fast layout."""
        reading = self._reading
        key = reading.read(frame, 0, len(frame))
        if key is None or key in self.entries or tuple(layers) != FAST_LAYOUTS[reading.layout]:
            return
        self.entries[key] = (flow, from_orig, reading.layout)

    def forget(self, flow: Flow) -> None:
        """Drop both directions of `flow` (it ended)."""
        if flow.proto != TCP:
            return
        o, r = flow.orig_port.to_bytes(2, "big"), flow.resp_port.to_bytes(2, "big")
        self.entries.pop(flow.orig_ip + flow.resp_ip + o + r, None)
        self.entries.pop(flow.resp_ip + flow.orig_ip + r + o, None)

    def count(self, buf: bytes, at: int, end: int, ts: float, wirelen: int) -> bool:
        """Count the Ethernet frame `buf[at:end]` on its flow if the fast path may; else False."""
        reading = self._reading
        key = reading.read(buf, at, end)
        if key is None:
            return False
        layout, tcp, ip_end = reading.layout, reading.tcp, reading.ip_end
        entry = self.entries.get(key)
        if entry is None or entry[2] != layout:
            return False
        flow, from_orig = entry[0], entry[1]
        flags = buf[tcp + 13]
        offset_byte = buf[tcp + 12]
        if flags & _FAST_CONTROL or offset_byte < 0x50:
            return False
        plen = ip_end - tcp - (offset_byte >> 4) * 4
        if plen < 0:
            return False
        if from_orig:
            if flags & ~flow.flags_orig or ("D" if plen else "A") not in flow.history:
                return False
        elif flags & ~flow.flags_resp or ("d" if plen else "a") not in flow.history:
            return False
        reassembler = flow.reassembler
        if reassembler is not None:
            side = reassembler.client if from_orig else reassembler.server
            if plen:  # dissected: only bytes its dissector said it will not read
                seq = (buf[tcp + 4] << 24) | (buf[tcp + 5] << 16) | (buf[tcp + 6] << 8) | buf[tcp + 7]
                if not side.swallow(seq, plen):
                    return False
            elif (flow.isn_orig if from_orig else flow.isn_resp) is None:
                return False  # a bare ACK before the sender's SYN would set the reassembler's base
        elif plen and flow.classify_tries < self.classify_tries:
            return False  # not classified yet: its payload is still to be looked at
        if from_orig:
            flow.orig_pkts += 1
            flow.orig_bytes += plen
            flow.orig_ip_bytes += wirelen
        else:
            flow.resp_pkts += 1
            flow.resp_bytes += plen
            flow.resp_ip_bytes += wirelen
        flow.last_ts = ts
        self.frames += 1
        self.layout_frames[layout] += 1
        self.wire_bytes += wirelen
        return True
