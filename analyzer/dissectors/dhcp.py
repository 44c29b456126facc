"""BOOTP/DHCP datagram parser (RFC 951, 1542, 2131, 2132; option concatenation RFC 3396).

One UDP datagram on port 67/68 gives one `DhcpMessage` event: the fixed BOOTP header, the options
(every option kept by number, the common ones decoded through the `OPTIONS` table) and the message
type from option 53 (`BOOTP_NO_OPTION_53` when absent, as tshark names it).

What tshark still dissects is not thrown away here either: an option that runs past the end of its
area, an options area without an end option, a wrong option length, or a vendor area without the
magic cookie (plain BOOTP) keep the message and everything decoded before the problem; the problem is
named in `DhcpMessage.problems` (stable keys such as `dhcp.option_past_end`) and counted by the DHCP
tracker. Only a datagram too short for the fixed 236-byte header raises `Malformed`: nothing in it
can be trusted.

DHCPv6 (RFC 8415, UDP 546/547) is parsed at the end of this module into `Dhcpv6Message`: relay
wrappers are followed (bounded) to the client's or server's own message, whose client/server DUIDs,
IA_NA/IA_TA addresses, IA_PD prefixes, status codes, FQDN and vendor class are decoded.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from analyzer.decode import ip_text, mac_text
from analyzer.errors import Malformed

if TYPE_CHECKING:
    from analyzer.decode import Packet

# --- limits -------------------------------------------------------------------------------------

MAX_OPTIONS = 255
"""Option TLVs kept per message. There are only 254 option codes and RFC 3396 splits a long option
into consecutive pieces of one code, so 255 pieces covers any honest message; more is padding abuse."""
MAX_FQDN_LABELS = 127
"""Labels decoded from a DNS-encoded client FQDN (option 81): a 255-byte name holds at most 127."""

# --- constants ----------------------------------------------------------------------------------

BOOTP_HEADER = struct.Struct("!BBBBIHH4s4s4s4s16s64s128s")
"""op htype hlen hops xid secs flags ciaddr yiaddr siaddr giaddr chaddr sname file (236 bytes)."""
MAGIC_COOKIE = b"\x63\x82\x53\x63"
"""RFC 1497 vendor-area cookie that announces options."""
SNAME_OFFSET, SNAME_LEN = 44, 64
FILE_OFFSET, FILE_LEN = 108, 128
OPT_PAD, OPT_END = 0, 255
OPT_OVERLOAD, OPT_MESSAGE_TYPE = 52, 53
BROADCAST_FLAG = 0x8000
INFINITE_LEASE = 0xFFFFFFFF
"""Lease time meaning "forever" (RFC 2131 3.3); an unsigned 32-bit value."""
BROADCAST_MAC = b"\xff" * 6
NO_OPTION_53 = "BOOTP_NO_OPTION_53"
"""Message-type name of a frame without option 53 (tshark's wording)."""
FQDN_FLAG_E = 0x04
"""Option 81 flag: the name is in DNS wire format (RFC 4702)."""

OPS = {1: "BOOTREQUEST", 2: "BOOTREPLY"}

MESSAGE_TYPES: dict[int, str] = {
    1: "DISCOVER",
    2: "OFFER",
    3: "REQUEST",
    4: "DECLINE",
    5: "ACK",
    6: "NAK",
    7: "RELEASE",
    8: "INFORM",
    9: "FORCERENEW",
    10: "LEASEQUERY",
    11: "LEASEUNASSIGNED",
    12: "LEASEUNKNOWN",
    13: "LEASEACTIVE",
    14: "BULKLEASEQUERY",
    15: "LEASEQUERYDONE",
    16: "ACTIVELEASEQUERY",
    17: "LEASEQUERYSTATUS",
    18: "TLS",
}
"""Option 53 values (RFC 2132, 3203, 4388, 6926, 7724)."""

OVERLOAD_FIELDS: dict[int, tuple[str, ...]] = {1: ("file",), 2: ("sname",), 3: ("file", "sname")}
"""Option 52 value -> header fields that carry options, in the order RFC 2131 4.1 reads them."""

RELAY_SUBOPTIONS: dict[int, str] = {
    1: "circuit_id",
    2: "remote_id",
    4: "docsis_device_class",
    5: "link_selection",
    6: "subscriber_id",
    9: "vendor_specific",
    11: "server_id_override",
    12: "relay_id",
    151: "vss",
}
"""Option 82 sub-options (RFC 3046, 3527, 3993, 5107, 6925, 6607)."""

OptionValue = str | int | tuple[str, ...] | tuple[int, ...]


def message_type_name(code: int | None) -> str:
    """Name of an option 53 value; `BOOTP_NO_OPTION_53` for None, `TYPE<n>` when unknown."""
    if code is None:
        return NO_OPTION_53
    return MESSAGE_TYPES.get(code, f"TYPE{code}")


# --- option value decoders (raise Malformed on a bad length; the parser turns that into a note) ---


def _bad(raw: bytes, want: str) -> Malformed:
    return Malformed("dhcp.bad_option_length", f"{len(raw)} bytes, want {want}")


def _ip(raw: bytes) -> str:
    if len(raw) != 4:
        raise _bad(raw, "4")
    return ip_text(raw)


def _ips(raw: bytes) -> tuple[str, ...]:
    if not raw or len(raw) % 4:
        raise _bad(raw, "a multiple of 4")
    return tuple(ip_text(raw[i : i + 4]) for i in range(0, len(raw), 4))


def _unsigned(size: int) -> Callable[[bytes], int]:
    def decode(raw: bytes) -> int:
        if len(raw) != size:
            raise _bad(raw, str(size))
        return int.from_bytes(raw, "big")

    return decode


def _i32(raw: bytes) -> int:
    if len(raw) != 4:
        raise _bad(raw, "4")
    return int.from_bytes(raw, "big", signed=True)


def _text(raw: bytes) -> str:
    return raw.rstrip(b"\0").decode("utf-8", "backslashreplace")


def _hex(raw: bytes) -> str:
    return mac_text(raw)


def _codes(raw: bytes) -> tuple[int, ...]:
    return tuple(raw)


def _client_id(raw: bytes) -> str:
    if len(raw) < 2:
        raise _bad(raw, "at least 2")
    return mac_text(raw)


def _labels(raw: bytes) -> str:
    """A DNS wire-format name without compression (option 81 with the E flag)."""
    labels: list[str] = []
    i = 0
    while i < len(raw) and raw[i] != 0:
        n = raw[i]
        if n > 63 or i + 1 + n > len(raw) or len(labels) >= MAX_FQDN_LABELS:
            raise Malformed("dhcp.bad_fqdn", f"label length {n} at {i}")
        labels.append(raw[i + 1 : i + 1 + n].decode("ascii", "backslashreplace"))
        i += 1 + n
    return ".".join(labels)


def _fqdn(raw: bytes) -> str:
    if len(raw) < 3:
        raise _bad(raw, "at least 3")
    name = raw[3:]
    return _labels(name) if raw[0] & FQDN_FLAG_E else _text(name)


def _relay_agent(raw: bytes) -> tuple[str, ...]:
    out: list[str] = []
    i = 0
    while i < len(raw):
        if i + 2 > len(raw) or i + 2 + raw[i + 1] > len(raw):
            raise Malformed("dhcp.bad_relay_suboption", f"sub-option at {i} runs past the option")
        code, n = raw[i], raw[i + 1]
        out.append(f"{RELAY_SUBOPTIONS.get(code, str(code))}={mac_text(raw[i + 2 : i + 2 + n])}")
        i += 2 + n
    return tuple(out)


def _user_class(raw: bytes) -> tuple[str, ...]:
    """RFC 3004 length-prefixed instances; a plain string (as some clients send) when they don't fit."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        n = raw[i]
        if n == 0 or i + 1 + n > len(raw):
            return (_text(raw),)
        out.append(_text(raw[i + 1 : i + 1 + n]))
        i += 1 + n
    return tuple(out)


def _classless_routes(raw: bytes) -> tuple[str, ...]:
    """RFC 3442: width, significant destination octets, router -> "dest/width via router"."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        width = raw[i]
        sig = (width + 7) // 8
        if width > 32 or i + 1 + sig + 4 > len(raw):
            raise Malformed("dhcp.bad_classless_route", f"route at {i}")
        dest = raw[i + 1 : i + 1 + sig].ljust(4, b"\0")
        router = raw[i + 1 + sig : i + 5 + sig]
        out.append(f"{ip_text(dest)}/{width} via {ip_text(router)}")
        i += 5 + sig
    return tuple(out)


OptionDecoder = Callable[[bytes], OptionValue]

OPTIONS: dict[int, tuple[str, OptionDecoder]] = {
    1: ("subnet_mask", _ip),
    2: ("time_offset", _i32),
    3: ("routers", _ips),
    4: ("time_servers", _ips),
    5: ("name_servers", _ips),
    6: ("dns_servers", _ips),
    7: ("log_servers", _ips),
    12: ("host_name", _text),
    13: ("boot_file_size", _unsigned(2)),
    15: ("domain", _text),
    17: ("root_path", _text),
    19: ("ip_forwarding", _unsigned(1)),
    23: ("default_ip_ttl", _unsigned(1)),
    26: ("interface_mtu", _unsigned(2)),
    28: ("broadcast_addr", _ip),
    31: ("router_discovery", _unsigned(1)),
    33: ("static_routes", _ips),
    42: ("ntp_servers", _ips),
    43: ("vendor_specific", _hex),
    44: ("netbios_name_servers", _ips),
    46: ("netbios_node_type", _unsigned(1)),
    47: ("netbios_scope", _text),
    50: ("requested_addr", _ip),
    51: ("lease_time", _unsigned(4)),
    52: ("overload", _unsigned(1)),
    53: ("message_type", _unsigned(1)),
    54: ("server_id", _ip),
    55: ("param_list", _codes),
    56: ("message", _text),
    57: ("max_message_size", _unsigned(2)),
    58: ("renewal_time", _unsigned(4)),
    59: ("rebinding_time", _unsigned(4)),
    60: ("vendor_class", _text),
    61: ("client_id", _client_id),
    66: ("tftp_server_name", _text),
    67: ("bootfile_name", _text),
    77: ("user_class", _user_class),
    81: ("client_fqdn", _fqdn),
    82: ("relay_agent_info", _relay_agent),
    116: ("auto_config", _unsigned(1)),
    119: ("domain_search", _hex),
    121: ("classless_static_routes", _classless_routes),
    145: ("forcerenew_nonce_capable", _codes),
    150: ("tftp_server_addrs", _ips),
    249: ("ms_classless_static_routes", _classless_routes),
    252: ("wpad_url", _text),
}
"""Option code -> (name, value decoder). Any other code is kept as `option_<n>` with its bytes as hex."""


# --- events -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DhcpOption:
    """One option, its pieces concatenated (RFC 3396)."""

    code: int
    """Option code (1..254)."""
    name: str
    """Name from `OPTIONS`, or `option_<code>` when unknown."""
    raw: bytes
    """The option's value bytes."""
    value: OptionValue | None
    """Decoded value (None when the length was wrong for its type)."""


@dataclass(frozen=True, slots=True)
class DhcpMessage:
    """One BOOTP/DHCP message as seen on the wire."""

    ts: float
    """Packet time."""
    uid: str
    """uid of the UDP flow that carried it."""
    src_h: str
    """IP source of the datagram."""
    src_p: int
    """UDP source port."""
    dst_h: str
    """IP destination of the datagram."""
    dst_p: int
    """UDP destination port."""
    src_mac: str
    """Link-layer source (a server's or relay's MAC for replies)."""
    to_broadcast: bool
    """Sent to the IPv4 limited broadcast or the Ethernet broadcast address."""
    op: int
    """1 BOOTREQUEST, 2 BOOTREPLY."""
    htype: int
    """Hardware address type (1 Ethernet)."""
    hlen: int
    """Hardware address length."""
    hops: int
    """Relay hops."""
    xid: int
    """Transaction id chosen by the client."""
    secs: int
    """Seconds since the client began acquiring or renewing."""
    broadcast: bool
    """The client's BROADCAST flag (asks servers to broadcast replies)."""
    ciaddr: str
    """Client address (set in BOUND, RENEWING, REBINDING, INFORM, RELEASE)."""
    yiaddr: str
    """"Your" address: what the server offers or assigns."""
    siaddr: str
    """Next server address (boot server)."""
    giaddr: str
    """Relay agent address."""
    mac: str
    """Client hardware address (chaddr, `hlen` bytes)."""
    sname: str
    """Server host name field (empty when overloaded with options)."""
    file: str
    """Boot file name field (empty when overloaded with options)."""
    msg_type: int | None
    """Option 53, None for plain BOOTP."""
    msg_type_name: str
    """DISCOVER, OFFER, ... or BOOTP_NO_OPTION_53."""
    options: tuple[DhcpOption, ...]
    """Every option in first-seen order (pad and end excluded)."""
    requested_addr: str | None
    """Option 50."""
    server_id: str | None
    """Option 54, the server identifier."""
    lease_time: int | None
    """Option 51 in seconds (0xffffffff = infinite)."""
    renewal_time: int | None
    """Option 58, T1 in seconds."""
    rebinding_time: int | None
    """Option 59, T2 in seconds."""
    host_name: str | None
    """Option 12."""
    client_id: str | None
    """Option 61 as colon-separated hex (type byte first)."""
    vendor_class: str | None
    """Option 60 (Zeek's client_software)."""
    client_fqdn: str | None
    """Option 81 name."""
    domain: str | None
    """Option 15."""
    message: str | None
    """Option 56 (error text of a NAK, reason of a DECLINE)."""
    problems: tuple[str, ...]
    """Malformations tolerated while parsing (e.g. dhcp.option_past_end, dhcp.no_end_option)."""

    def option(self, code: int) -> OptionValue | None:
        """Decoded value of an option, or None when absent or undecodable."""
        return _pick(self.options, code)


# --- parsing ------------------------------------------------------------------------------------


def _walk(
    data: bytes, start: int, end: int, where: str, out: list[tuple[int, bytes]], problems: list[str]
) -> None:
    """Collect (code, value) TLVs of one options area into `out`, noting what is wrong."""
    i = start
    while i < end:
        code = data[i]
        if code == OPT_PAD:
            i += 1
            continue
        if code == OPT_END:
            return
        if i + 2 > end or i + 2 + data[i + 1] > end:
            problems.append("dhcp.option_past_end")
            return
        if len(out) >= MAX_OPTIONS:
            problems.append("dhcp.too_many_options")
            return
        n = data[i + 1]
        out.append((code, data[i + 2 : i + 2 + n]))
        i += 2 + n
    problems.append("dhcp.no_end_option" if where == "options" else f"dhcp.no_end_option_in_{where}")


def _field_text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "backslashreplace")


