"""ICMP (RFC 792) and ICMPv6 (RFC 4443) datagram parsers: names, quoted datagrams, echo, NDP.

`parse_icmpv4(message, pkt)` and `parse_icmpv6(message, pkt)` take the whole ICMP message (type
byte first) and return events:

- `IcmpMessage` for every message, carrying its type/code and full name; this is what is counted,
  so a message whose body is bad still counts (as tshark's `icmp.type` does) and names the fault in
  `malformed` instead of vanishing;
- `IcmpError` for error messages, with the datagram they quote decoded (addresses, protocol, ports,
  even from a cut quote), the next-hop / Packet Too Big MTU, the redirect gateway, the parameter
  problem pointer and RFC 4884 extensions (RFC 4950 MPLS label stacks, as traceroute shows them);
- `IcmpEcho` for echo requests and replies (identifier, sequence);
- `NdpMessage` (analyzer/dissectors/ndp.py) for ICMPv6 types 133-137.

Only a message too short to hold a type and code raises `Malformed` (the decoder never hands one).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from analyzer.decode import (
    ICMP,
    ICMPV4_COUNTERPARTS,
    ICMPV6,
    ICMPV6_COUNTERPARTS,
    MAX_IPV6_EXT_HEADERS,
    TCP,
    UDP,
    Packet,
    decode_quoted,
    ip_text,
)
from analyzer.dissectors.base import Event
from analyzer.dissectors.ndp import NDP_TYPES, parse_ndp
from analyzer.errors import Malformed
from analyzer.frozen import interpreted_inits

# --- limits -------------------------------------------------------------------------------------

QUOTE_MIN_TRANSPORT_BYTES: Final = 8
"""Bytes of the original transport header an error must quote (RFC 792: the IP header plus the first
64 bits of data); fewer, while the original datagram was longer, is a truncated quote."""
EXTENSION_COMPAT_OFFSET: Final = 128
"""RFC 4884: the quote is padded to 128 bytes when extensions follow; a non-compliant sender (length
field 0) puts them at that offset too, which is where tshark looks for them."""
MAX_EXTENSION_OBJECTS: Final = 16
"""RFC 4884 extension objects decoded per message (real routers send one or two)."""
MAX_MPLS_LABELS: Final = 16
"""MPLS label stack entries kept from an RFC 4950 object (real stacks are two or three deep)."""

# --- names --------------------------------------------------------------------------------------

ICMPV4_TYPE_NAMES: Final[dict[int, str]] = {
    0: "Echo Reply",
    3: "Destination Unreachable",
    4: "Source Quench",
    5: "Redirect",
    6: "Alternate Host Address",
    8: "Echo Request",
    9: "Router Advertisement",
    10: "Router Solicitation",
    11: "Time Exceeded",
    12: "Parameter Problem",
    13: "Timestamp",
    14: "Timestamp Reply",
    15: "Information Request",
    16: "Information Reply",
    17: "Address Mask Request",
    18: "Address Mask Reply",
    30: "Traceroute",
    31: "Datagram Conversion Error",
    32: "Mobile Host Redirect",
    33: "IPv6 Where-Are-You",
    34: "IPv6 I-Am-Here",
    35: "Mobile Registration Request",
    36: "Mobile Registration Reply",
    37: "Domain Name Request",
    38: "Domain Name Reply",
    39: "SKIP",
    40: "Photuris",
    41: "Experimental Mobility",
    42: "Extended Echo Request",
    43: "Extended Echo Reply",
    253: "RFC3692-style Experiment 1",
    254: "RFC3692-style Experiment 2",
}
"""ICMPv4 type -> name (IANA "ICMP Type Numbers")."""

ICMPV4_UNREACHABLE_CODES: Final[dict[int, str]] = {
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
"""ICMPv4 Destination Unreachable codes (RFC 792, RFC 1122, RFC 1812)."""

EXTENDED_ECHO_REPLY_CODES: Final[dict[int, str]] = {
    0: "no error",
    1: "malformed query",
    2: "no such interface",
    3: "no such table entry",
    4: "multiple interfaces satisfy query",
}
"""Extended Echo Reply codes (RFC 8335), the same for ICMPv4 43 and ICMPv6 161."""

ICMPV4_CODE_NAMES: Final[dict[int, dict[int, str]]] = {
    3: ICMPV4_UNREACHABLE_CODES,
    5: {
        0: "redirect datagram for the network",
        1: "redirect datagram for the host",
        2: "redirect datagram for the type of service and network",
        3: "redirect datagram for the type of service and host",
    },
    9: {0: "normal router advertisement", 16: "does not route common traffic"},
    11: {0: "time to live exceeded in transit", 1: "fragment reassembly time exceeded"},
    12: {0: "pointer indicates the error", 1: "missing a required option", 2: "bad length"},
    40: {
        0: "bad SPI",
        1: "authentication failed",
        2: "decompression failed",
        3: "decryption failed",
        4: "need authentication",
        5: "need authorization",
    },
    42: {0: "no error"},
    43: EXTENDED_ECHO_REPLY_CODES,
}
"""ICMPv4 type -> code -> name, for the types whose codes mean something (IANA)."""

ICMPV6_TYPE_NAMES: Final[dict[int, str]] = {
    1: "Destination Unreachable",
    2: "Packet Too Big",
    3: "Time Exceeded",
    4: "Parameter Problem",
    100: "Private Experimentation",
    101: "Private Experimentation",
    127: "Reserved for expansion of ICMPv6 error messages",
    128: "Echo Request",
    129: "Echo Reply",
    130: "Multicast Listener Query",
    131: "Multicast Listener Report",
    132: "Multicast Listener Done",
    133: "Router Solicitation",
    134: "Router Advertisement",
    135: "Neighbor Solicitation",
    136: "Neighbor Advertisement",
    137: "Redirect",
    138: "Router Renumbering",
    139: "Node Information Query",
    140: "Node Information Response",
    141: "Inverse Neighbor Discovery Solicitation",
    142: "Inverse Neighbor Discovery Advertisement",
    143: "Multicast Listener Report v2",
    144: "Home Agent Address Discovery Request",
    145: "Home Agent Address Discovery Reply",
    146: "Mobile Prefix Solicitation",
    147: "Mobile Prefix Advertisement",
    148: "Certification Path Solicitation",
    149: "Certification Path Advertisement",
    150: "Experimental Mobility",
    151: "Multicast Router Advertisement",
    152: "Multicast Router Solicitation",
    153: "Multicast Router Termination",
    154: "FMIPv6",
    155: "RPL Control Message",
    156: "ILNPv6 Locator Update",
    157: "Duplicate Address Request",
    158: "Duplicate Address Confirmation",
    159: "MPL Control Message",
    160: "Extended Echo Request",
    161: "Extended Echo Reply",
    200: "Private Experimentation",
    201: "Private Experimentation",
    255: "Reserved for expansion of ICMPv6 informational messages",
}
"""ICMPv6 type -> name (IANA "ICMPv6 'type' Numbers")."""

ICMPV6_UNREACHABLE_CODES: Final[dict[int, str]] = {
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
"""ICMPv6 Destination Unreachable codes (RFC 4443, RFC 6550, RFC 8504)."""

ICMPV6_CODE_NAMES: Final[dict[int, dict[int, str]]] = {
    1: ICMPV6_UNREACHABLE_CODES,
    3: {0: "hop limit exceeded in transit", 1: "fragment reassembly time exceeded"},
    4: {
        0: "erroneous header field encountered",
        1: "unrecognized Next Header type encountered",
        2: "unrecognized IPv6 option encountered",
        3: "IPv6 First Fragment has incomplete IPv6 Header Chain",
        4: "SR Upper-layer Header Error",
        5: "unrecognized Next Header type encountered by intermediate node",
        6: "extension header too big",
        7: "extension header chain too long",
        8: "too many extension headers",
        9: "too many options in extension header",
        10: "option too big",
    },
    138: {0: "Router Renumbering Command", 1: "Router Renumbering Result", 255: "Sequence Number Reset"},
    139: {
        0: "the Data field contains an IPv6 address",
        1: "the Data field contains a name or is empty",
        2: "the Data field contains an IPv4 address",
    },
    140: {0: "successful reply", 1: "the Responder refuses to supply the answer", 2: "the Qtype is unknown"},
    160: {0: "no error"},
    161: EXTENDED_ECHO_REPLY_CODES,
}
"""ICMPv6 type -> code -> name, for the types whose codes mean something (IANA)."""

TYPE_NAMES: Final[dict[int, dict[int, str]]] = {4: ICMPV4_TYPE_NAMES, 6: ICMPV6_TYPE_NAMES}
"""IP version -> ICMP type names."""
CODE_NAMES: Final[dict[int, dict[int, dict[int, str]]]] = {4: ICMPV4_CODE_NAMES, 6: ICMPV6_CODE_NAMES}
"""IP version -> ICMP code names by type."""
COUNTERPARTS: Final[dict[int, dict[int, int]]] = {4: ICMPV4_COUNTERPARTS, 6: ICMPV6_COUNTERPARTS}
"""IP version -> request/reply type pairs (the Zeek-like ICMP "ports" of flows)."""

ERROR_TYPES: Final[dict[int, frozenset[int]]] = {4: frozenset({3, 4, 5, 11, 12}), 6: frozenset({1, 2, 3, 4})}
"""IP version -> error types, which quote the datagram that caused them."""
UNREACHABLE_TYPE: Final[dict[int, int]] = {4: 3, 6: 1}
"""IP version -> Destination Unreachable type."""
EXTENSIBLE_TYPES: Final[dict[int, dict[int, tuple[int, int]]]] = {
    4: {3: (5, 4), 11: (5, 4), 12: (5, 4)},
    6: {1: (4, 8), 3: (4, 8)},
}
"""IP version -> types that may carry RFC 4884 extensions -> (offset of the length field, its unit)."""
ECHO_TYPES: Final[dict[int, dict[int, bool]]] = {4: {8: True, 0: False}, 6: {128: True, 129: False}}
"""IP version -> echo type -> is it a request."""

IP_PROTO_NAMES: Final[dict[int, str]] = {
    ICMP: "icmp",
    2: "igmp",
    4: "ipip",
    TCP: "tcp",
    UDP: "udp",
    41: "ipv6",
    47: "gre",
    50: "esp",
    51: "ah",
    ICMPV6: "icmpv6",
    132: "sctp",
}
"""IP protocol number -> name, for quoted datagrams."""
PORTED_PROTOS: Final[frozenset[int]] = frozenset({TCP, UDP, 132})
"""Quoted protocols whose first four bytes are source and destination ports."""

_U16: Final = struct.Struct("!H")
_U32: Final = struct.Struct("!I")


def type_name(version: int, icmp_type: int) -> str:
    """Name of an ICMP (version 4) or ICMPv6 (version 6) type."""
    return TYPE_NAMES[version].get(icmp_type, f"Type {icmp_type}")


def code_name(version: int, icmp_type: int, code: int) -> str | None:
    """Name of a code of the given type, None when that type's codes have no names."""
    codes = CODE_NAMES[version].get(icmp_type)
    if codes is None:
        return None
    return codes.get(code, f"code {code}")


