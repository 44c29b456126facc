"""DNS (RFC 1035 and successors): message parser, name tables, UDP datagram parser, TCP stream dissector.

The same wire format serves DNS proper (port 53), mDNS (5353, RFC 6762) and LLMNR (5355, RFC 4795);
the event carries the service so the tracker counts each in its own section.

Names are decompressed with loop safety: a compression pointer must point strictly before the start
of the run of labels that contains it (the name's first byte, or the target of the previous pointer).
Every jump therefore lands earlier than the last one, so decompression always ends; a pointer to
itself or into its own run is a loop, a pointer past itself is a forward pointer, a pointer beyond
the message is out of bounds. All three are `Malformed`. Labels are at most 63 bytes and a name at
most 255 bytes on the wire (RFC 1035 2.3.4); the 0x40/0x80 label types are rejected.

Decoded suffixes are cached per message by pointer target, so a message full of pointers to the same
name costs one decode of that name.

A message whose 12-byte header is readable is always reported (tshark counts it from its header);
when a later part is broken, the event carries the parts read before the break and the reason.
"""

from __future__ import annotations

import re
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from analyzer.errors import Malformed
from analyzer.flows import Flow

if TYPE_CHECKING:
    from analyzer.decode import Packet

# --- limits -------------------------------------------------------------------------------------

HEADER_LEN = 12
"""Fixed DNS header size (RFC 1035 4.1.1)."""
MAX_LABEL_LEN = 63
"""Longest label (RFC 1035 2.3.4); the two top bits of a length byte are the label type."""
MAX_NAME_LEN = 255
"""Longest name on the wire, length bytes and the root byte included (RFC 1035 2.3.4)."""
MAX_RECORDS_PER_MESSAGE = 2048
"""Questions + resource records decoded from one message. A 64 KiB message holds at most ~6000
minimal records; 2048 covers real AXFR chunks while bounding the work an adversarial message costs.
Beyond it the message is reported as far as it was read (reason dns.too_many_records)."""
MAX_TCP_MESSAGE = 0xFFFF
"""Largest DNS-over-TCP message: the 2-byte length prefix (RFC 1035 4.2.2). A direction's buffer
never holds more than one incomplete message plus its prefix, so it is bounded by this."""
MAX_TXT_RENDER = 512
"""Characters of TXT/unknown rdata kept in the text rendering of one record (JSON stays small)."""

# --- name tables ----------------------------------------------------------------------------------

QTYPE_NAMES: dict[int, str] = {
    1: "A",
    2: "NS",
    3: "MD",
    4: "MF",
    5: "CNAME",
    6: "SOA",
    7: "MB",
    8: "MG",
    9: "MR",
    10: "NULL",
    11: "WKS",
    12: "PTR",
    13: "HINFO",
    14: "MINFO",
    15: "MX",
    16: "TXT",
    17: "RP",
    18: "AFSDB",
    24: "SIG",
    25: "KEY",
    28: "AAAA",
    29: "LOC",
    33: "SRV",
    35: "NAPTR",
    36: "KX",
    37: "CERT",
    39: "DNAME",
    41: "OPT",
    42: "APL",
    43: "DS",
    44: "SSHFP",
    45: "IPSECKEY",
    46: "RRSIG",
    47: "NSEC",
    48: "DNSKEY",
    49: "DHCID",
    50: "NSEC3",
    51: "NSEC3PARAM",
    52: "TLSA",
    53: "SMIMEA",
    55: "HIP",
    59: "CDS",
    60: "CDNSKEY",
    61: "OPENPGPKEY",
    62: "CSYNC",
    63: "ZONEMD",
    64: "SVCB",
    65: "HTTPS",
    99: "SPF",
    108: "EUI48",
    109: "EUI64",
    249: "TKEY",
    250: "TSIG",
    251: "IXFR",
    252: "AXFR",
    253: "MAILB",
    254: "MAILA",
    255: "ANY",
    256: "URI",
    257: "CAA",
    260: "AMTRELAY",
    32768: "TA",
    32769: "DLV",
}
"""Record types by number (IANA "Resource Record (RR) TYPEs"; 255 is "*", shown as ANY). Obsolete
and experimental types (NXT 30, A6 38, X25, ISDN, ...) are deliberately absent and show as TYPE<n>,
as the reference truth does."""