def _combine(pieces: list[tuple[int, bytes]], problems: list[str]) -> tuple[DhcpOption, ...]:
    joined: dict[int, bytes] = {}
    for code, raw in pieces:
        joined[code] = joined.get(code, b"") + raw
    options: list[DhcpOption] = []
    for code, raw in joined.items():
        entry = OPTIONS.get(code)
        value: OptionValue | None
        if entry is None:
            name, value = f"option_{code}", _hex(raw)
        else:
            name, decoder = entry
            try:
                value = decoder(raw)
            except Malformed as exc:
                problems.append(exc.reason)
                value = None
        options.append(DhcpOption(code, name, raw, value))
    return tuple(options)


def _pick(options: tuple[DhcpOption, ...], code: int) -> OptionValue | None:
    for opt in options:
        if opt.code == code:
            return opt.value
    return None


def _str_opt(options: tuple[DhcpOption, ...], code: int) -> str | None:
    value = _pick(options, code)
    return value if isinstance(value, str) else None


def _int_opt(options: tuple[DhcpOption, ...], code: int) -> int | None:
    value = _pick(options, code)
    return value if isinstance(value, int) else None


def parse(payload: bytes, pkt: Packet) -> list[object]:
    """Datagram parser for UDP 67/68: one DhcpMessage event."""
    return [parse_message(payload, pkt)]