def icmp_name(version: int, icmp_type: int, code: int) -> str:
    """Full name, e.g. "Destination Unreachable: port unreachable" or "Echo Request"."""
    name = type_name(version, icmp_type)
    cname = code_name(version, icmp_type, code)
    if cname is not None:
        return f"{name}: {cname}"
    return name if code == 0 else f"{name}: code {code}"


# --- events -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, init=False)
class IcmpMessage:
    """One ICMP or ICMPv6 message (the outermost ICMP header of a frame)."""

    ts: float
    """Packet time."""
    uid: str
    """uid of the ICMP flow that carried it."""
    ip_version: int
    """4 (ICMP) or 6 (ICMPv6)."""
    src: str
    """IP source address."""
    dst: str
    """IP destination address."""
    icmp_type: int
    """ICMP type."""
    icmp_code: int
    """ICMP code."""
    name: str
    """Type and code in words."""
    malformed: str | None = None
    """Reason the message body broke the rules (cut header, truncated quote, bad ND option), else None."""

    def __init__(
        self,
        ts: float,
        uid: str,
        ip_version: int,
        src: str,
        dst: str,
        icmp_type: int,
        icmp_code: int,
        name: str,
        malformed: str | None = None,
    ) -> None:
        self.ts = ts  # type: ignore[misc]
        self.uid = uid  # type: ignore[misc]
        self.ip_version = ip_version  # type: ignore[misc]
        self.src = src  # type: ignore[misc]
        self.dst = dst  # type: ignore[misc]
        self.icmp_type = icmp_type  # type: ignore[misc]
        self.icmp_code = icmp_code  # type: ignore[misc]
        self.name = name  # type: ignore[misc]
        self.malformed = malformed  # type: ignore[misc]