QCLASS_NAMES: dict[int, str] = {1: "IN", 2: "CS", 3: "CH", 4: "HS", 254: "NONE", 255: "ANY"}
"""DNS classes (IANA "DNS CLASSes"); unknown ones show as CLASS<n>."""

RCODE_NAMES: dict[int, str] = {
    0: "NOERROR",
    1: "FORMERR",
    2: "SERVFAIL",
    3: "NXDOMAIN",
    4: "NOTIMP",
    5: "REFUSED",
    6: "YXDOMAIN",
    7: "YXRRSET",
    8: "NXRRSET",
    9: "NOTAUTH",
    10: "NOTZONE",
    11: "DSOTYPENI",
    16: "BADVERS",
    17: "BADKEY",
    18: "BADTIME",
    19: "BADMODE",
    20: "BADNAME",
    21: "BADALG",
    22: "BADTRUNC",
    23: "BADCOOKIE",
}
"""Response codes (IANA "DNS RCODEs"); 0-15 fit the header, 16+ need EDNS (OPT) or TSIG. Unknown
codes show as RCODE<n>."""

OPCODE_NAMES: dict[int, str] = {0: "QUERY", 1: "IQUERY", 2: "STATUS", 4: "NOTIFY", 5: "UPDATE", 6: "DSO"}
"""Header opcodes (IANA "DNS OpCodes"); unknown ones show as OPCODE<n>."""

SERVICE_BY_PORT: dict[int, str] = {53: "dns", 5353: "mdns", 5355: "llmnr"}
"""Fallback service label by port, used when a packet comes without a classified flow."""


def qtype_name(qtype: int) -> str:
    """Mnemonic of a record type, TYPE<n> when unknown (RFC 3597)."""
    return QTYPE_NAMES.get(qtype) or f"TYPE{qtype}"


def qclass_name(qclass: int) -> str:
    """Mnemonic of a class, CLASS<n> when unknown (RFC 3597)."""
    return QCLASS_NAMES.get(qclass) or f"CLASS{qclass}"


def rcode_name(rcode: int) -> str:
    """Mnemonic of a response code, RCODE<n> when unknown."""
    return RCODE_NAMES.get(rcode) or f"RCODE{rcode}"


def opcode_name(opcode: int) -> str:
    """Mnemonic of an opcode, OPCODE<n> when unknown."""
    return OPCODE_NAMES.get(opcode) or f"OPCODE{opcode}"


# --- message model ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MxData:
    """MX rdata (RFC 1035 3.3.9)."""

    preference: int
    """Lower is preferred."""
    exchange: str
    """Mail exchanger host name."""


@dataclass(frozen=True, slots=True)
class SoaData:
    """SOA rdata (RFC 1035 3.3.13)."""

    mname: str
    """Primary name server of the zone."""
    rname: str
    """Mailbox of the person responsible, as a name."""
    serial: int
    """Zone serial number."""
    refresh: int
    """Seconds before secondaries refresh."""
    retry: int
    """Seconds between retries of a failed refresh."""
    expire: int
    """Seconds after which secondaries stop answering."""
    minimum: int
    """Negative-caching TTL (RFC 2308)."""


@dataclass(frozen=True, slots=True)
class SrvData:
    """SRV rdata (RFC 2782)."""

    priority: int
    """Lower is tried first."""
    weight: int
    """Relative weight among equal priorities."""
    port: int
    """Service port."""
    target: str
    """Host offering the service."""


RData = str | MxData | SoaData | SrvData | tuple[bytes, ...] | None
"""Decoded rdata: an address or a name (str), MX/SOA/SRV structures, TXT strings, or None (not decoded)."""