def parse_message(payload: bytes, pkt: Packet) -> DhcpMessage:
    """Decode one BOOTP/DHCP datagram; raises Malformed only when the fixed header is cut short."""
    if len(payload) < BOOTP_HEADER.size:
        raise Malformed("dhcp.short_header", f"{len(payload)} bytes, need {BOOTP_HEADER.size}")
    (op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr, chaddr, sname, file) = (
        BOOTP_HEADER.unpack_from(payload)
    )
    problems: list[str] = []
    if op not in OPS:
        problems.append("dhcp.bad_op")
    if not 1 <= hlen <= len(chaddr):
        problems.append("dhcp.bad_hlen")
        hlen_used = 6
    else:
        hlen_used = hlen
    pieces: list[tuple[int, bytes]] = []
    cookie_end = BOOTP_HEADER.size + len(MAGIC_COOKIE)
    overloaded: tuple[str, ...] = ()
    if payload[BOOTP_HEADER.size : cookie_end] == MAGIC_COOKIE:
        _walk(payload, cookie_end, len(payload), "options", pieces, problems)
        overload = next((raw for code, raw in pieces if code == OPT_OVERLOAD), None)
        if overload is not None and len(overload) == 1:
            overloaded = OVERLOAD_FIELDS.get(overload[0], ())
        areas = {"file": (FILE_OFFSET, FILE_LEN), "sname": (SNAME_OFFSET, SNAME_LEN)}
        for where in overloaded:
            offset, size = areas[where]
            _walk(payload, offset, offset + size, where, pieces, problems)
    else:
        problems.append("dhcp.no_magic_cookie")
    options = _combine(pieces, problems)
    msg_type = _int_opt(options, OPT_MESSAGE_TYPE)
    flow = pkt.flow
    return DhcpMessage(
        ts=pkt.ts,
        uid=str(getattr(flow, "uid", "")),
        src_h=pkt.src,
        src_p=pkt.sport,
        dst_h=pkt.dst,
        dst_p=pkt.dport,
        src_mac=mac_text(pkt.l2_src),
        to_broadcast=pkt.dst == "255.255.255.255" or pkt.l2_dst == BROADCAST_MAC,
        op=op,
        htype=htype,
        hlen=hlen,
        hops=hops,
        xid=xid,
        secs=secs,
        broadcast=bool(flags & BROADCAST_FLAG),
        ciaddr=ip_text(ciaddr),
        yiaddr=ip_text(yiaddr),
        siaddr=ip_text(siaddr),
        giaddr=ip_text(giaddr),
        mac=mac_text(chaddr[:hlen_used]),
        sname="" if "sname" in overloaded else _field_text(sname),
        file="" if "file" in overloaded else _field_text(file),
        msg_type=msg_type,
        msg_type_name=message_type_name(msg_type),
        options=options,
        requested_addr=_str_opt(options, 50),
        server_id=_str_opt(options, 54),
        lease_time=_int_opt(options, 51),
        renewal_time=_int_opt(options, 58),
        rebinding_time=_int_opt(options, 59),
        host_name=_str_opt(options, 12),
        client_id=_str_opt(options, 61),
        vendor_class=_str_opt(options, 60),
        client_fqdn=_str_opt(options, 81),
        domain=_str_opt(options, 15),
        message=_str_opt(options, 56),
        problems=tuple(dict.fromkeys(problems)),
    )