@dataclass(frozen=True, slots=True, init=False)
class IcmpError:
    """An ICMP error and the datagram it quotes (the one that failed)."""

    ts: float
    """Packet time."""
    uid: str
    """uid of the ICMP flow that carried the error."""
    ip_version: int
    """4 (ICMP) or 6 (ICMPv6)."""
    icmp_type: int
    """ICMP type (3/1 unreachable, 11/3 time exceeded, ...)."""
    icmp_code: int
    """ICMP code."""
    name: str
    """Type and code in words."""
    reporter: str
    """Who sent the error (router or target host)."""
    notified: str
    """Who the error was sent to (normally the sender of the quoted datagram)."""
    quote_len: int
    """Bytes of the original datagram quoted."""
    proto: int | None = None
    """IP protocol of the quoted datagram (None when its IP header could not be read)."""
    orig_h: str | None = None
    """Source address of the quoted datagram (the refused sender)."""
    orig_p: int | None = None
    """Its source port (for quoted ICMP: the Zeek-like type "port")."""
    resp_h: str | None = None
    """Destination address of the quoted datagram."""
    resp_p: int | None = None
    """Its destination port (for quoted ICMP: counterpart type or code)."""
    quoted_icmp: str | None = None
    """Name of a quoted ICMP message (e.g. "Echo Request"), when the quote is ICMP."""
    mtu: int | None = None
    """Next-hop MTU (ICMPv4 3/4) or Packet Too Big MTU (ICMPv6 2)."""
    gateway: str | None = None
    """Better gateway of an ICMPv4 Redirect."""
    pointer: int | None = None
    """Parameter Problem pointer (offset of the bad byte in the quoted datagram)."""
    mpls_labels: tuple[int, ...] = ()
    """MPLS labels of an RFC 4950 extension object (traceroute through MPLS)."""
    extension_classes: tuple[int, ...] = ()
    """Class numbers of the RFC 4884 extension objects carried."""
    malformed: str | None = None
    """Reason the quote or extension broke the rules, else None."""

    def __init__(
        self,
        ts: float,
        uid: str,
        ip_version: int,
        icmp_type: int,
        icmp_code: int,
        name: str,
        reporter: str,
        notified: str,
        quote_len: int,
        proto: int | None = None,
        orig_h: str | None = None,
        orig_p: int | None = None,
        resp_h: str | None = None,
        resp_p: int | None = None,
        quoted_icmp: str | None = None,
        mtu: int | None = None,
        gateway: str | None = None,
        pointer: int | None = None,
        mpls_labels: tuple[int, ...] = (),
        extension_classes: tuple[int, ...] = (),
        malformed: str | None = None,
    ) -> None:
        self.ts = ts  # type: ignore[misc]
        self.uid = uid  # type: ignore[misc]
        self.ip_version = ip_version  # type: ignore[misc]
        self.icmp_type = icmp_type  # type: ignore[misc]
        self.icmp_code = icmp_code  # type: ignore[misc]
        self.name = name  # type: ignore[misc]
        self.reporter = reporter  # type: ignore[misc]
        self.notified = notified  # type: ignore[misc]
        self.quote_len = quote_len  # type: ignore[misc]
        self.proto = proto  # type: ignore[misc]
        self.orig_h = orig_h  # type: ignore[misc]
        self.orig_p = orig_p  # type: ignore[misc]
        self.resp_h = resp_h  # type: ignore[misc]
        self.resp_p = resp_p  # type: ignore[misc]
        self.quoted_icmp = quoted_icmp  # type: ignore[misc]
        self.mtu = mtu  # type: ignore[misc]
        self.gateway = gateway  # type: ignore[misc]
        self.pointer = pointer  # type: ignore[misc]
        self.mpls_labels = mpls_labels  # type: ignore[misc]
        self.extension_classes = extension_classes  # type: ignore[misc]
        self.malformed = malformed  # type: ignore[misc]