@dataclass(frozen=True, slots=True)
class DnsQuestion:
    """One entry of the question (for UPDATE: zone) section."""

    name: str
    """Queried name in presentation form ("<Root>" for the root)."""
    qtype: int
    """Record type asked for."""
    qclass: int
    """Class as on the wire (mDNS sets the top bit for "unicast response wanted")."""

    @property
    def qtype_name(self) -> str:
        return qtype_name(self.qtype)


@dataclass(frozen=True, slots=True)
class DnsRecord:
    """One resource record of the answer, authority or additional section."""

    name: str
    """Owner name in presentation form."""
    rtype: int
    """Record type."""
    rclass: int
    """Class as on the wire (OPT: the sender's UDP payload size; mDNS: top bit is cache-flush)."""
    ttl: int
    """Time to live, seconds (OPT: extended rcode, version and flags)."""
    rdata: bytes
    """Raw rdata bytes (names inside may be compression pointers into the message)."""
    data: RData
    """Decoded rdata for A, AAAA, NS, CNAME, PTR, DNAME, MX, SOA, SRV, TXT and the old mailbox types."""

    @property
    def rtype_name(self) -> str:
        return qtype_name(self.rtype)


@dataclass(frozen=True, slots=True)
class DnsMessage:
    """A parsed DNS message (header and the sections that could be read)."""

    id: int
    """Transaction id."""
    qr: bool
    """True for a response."""
    opcode: int
    """Kind of query (0 QUERY, 4 NOTIFY, 5 UPDATE, ...)."""
    aa: bool
    """Authoritative answer."""
    tc: bool
    """Truncated."""
    rd: bool
    """Recursion desired."""
    ra: bool
    """Recursion available."""
    z: int
    """The three bits between RA and RCODE (Z, AD, CD), as Zeek's dns.log shows them."""
    rcode: int
    """The 4-bit header response code (not merged with the EDNS extension)."""
    qdcount: int
    """Questions announced by the header."""
    ancount: int
    """Answers announced by the header."""
    nscount: int
    """Authority records announced by the header."""
    arcount: int
    """Additional records announced by the header."""
    questions: tuple[DnsQuestion, ...]
    """Questions read."""
    answers: tuple[DnsRecord, ...]
    """Answer records read."""
    authority: tuple[DnsRecord, ...]
    """Authority records read."""
    additional: tuple[DnsRecord, ...]
    """Additional records read."""
    size: int
    """Message length in bytes."""

    @property
    def ad(self) -> bool:
        """Authentic data (RFC 4035)."""
        return bool(self.z & 0x2)

    @property
    def cd(self) -> bool:
        """Checking disabled (RFC 4035)."""
        return bool(self.z & 0x1)

    @property
    def extended_rcode(self) -> int:
        """The 12-bit rcode once merged with an OPT record's upper bits (RFC 6891 6.1.3)."""
        for rr in self.additional:
            if rr.rtype == 41:
                return ((rr.ttl >> 24) << 4) | self.rcode
        return self.rcode


# --- events ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DnsMessageEvent:
    """One DNS, mDNS or LLMNR message seen on the wire."""

    ts: float
    """Packet time of the message (TCP: of the segment that completed it)."""
    uid: str
    """uid of the flow carrying it."""
    orig_h: str
    """Flow originator address."""
    orig_p: int
    """Flow originator port."""
    resp_h: str
    """Flow responder address."""
    resp_p: int
    """Flow responder port."""
    proto: str
    """Transport: udp or tcp."""
    service: str
    """dns, mdns or llmnr."""
    is_orig: bool
    """True when the flow's originator sent it."""
    message: DnsMessage
    """The parsed message (possibly partial, see `malformed`)."""
    malformed: str | None = None
    """Reason the message could not be read to its end, None when it parsed completely."""

    @property
    def src_h(self) -> str:
        """Sender address."""
        return self.orig_h if self.is_orig else self.resp_h

    @property
    def dst_h(self) -> str:
        """Receiver address."""
        return self.resp_h if self.is_orig else self.orig_h