# --- DHCPv6 (RFC 8415) ---------------------------------------------------------------------------

MAX_RELAY_DEPTH = 32
"""Relay-message wrappers followed (RFC 8415 HOP_COUNT_LIMIT is 8; 32 tolerates odd deployments)."""
MAX_V6_OPTIONS = 512
"""Options (at all nesting levels) decoded per DHCPv6 message; an honest one carries a few dozen."""
MAX_V6_LEASES = 64
"""Addresses and prefixes kept per DHCPv6 message (one client asks for a handful)."""

V6_HEADER_LEN = 4
"""msg-type (1) + transaction-id (3)."""
V6_RELAY_HEADER_LEN = 34
"""msg-type, hop-count, link-address (16), peer-address (16)."""
V6_RELAY_TYPES = frozenset({12, 13})
"""RELAY-FORW and RELAY-REPL carry another message in option 9."""

DHCPV6_MESSAGE_TYPES: dict[int, str] = {
    1: "SOLICIT",
    2: "ADVERTISE",
    3: "REQUEST",
    4: "CONFIRM",
    5: "RENEW",
    6: "REBIND",
    7: "REPLY",
    8: "RELEASE",
    9: "DECLINE",
    10: "RECONFIGURE",
    11: "INFORMATION-REQUEST",
    12: "RELAY-FORW",
    13: "RELAY-REPL",
    14: "LEASEQUERY",
    15: "LEASEQUERY-REPLY",
    16: "LEASEQUERY-DONE",
    17: "LEASEQUERY-DATA",
    18: "RECONFIGURE-REQUEST",
    19: "RECONFIGURE-REPLY",
    20: "DHCPV4-QUERY",
    21: "DHCPV4-RESPONSE",
}
"""DHCPv6 message types (RFC 8415, 5007, 5460, 6977, 7341)."""

