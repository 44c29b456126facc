"""Header decoding: link layer, IP (with tunnels and fragments), TCP, UDP, ICMP and ICMPv6.

Theory of operation
-------------------
`Decoder.decode(ts, linktype, data, wirelen)` walks the headers of one frame from the outside in and
returns a light `Packet`: the names of the layers it crossed (for the protocol hierarchy), the
addresses and ports of the innermost IP datagram, TCP fields, and the offsets of the transport
payload inside the frame (the payload itself is sliced only when a dissector asks for it).

Each layer is a small function that takes (packet, data, offset) and returns the next step. Tables,
not if-chains, map EtherTypes, PPP protocols and IP protocol numbers to those functions. Tunnels (IP
in IP, 6in4, GRE, Teredo, MPLS, PPPoE) simply recurse into the IP layer, bounded by
`MAX_ENCAPSULATION_DEPTH`, so the packet seen by the dissectors is the innermost one, as tshark does.

IPv4 and IPv6 fragments are held by `FragmentReassembler` (bounded, expired by packet time); the
fragment that completes a datagram carries the whole datagram on, the others stop at the IP layer.

A header that is cut short or whose length fields lie stops decoding of that packet: the packet keeps
the layers decoded so far and `malformed` names the reason. Nothing raises out of `decode`.
"""

from __future__ import annotations

import bisect
import contextlib
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from analyzer.errors import Malformed

# --- limits -------------------------------------------------------------------------------------

MAX_VLAN_TAGS = 8
"""802.1Q/802.1ad tags followed on one frame; real networks stack two or three, more is hostile."""
MAX_MPLS_LABELS = 16
"""MPLS label stack depth followed; deeper stacks are an attack or garbage."""
MAX_ENCAPSULATION_DEPTH = 6
"""IP-in-IP / GRE / Teredo nesting followed before giving up (tunnels nest two or three deep)."""
MAX_IPV6_EXT_HEADERS = 12
"""IPv6 extension headers followed in one chain; RFC 8200 order has at most ~8 distinct ones."""
MAX_FRAGMENTED_DATAGRAMS = 4096
"""Datagrams whose fragments are held at once; bounds memory under a fragment flood."""
MAX_FRAGMENT_BYTES = 16 * 1024 * 1024
"""Bytes of fragments held across all datagrams (16 MiB)."""
FRAGMENT_TIMEOUT = 60.0
"""Seconds of packet time after which an incomplete datagram is dropped (Linux ipfrag_time is 30 s)."""
MAX_IP_DATAGRAM = 65535 + 40
"""Largest reassembled datagram (IPv4 total length limit, IPv6 payload limit plus header)."""

# --- constants ----------------------------------------------------------------------------------

TCP, UDP, ICMP, ICMPV6 = 6, 17, 1, 58
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

_U16 = struct.Struct("!H")
_ETH = struct.Struct("!6s6sH")
_IPV4 = struct.Struct("!BBHHHBBH4s4s")
_IPV6 = struct.Struct("!IHBB16s16s")
_PORTS = struct.Struct("!HH")
_TCP = struct.Struct("!HHIIBBH")
_UDP = struct.Struct("!HHHH")

ETHERTYPE_IPV4, ETHERTYPE_IPV6 = 0x0800, 0x86DD
TEREDO_PORT = 3544
NDP_REDIRECT = 137
MAX_NDP_OPTIONS = 32
"""Options walked in one NDP message by the decoder (real ones carry two to five)."""
ICMPV4_ERROR_TYPES = frozenset({3, 4, 5, 11, 12})
"""ICMPv4 types that quote the offending datagram (unreachable, source quench, redirect, time
exceeded, parameter problem)."""
ICMPV4_COUNTERPARTS = {8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 17: 18, 18: 17}
"""ICMPv4 request/reply type pairs (echo, timestamp, information, address mask)."""
ICMPV6_COUNTERPARTS = {128: 129, 129: 128, 133: 134, 134: 133, 135: 136, 136: 135}
"""ICMPv6 request/reply type pairs (echo, router and neighbor solicitation/advertisement)."""
ICMPV6_ERROR_TYPES = frozenset({1, 2, 3, 4})
"""ICMPv6 error types (RFC 4443): unreachable, packet too big, time exceeded, parameter problem."""