@dataclass(frozen=True, slots=True)
class DnsWeird:
    """Something wrong at the framing level that lost a message (short TCP message, gap, leftover)."""

    @staticmethod
    def log_path() -> str:
        """Log (`_path`) of this event in `events`."""
        return "weird"

    @staticmethod
    def log_renames() -> tuple[tuple[str, str], ...]:
        """Fields renamed to the names weird.log uses."""
        return (("reason", "name"),)

    ts: float
    """Packet time."""
    uid: str
    """uid of the flow."""
    service: str
    """dns, mdns or llmnr."""
    reason: str
    """Short stable key, e.g. dns.tcp_gap."""
    detail: str
    """Human-readable detail."""


# --- names ------------------------------------------------------------------------------------------

_PLAIN_LABEL = re.compile(rb"[!-\-/-\[\]-~]+")
"""Label bytes printed as they are: printable ASCII except '.' and '\\' (and space)."""
_LABEL_CHARS = [(chr(b) if 0x21 <= b <= 0x7E and b not in (0x2E, 0x5C) else f"\\{b:03d}") for b in range(256)]
_LABEL_CHARS[0x2E] = "\\."
_LABEL_CHARS[0x5C] = "\\\\"
ROOT_NAME = "<Root>"
"""Presentation of the root name (as Wireshark shows it)."""


def _label_text(label: bytes) -> str:
    if _PLAIN_LABEL.fullmatch(label):
        return label.decode("ascii")
    return "".join(_LABEL_CHARS[b] for b in label)


NameCache = dict[int, tuple[tuple[str, ...], int]]
"""Per-message cache: offset of a pointer target -> (labels of the suffix there, its wire length)."""


def read_name(data: bytes, offset: int, cache: NameCache | None = None) -> tuple[str, int]:
    """Decode the (possibly compressed) name at `offset`: (presentation text, offset after it)."""
    labels, end = read_labels(data, offset, {} if cache is None else cache)
    return (".".join(labels) if labels else ROOT_NAME), end


def read_labels(data: bytes, offset: int, cache: NameCache) -> tuple[tuple[str, ...], int]:
    """Decode a name into its labels; see the module docstring for the pointer rules."""
    labels: list[str] = []
    wire = 0  # bytes of the labels collected so far, length bytes included
    pos = run_start = offset
    end: int | None = None  # offset after the name where it started (set at the first pointer)
    jumps: list[tuple[int, int, int]] = []  # (target, labels before it, wire before it)
    size = len(data)
    while True:
        if pos >= size:
            raise Malformed("dns.name_truncated", f"name at {offset} runs past the end")
        length = data[pos]
        kind = length & 0xC0
        if kind == 0xC0:
            if pos + 1 >= size:
                raise Malformed("dns.name_truncated", f"pointer at {pos} cut")
            target = ((length & 0x3F) << 8) | data[pos + 1]
            if end is None:
                end = pos + 2
            if target >= size:
                raise Malformed("dns.pointer_out_of_bounds", f"pointer at {pos} to {target} of {size}")
            if target > pos:
                raise Malformed("dns.pointer_forward", f"pointer at {pos} to {target}")
            if target >= run_start:
                raise Malformed("dns.pointer_loop", f"pointer at {pos} to {target}")
            cached = cache.get(target)
            if cached is not None:
                suffix, suffix_wire = cached
                if wire + suffix_wire > MAX_NAME_LEN:
                    raise Malformed("dns.name_too_long", f"name at {offset}")
                labels.extend(suffix)
                wire += suffix_wire
                break
            jumps.append((target, len(labels), wire))
            pos = run_start = target
            continue
        if kind:
            raise Malformed("dns.bad_label_type", f"label type 0x{kind:02x} at {pos}")
        if length == 0:
            wire += 1
            if end is None:
                end = pos + 1
            break
        if pos + 1 + length > size:
            raise Malformed("dns.name_truncated", f"label at {pos} runs past the end")
        wire += 1 + length
        if wire + 1 > MAX_NAME_LEN:
            raise Malformed("dns.name_too_long", f"name at {offset} exceeds {MAX_NAME_LEN} bytes")
        labels.append(_label_text(data[pos + 1 : pos + 1 + length]))
        pos += 1 + length
    for target, n_before, wire_before in jumps:
        cache[target] = (tuple(labels[n_before:]), wire - wire_before)
    assert end is not None
    return tuple(labels), end