DHCPV6_STATUS: dict[int, str] = {
    0: "Success",
    1: "UnspecFail",
    2: "NoAddrsAvail",
    3: "NoBinding",
    4: "NotOnLink",
    5: "UseMulticast",
    6: "NoPrefixAvail",
}
"""Status codes of option 13 (RFC 8415 21.13)."""

V6_OPTION_NAMES: dict[int, str] = {
    1: "client_id",
    2: "server_id",
    3: "ia_na",
    4: "ia_ta",
    5: "iaaddr",
    6: "option_request",
    7: "preference",
    8: "elapsed_time",
    9: "relay_message",
    13: "status_code",
    14: "rapid_commit",
    15: "user_class",
    16: "vendor_class",
    17: "vendor_opts",
    18: "interface_id",
    23: "dns_servers",
    24: "domain_list",
    25: "ia_pd",
    26: "iaprefix",
    39: "client_fqdn",
}
"""DHCPv6 option codes named in events; others are kept by number."""

DUID_LINK_LAYER_TYPES: dict[int, int] = {1: 8, 3: 4}
"""DUID types that end in a link-layer address -> offset of that address (DUID-LLT, DUID-LL)."""
HWTYPE_ETHERNET = 1


@dataclass(frozen=True, slots=True)
class Dhcpv6Lease:
    """An address (IA_NA / IA_TA) or a delegated prefix (IA_PD) in a DHCPv6 message."""

    kind: str
    """na, ta or pd."""
    iaid: int
    """Identity association id."""
    addr: str
    """Address, or prefix as addr/len."""
    preferred: int
    """Preferred lifetime in seconds (0xffffffff = infinite)."""
    valid: int
    """Valid lifetime in seconds (0 = the address is being withdrawn)."""
    t1: int | None
    """Renew time of the IA (None for IA_TA)."""
    t2: int | None
    """Rebind time of the IA (None for IA_TA)."""