@dataclass(frozen=True, slots=True, init=False)
class IcmpEcho:
    """An echo request or reply (ping)."""

    ts: float
    """Packet time."""
    uid: str
    """uid of the ICMP flow."""
    ip_version: int
    """4 (ICMP) or 6 (ICMPv6)."""
    src: str
    """Sender."""
    dst: str
    """Receiver."""
    request: bool
    """True for a request, False for a reply."""
    ident: int
    """Identifier."""
    seq: int
    """Sequence number."""
    data_len: int
    """Bytes of echo data."""

    def __init__(
        self,
        ts: float,
        uid: str,
        ip_version: int,
        src: str,
        dst: str,
        request: bool,
        ident: int,
        seq: int,
        data_len: int,
    ) -> None:
        self.ts = ts  # type: ignore[misc]
        self.uid = uid  # type: ignore[misc]
        self.ip_version = ip_version  # type: ignore[misc]
        self.src = src  # type: ignore[misc]
        self.dst = dst  # type: ignore[misc]
        self.request = request  # type: ignore[misc]
        self.ident = ident  # type: ignore[misc]
        self.seq = seq  # type: ignore[misc]
        self.data_len = data_len  # type: ignore[misc]


# --- parsing ------------------------------------------------------------------------------------


def parse_icmpv4(message: bytes, pkt: Packet) -> list[Event]:
    """Events of one ICMPv4 message (type byte first)."""
    return _parse(4, message, pkt)