# --- rdata ----------------------------------------------------------------------------------------

_U16 = struct.Struct("!H")
_RR_FIXED = struct.Struct("!HHIH")
_QUESTION_FIXED = struct.Struct("!HH")
_HEADER = struct.Struct("!HHHHHH")
_SOA_NUMBERS = struct.Struct("!IIIII")
_SRV_FIXED = struct.Struct("!HHH")


def _bad_rdata(rtype: int, detail: str) -> Malformed:
    return Malformed("dns.bad_rdata", f"{qtype_name(rtype)}: {detail}")


def _rdata_name(data: bytes, start: int, end: int, rtype: int, cache: NameCache) -> tuple[str, int]:
    name, after = read_name(data, start, cache)
    if after > end:
        raise _bad_rdata(rtype, "name runs past the rdata")
    return name, after


def _rd_address(data: bytes, start: int, end: int, rtype: int, cache: NameCache) -> RData:
    want = 4 if rtype == 1 else 16
    if end - start != want:
        raise _bad_rdata(rtype, f"{end - start} bytes, want {want}")
    family = socket.AF_INET if rtype == 1 else socket.AF_INET6
    return socket.inet_ntop(family, data[start:end])


def _rd_name(data: bytes, start: int, end: int, rtype: int, cache: NameCache) -> RData:
    name, after = _rdata_name(data, start, end, rtype, cache)
    if after != end:
        raise _bad_rdata(rtype, "bytes after the name")
    return name


def _rd_mx(data: bytes, start: int, end: int, rtype: int, cache: NameCache) -> RData:
    if end - start < 3:
        raise _bad_rdata(rtype, "too short")
    exchange = _rd_name(data, start + 2, end, rtype, cache)
    assert isinstance(exchange, str)
    return MxData(_U16.unpack_from(data, start)[0], exchange)


def _rd_soa(data: bytes, start: int, end: int, rtype: int, cache: NameCache) -> RData:
    mname, pos = _rdata_name(data, start, end, rtype, cache)
    rname, pos = _rdata_name(data, pos, end, rtype, cache)
    if end - pos != _SOA_NUMBERS.size:
        raise _bad_rdata(rtype, f"{end - pos} bytes of numbers, want 20")
    return SoaData(mname, rname, *_SOA_NUMBERS.unpack_from(data, pos))


def _rd_srv(data: bytes, start: int, end: int, rtype: int, cache: NameCache) -> RData:
    if end - start < _SRV_FIXED.size + 1:
        raise _bad_rdata(rtype, "too short")
    target = _rd_name(data, start + _SRV_FIXED.size, end, rtype, cache)
    assert isinstance(target, str)
    priority, weight, port = _SRV_FIXED.unpack_from(data, start)
    return SrvData(priority, weight, port, target)


def _rd_txt(data: bytes, start: int, end: int, rtype: int, cache: NameCache) -> RData:
    strings: list[bytes] = []
    pos = start
    while pos < end:
        n = data[pos]
        if pos + 1 + n > end:
            raise _bad_rdata(rtype, "character-string runs past the rdata")
        strings.append(data[pos + 1 : pos + 1 + n])
        pos += 1 + n
    return tuple(strings)


RdataDecoder = Callable[[bytes, int, int, int, NameCache], RData]
"""(message, rdata start, rdata end, rtype, name cache) -> decoded rdata; raises Malformed."""
RDATA_DECODERS: dict[int, RdataDecoder] = {
    1: _rd_address,  # A
    28: _rd_address,  # AAAA
    2: _rd_name,  # NS
    3: _rd_name,  # MD
    4: _rd_name,  # MF
    5: _rd_name,  # CNAME
    7: _rd_name,  # MB
    8: _rd_name,  # MG
    9: _rd_name,  # MR
    12: _rd_name,  # PTR
    39: _rd_name,  # DNAME
    6: _rd_soa,
    15: _rd_mx,
    33: _rd_srv,
    16: _rd_txt,  # TXT
    99: _rd_txt,  # SPF (same format as TXT)
}
"""Record type -> rdata decoder; other types keep their raw rdata only."""