@dataclass(frozen=True, slots=True)
class Dhcpv6Message:
    """One DHCPv6 datagram; for relayed messages the client fields come from the innermost one."""

    @staticmethod
    def log_path() -> str:
        """Log (`_path`) of this event in `events`."""
        return "dhcpv6"

    ts: float
    """Packet time."""
    uid: str
    """uid of the UDP flow that carried it."""
    src_h: str
    """IP source of the datagram."""
    dst_h: str
    """IP destination of the datagram."""
    src_mac: str
    """Link-layer source."""
    msg_types: tuple[str, ...]
    """Message type names from the outermost relay wrapper to the innermost message."""
    msg_type_name: str
    """Innermost message type (what the client or server said)."""
    xid: int
    """Transaction id of the innermost message."""
    client_duid: str | None
    """Client identifier (option 1) as hex."""
    server_duid: str | None
    """Server identifier (option 2) as hex."""
    client_mac: str | None
    """Link-layer address inside a DUID-LLT/DUID-LL of Ethernet type."""
    leases: tuple[Dhcpv6Lease, ...]
    """Addresses and prefixes in IA_NA, IA_TA and IA_PD options."""
    status: str | None
    """First non-success status code (top level or inside an IA), by name."""
    host_name: str | None
    """Client FQDN (option 39)."""
    vendor_class: str | None
    """Vendor class data (option 16)."""
    rapid_commit: bool
    """Option 14 present."""
    options: tuple[str, ...]
    """Top-level options of the innermost message, in order (`option_<n>` when unnamed)."""
    problems: tuple[str, ...]
    """Malformations tolerated while parsing."""


