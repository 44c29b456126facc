"""ICMPv6 Neighbor Discovery (RFC 4861): RS, RA, NS, NA and Redirect, with their options.

`parse_ndp(message, pkt)` decodes one whole ICMPv6 message of type 133-137 (starting at the type
byte) into an `NdpMessage`. It never raises: a message whose fixed part is cut, or whose options
break the rules (length 0, running past the end, wrong size for their type), is still returned —
with the fields and options decoded up to the fault and `malformed` naming the reason — because the
message counts (tshark counts it too) even when its body is bad.

Options decoded: source/target link-layer address (1, 2), prefix information (3), redirected
header (4), MTU (5), route information (24, RFC 4191), RDNSS (25) and DNSSL (31) (RFC 8106); others
are listed by type number.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from analyzer.decode import Packet, QuotedDatagram, decode_quoted, ip_text, mac_text
from analyzer.errors import Malformed

# --- limits -------------------------------------------------------------------------------------

MAX_OPTION_ITEMS = 32
"""Prefixes, routes, DNS servers, search domains or unknown option types kept per message; a real RA
carries a handful, more is a flood (RA-guard evasion) that must not bloat one event."""
MAX_DNSSL_NAME = 255
"""Longest DNSSL domain name in wire format (RFC 1035 name limit)."""

# --- tables -------------------------------------------------------------------------------------

NDP_TYPES: dict[int, str] = {
    133: "RS",
    134: "RA",
    135: "NS",
    136: "NA",
    137: "Redirect",
}
"""ICMPv6 type -> short Neighbor Discovery message name (the keys of the ndp section's by_type)."""

FIXED_LENGTHS: dict[int, int] = {133: 8, 134: 16, 135: 24, 136: 24, 137: 40}
"""Bytes before the options start, by message type (RFC 4861 section 4)."""

ROUTER_PREFERENCE: dict[int, str] = {0: "medium", 1: "high", 2: "reserved", 3: "low"}
"""RA / route information Prf field (RFC 4191 section 2.1)."""

OPTION_NAMES: dict[int, str] = {
    1: "source link-layer address",
    2: "target link-layer address",
    3: "prefix information",
    4: "redirected header",
    5: "MTU",
    7: "advertisement interval",
    8: "home agent information",
    14: "nonce",
    24: "route information",
    25: "RDNSS",
    31: "DNSSL",
    38: "PREF64",
}
"""ND option type -> name (IANA "IPv6 Neighbor Discovery Option Formats")."""

_U32 = struct.Struct("!I")
_RA = struct.Struct("!BBHII")
_PREFIX = struct.Struct("!BBII4x16s")


# --- events -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PrefixInfo:
    """A prefix information option (RFC 4861 section 4.6.2)."""

    prefix: str
    """Prefix in CIDR form, e.g. 2001:db8:1::/64."""
    on_link: bool
    """L flag: the prefix is on-link."""
    autonomous: bool
    """A flag: hosts may form addresses from it (SLAAC)."""
    router_address: bool
    """R flag (RFC 6275): the prefix field holds the router's full address."""
    valid_lifetime: int
    """Seconds the prefix stays valid (0xffffffff = infinite)."""
    preferred_lifetime: int
    """Seconds addresses from it stay preferred (0xffffffff = infinite)."""


@dataclass(frozen=True, slots=True)
class RouteInfo:
    """A route information option (RFC 4191 section 2.3)."""

    prefix: str
    """Route prefix in CIDR form."""
    preference: str
    """Route preference: high, medium, low or reserved."""
    lifetime: int
    """Seconds the route stays valid (0xffffffff = infinite)."""


@dataclass(frozen=True, slots=True)
class NdpOptions:
    """Every option of one ND message, decoded."""

    source_ll: str | None = None
    """Source link-layer address option (MAC text)."""
    target_ll: str | None = None
    """Target link-layer address option (MAC text)."""
    prefixes: tuple[PrefixInfo, ...] = ()
    """Prefix information options."""
    routes: tuple[RouteInfo, ...] = ()
    """Route information options."""
    mtu: int | None = None
    """MTU option value."""
    rdnss: tuple[str, ...] = ()
    """Recursive DNS server addresses."""
    rdnss_lifetime: int | None = None
    """Lifetime of the (last) RDNSS option, seconds."""
    dnssl: tuple[str, ...] = ()
    """DNS search list domains."""
    dnssl_lifetime: int | None = None
    """Lifetime of the (last) DNSSL option, seconds."""
    redirected: QuotedDatagram | None = None
    """The packet quoted in a redirected header option, decoded."""
    other: tuple[int, ...] = ()
    """Types of the options not decoded above (nonce, PREF64, ...)."""


@dataclass(frozen=True, slots=True)
class RaFields:
    """The fixed part of a Router Advertisement."""

    cur_hop_limit: int
    """Hop limit hosts should use (0 = unspecified)."""
    managed: bool
    """M flag: addresses are available through DHCPv6."""
    other_config: bool
    """O flag: other configuration is available through DHCPv6."""
    home_agent: bool
    """H flag (RFC 6275): the router is a Mobile IPv6 home agent."""
    preference: str
    """Default router preference (RFC 4191): high, medium, low or reserved."""
    router_lifetime: int
    """Seconds the router may be used as a default router (0 = not a default router)."""
    reachable_time: int
    """Milliseconds a neighbor is taken as reachable (0 = unspecified)."""
    retrans_timer: int
    """Milliseconds between retransmitted NS (0 = unspecified)."""


@dataclass(frozen=True, slots=True)
class NaFlags:
    """The flags of a Neighbor Advertisement."""

    router: bool
    """R flag: the sender is a router."""
    solicited: bool
    """S flag: sent in answer to an NS."""
    override: bool
    """O flag: the advertisement overrides a cached link-layer address."""


@dataclass(frozen=True, slots=True)
class NdpMessage:
    """One Neighbor Discovery message (ICMPv6 type 133-137)."""

    ts: float
    """Packet time."""
    uid: str
    """uid of the ICMPv6 flow that carried it."""
    msg_type: int
    """ICMPv6 type (133 RS, 134 RA, 135 NS, 136 NA, 137 Redirect)."""
    msg_name: str
    """RS, RA, NS, NA or Redirect."""
    code: int
    """ICMPv6 code (0 for valid ND messages)."""
    src: str
    """IPv6 source address (:: for a DAD probe)."""
    dst: str
    """IPv6 destination address."""
    l2_src: str | None
    """Link-layer source address of the frame (MAC text), when the link has one."""
    hop_limit: int
    """IPv6 hop limit; RFC 4861 requires 255 (anything else crossed a router: off-link spoofing)."""
    target: str | None = None
    """Target address (NS, NA, Redirect)."""
    destination: str | None = None
    """Destination address being redirected (Redirect)."""
    ra: RaFields | None = None
    """Fixed RA fields (RA only)."""
    na: NaFlags | None = None
    """NA flags (NA only)."""
    options: NdpOptions = NdpOptions()
    """Decoded options."""
    malformed: str | None = None
    """Reason the message broke the rules (fixed part cut, bad option), else None."""


# --- parsing ------------------------------------------------------------------------------------


def parse_ndp(message: bytes, pkt: Packet, uid: str) -> NdpMessage:
    """Decode one ND message (the whole ICMPv6 message, type byte first); never raises."""
    msg_type = message[0] if message else 0
    fixed_len = FIXED_LENGTHS.get(msg_type)
    fixed = _Fixed()
    items = _OptionItems()
    malformed: str | None = None
    if fixed_len is None:
        malformed = "ndp.not_nd_type"
    elif len(message) < fixed_len:
        malformed = "ndp.truncated"
    else:
        _FIXED_DECODERS[msg_type](message, fixed)
        try:
            _parse_options(message, fixed_len, items)
        except Malformed as exc:
            malformed = exc.reason
    return NdpMessage(
        ts=pkt.ts,
        uid=uid,
        msg_type=msg_type,
        msg_name=NDP_TYPES.get(msg_type, str(msg_type)),
        code=message[1] if len(message) > 1 else 0,
        src=pkt.src,
        dst=pkt.dst,
        l2_src=mac_text(pkt.l2_src) if len(pkt.l2_src) == 6 else None,
        hop_limit=pkt.ttl,
        target=fixed.target,
        destination=fixed.destination,
        ra=fixed.ra,
        na=fixed.na,
        options=items.freeze(),
        malformed=malformed,
    )


class _Fixed:
    """Mutable collector of the fixed-part fields while parsing."""

    __slots__ = ("destination", "na", "ra", "target")

    def __init__(self) -> None:
        self.target: str | None = None
        self.destination: str | None = None
        self.ra: RaFields | None = None
        self.na: NaFlags | None = None


def _rs_fields(message: bytes, fixed: _Fixed) -> None:
    pass  # 4 reserved bytes only


def _ra_fields(message: bytes, fixed: _Fixed) -> None:
    hop, flags, lifetime, reachable, retrans = _RA.unpack_from(message, 4)
    fixed.ra = RaFields(
        cur_hop_limit=hop,
        managed=bool(flags & 0x80),
        other_config=bool(flags & 0x40),
        home_agent=bool(flags & 0x20),
        preference=ROUTER_PREFERENCE[(flags >> 3) & 0x3],
        router_lifetime=lifetime,
        reachable_time=reachable,
        retrans_timer=retrans,
    )


def _ns_fields(message: bytes, fixed: _Fixed) -> None:
    fixed.target = ip_text(message[8:24])


def _na_fields(message: bytes, fixed: _Fixed) -> None:
    flags = message[4]
    fixed.target = ip_text(message[8:24])
    fixed.na = NaFlags(router=bool(flags & 0x80), solicited=bool(flags & 0x40), override=bool(flags & 0x20))


def _redirect_fields(message: bytes, fixed: _Fixed) -> None:
    fixed.target = ip_text(message[8:24])
    fixed.destination = ip_text(message[24:40])


_FIXED_DECODERS: dict[int, Callable[[bytes, _Fixed], None]] = {
    133: _rs_fields,
    134: _ra_fields,
    135: _ns_fields,
    136: _na_fields,
    137: _redirect_fields,
}
"""Message type -> decoder of its fixed part (the message is at least FIXED_LENGTHS long)."""


class _OptionItems:
    """Mutable collector of options while parsing; frozen into NdpOptions at the end."""

    __slots__ = (
        "dnssl",
        "dnssl_lifetime",
        "mtu",
        "other",
        "prefixes",
        "rdnss",
        "rdnss_lifetime",
        "redirected",
        "routes",
        "source_ll",
        "target_ll",
    )

    def __init__(self) -> None:
        self.source_ll: str | None = None
        self.target_ll: str | None = None
        self.prefixes: list[PrefixInfo] = []
        self.routes: list[RouteInfo] = []
        self.mtu: int | None = None
        self.rdnss: list[str] = []
        self.rdnss_lifetime: int | None = None
        self.dnssl: list[str] = []
        self.dnssl_lifetime: int | None = None
        self.redirected: QuotedDatagram | None = None
        self.other: list[int] = []

    def freeze(self) -> NdpOptions:
        return NdpOptions(
            source_ll=self.source_ll,
            target_ll=self.target_ll,
            prefixes=tuple(self.prefixes),
            routes=tuple(self.routes),
            mtu=self.mtu,
            rdnss=tuple(self.rdnss),
            rdnss_lifetime=self.rdnss_lifetime,
            dnssl=tuple(self.dnssl),
            dnssl_lifetime=self.dnssl_lifetime,
            redirected=self.redirected,
            other=tuple(self.other),
        )


def _parse_options(message: bytes, off: int, items: _OptionItems) -> None:
    """Walk the TLV options; each is at least 8 bytes, so the loop ends within len(message)/8 steps."""
    end = len(message)
    while off < end:
        if end - off < 2:
            raise Malformed("ndp.option_truncated", f"{end - off} byte(s) left at {off}")
        opt_type, units = message[off], message[off + 1]
        if units == 0:
            raise Malformed("ndp.option_zero_length", f"option {opt_type} at {off}")
        size = units * 8
        if off + size > end:
            raise Malformed(
                "ndp.option_overrun", f"option {opt_type} of {size} bytes at {off}, {end - off} left"
            )
        body = message[off + 2 : off + size]
        decoder = _OPTION_DECODERS.get(opt_type)
        if decoder is not None:
            decoder(body, items)
        elif len(items.other) < MAX_OPTION_ITEMS:
            items.other.append(opt_type)
        off += size


def _link_layer(body: bytes) -> str:
    # Ethernet addresses fill the 6 bytes of a one-unit option exactly; other links pad with zeros.
    return mac_text(body[:6]) if len(body) == 6 else mac_text(body.rstrip(b"\x00") or body[:6])


def _opt_source_ll(body: bytes, items: _OptionItems) -> None:
    items.source_ll = _link_layer(body)


def _opt_target_ll(body: bytes, items: _OptionItems) -> None:
    items.target_ll = _link_layer(body)


def _opt_prefix(body: bytes, items: _OptionItems) -> None:
    if len(body) != 30:
        raise Malformed("ndp.bad_prefix_option", f"length {len(body) + 2}, expected 32")
    plen, flags, valid, preferred, prefix = _PREFIX.unpack(body)
    if plen > 128:
        raise Malformed("ndp.bad_prefix_length", str(plen))
    if len(items.prefixes) < MAX_OPTION_ITEMS:
        items.prefixes.append(
            PrefixInfo(
                prefix=f"{ip_text(prefix)}/{plen}",
                on_link=bool(flags & 0x80),
                autonomous=bool(flags & 0x40),
                router_address=bool(flags & 0x20),
                valid_lifetime=valid,
                preferred_lifetime=preferred,
            )
        )


def _opt_redirected(body: bytes, items: _OptionItems) -> None:
    # 6 reserved bytes, then as much of the redirected packet as fits (RFC 4861 section 4.6.3).
    quote = body[6:]
    if not quote:
        raise Malformed("ndp.redirected_header_empty")
    try:
        items.redirected = decode_quoted(quote)
    except Malformed as exc:
        raise Malformed("ndp.bad_redirected_header", exc.reason) from None


def _opt_mtu(body: bytes, items: _OptionItems) -> None:
    if len(body) != 6:
        raise Malformed("ndp.bad_mtu_option", f"length {len(body) + 2}, expected 8")
    items.mtu = _U32.unpack_from(body, 2)[0]


def _opt_route(body: bytes, items: _OptionItems) -> None:
    if len(body) < 6:
        raise Malformed("ndp.bad_route_option", f"length {len(body) + 2}")
    plen, flags, lifetime = body[0], body[1], _U32.unpack_from(body, 2)[0]
    if plen > 128 or len(body) - 6 < (plen + 63) // 64 * 8:
        raise Malformed("ndp.bad_route_option", f"prefix length {plen} in {len(body) + 2} bytes")
    prefix = (body[6:22] + bytes(16))[:16]
    if len(items.routes) < MAX_OPTION_ITEMS:
        items.routes.append(
            RouteInfo(f"{ip_text(prefix)}/{plen}", ROUTER_PREFERENCE[(flags >> 3) & 0x3], lifetime)
        )


def _opt_rdnss(body: bytes, items: _OptionItems) -> None:
    # 2 reserved, 4 lifetime, then 16-byte addresses: the option length is odd and at least 3 units.
    if len(body) < 22 or (len(body) - 6) % 16:
        raise Malformed("ndp.bad_rdnss_option", f"length {len(body) + 2}")
    items.rdnss_lifetime = _U32.unpack_from(body, 2)[0]
    for off in range(6, len(body), 16):
        if len(items.rdnss) >= MAX_OPTION_ITEMS:
            break
        items.rdnss.append(ip_text(body[off : off + 16]))


def _opt_dnssl(body: bytes, items: _OptionItems) -> None:
    if len(body) < 14:
        raise Malformed("ndp.bad_dnssl_option", f"length {len(body) + 2}")
    items.dnssl_lifetime = _U32.unpack_from(body, 2)[0]
    off, end = 6, len(body)
    labels: list[str] = []
    name_len = 0
    while off < end:
        n = body[off]
        off += 1
        if n == 0:
            if labels and len(items.dnssl) < MAX_OPTION_ITEMS:
                items.dnssl.append(".".join(labels))
            labels, name_len = [], 0
            continue
        if n > 63 or off + n > end:
            raise Malformed("ndp.bad_dnssl_name", f"label length {n} at {off - 1}")
        name_len += n + 1
        if name_len > MAX_DNSSL_NAME:
            raise Malformed("ndp.bad_dnssl_name", "name longer than 255 bytes")
        labels.append(body[off : off + n].decode("ascii", "backslashreplace"))
        off += n
    if labels:
        raise Malformed("ndp.bad_dnssl_name", "name not terminated")


_OPTION_DECODERS: dict[int, Callable[[bytes, _OptionItems], None]] = {
    1: _opt_source_ll,
    2: _opt_target_ll,
    3: _opt_prefix,
    4: _opt_redirected,
    5: _opt_mtu,
    24: _opt_route,
    25: _opt_rdnss,
    31: _opt_dnssl,
}
"""ND option type -> decoder of its body (the bytes after type and length)."""


__all__ = [
    "NDP_TYPES",
    "OPTION_NAMES",
    "NaFlags",
    "NdpMessage",
    "NdpOptions",
    "PrefixInfo",
    "RaFields",
    "RouteInfo",
    "parse_ndp",
]