def _quote_string(raw: bytes) -> str:
    out = []
    for b in raw:
        if b in (0x22, 0x5C):
            out.append("\\" + chr(b))
        elif 0x20 <= b <= 0x7E:
            out.append(chr(b))
        else:
            out.append(f"\\{b:03d}")
    return '"' + "".join(out) + '"'


def rdata_text(rr: DnsRecord) -> str:
    """Presentation form of a record's rdata (master-file style, as dig prints it)."""
    data = rr.data
    if isinstance(data, str):
        text = data
    elif isinstance(data, MxData):
        text = f"{data.preference} {data.exchange}"
    elif isinstance(data, SoaData):
        numbers = (data.serial, data.refresh, data.retry, data.expire, data.minimum)
        text = " ".join([data.mname, data.rname, *map(str, numbers)])
    elif isinstance(data, SrvData):
        text = f"{data.priority} {data.weight} {data.port} {data.target}"
    elif isinstance(data, tuple):
        text = " ".join(_quote_string(s) for s in data)
    else:
        text = f"\\# {len(rr.rdata)} {rr.rdata.hex()}" if rr.rdata else "\\# 0"  # RFC 3597 form
    return text if len(text) <= MAX_TXT_RENDER else text[: MAX_TXT_RENDER - 1] + "…"


# --- message parser -------------------------------------------------------------------------------


class _Partial:
    """What has been read of a message so far (kept when a later part breaks)."""

    __slots__ = ("additional", "answers", "authority", "questions")

    def __init__(self) -> None:
        self.questions: list[DnsQuestion] = []
        self.answers: list[DnsRecord] = []
        self.authority: list[DnsRecord] = []
        self.additional: list[DnsRecord] = []


def _read_sections(data: bytes, counts: tuple[int, int, int, int], out: _Partial) -> None:
    qdcount, ancount, nscount, arcount = counts
    cache: NameCache = {}
    size = len(data)
    pos = HEADER_LEN
    budget = MAX_RECORDS_PER_MESSAGE
    for _ in range(qdcount):
        if budget == 0:
            raise Malformed("dns.too_many_records", f"more than {MAX_RECORDS_PER_MESSAGE}")
        budget -= 1
        name, pos = read_name(data, pos, cache)
        if pos + 4 > size:
            raise Malformed("dns.truncated", "question cut")
        qtype, qclass = _QUESTION_FIXED.unpack_from(data, pos)
        pos += 4
        out.questions.append(DnsQuestion(name, qtype, qclass))
    for count, section in ((ancount, out.answers), (nscount, out.authority), (arcount, out.additional)):
        for _ in range(count):
            if budget == 0:
                raise Malformed("dns.too_many_records", f"more than {MAX_RECORDS_PER_MESSAGE}")
            budget -= 1
            name, pos = read_name(data, pos, cache)
            if pos + 10 > size:
                raise Malformed("dns.truncated", "record header cut")
            rtype, rclass, ttl, rdlen = _RR_FIXED.unpack_from(data, pos)
            pos += 10
            end = pos + rdlen
            if end > size:
                raise Malformed("dns.truncated", f"rdata of {rdlen} bytes cut at {size - pos}")
            decoder = RDATA_DECODERS.get(rtype)
            decoded = decoder(data, pos, end, rtype, cache) if decoder is not None else None
            section.append(DnsRecord(name, rtype, rclass, ttl, data[pos:end], decoded))
            pos = end