class Packet:
    """A decoded frame: a light view with the fields dissectors and flows need."""

    __slots__ = (
        "ack",
        "caplen",
        "data",
        "dport",
        "dst_ip",
        "flow",
        "interface",
        "ip_version",
        "l2_dst",
        "l2_src",
        "layers",
        "linktype",
        "malformed",
        "payload_end",
        "payload_offset",
        "proto",
        "seq",
        "sport",
        "src_ip",
        "tcp_flags",
        "ts",
        "ttl",
        "vlans",
        "window",
        "wirelen",
    )

    def __init__(self, ts: float, linktype: int, data: bytes, wirelen: int, interface: int = 0) -> None:
        self.ts = ts
        self.linktype = linktype
        self.data = data
        """The frame's bytes; after IP reassembly, the reassembled datagram."""
        self.wirelen = wirelen
        self.caplen = len(data)
        self.interface = interface
        self.layers: list[str] = []
        """Protocol names crossed, outermost first (tshark-like names: eth, vlan, ipv4, tcp, ...)."""
        self.malformed: str | None = None
        """Reason decoding stopped early, or None."""
        self.l2_src: bytes = b""
        self.l2_dst: bytes = b""
        self.vlans: tuple[int, ...] = ()
        self.ip_version = 0
        self.src_ip: bytes = b""
        self.dst_ip: bytes = b""
        self.ttl = 0
        self.proto = -1
        """Innermost IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6), -1 without IP."""
        self.sport = 0
        self.dport = 0
        self.seq = 0
        self.ack = 0
        self.tcp_flags = 0
        self.window = 0
        self.payload_offset = 0
        """Start of the transport payload in `data` (for ICMP: the ICMP header itself)."""
        self.payload_end = 0
        self.flow: object | None = None
        """The Flow this packet belongs to, set by the pipeline before dissectors run."""

    @property
    def payload(self) -> bytes:
        """Transport payload (UDP/TCP data; for ICMP and ICMPv6 the whole ICMP message)."""
        return self.data[self.payload_offset : self.payload_end]

    @property
    def payload_len(self) -> int:
        return self.payload_end - self.payload_offset

    @property
    def src(self) -> str:
        return ip_text(self.src_ip)

    @property
    def dst(self) -> str:
        return ip_text(self.dst_ip)

    def __repr__(self) -> str:
        return (
            f"Packet({'/'.join(self.layers)} {self.src}:{self.sport} -> {self.dst}:{self.dport}"
            f" proto={self.proto} len={self.payload_len} malformed={self.malformed})"
        )


def ip_text(raw: bytes) -> str:
    """Text form of a 4- or 16-byte address ('' for none)."""
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw)
    if len(raw) == 16:
        return socket.inet_ntop(socket.AF_INET6, raw)
    return ""