def parse_icmpv6(message: bytes, pkt: Packet) -> list[Event]:
    """Events of one ICMPv6 message (type byte first); ND types also give an NdpMessage."""
    return _parse(6, message, pkt)


def _parse(version: int, message: bytes, pkt: Packet) -> list[Event]:
    if len(message) < 4:
        raise Malformed("icmp.truncated" if version == 4 else "icmpv6.truncated", f"{len(message)} bytes")
    icmp_type, code = message[0], message[1]
    uid: str = getattr(pkt.flow, "uid", "")
    events: list[Event] = []
    malformed: str | None = None
    prefix = "icmp" if version == 4 else "icmpv6"
    if version == 6 and icmp_type in NDP_TYPES:
        nd = parse_ndp(message, pkt, uid)
        events.append(nd)
        malformed = nd.malformed
    elif len(message) < 8 and (version == 4 or icmp_type in ERROR_TYPES[6] or icmp_type in ECHO_TYPES[6]):
        malformed = f"{prefix}.truncated"  # every ICMPv4 header, and these ICMPv6 ones, are 8 bytes
    elif icmp_type in ERROR_TYPES[version]:
        error = _error(version, message, pkt, uid)
        events.append(error)
        malformed = error.malformed
    elif icmp_type in ECHO_TYPES[version]:
        ident, seq = struct.unpack_from("!HH", message, 4)
        events.append(
            IcmpEcho(
                pkt.ts,
                uid,
                version,
                pkt.src,
                pkt.dst,
                ECHO_TYPES[version][icmp_type],
                ident,
                seq,
                len(message) - 8,
            )
        )
    msg = IcmpMessage(
        pkt.ts,
        uid,
        version,
        pkt.src,
        pkt.dst,
        icmp_type,
        code,
        icmp_name(version, icmp_type, code),
        malformed,
    )
    events.insert(0, msg)
    return events