def parse_message_partial(data: bytes) -> tuple[DnsMessage, Malformed | None]:
    """Parse as much of a message as possible: the message and the error that stopped it, if any.

    Raises Malformed only when the 12-byte header itself is missing.
    """
    if len(data) < HEADER_LEN:
        raise Malformed("dns.short_header", f"{len(data)} bytes")
    ident, flags, qd, an, ns, ar = _HEADER.unpack_from(data)
    out = _Partial()
    error: Malformed | None = None
    try:
        _read_sections(data, (qd, an, ns, ar), out)
    except Malformed as exc:
        error = exc
    message = DnsMessage(
        id=ident,
        qr=bool(flags & 0x8000),
        opcode=(flags >> 11) & 0xF,
        aa=bool(flags & 0x0400),
        tc=bool(flags & 0x0200),
        rd=bool(flags & 0x0100),
        ra=bool(flags & 0x0080),
        z=(flags >> 4) & 0x7,
        rcode=flags & 0xF,
        qdcount=qd,
        ancount=an,
        nscount=ns,
        arcount=ar,
        questions=tuple(out.questions),
        answers=tuple(out.answers),
        authority=tuple(out.authority),
        additional=tuple(out.additional),
        size=len(data),
    )
    return message, error


def parse_message(data: bytes) -> DnsMessage:
    """Parse one whole DNS message; any deviation raises Malformed."""
    message, error = parse_message_partial(data)
    if error is not None:
        raise error
    return message


# --- UDP ------------------------------------------------------------------------------------------


def _service_of(flow_service: str | None, sport: int, dport: int) -> str:
    if flow_service in ("dns", "mdns", "llmnr"):
        return flow_service
    return SERVICE_BY_PORT.get(dport) or SERVICE_BY_PORT.get(sport) or "dns"


def parse(payload: bytes, pkt: Packet) -> list[object]:
    """Datagram parser for DNS, mDNS and LLMNR over UDP: one DnsMessageEvent per datagram."""
    message, error = parse_message_partial(payload)
    flow = pkt.flow
    if isinstance(flow, Flow):
        uid, service = flow.uid, _service_of(flow.service, pkt.sport, pkt.dport)
        orig_h, orig_p, resp_h, resp_p = flow.orig_h, flow.orig_port, flow.resp_h, flow.resp_port
        is_orig = flow.is_from_orig(pkt)
    else:
        uid, service = "", _service_of(None, pkt.sport, pkt.dport)
        orig_h, orig_p, resp_h, resp_p, is_orig = pkt.src, pkt.sport, pkt.dst, pkt.dport, True
    return [
        DnsMessageEvent(
            ts=pkt.ts,
            uid=uid,
            orig_h=orig_h,
            orig_p=orig_p,
            resp_h=resp_h,
            resp_p=resp_p,
            proto="udp",
            service=service,
            is_orig=is_orig,
            message=message,
            malformed=None if error is None else error.reason,
        )
    ]


# --- TCP ------------------------------------------------------------------------------------------


class _Direction:
    """Framing state of one direction of a DNS-over-TCP stream."""

    __slots__ = ("buf", "dead", "skip")

    def __init__(self) -> None:
        self.buf = bytearray()
        """Length prefix and body of the message being assembled (at most 2 + MAX_TCP_MESSAGE)."""
        self.skip = 0
        """Bytes still to drop of a message a gap destroyed (framing resumes after them)."""
        self.dead = False
        """Framing lost (a gap hit a length prefix): the rest of this direction is ignored."""


