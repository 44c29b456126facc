"""Header decoding: link layer, IP (with tunnels and fragments), TCP, UDP, ICMP and ICMPv6.

Theory of operation
-------------------
`Decoder.decode(ts, linktype, data, wirelen)` walks the headers of one frame from the outside in and
returns a light `Packet`: the names of the layers it crossed (for the protocol hierarchy), the
addresses and ports of the innermost IP datagram, TCP fields, and the offsets of the transport
payload inside the frame (the payload itself is sliced only when a dissector asks for it).

Each layer is a small function that takes (packet, data, offset) and returns the next step. Tables,
not if-chains, map link types, EtherTypes, LLC SAPs, PPP protocols, IP protocol numbers and UDP tunnel
ports to those functions. Tunnels (IP in IP, 6in4, GRE with IP, Ethernet or ERSPAN, Teredo, VXLAN,
Geneve, GTP-U, NSH, MPLS with IP or an Ethernet pseudowire, PPPoE) simply recurse into the inner
layer, bounded by `MAX_ENCAPSULATION_DEPTH`, so the packet seen by the dissectors is the innermost
one, as tshark does. A tunnel with IP endpoints is recorded on the packet (`tunnels`, outermost
first) and the outer ports and payload are cleared, so an inner packet without a transport header is
never mistaken for the outer UDP datagram. A UDP tunnel is recognised by its destination port, or by
its source port when the header also parses (a client port that happens to be 4789 stays plain UDP).

802.11 (plain, radiotap or PPI) is followed through unprotected Data frames; 802.3 frames through
LLC/SNAP, NetBIOS Frames and IPX, where an SMB message is marked on the packet (`carrier`).

IPv4 and IPv6 fragments are held by `FragmentReassembler` (bounded, expired by packet time); the
fragment that completes a datagram carries the whole datagram on, the others stop at the IP layer.

A header that is cut short or whose length fields lie stops decoding of that packet: the packet keeps
the layers decoded so far and `malformed` names the reason. Nothing raises out of `decode`.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Callable
from typing import Final, Literal

from analyzer.capture.linktypes import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IEEE802_11,
    LINKTYPE_IEEE802_11_RADIOTAP,
    LINKTYPE_PPI,
)
from analyzer.decode import llc, tunnels, wifi
from analyzer.decode.fragments import FragmentReassembler
from analyzer.decode.packet import (
    _ETH,
    _IPV4,
    _IPV6,
    _TCP,
    _U16,
    _UDP,
    ETHERTYPE_IPV4,
    ETHERTYPE_IPV6,
    ICMP,
    ICMPV4_COUNTERPARTS,
    ICMPV4_ERROR_TYPES,
    ICMPV6,
    ICMPV6_COUNTERPARTS,
    ICMPV6_ERROR_TYPES,
    MAX_ENCAPSULATION_DEPTH,
    MAX_IPV6_EXT_HEADERS,
    MAX_MPLS_LABELS,
    MAX_NDP_OPTIONS,
    MAX_VLAN_TAGS,
    NDP_REDIRECT,
    TCP,
    TEREDO_PORT,
    UDP,
    Packet,
    TunnelHop,
)
from analyzer.decode.quoted import decode_quoted
from analyzer.errors import Malformed

ETHERTYPE_8021Q: Final = 0x8100
"""An 802.1Q VLAN tag (802.1ad 0x88A8 and the old 0x9100 are read the same way)."""

# --- the decoder --------------------------------------------------------------------------------

ByteOrder = Literal["little", "big"]
Step = Callable[[Packet, bytes, int, int], None]
"""A layer decoder: (packet, data, offset, depth) -> None; it records its layer and calls the next."""
UdpStep = Callable[[Packet, bytes, int, int, int, bool], None]
"""A UDP tunnel: (packet, data, payload offset, payload end, depth, guessed) -> None; `guessed` when
only the source port matched: then a header that does not parse leaves the datagram as plain UDP."""


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
            LINKTYPE_IEEE802_11: self._wlan_frame,
            LINKTYPE_IEEE802_11_RADIOTAP: self._radiotap,
            LINKTYPE_PPI: self._ppi,
        }
        self._ethertypes: dict[int, Step] = {
            ETHERTYPE_IPV4: self._ipv4,
            ETHERTYPE_IPV6: self._ipv6,
            ETHERTYPE_8021Q: self._vlan,
            0x88A8: self._vlan,
            0x9100: self._vlan,
            0x8847: self._mpls,
            0x8848: self._mpls,
            0x8864: self._pppoe_session,
            0x0806: self._named("arp"),
            0x8035: self._named("arp"),  # RARP: tshark's arp dissector covers it
            0x8863: self._named("pppoed"),
            0x88CC: self._named("lldp"),
            tunnels.ETHERTYPE_TEB: self._teb,
            tunnels.ETHERTYPE_NSH: self._nsh,
        }
        self._llc_saps: dict[int, Step] = {
            llc.SAP_IPX: self._ipx,
            0x42: self._named("stp"),
        }
        self._udp_tunnels: dict[int, UdpStep] = {
            TEREDO_PORT: self._teredo,
            tunnels.VXLAN_PORT: self._vxlan,
            tunnels.VXLAN_GPE_PORT: self._vxlan_gpe,
            tunnels.GENEVE_PORT: self._geneve,
            tunnels.GTPU_PORT: self._gtp_u,
            tunnels.GTPC_PORT: self._gtp_c,
            tunnels.MPLS_UDP_PORT: self._mpls_udp,
            tunnels.IPSEC_NAT_T_PORT: self._esp_udp,
        }
        self._inner: dict[int, Step] = {
            tunnels.INNER_ETHERNET: self._ethernet,
            tunnels.INNER_IP: self._raw,
            tunnels.INNER_NSH: self._nsh,
            tunnels.INNER_MPLS: self._mpls,
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

    # The tables above are the registry. The few entries almost every frame takes (Ethernet; IPv4,
    # IPv6 and 802.1Q; TCP, UDP, ICMP) are also called directly where the table would be read: once
    # compiled that is a native call, while a call through a table goes through Python's calling
    # convention (boxing every argument); the two are the same step.

    def decode(self, ts: float, linktype: int, data: bytes, wirelen: int, interface: int = 0) -> Packet:
        pkt = Packet(ts, linktype, data, wirelen, interface)
        try:
            if linktype == LINKTYPE_ETHERNET:
                self._ethernet(pkt, data, 0, 0)
                return pkt
            step = self._link.get(linktype)
            if step is None:
                pkt.layers.append(f"linktype-{linktype}")
                pkt.malformed = "link.unsupported_linktype"
                return pkt
            step(pkt, data, 0, 0)
        except Malformed as exc:
            pkt.malformed = exc.reason
        return pkt

    def _transport(self, pkt: Packet, data: bytes, off: int, proto: int, depth: int) -> None:
        """The upper layer of an IP packet (`_ip_protocols`, its common entries called directly)."""
        if proto == TCP:
            self._tcp(pkt, data, off, depth)
        elif proto == UDP:
            self._udp(pkt, data, off, depth)
        elif proto == ICMP:
            self._icmp(pkt, data, off, depth)
        elif proto == ICMPV6:
            self._icmpv6(pkt, data, off, depth)
        else:
            step = self._ip_protocols.get(proto)
            if step is not None:
                step(pkt, data, off, depth)

    # -- link layers --

    @staticmethod
    def _named(name: str) -> Step:
        def step(pkt: Packet, data: bytes, off: int, depth: int) -> None:
            pkt.layers.append(name)

        return step

    def _protocol(self, pkt: Packet, data: bytes, off: int, ethertype: int, depth: int) -> None:
        """An EtherType where no 802.3 length can stand (GRE, Geneve, SNAP): the table only."""
        step = self._ethertypes.get(ethertype)
        if step is not None:
            step(pkt, data, off, depth)

    def _sll_protocol(self, pkt: Packet, data: bytes, off: int, protocol: int, depth: int) -> None:
        """Linux cooked capture protocol: an EtherType, or 0x0004 (802.2 LLC) / 0x0001 (raw IPX)."""
        if protocol == SLL_LLC:
            self._ieee8023(pkt, data, off, len(data), depth)
        elif protocol == SLL_NOVELL_RAW:
            self._ipx(pkt, data, off, depth)
        else:
            self._protocol(pkt, data, off, protocol, depth)

    def _ethertype(self, pkt: Packet, data: bytes, off: int, ethertype: int, depth: int) -> None:
        if ethertype == ETHERTYPE_IPV4:
            self._ipv4(pkt, data, off, depth)
            return
        if ethertype == ETHERTYPE_IPV6:
            self._ipv6(pkt, data, off, depth)
            return
        if ethertype == ETHERTYPE_8021Q:
            self._vlan(pkt, data, off, depth)
            return
        step = self._ethertypes.get(ethertype)
        if step is not None:
            step(pkt, data, off, depth)
        elif ethertype <= 1500:
            self._ieee8023(pkt, data, off, min(len(data), off + ethertype), depth)

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
        elif version == 0 and len(data) >= off + 14:
            # An Ethernet pseudowire (RFC 4448), as tshark's heuristic reads one: the first nibble 0 is
            # a control word when an Ethernet header with a plausible EtherType follows it, else the
            # first byte of a destination MAC (no control word). Other nibbles stay undecoded.
            _check_depth(depth)
            pkt.layers.append("pwethheuristic")
            cw = _plausible_ethertype(data, off + 16) or not _plausible_ethertype(data, off + 12)
            pkt.layers.append("pwethcw" if cw else "pwethnocw")
            self._ethernet(pkt, data, off + 4 if cw else off, depth + 1)

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
        self._sll_protocol(pkt, data, off + 16, _U16.unpack_from(data, off + 14)[0], depth)

    def _sll2(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        pkt.layers.append("sll")
        if len(data) < off + 20:
            raise Malformed("sll2.truncated")
        addr_len = data[off + 11]
        pkt.l2_src = data[off + 12 : off + 12 + min(addr_len, 8)]
        self._sll_protocol(pkt, data, off + 20, _U16.unpack_from(data, off)[0], depth)

    # -- IP --

    def _ipv4_tunnel(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        _enter(pkt, "IP", depth)
        self._ipv4(pkt, data, off, depth + 1)

    def _ipv6_tunnel(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        _enter(pkt, "IP", depth)
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
        self._transport(pkt, data[:end] if end < len(data) else data, off + ihl, proto, depth)

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
        self._transport(pkt, data[:end] if end < len(data) else data, off, nxt, depth)

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
        _enter(pkt, "GRE", depth)
        if proto == 0x880B:
            if len(data) > off + hlen:
                self._ppp(pkt, data, off + hlen, depth + 1)
            return
        if proto == tunnels.ETHERTYPE_ERSPAN_II or proto == tunnels.ETHERTYPE_ERSPAN_III:
            pkt.layers.append("erspan")
            inner, start = tunnels.erspan(
                data, off + hlen, proto == tunnels.ETHERTYPE_ERSPAN_III, bool(flags & 0x1000)
            )
            step = self._inner.get(inner)
            if step is not None and len(data) > start:
                step(pkt, data, start, depth + 1)
            return
        if proto == GRE_WCCP:  # WCCP redirect: IPv4, after a 4-byte redirect header unless one is absent
            start = off + hlen if len(data) > off + hlen and data[off + hlen] >> 4 == 4 else off + hlen + 4
            self._raw(pkt, data, start, depth + 1)
            return
        self._protocol(pkt, data, off + hlen, proto, depth + 1)

    # -- 802.3 / LLC, NetBIOS Frames, IPX --

    def _ieee8023(self, pkt: Packet, data: bytes, off: int, end: int, depth: int) -> None:
        """An IEEE 802.3 frame (length, not EtherType): raw IPX, or 802.2 LLC (SNAP, NetBEUI, ...)."""
        body = data[:end] if end < len(data) else data
        if len(body) < off + 3:  # an empty or padding-only 802.3 frame: nothing to name beyond llc
            pkt.layers.append("llc")
            return
        if body[off : off + 2] == b"\xff\xff":  # Novell raw 802.3: the IPX checksum, always 0xFFFF
            self._ipx(pkt, body, off, depth)
            return
        pkt.layers.append("llc")
        dsap, start, info = llc.llc(body, off, len(body))
        if dsap == llc.SAP_SNAP:
            self._protocol(pkt, body, start + 5, llc.snap_ethertype(body, start, len(body)), depth)
        elif dsap == llc.SAP_NETBIOS:
            if info:
                pkt.layers.append("netbios")
                smb = llc.nbf_smb(body, start, len(body))
                if smb >= 0:
                    pkt.carrier, pkt.payload_offset, pkt.payload_end = "nbf", smb, len(body)
        else:
            step = self._llc_saps.get(dsap)
            if step is not None:
                step(pkt, body, start, depth)

    def _ipx(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        pkt.layers.append("ipx")
        end, smb = llc.ipx(data, off, len(data))
        if smb >= 0:
            pkt.carrier, pkt.payload_offset, pkt.payload_end = "ipx", smb, end

    # -- 802.11 --

    def _radiotap(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        pkt.layers.append("radiotap")
        hlen, flags = wifi.radiotap(data, off)
        pkt.layers.append("wlan_radio")
        body = _without_fcs(data, off + hlen, bool(flags & wifi.RADIOTAP_FLAGS_FCS))
        self._wlan(pkt, body, off + hlen, depth, bool(flags & wifi.RADIOTAP_FLAGS_DATA_PAD))

    def _ppi(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        pkt.layers.append("ppi")
        hlen, dlt, fcs = wifi.ppi(data, off)
        body = _without_fcs(data, off + hlen, fcs)
        if dlt == LINKTYPE_IEEE802_11:
            pkt.layers.append("wlan_radio")
            self._wlan(pkt, body, off + hlen, depth, False)
        elif dlt == 1:
            self._ethernet(pkt, body, off + hlen, depth)

    def _wlan_frame(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        self._wlan(pkt, data, off, depth, False)

    def _wlan(self, pkt: Packet, data: bytes, off: int, depth: int, padded: bool) -> None:
        """An 802.11 frame: unprotected Data frames go on through LLC; the rest is only named."""
        pkt.layers.append("wlan")
        kind, body, src, dst = wifi.wlan(data, off)
        if kind == wifi.WLAN_DATA:
            pkt.l2_src, pkt.l2_dst = src, dst
            if padded:
                body = off + ((body - off + 3) & ~3)
            if len(data) > body:
                self._ieee8023(pkt, data, body, len(data), depth)
        elif kind == wifi.WLAN_MANAGEMENT:
            pkt.layers.append("wlan.mgt")
        elif kind == wifi.WLAN_PROTECTED:
            pkt.layers.append("wlan.protected")

    # -- tunnels --

    def _teb(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        """Transparent Ethernet Bridging (EtherType 0x6558): an Ethernet frame (GRE, Geneve)."""
        _check_depth(depth)
        self._ethernet(pkt, data, off, depth + 1)

    def _nsh(self, pkt: Packet, data: bytes, off: int, depth: int) -> None:
        pkt.layers.append("nsh")
        _check_depth(depth)
        inner, start = tunnels.nsh(data, off)
        step = self._inner.get(inner)
        if step is not None and len(data) > start:
            step(pkt, data, start, depth + 1)

    def _udp_tunnel(
        self,
        pkt: Packet,
        data: bytes,
        layer: str,
        kind: str,
        inner: int,
        start: int,
        ethertype: int,
        depth: int,
    ) -> None:
        """Enter a UDP tunnel whose header parsed: record it, then decode what it carries. `layer` is
        tshark's name for the header ("" for VXLAN-GPE, which tshark's protocol list leaves out)."""
        if layer:
            pkt.layers.append(layer)
        if inner == tunnels.INNER_ETHERTYPE:
            _enter(pkt, kind, depth)
            self._protocol(pkt, data, start, ethertype, depth + 1)
            return
        step = self._inner.get(inner)
        if step is not None and len(data) > start:
            _enter(pkt, kind, depth)
            step(pkt, data, start, depth + 1)

    def _vxlan(self, pkt: Packet, data: bytes, off: int, end: int, depth: int, guessed: bool) -> None:
        body = data[:end] if end < len(data) else data
        try:
            inner, start = tunnels.vxlan(body, off)
        except Malformed:
            if guessed:
                return
            pkt.layers.append("vxlan")
            raise
        self._udp_tunnel(pkt, body, "vxlan", "VXLAN", inner, start, 0, depth)

    def _vxlan_gpe(self, pkt: Packet, data: bytes, off: int, end: int, depth: int, guessed: bool) -> None:
        body = data[:end] if end < len(data) else data
        try:
            inner, start = tunnels.vxlan_gpe(body, off)
        except Malformed:
            if guessed:
                return
            pkt.layers.append("vxlan")
            raise
        self._udp_tunnel(pkt, body, "", "VXLAN", inner, start, 0, depth)

    def _geneve(self, pkt: Packet, data: bytes, off: int, end: int, depth: int, guessed: bool) -> None:
        body = data[:end] if end < len(data) else data
        try:
            inner, start, ethertype = tunnels.geneve(body, off)
        except Malformed:
            if guessed:
                return
            pkt.layers.append("geneve")
            raise
        self._udp_tunnel(pkt, body, "geneve", "GENEVE", inner, start, ethertype, depth)

    def _gtp_u(self, pkt: Packet, data: bytes, off: int, end: int, depth: int, guessed: bool) -> None:
        body = data[:end] if end < len(data) else data
        try:
            inner, start = tunnels.gtp_u(body, off)
        except Malformed:
            if guessed:
                return
            pkt.layers.append("gtp")
            raise
        self._udp_tunnel(pkt, body, "gtp", "GTPv1", inner, start, 0, depth)

    def _mpls_udp(self, pkt: Packet, data: bytes, off: int, end: int, depth: int, guessed: bool) -> None:
        """MPLS in UDP (RFC 7510): a label stack, then IP or a pseudowire."""
        if guessed or end - off < 4:
            return
        _enter(pkt, "MPLS", depth)
        self._mpls(pkt, data[:end] if end < len(data) else data, off, depth + 1)

    def _esp_udp(self, pkt: Packet, data: bytes, off: int, end: int, depth: int, guessed: bool) -> None:
        """UDP-encapsulated ESP (RFC 3948, NAT traversal): counted as esp; a zero "non-ESP marker" is
        IKE and a single 0xFF byte a NAT keepalive. The datagram stays plain UDP (it is encrypted)."""
        if guessed or end - off < 8 or data[off : off + 4] == b"\x00\x00\x00\x00":
            return
        pkt.layers.append("udpencap")
        pkt.layers.append("esp")

    def _gtp_c(self, pkt: Packet, data: bytes, off: int, end: int, depth: int, guessed: bool) -> None:
        """GTP-C signalling: named (gtp or gtpv2, as tshark), the datagram stays plain UDP."""
        if end > off:
            pkt.layers.append(tunnels.gtp_c_name(data, off))

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
        udp_tunnels = self._udp_tunnels  # `in` first: a plain datagram costs two dict probes, no call
        if dport in udp_tunnels:
            udp_tunnels[dport](pkt, data, off + 8, pkt.payload_end, depth, False)
        elif sport in udp_tunnels:
            udp_tunnels[sport](pkt, data, off + 8, pkt.payload_end, depth, True)

    def _teredo(self, pkt: Packet, data: bytes, off: int, end: int, depth: int, guessed: bool) -> None:
        """Teredo (RFC 4380): IPv6 in UDP, possibly behind authentication and origin indicators."""
        if end - off >= 4 and data[off : off + 2] == b"\x00\x01":  # authentication indicator
            off += 4 + data[off + 2] + data[off + 3] + 9  # ids, auth value, nonce(8), confirmation(1)
        if end - off >= 8 and data[off : off + 2] == b"\x00\x00":  # origin indication
            off += 8
        if end - off < 40 or data[off] >> 4 != 6:
            return
        pkt.layers.append("teredo")
        _enter(pkt, "TEREDO", depth)
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


def _check_depth(depth: int) -> None:
    if depth + 1 > MAX_ENCAPSULATION_DEPTH:
        raise Malformed("ip.too_deep", f"more than {MAX_ENCAPSULATION_DEPTH} nested tunnels")


def _enter(pkt: Packet, kind: str, depth: int) -> None:
    """Cross into a tunnel: record it with the outer endpoints and forget the outer transport, so an
    inner packet without a transport header is not taken for the outer datagram."""
    _check_depth(depth)
    pkt.tunnels = (*pkt.tunnels, TunnelHop(kind, pkt.src_ip, pkt.dst_ip, pkt.sport, pkt.dport))
    pkt.sport = pkt.dport = pkt.payload_offset = pkt.payload_end = 0
    pkt.proto = -1


SLL_LLC: Final = 0x0004
SLL_NOVELL_RAW: Final = 0x0001
"""Linux cooked capture protocol values that are not EtherTypes: 802.2 LLC and Novell raw IPX."""
GRE_WCCP: Final = 0x883E
"""GRE protocol of Web Cache Communication Protocol redirection (IPv4 inside)."""
PSEUDOWIRE_ETHERTYPES: Final = frozenset({0x0800, 0x86DD, 0x0806, 0x8100, 0x88A8, 0x8847, 0x8848, 0x8864})
"""EtherTypes that make an Ethernet header inside an MPLS pseudowire plausible (tshark checks the MAC
vendors and the EtherType; the EtherType alone tells the control-word case apart in practice)."""


def _plausible_ethertype(data: bytes, at: int) -> bool:
    return len(data) >= at + 2 and ((data[at] << 8) | data[at + 1]) in PSEUDOWIRE_ETHERTYPES


def _without_fcs(data: bytes, start: int, fcs: bool) -> bytes:
    """The frame without its trailing 4-byte FCS, when the radio header says it has one."""
    if fcs and len(data) >= start + wifi.FCS_LEN:
        return data[: len(data) - wifi.FCS_LEN]
    return data


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