def _error(version: int, message: bytes, pkt: Packet, uid: str) -> IcmpError:
    """Decode an error message: type-specific header fields, the quote, RFC 4884 extensions."""
    icmp_type, code = message[0], message[1]
    mtu: int | None = None
    gateway: str | None = None
    pointer: int | None = None
    if version == 4:
        if icmp_type == 3 and code == 4:
            mtu = _U16.unpack_from(message, 6)[0]
        elif icmp_type == 5:
            gateway = ip_text(message[4:8])
        elif icmp_type == 12:
            pointer = message[4]
    elif icmp_type == 2:
        mtu = _U32.unpack_from(message, 4)[0]
    elif icmp_type == 4:
        pointer = _U32.unpack_from(message, 4)[0]
    quote, labels, classes, ext_fault = _split_extensions(version, message)
    q = _Quote()
    try:
        _decode_quote(quote, q)
    except Malformed as exc:
        q.fault = exc.reason
    if q.fault is None and q.truncated:
        q.fault = f"{'icmp' if version == 4 else 'icmpv6'}.quote_truncated"
    return IcmpError(
        ts=pkt.ts,
        uid=uid,
        ip_version=version,
        icmp_type=icmp_type,
        icmp_code=code,
        name=icmp_name(version, icmp_type, code),
        reporter=pkt.src,
        notified=pkt.dst,
        quote_len=len(quote),
        proto=q.proto,
        orig_h=q.orig_h,
        orig_p=q.orig_p,
        resp_h=q.resp_h,
        resp_p=q.resp_p,
        quoted_icmp=q.quoted_icmp,
        mtu=mtu,
        gateway=gateway,
        pointer=pointer,
        mpls_labels=labels,
        extension_classes=classes,
        malformed=q.fault or ext_fault,
    )


def _split_extensions(
    version: int, message: bytes
) -> tuple[bytes, tuple[int, ...], tuple[int, ...], str | None]:
    """(quote, MPLS labels, extension classes, fault) of an error message (RFC 4884 / RFC 4950)."""
    spec = EXTENSIBLE_TYPES[version].get(message[0])
    body = message[8:]
    if spec is None:
        return body, (), (), None
    length = message[spec[0]] * spec[1]
    if length:  # RFC 4884 compliant: the length field gives the quote, extensions follow the padding
        ext_at = max(length, EXTENSION_COMPAT_OFFSET)
        if len(body) <= ext_at:
            return body[:length], (), (), None
        try:
            labels, classes = _extensions(body[ext_at:])
        except Malformed as exc:
            return body[:length], (), (), exc.reason
        return body[:length], labels, classes, None
    at = EXTENSION_COMPAT_OFFSET
    if len(body) >= at + 4 and body[at] >> 4 == 2 and _checksum_ok(body[at:]):
        # Non-compliant sender (length 0), extension at the 128-byte mark with a valid checksum.
        try:
            labels, classes = _extensions(body[at:])
        except Malformed:
            return body, (), (), None  # not an extension after all: all of it is quote
        return body[:at], labels, classes, None
    return body, (), (), None


def _checksum_ok(data: bytes) -> bool:
    """Internet checksum over data verifies (a zero checksum field means "not computed")."""
    if len(data) >= 4 and data[2:4] == b"\0\0":
        return True
    padded = data + b"\0" * (len(data) % 2)
    total = sum(struct.unpack(f"!{len(padded) // 2}H", padded))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total == 0xFFFF


def _extensions(ext: bytes) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """MPLS labels and object classes of an RFC 4884 extension structure."""
    if len(ext) < 4:
        raise Malformed("icmp.extension_truncated", f"{len(ext)} bytes")
    if ext[0] >> 4 != 2:
        raise Malformed("icmp.extension_bad_version", str(ext[0] >> 4))
    labels: list[int] = []
    classes: list[int] = []
    off = 4
    while off < len(ext) and len(classes) < MAX_EXTENSION_OBJECTS:
        if len(ext) - off < 4:
            raise Malformed("icmp.extension_truncated", f"object header at {off}")
        size, cls, ctype = _U16.unpack_from(ext, off)[0], ext[off + 2], ext[off + 3]
        if size < 4 or off + size > len(ext):
            raise Malformed("icmp.extension_bad_object_length", f"{size} at {off}")
        classes.append(cls)
        if cls == 1 and ctype == 1:  # RFC 4950 MPLS label stack: 4-byte entries, label in the top 20 bits
            for entry in range(off + 4, off + size - 3, 4):
                if len(labels) < MAX_MPLS_LABELS:
                    labels.append(_U32.unpack_from(ext, entry)[0] >> 12)
        off += size
    return tuple(labels), tuple(classes)