def mac_text(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


# --- fragments ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _PendingDatagram:
    first_ts: float
    header: bytes  # the IP header (of the first fragment) to put back in front of the payload
    starts: list[int]  # sorted offsets of the held pieces; pieces never overlap
    pieces: dict[int, bytes]  # fragment offset (bytes) -> data not covered by an earlier piece
    total: int  # payload length once the last fragment is seen, else -1
    held: int  # bytes held in pieces


class FragmentReassembler:
    """Theory of operation: fragments are keyed by (version, src, dst, id, proto). Each datagram
    collects pieces by offset; a new fragment is trimmed against the pieces already held, so the
    first arrival wins on overlap and a fragment whose overlapping bytes differ is counted once in
    `overlaps`. Pieces never overlap and never reach past the end announced by the last fragment,
    so the datagram is complete exactly when the bytes held equal that end. Incomplete datagrams
    expire after FRAGMENT_TIMEOUT of packet time, and the oldest are evicted when
    MAX_FRAGMENTED_DATAGRAMS or MAX_FRAGMENT_BYTES is reached."""

    def __init__(self) -> None:
        self._pending: dict[tuple[object, ...], _PendingDatagram] = {}
        self._held = 0
        self.expired = 0
        self.evicted = 0
        self.overlaps = 0
        self.reassembled = 0

    def add(
        self, key: tuple[object, ...], ts: float, header: bytes, offset: int, more: bool, data: bytes
    ) -> bytes | None:
        """Add one fragment; return header+payload of the completed datagram, else None."""
        if offset + len(data) > MAX_IP_DATAGRAM:
            raise Malformed("ip.fragment_too_large", f"fragment ends at {offset + len(data)}")
        self._expire(ts)
        dg = self._pending.get(key)
        if dg is None:
            while self._pending and len(self._pending) >= MAX_FRAGMENTED_DATAGRAMS:
                self._drop(next(iter(self._pending)))
                self.evicted += 1
            dg = _PendingDatagram(ts, header, [], {}, -1, 0)
            self._pending[key] = dg
        while self._held + len(data) > MAX_FRAGMENT_BYTES and len(self._pending) > 1:
            self._drop(next(k for k in self._pending if k != key))  # the oldest other datagram
            self.evicted += 1
        if offset == 0:
            dg.header = header
        if not more:
            dg.total = offset + len(data)
            self._cut(dg, dg.total)
        elif dg.total >= 0:
            data = data[: max(0, dg.total - offset)]
        if self._store(dg, offset, data):
            self.overlaps += 1
        if dg.total < 0 or dg.held < dg.total:
            return None
        self._drop(key)
        self.reassembled += 1
        return dg.header + b"".join(dg.pieces[off] for off in dg.starts)

    def _store(self, dg: _PendingDatagram, offset: int, data: bytes) -> bool:
        """Hold the parts of `data` no piece covers yet; True when a covered byte differs."""
        end = offset + len(data)
        starts, pieces = dg.starts, dg.pieces
        conflict = False
        pos = offset
        fresh: list[tuple[int, bytes]] = []
        i = max(0, bisect.bisect_right(starts, offset) - 1)
        while i < len(starts) and starts[i] < end:
            start = starts[i]
            piece = pieces[start]
            stop = min(start + len(piece), end)
            if stop > pos:
                if start > pos:
                    fresh.append((pos, data[pos - offset : start - offset]))
                    pos = start
                if piece[pos - start : stop - start] != data[pos - offset : stop - offset]:
                    conflict = True
                pos = stop
            i += 1
        if pos < end:
            fresh.append((pos, data[pos - offset :]))
        for start, chunk in fresh:
            bisect.insort(starts, start)
            pieces[start] = chunk
            dg.held += len(chunk)
            self._held += len(chunk)
        return conflict

    def _cut(self, dg: _PendingDatagram, total: int) -> None:
        """Drop held bytes past `total` (the end announced by the last fragment)."""
        i = bisect.bisect_left(dg.starts, total)
        for start in dg.starts[i:]:
            self._release(dg, len(dg.pieces.pop(start)))
        del dg.starts[i:]
        if i:
            start = dg.starts[i - 1]
            piece = dg.pieces[start]
            if start + len(piece) > total:
                dg.pieces[start] = piece[: total - start]
                self._release(dg, start + len(piece) - total)

    def _release(self, dg: _PendingDatagram, size: int) -> None:
        dg.held -= size
        self._held -= size

    def _drop(self, key: tuple[object, ...]) -> None:
        dg = self._pending.pop(key)
        self._held -= dg.held

    def _expire(self, now: float) -> None:
        while self._pending:
            key, dg = next(iter(self._pending.items()))
            if now - dg.first_ts <= FRAGMENT_TIMEOUT:
                break
            self._drop(key)
            self.expired += 1

    @property
    def pending(self) -> int:
        return len(self._pending)


# --- the decoder --------------------------------------------------------------------------------

ByteOrder = Literal["little", "big"]
Step = Callable[[Packet, bytes, int, int], None]
"""A layer decoder: (packet, data, offset, depth) -> None; it records its layer and calls the next."""


class Decoder:
    """Decodes frames into Packets; holds the (bounded) IP fragment state across frames."""

    def __init__(self) -> None:
        self.fragments = FragmentReassembler()
        self._link: dict[int, Step] = {
            1: self._ethernet,
            0: self._null_host_order,
            108: self._null_network_order,
            101: self._raw,
            12: self._raw,
            14: self._raw,
            228: self._ipv4_only,
            229: self._ipv6_only,
            113: self._sll,
            276: self._sll2,
            9: self._ppp,
            50: self._ppp,
        }
        self._ethertypes: dict[int, Step] = {
            ETHERTYPE_IPV4: self._ipv4,
            ETHERTYPE_IPV6: self._ipv6,
            0x8100: self._vlan,
            0x88A8: self._vlan,
            0x9100: self._vlan,
            0x8847: self._mpls,
            0x8848: self._mpls,
            0x8864: self._pppoe_session,
            0x0806: self._named("arp"),
            0x8035: self._named("arp"),  # RARP: tshark's arp dissector covers it
            0x8863: self._named("pppoed"),
            0x88CC: self._named("lldp"),
        }
        self._ppp_protocols: dict[int, Step] = {
            0x0021: self._ipv4,
            0x0057: self._ipv6,
            0x0281: self._mpls,
            0xC021: self._named("lcp"),
        }
        self._ip_protocols: dict[int, Step] = {
            TCP: self._tcp,
            UDP: self._udp,
            ICMP: self._icmp,
            ICMPV6: self._icmpv6,
            4: self._ipv4_tunnel,
            41: self._ipv6_tunnel,
            47: self._gre,
            2: self._named("igmp"),
            50: self._named("esp"),
            132: self._named("sctp"),
        }
        # NULL/loopback address families that mean IPv6 (BSD variants disagree on AF_INET6).
        self._null_families: dict[int, Step] = {2: self._ipv4, 24: self._ipv6, 28: self._ipv6, 30: self._ipv6}

    def decode(self, ts: float, linktype: int, data: bytes, wirelen: int, interface: int = 0) -> Packet:
        pkt = Packet(ts, linktype, data, wirelen, interface)
        step = self._link.get(linktype)
        if step is None:
            pkt.layers.append(f"linktype-{linktype}")
            pkt.malformed = "link.unsupported_linktype"
            return pkt
        try:
            step(pkt, data, 0, 0)
        except Malformed as exc:
            pkt.malformed = exc.reason
        return pkt

    # -- link layers --

    @staticmethod
    def _named(name: str) -> Step:
        def step(pkt: Packet, data: bytes, off: int, depth: int) -> None:
            pkt.layers.append(name)

        return step

    def _ethertype(self, pkt: Packet, data: bytes, off: int, ethertype: int, depth: int) -> None:
        step = self._ethertypes.get(ethertype)
        if step is not None:
            step(pkt, data, off, depth)
        elif ethertype <= 1500:
            pkt.layers.append("llc")

    def _ethernet(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        if len(data) < off + 14:
            pkt.layers.append("eth")
            raise Malformed("eth.truncated", f"{len(data) - off} bytes")
        dst, src, ethertype = _ETH.unpack_from(data, off)
        pkt.layers.append("eth")
        pkt.l2_src, pkt.l2_dst = src, dst
        self._ethertype(pkt, data, off + 14, ethertype, depth)

    def _vlan(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        if len(pkt.vlans) >= MAX_VLAN_TAGS:
            raise Malformed("vlan.too_many_tags", f"more than {MAX_VLAN_TAGS}")
        if len(data) < off + 4:
            raise Malformed("vlan.truncated")
        tci, ethertype = struct.unpack_from("!HH", data, off)
        pkt.layers.append("vlan")
        pkt.vlans = (*pkt.vlans, tci & 0x0FFF)
        self._ethertype(pkt, data, off + 4, ethertype, depth)

    def _mpls(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        pkt.layers.append("mpls")
        for _ in range(MAX_MPLS_LABELS):
            if len(data) < off + 4:
                raise Malformed("mpls.truncated")
            bottom = data[off + 2] & 0x01
            off += 4
            if bottom:
                break
        else:
            raise Malformed("mpls.too_many_labels", f"more than {MAX_MPLS_LABELS}")
        if len(data) <= off:
            return
        version = data[off] >> 4
        if version == 4:
            self._ipv4(pkt, data, off, depth)
        elif version == 6:
            self._ipv6(pkt, data, off, depth)
        else:
            # Ethernet pseudowire with control word (first nibble 0), as tshark guesses.
            if version == 0 and len(data) >= off + 4 + 14:
                if depth + 1 > MAX_ENCAPSULATION_DEPTH:
                    raise Malformed("ip.too_deep", f"more than {MAX_ENCAPSULATION_DEPTH} nested tunnels")
                self._ethernet(pkt, data, off + 4, depth + 1)

    def _pppoe_session(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        if len(data) < off + 8:
            raise Malformed("pppoe.truncated")
        pkt.layers.append("pppoes")
        self._ppp_protocol(pkt, data, off + 6, depth)

    def _ppp(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        if data[off : off + 2] == b"\xff\x03":
            off += 2
        self._ppp_protocol(pkt, data, off, depth)

    def _ppp_protocol(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        if len(data) < off + 1:
            raise Malformed("ppp.truncated")
        pkt.layers.append("ppp")
        if data[off] & 0x01:  # protocol field compressed to one byte (RFC 1661 PFC)
            proto, off = data[off], off + 1
        else:
            if len(data) < off + 2:
                raise Malformed("ppp.truncated")
            proto, off = _U16.unpack_from(data, off)[0], off + 2
        step = self._ppp_protocols.get(proto)
        if step is not None:
            step(pkt, data, off, depth)

    def _null(self, pkt: Packet, data: bytes, off: int, depth: int, order: ByteOrder) -> None:
        if len(data) < off + 4:
            pkt.layers.append("null")
            raise Malformed("null.truncated")
        family = int.from_bytes(data[off : off + 4], order)
        pkt.layers.append("null")
        step = self._null_families.get(family)
        if step is None:  # some writers store the family in the other byte order
            swapped: ByteOrder = "big" if order == "little" else "little"
            step = self._null_families.get(int.from_bytes(data[off : off + 4], swapped))
        if step is not None:
            step(pkt, data, off + 4, depth)

    def _null_host_order(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        self._null(pkt, data, off, depth, "little")

    def _null_network_order(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        self._null(pkt, data, off, depth, "big")

    def _raw(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        if len(data) <= off:
            raise Malformed("raw.empty")
        version = data[off] >> 4
        if version == 4:
            self._ipv4(pkt, data, off, depth)
        elif version == 6:
            self._ipv6(pkt, data, off, depth)
        else:
            raise Malformed("raw.bad_ip_version", str(version))

    def _ipv4_only(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        self._ipv4(pkt, data, off, depth)

    def _ipv6_only(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        self._ipv6(pkt, data, off, depth)

    def _sll(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        pkt.layers.append("sll")
        if len(data) < off + 16:
            raise Malformed("sll.truncated")
        addr_len = _U16.unpack_from(data, off + 4)[0]
        pkt.l2_src = data[off + 6 : off + 6 + min(addr_len, 8)]
        self._ethertype(pkt, data, off + 16, _U16.unpack_from(data, off + 14)[0], depth)

    def _sll2(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        pkt.layers.append("sll")
        if len(data) < off + 20:
            raise Malformed("sll2.truncated")
        addr_len = data[off + 11]
        pkt.l2_src = data[off + 12 : off + 12 + min(addr_len, 8)]
        self._ethertype(pkt, data, off + 20, _U16.unpack_from(data, off)[0], depth)

    # -- IP --

    def _ipv4_tunnel(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        if depth + 1 > MAX_ENCAPSULATION_DEPTH:
            raise Malformed("ip.too_deep", f"more than {MAX_ENCAPSULATION_DEPTH} nested tunnels")
        self._ipv4(pkt, data, off, depth + 1)

    def _ipv6_tunnel(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        if depth + 1 > MAX_ENCAPSULATION_DEPTH:
            raise Malformed("ip.too_deep", f"more than {MAX_ENCAPSULATION_DEPTH} nested tunnels")
        self._ipv6(pkt, data, off, depth + 1)

    def _ipv4(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        pkt.layers.append("ipv4")
        if len(data) < off + 20:
            raise Malformed("ipv4.truncated", f"{len(data) - off} bytes of header")
        vihl, _tos, total, ident, frag, ttl, proto, _ck, src, dst = _IPV4.unpack_from(data, off)
        ihl = (vihl & 0x0F) * 4
        if vihl >> 4 != 4:
            raise Malformed("ipv4.bad_version", str(vihl >> 4))
        if ihl < 20:
            raise Malformed("ipv4.bad_header_length", str(ihl))
        if total < ihl:
            if total == 0 and len(data) - off >= ihl:  # TSO-offloaded capture: length left 0
                total = len(data) - off
            else:
                raise Malformed("ipv4.bad_total_length", f"total {total} < header {ihl}")
        if len(data) < off + ihl:
            raise Malformed("ipv4.truncated", "options cut")
        pkt.ip_version, pkt.src_ip, pkt.dst_ip, pkt.ttl, pkt.proto = 4, src, dst, ttl, proto
        end = min(off + total, len(data))
        more = frag & 0x2000
        frag_off = (frag & 0x1FFF) * 8
        if more or frag_off:
            whole = self.fragments.add(
                (4, src, dst, ident, proto),
                pkt.ts,
                bytes(data[off : off + ihl]),
                frag_off,
                bool(more),
                bytes(data[off + ihl : end]),
            )
            if whole is None:
                return
            # Continue with the reassembled datagram as this packet's data. Its header is the first
            # fragment's, whose options (and so length) may differ from this fragment's.
            ihl = (whole[0] & 0x0F) * 4
            whole = _with_ipv4_total(whole, ihl)
            pkt.data = data = whole
            off, end = 0, len(whole)
        step = self._ip_protocols.get(proto)
        if step is not None:
            step(pkt, data[:end] if end < len(data) else data, off + ihl, depth)

    def _ipv6(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        pkt.layers.append("ipv6")
        if len(data) < off + 40:
            raise Malformed("ipv6.truncated", f"{len(data) - off} bytes of header")
        vtf, plen, nxt, hlim, src, dst = _IPV6.unpack_from(data, off)
        if vtf >> 28 != 6:
            raise Malformed("ipv6.bad_version", str(vtf >> 28))
        pkt.ip_version, pkt.src_ip, pkt.dst_ip, pkt.ttl = 6, src, dst, hlim
        header_start = off
        end = off + 40 + plen
        if plen == 0:  # jumbogram or TSO: take what was captured
            end = len(data)
        end = min(end, len(data))
        off += 40
        for _ in range(MAX_IPV6_EXT_HEADERS + 1):  # the last round only finds the upper layer
            if nxt in (0, 43, 60, 51):  # hop-by-hop, routing, destination options, AH
                if end < off + 8:
                    raise Malformed("ipv6.ext_truncated", f"header {nxt}")
                hlen = (data[off + 1] + 2) * 4 if nxt == 51 else (data[off + 1] + 1) * 8
                if off + hlen > end:
                    raise Malformed("ipv6.ext_overrun", f"header {nxt} length {hlen}")
                if nxt == 0:
                    pkt.layers.append("ipv6.hopopts")
                nxt = data[off]
                off += hlen
            elif nxt == 44:  # fragment
                if end < off + 8:
                    raise Malformed("ipv6.ext_truncated", "fragment header")
                pkt.layers.append("ipv6.fraghdr")
                inner_nxt = data[off]
                fo = _U16.unpack_from(data, off + 2)[0]
                ident = struct.unpack_from("!I", data, off + 4)[0]
                frag_off, more = fo & 0xFFF8, fo & 0x1
                if frag_off == 0 and not more:  # atomic fragment (RFC 6946)
                    nxt, off = inner_nxt, off + 8
                    continue
                pkt.proto = inner_nxt
                unfrag = bytes(data[header_start:off])
                whole = self.fragments.add(
                    (6, src, dst, ident), pkt.ts, unfrag, frag_off, bool(more), bytes(data[off + 8 : end])
                )
                if whole is None:
                    return
                # Rebuild: unfragmentable part (its last next-header must become inner_nxt) + payload.
                payload_start = len(unfrag)
                pkt.data = data = whole
                off, end = payload_start, len(whole)
                nxt = inner_nxt
            else:
                break
        else:
            raise Malformed("ipv6.too_many_ext_headers", f"more than {MAX_IPV6_EXT_HEADERS}")
        pkt.proto = nxt
        step = self._ip_protocols.get(nxt)
        if step is not None:
            step(pkt, data[:end] if end < len(data) else data, off, depth)

    def _gre(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        pkt.layers.append("gre")
        if len(data) < off + 4:
            raise Malformed("gre.truncated")
        flags, proto = struct.unpack_from("!HH", data, off)
        version = flags & 0x7
        # checksum (C), key (K) and sequence (S) fields each add four bytes
        hlen = 4 + 4 * bool(flags & 0x8000) + 4 * bool(flags & 0x2000) + 4 * bool(flags & 0x1000)
        if version == 1:  # enhanced GRE (PPTP): key is mandatory, ack optional
            hlen = 8 + 4 * bool(flags & 0x1000) + 4 * bool(flags & 0x0080)
        if len(data) < off + hlen:
            raise Malformed("gre.truncated")
        if depth + 1 > MAX_ENCAPSULATION_DEPTH:
            raise Malformed("ip.too_deep", f"more than {MAX_ENCAPSULATION_DEPTH} nested tunnels")
        if proto == 0x880B:
            if len(data) > off + hlen:
                self._ppp(pkt, data, off + hlen, depth + 1)
            return
        self._ethertype(pkt, data, off + hlen, proto, depth + 1)

    # -- transport --

    def _tcp(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        pkt.layers.append("tcp")
        if len(data) < off + 20:
            raise Malformed("tcp.truncated", f"{len(data) - off} bytes of header")
        sport, dport, seq, ack, doff, flags, window = _TCP.unpack_from(data, off)
        hlen = (doff >> 4) * 4
        pkt.sport, pkt.dport, pkt.seq, pkt.ack = sport, dport, seq, ack
        pkt.tcp_flags, pkt.window = flags, window
        if hlen < 20:
            raise Malformed("tcp.bad_data_offset", str(hlen))
        if off + hlen > len(data):
            raise Malformed("tcp.truncated", "options cut")
        pkt.payload_offset, pkt.payload_end = off + hlen, len(data)

    def _udp(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        pkt.layers.append("udp")
        if len(data) < off + 8:
            raise Malformed("udp.truncated", f"{len(data) - off} bytes of header")
        sport, dport, length, _ck = _UDP.unpack_from(data, off)
        pkt.sport, pkt.dport = sport, dport
        if length < 8 and not (length == 0 and pkt.ip_version == 6):
            raise Malformed("udp.bad_length", str(length))
        end = off + length if length else len(data)
        pkt.payload_offset, pkt.payload_end = off + 8, min(end, len(data))
        if dport == TEREDO_PORT or sport == TEREDO_PORT:
            self._teredo(pkt, data, off + 8, pkt.payload_end, depth)

    def _teredo(self, pkt: Packet, data: bytes, off: int, end: int, depth: int) -> None:
        """Teredo (RFC 4380): IPv6 in UDP, possibly behind authentication and origin indicators."""
        if end - off >= 4 and data[off : off + 2] == b"\x00\x01":  # authentication indicator
            off += 4 + data[off + 2] + data[off + 3] + 9  # ids, auth value, nonce(8), confirmation(1)
        if end - off >= 8 and data[off : off + 2] == b"\x00\x00":  # origin indication
            off += 8
        if end - off < 40 or data[off] >> 4 != 6:
            return
        if depth + 1 > MAX_ENCAPSULATION_DEPTH:
            raise Malformed("ip.too_deep", f"more than {MAX_ENCAPSULATION_DEPTH} nested tunnels")
        pkt.layers.append("teredo")
        self._ipv6(pkt, data[:end], off, depth + 1)

    def _icmp(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        pkt.layers.append("icmp")
        if len(data) < off + 4:
            raise Malformed("icmp.truncated")
        pkt.payload_offset, pkt.payload_end = off, len(data)
        pkt.sport, pkt.dport = _icmp_ports(ICMPV4_COUNTERPARTS, data[off], data[off + 1])
        if data[off] in ICMPV4_ERROR_TYPES:
            _add_quoted_layers(pkt, data[off + 8 :])

    def _icmpv6(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        pkt.layers.append("icmpv6")
        if len(data) < off + 4:
            raise Malformed("icmpv6.truncated")
        pkt.payload_offset, pkt.payload_end = off, len(data)
        pkt.sport, pkt.dport = _icmp_ports(ICMPV6_COUNTERPARTS, data[off], data[off + 1])
        if data[off] in ICMPV6_ERROR_TYPES:
            _add_quoted_layers(pkt, data[off + 8 :])
        elif data[off] == NDP_REDIRECT:
            _add_redirected_header_layers(pkt, data, off + 40)


def _icmp_ports(counterparts: dict[int, int], icmp_type: int, code: int) -> tuple[int, int]:
    """Zeek's ICMP "ports": (type, counterpart type) for request/reply pairs, so that a request and
    its reply share a flow; (type, code) for every other message."""
    other = counterparts.get(icmp_type)
    return (icmp_type, other) if other is not None else (icmp_type, code)


def _add_redirected_header_layers(pkt: Packet, data: bytes, off: int) -> None:
    """An NDP Redirect's Redirected Header option (type 4) quotes the packet that was redirected;
    tshark's hierarchy counts its headers, like an ICMP error's quote."""
    for _ in range(MAX_NDP_OPTIONS):
        if len(data) < off + 8 or data[off + 1] == 0:
            return
        end = off + data[off + 1] * 8
        if data[off] == 4:
            _add_quoted_layers(pkt, data[off + 8 : end])
            return
        off = end


def _add_quoted_layers(pkt: Packet, quote: bytes) -> None:
    """tshark's protocol hierarchy counts the headers quoted in an ICMP error; so do we."""
    with contextlib.suppress(Malformed):  # the ICMP dissector reports a bad quote itself
        pkt.layers.extend(decode_quoted(quote).layers)


def _with_ipv4_total(datagram: bytes, ihl: int) -> bytes:
    """Fix up the total length and clear fragment fields of a reassembled IPv4 datagram."""
    header = bytearray(datagram[:ihl])
    header[2:4] = _U16.pack(min(len(datagram), 0xFFFF))
    header[6:8] = b"\x00\x00"
    return bytes(header) + datagram[ihl:]


@dataclass(frozen=True, slots=True)
class QuotedDatagram:
    """The start of a datagram quoted inside an ICMP error (RFC 792 / RFC 4443)."""

    ip_version: int
    """4 or 6."""
    src: str
    """Source address of the quoted (refused) datagram: the original sender."""
    dst: str
    """Destination address the quoted datagram was sent to."""
    proto: int
    """Transport protocol number of the quoted datagram."""
    sport: int | None
    """Source port (None when the quote is cut before the ports or the protocol has none)."""
    dport: int | None
    """Destination port (None as above)."""
    layers: tuple[str, ...]
    """Layer names of the quote, for the protocol hierarchy (ipv4, udp, ...)."""


def decode_quoted(data: bytes) -> QuotedDatagram:
    """Decode an IP header and the first transport bytes quoted in an ICMP error, tolerating a cut quote."""
    if not data:
        raise Malformed("icmp.quote_empty")
    version = data[0] >> 4
    if version == 4:
        if len(data) < 20:
            raise Malformed("icmp.quote_truncated", f"{len(data)} bytes of quoted IPv4 header")
        ihl = (data[0] & 0x0F) * 4
        if ihl < 20:
            raise Malformed("icmp.quote_bad_header_length", str(ihl))
        proto = data[9]
        src, dst = data[12:16], data[16:20]
        off = ihl
        layers: list[str] = ["ipv4"]
        frag_off = struct.unpack_from("!H", data, 6)[0] & 0x1FFF
        if frag_off:
            return QuotedDatagram(4, ip_text(src), ip_text(dst), proto, None, None, tuple(layers))
    elif version == 6:
        if len(data) < 40:
            raise Malformed("icmp.quote_truncated", f"{len(data)} bytes of quoted IPv6 header")
        proto = data[6]
        src, dst = data[8:24], data[24:40]
        off = 40
        layers = ["ipv6"]
        for _ in range(MAX_IPV6_EXT_HEADERS):
            if proto in (0, 43, 60) and len(data) >= off + 8:
                proto, off = data[off], off + (data[off + 1] + 1) * 8
            elif proto == 44 and len(data) >= off + 8:
                if struct.unpack_from("!H", data, off + 2)[0] & 0xFFF8:
                    return QuotedDatagram(6, ip_text(src), ip_text(dst), data[off], None, None, tuple(layers))
                proto, off = data[off], off + 8
            else:
                break
    else:
        raise Malformed("icmp.quote_bad_version", str(version))
    sport = dport = None
    name = {TCP: "tcp", UDP: "udp", ICMP: "icmp", ICMPV6: "icmpv6"}.get(proto)
    if proto in (TCP, UDP, 132) and len(data) >= off + 4:
        sport, dport = _PORTS.unpack_from(data, off)
    if name and len(data) > off:
        layers.append(name)
    return QuotedDatagram(version, ip_text(src), ip_text(dst), proto, sport, dport, tuple(layers))