def _v6_walk(
    data: bytes, start: int, end: int, budget: list[int], problems: list[str]
) -> list[tuple[int, bytes]]:
    """(code, value) pairs of one DHCPv6 options area; `budget` bounds options across nesting."""
    out: list[tuple[int, bytes]] = []
    i = start
    while i < end:
        if i + 4 > end:
            problems.append("dhcpv6.option_past_end")
            break
        code, n = struct.unpack_from("!HH", data, i)
        if i + 4 + n > end:
            problems.append("dhcpv6.option_past_end")
            break
        if budget[0] <= 0:
            problems.append("dhcpv6.too_many_options")
            break
        budget[0] -= 1
        out.append((code, data[i + 4 : i + 4 + n]))
        i += 4 + n
    return out


def _duid_mac(duid: bytes) -> str | None:
    if len(duid) < 4:
        return None
    dtype, hwtype = struct.unpack_from("!HH", duid)
    offset = DUID_LINK_LAYER_TYPES.get(dtype)
    if offset is None or hwtype != HWTYPE_ETHERNET or len(duid) != offset + 6:
        return None
    return mac_text(duid[offset:])


def _status(raw: bytes) -> str | None:
    if len(raw) < 2:
        return None
    code = int.from_bytes(raw[:2], "big")
    return None if code == 0 else DHCPV6_STATUS.get(code, f"STATUS{code}")


def _v6_fqdn(raw: bytes) -> str | None:
    if not raw:
        return None
    try:
        return _labels(raw[1:])
    except Malformed:
        return _text(raw[1:])


def _v6_vendor_class(raw: bytes) -> str | None:
    """Enterprise number, then length-prefixed (2 bytes) data items; the first item as text."""
    if len(raw) < 6:
        return None
    n = int.from_bytes(raw[4:6], "big")
    return _text(raw[6 : 6 + n])


IA_LAYOUTS: dict[int, tuple[str, int, bool]] = {
    3: ("na", 12, True),
    4: ("ta", 4, False),
    25: ("pd", 12, True),
}
"""IA option code -> (kind, length of its fixed part, whether it carries T1/T2)."""