class _Quote:
    """Mutable collector of what a quote revealed."""

    __slots__ = ("fault", "orig_h", "orig_p", "proto", "quoted_icmp", "resp_h", "resp_p", "truncated")

    def __init__(self) -> None:
        self.proto: int | None = None
        self.orig_h: str | None = None
        self.orig_p: int | None = None
        self.resp_h: str | None = None
        self.resp_p: int | None = None
        self.quoted_icmp: str | None = None
        self.truncated = False
        self.fault: str | None = None


def _decode_quote(quote: bytes, q: _Quote) -> None:
    """Fill `q` from the quoted datagram; `q.truncated` when it is cut short. Raises Malformed when
    not even its IP header is there."""
    qd = decode_quoted(quote)
    q.proto, q.orig_h, q.resp_h = qd.proto, qd.src, qd.dst
    start = _transport_offset(quote)
    if start is None:
        return  # a non-first fragment: no transport header to quote
    q.truncated = len(quote) < start + QUOTE_MIN_TRANSPORT_BYTES and _original_length(quote) > len(quote)
    if qd.proto in PORTED_PROTOS and len(quote) >= start + 4:
        q.orig_p, q.resp_p = qd.sport, qd.dport
    elif qd.proto in (ICMP, ICMPV6) and len(quote) >= start + 2:
        inner_version = 4 if qd.proto == ICMP else 6
        inner_type, inner_code = quote[start], quote[start + 1]
        other = COUNTERPARTS[inner_version].get(inner_type)
        q.orig_p, q.resp_p = inner_type, inner_code if other is None else other
        q.quoted_icmp = icmp_name(inner_version, inner_type, inner_code)
    elif qd.proto in PORTED_PROTOS or qd.proto in (ICMP, ICMPV6):
        q.truncated = True


def _original_length(quote: bytes) -> int:
    """Length of the original datagram according to its own IP header."""
    if quote[0] >> 4 == 4:
        return int(_U16.unpack_from(quote, 2)[0])
    return 40 + int(_U16.unpack_from(quote, 4)[0])


def _transport_offset(quote: bytes) -> int | None:
    """Where the quoted transport header starts (maybe past the cut), None for a non-first fragment.

    `decode_quoted` has already checked the IP header is there."""
    if quote[0] >> 4 == 4:
        if _U16.unpack_from(quote, 6)[0] & 0x1FFF:
            return None
        return (quote[0] & 0x0F) * 4
    nxt, off = quote[6], 40
    for _ in range(MAX_IPV6_EXT_HEADERS):
        if nxt in (0, 43, 60) and len(quote) >= off + 8:
            nxt, off = quote[off], off + (quote[off + 1] + 1) * 8
        elif nxt == 44 and len(quote) >= off + 8:
            if _U16.unpack_from(quote, off + 2)[0] & 0xFFF8:
                return None
            nxt, off = quote[off], off + 8
        else:
            break
    return off


__all__ = [
    "CODE_NAMES",
    "ERROR_TYPES",
    "ICMPV4_CODE_NAMES",
    "ICMPV4_TYPE_NAMES",
    "ICMPV4_UNREACHABLE_CODES",
    "ICMPV6_CODE_NAMES",
    "ICMPV6_TYPE_NAMES",
    "ICMPV6_UNREACHABLE_CODES",
    "IP_PROTO_NAMES",
    "TYPE_NAMES",
    "UNREACHABLE_TYPE",
    "IcmpEcho",
    "IcmpError",
    "IcmpMessage",
    "code_name",
    "icmp_name",
    "parse_icmpv4",
    "parse_icmpv6",
    "type_name",
]


interpreted_inits(IcmpMessage, IcmpError, IcmpEcho)