class DnsTcpDissector:
    """DNS over TCP (RFC 1035 4.2.2, RFC 7766): each message is preceded by a 2-byte length.

    Theory of operation: per direction, bytes accumulate in a buffer until the 2-byte prefix and the
    whole message it announces are present; the message is parsed and the buffer cleared, so the
    buffer never holds more than one incomplete message (bounded by MAX_TCP_MESSAGE). Several
    messages in one chunk, or one message in many chunks, both work. A gap that falls inside a
    message body loses that message only (its remaining bytes are skipped and framing resumes); a
    gap that reaches a length prefix loses the framing and the direction is given up. Each lost
    message is reported as a DnsWeird event; the stream is never detached for a single bad message.
    """

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self._dirs = {True: _Direction(), False: _Direction()}

    def _weird(self, ts: float, reason: str, detail: str) -> DnsWeird:
        return DnsWeird(ts, self.flow.uid, "dns", reason, detail)

    def _message(self, body: bytes, from_client: bool, ts: float) -> object:
        flow = self.flow
        try:
            message, error = parse_message_partial(body)
        except Malformed as exc:
            return self._weird(ts, exc.reason, exc.detail)
        return DnsMessageEvent(
            ts=ts,
            uid=flow.uid,
            orig_h=flow.orig_h,
            orig_p=flow.orig_port,
            resp_h=flow.resp_h,
            resp_p=flow.resp_port,
            proto="tcp",
            service="dns",
            is_orig=from_client,
            message=message,
            malformed=None if error is None else error.reason,
        )

    def opaque(self, from_client: bool) -> int:
        """Reads every byte (message framing is in the stream)."""
        return 0

    def skipped(self, size: int, from_client: bool, ts: float) -> list[object]:
        return []

    def feed(self, data: bytes, from_client: bool, ts: float) -> list[object]:
        d = self._dirs[from_client]
        if d.dead:
            return []
        out: list[object] = []
        pos, size = 0, len(data)
        if d.skip:
            pos = min(d.skip, size)
            d.skip -= pos
        buf = d.buf
        while True:  # ends when the chunk is used up and the buffer needs more
            if len(buf) < 2:
                take = min(2 - len(buf), size - pos)
                buf += data[pos : pos + take]
                pos += take
                if len(buf) < 2:
                    break
            need = 2 + ((buf[0] << 8) | buf[1])
            have = len(buf)
            if have == 2 and size - pos >= need - 2:  # whole body in this chunk: no copy into buf
                body = data[pos : pos + need - 2]
                pos += need - 2
            else:
                take = min(need - have, size - pos)
                buf += data[pos : pos + take]
                pos += take
                if len(buf) < need:
                    break
                body = bytes(buf[2:])
            buf.clear()
            out.append(self._message(body, from_client, ts))
        return out

    def gap(self, size: int, from_client: bool, ts: float) -> list[object]:
        d = self._dirs[from_client]
        if d.dead:
            return []
        if d.skip:
            if size <= d.skip:
                d.skip -= size
                return []
            d.dead = True
            return [self._weird(ts, "dns.tcp_gap", f"{size} bytes missing; framing lost")]
        buf = d.buf
        if len(buf) >= 2:
            remaining = 2 + ((buf[0] << 8) | buf[1]) - len(buf)
            buf.clear()
            if size <= remaining:
                d.skip = remaining - size
                return [self._weird(ts, "dns.tcp_gap", f"{size} bytes missing inside a message; one lost")]
        d.dead = True
        buf.clear()
        return [self._weird(ts, "dns.tcp_gap", f"{size} bytes missing; framing lost")]

    def close(self, ts: float) -> list[object]:
        out: list[object] = []
        for from_client, d in self._dirs.items():
            if d.buf and not d.dead:
                out.append(
                    self._weird(
                        ts,
                        "dns.tcp_incomplete",
                        f"{len(d.buf)} bytes of an unfinished {'query' if from_client else 'reply'} message",
                    )
                )
            d.buf.clear()
        return out


__all__ = [
    "MAX_LABEL_LEN",
    "MAX_NAME_LEN",
    "MAX_RECORDS_PER_MESSAGE",
    "MAX_TCP_MESSAGE",
    "OPCODE_NAMES",
    "QCLASS_NAMES",
    "QTYPE_NAMES",
    "RCODE_NAMES",
    "DnsMessage",
    "DnsMessageEvent",
    "DnsQuestion",
    "DnsRecord",
    "DnsTcpDissector",
    "DnsWeird",
    "MxData",
    "SoaData",
    "SrvData",
    "opcode_name",
    "parse",
    "parse_message",
    "parse_message_partial",
    "qclass_name",
    "qtype_name",
    "rcode_name",
    "rdata_text",
    "read_name",
]