def _v6_leases(
    code: int, raw: bytes, budget: list[int], problems: list[str], leases: list[Dhcpv6Lease]
) -> str | None:
    """Append the addresses/prefixes of one IA option; return its first non-success status."""
    kind, head, timed = IA_LAYOUTS[code]
    if len(raw) < head:
        problems.append("dhcpv6.bad_option_length")
        return None
    iaid = int.from_bytes(raw[:4], "big")
    t1 = int.from_bytes(raw[4:8], "big") if timed else None
    t2 = int.from_bytes(raw[8:12], "big") if timed else None
    status: str | None = None
    for sub, value in _v6_walk(raw, head, len(raw), budget, problems):
        if sub == 13:
            status = status or _status(value)
            continue
        if sub == 5 and kind in ("na", "ta") and len(value) >= 24:
            addr = ip_text(value[:16])
            preferred, valid = struct.unpack_from("!II", value, 16)
        elif sub == 26 and kind == "pd" and len(value) >= 25:
            preferred, valid, plen = struct.unpack_from("!IIB", value)
            addr = f"{ip_text(value[9:25])}/{plen}"
        else:
            if sub in (5, 26):
                problems.append("dhcpv6.bad_option_length")
            continue
        if len(leases) < MAX_V6_LEASES:
            leases.append(Dhcpv6Lease(kind, iaid, addr, preferred, valid, t1, t2))
    return status


def parse_v6(payload: bytes, pkt: Packet) -> list[object]:
    """Datagram parser for UDP 546/547: one Dhcpv6Message event."""
    return [parse_v6_message(payload, pkt)]


def parse_v6_message(payload: bytes, pkt: Packet) -> Dhcpv6Message:
    """Decode one DHCPv6 datagram, following relay wrappers to the innermost message."""
    problems: list[str] = []
    budget = [MAX_V6_OPTIONS]
    types: list[str] = []
    data = payload
    while True:
        if len(data) < V6_HEADER_LEN:
            raise Malformed("dhcpv6.short_header", f"{len(data)} bytes")
        mtype = data[0]
        types.append(DHCPV6_MESSAGE_TYPES.get(mtype, f"TYPE{mtype}"))
        if mtype not in V6_RELAY_TYPES:
            xid = int.from_bytes(data[1:4], "big")
            options = _v6_walk(data, V6_HEADER_LEN, len(data), budget, problems)
            break
        if len(data) < V6_RELAY_HEADER_LEN:
            raise Malformed("dhcpv6.short_relay_header", f"{len(data)} bytes")
        relayed = _v6_walk(data, V6_RELAY_HEADER_LEN, len(data), budget, problems)
        inner = next((raw for code, raw in relayed if code == 9), None)
        if inner is None or len(types) > MAX_RELAY_DEPTH:
            problems.append("dhcpv6.no_relay_message" if inner is None else "dhcpv6.relay_too_deep")
            xid, options = 0, []
            break
        data = inner
    leases: list[Dhcpv6Lease] = []
    first: dict[int, bytes] = {}
    status: str | None = None
    for code, raw in options:
        first.setdefault(code, raw)
        if code in IA_LAYOUTS:
            status = status or _v6_leases(code, raw, budget, problems, leases)
        elif code == 13:
            status = status or _status(raw)
    client = first.get(1)
    return Dhcpv6Message(
        ts=pkt.ts,
        uid=str(getattr(pkt.flow, "uid", "")),
        src_h=pkt.src,
        dst_h=pkt.dst,
        src_mac=mac_text(pkt.l2_src),
        msg_types=tuple(types),
        msg_type_name=types[-1],
        xid=xid,
        client_duid=mac_text(client) if client else None,
        server_duid=mac_text(first[2]) if first.get(2) else None,
        client_mac=_duid_mac(client) if client else None,
        leases=tuple(leases),
        status=status,
        host_name=_v6_fqdn(first[39]) if 39 in first else None,
        vendor_class=_v6_vendor_class(first[16]) if 16 in first else None,
        rapid_commit=14 in first,
        options=tuple(V6_OPTION_NAMES.get(code, f"option_{code}") for code, _ in options),
        problems=tuple(dict.fromkeys(problems)),
    )
