"""DNS (RFC 1035 and successors): message parser, name tables, UDP datagram parser, TCP stream dissector.

The same wire format serves DNS proper (port 53), mDNS (5353, RFC 6762) and LLMNR (5355, RFC 4795);
the event carries the service so the tracker counts each in its own section.

Names are decompressed with loop safety: a compression pointer must point strictly before the start
of the run of labels that contains it (the name's first byte, or the target of the previous pointer).
Every jump therefore lands earlier than the last one, so decompression always ends; a pointer to
itself or into its own run is a loop, a pointer past itself is a forward pointer, a pointer beyond
the message is out of bounds. All three are `Malformed`. Labels are at most 63 bytes and a name at
most 255 bytes on the wire (RFC 1035 2.3.4); the 0x40/0x80 label types are rejected.

Decoded names are cached per message by the offset where they were read and by every pointer target
followed, so a message full of pointers to the same name costs one decode of that name.

Cost (measured 2026-12-04, compiled build, callgrind): a query costs ~6,000 instructions from payload
to event, a response with an answer a little more. The classes below are built by compiled
`__init__`s (see "message model"), not by the generated `__init__` of frozen dataclasses, which
took ~60% of the time before.

A message whose 12-byte header is readable is always reported (tshark counts it from its header);
when a later part is broken, the event carries the parts read before the break and the reason.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from analyzer.decode import ip_text
from analyzer.errors import Malformed
from analyzer.flows import Flow

if TYPE_CHECKING:
    from analyzer.decode import Packet

# --- limits -------------------------------------------------------------------------------------

HEADER_LEN: Final = 12
"""Fixed DNS header size (RFC 1035 4.1.1)."""
MAX_LABEL_LEN: Final = 63
"""Longest label (RFC 1035 2.3.4); the two top bits of a length byte are the label type."""
MAX_NAME_LEN: Final = 255
"""Longest name on the wire, length bytes and the root byte included (RFC 1035 2.3.4)."""
MAX_RECORDS_PER_MESSAGE: Final = 2048
"""Questions + resource records decoded from one message. A 64 KiB message holds at most ~6000
minimal records; 2048 covers real AXFR chunks while bounding the work an adversarial message costs.
Beyond it the message is reported as far as it was read (reason dns.too_many_records)."""
MAX_TCP_MESSAGE: Final = 0xFFFF
"""Largest DNS-over-TCP message: the 2-byte length prefix (RFC 1035 4.2.2). A direction's buffer
never holds more than one incomplete message plus its prefix, so it is bounded by this."""
MAX_TXT_RENDER: Final = 512
"""Characters of TXT/unknown rdata kept in the text rendering of one record (JSON stays small)."""

# --- name tables ----------------------------------------------------------------------------------

QTYPE_NAMES: Final[dict[int, str]] = {
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

QCLASS_NAMES: Final[dict[int, str]] = {1: "IN", 2: "CS", 3: "CH", 4: "HS", 254: "NONE", 255: "ANY"}
"""DNS classes (IANA "DNS CLASSes"); unknown ones show as CLASS<n>."""

RCODE_NAMES: Final[dict[int, str]] = {
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

OPCODE_NAMES: Final[dict[int, str]] = {
    0: "QUERY",
    1: "IQUERY",
    2: "STATUS",
    4: "NOTIFY",
    5: "UPDATE",
    6: "DSO",
}
"""Header opcodes (IANA "DNS OpCodes"); unknown ones show as OPCODE<n>."""

SERVICE_BY_PORT: Final[dict[int, str]] = {53: "dns", 5353: "mdns", 5355: "llmnr"}
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
#
# Every message, question, record and event of this module is a slotted dataclass with `Final` fields
# and a hand-written `__init__` (`init=False`), not a frozen dataclass: a frozen dataclass's `__init__`
# is generated at run time and sets each field through `object.__setattr__`, interpreted even in the
# compiled build (~0.9 us for a 3-field DnsQuestion, ~2.3 us for an event, measured 2026-12-04),
# while this `__init__` compiles to plain stores (~0.03 us). They stay immutable: mypy rejects any
# assignment to a `Final` field outside `__init__`, and compiled classes refuse it at run time. They
# stay dataclasses (`dataclasses.fields`, equality, repr): the JSON of `events` and the `--jobs`
# pickling read their fields, so field names and order are the contract. Not hashable (none was hashed).


@dataclass(slots=True, init=False)
class MxData:
    """MX rdata (RFC 1035 3.3.9)."""

    preference: Final[int]
    """Lower is preferred."""
    exchange: Final[str]
    """Mail exchanger host name."""

    def __init__(self, preference: int, exchange: str) -> None:
        self.preference = preference
        self.exchange = exchange


@dataclass(slots=True, init=False)
class SoaData:
    """SOA rdata (RFC 1035 3.3.13)."""

    mname: Final[str]
    """Primary name server of the zone."""
    rname: Final[str]
    """Mailbox of the person responsible, as a name."""
    serial: Final[int]
    """Zone serial number."""
    refresh: Final[int]
    """Seconds before secondaries refresh."""
    retry: Final[int]
    """Seconds between retries of a failed refresh."""
    expire: Final[int]
    """Seconds after which secondaries stop answering."""
    minimum: Final[int]
    """Negative-caching TTL (RFC 2308)."""

    def __init__(
        self, mname: str, rname: str, serial: int, refresh: int, retry: int, expire: int, minimum: int
    ) -> None:
        self.mname = mname
        self.rname = rname
        self.serial = serial
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.minimum = minimum


@dataclass(slots=True, init=False)
class SrvData:
    """SRV rdata (RFC 2782)."""

    priority: Final[int]
    """Lower is tried first."""
    weight: Final[int]
    """Relative weight among equal priorities."""
    port: Final[int]
    """Service port."""
    target: Final[str]
    """Host offering the service."""

    def __init__(self, priority: int, weight: int, port: int, target: str) -> None:
        self.priority = priority
        self.weight = weight
        self.port = port
        self.target = target


RData = str | MxData | SoaData | SrvData | tuple[bytes, ...] | None
"""Decoded rdata: an address or a name (str), MX/SOA/SRV structures, TXT strings, or None (not decoded)."""


@dataclass(slots=True, init=False)
class DnsQuestion:
    """One entry of the question (for UPDATE: zone) section."""

    name: Final[str]
    """Queried name in presentation form ("<Root>" for the root)."""
    qtype: Final[int]
    """Record type asked for."""
    qclass: Final[int]
    """Class as on the wire (mDNS sets the top bit for "unicast response wanted")."""

    def __init__(self, name: str, qtype: int, qclass: int) -> None:
        self.name = name
        self.qtype = qtype
        self.qclass = qclass

    @property
    def qtype_name(self) -> str:
        return qtype_name(self.qtype)


@dataclass(slots=True, init=False)
class DnsRecord:
    """One resource record of the answer, authority or additional section."""

    name: Final[str]
    """Owner name in presentation form."""
    rtype: Final[int]
    """Record type."""
    rclass: Final[int]
    """Class as on the wire (OPT: the sender's UDP payload size; mDNS: top bit is cache-flush)."""
    ttl: Final[int]
    """Time to live, seconds (OPT: extended rcode, version and flags)."""
    rdata: Final[bytes]
    """Raw rdata bytes (names inside may be compression pointers into the message)."""
    data: Final[RData]
    """Decoded rdata for A, AAAA, NS, CNAME, PTR, DNAME, MX, SOA, SRV, TXT and the old mailbox types."""

    def __init__(self, name: str, rtype: int, rclass: int, ttl: int, rdata: bytes, data: RData) -> None:
        self.name = name
        self.rtype = rtype
        self.rclass = rclass
        self.ttl = ttl
        self.rdata = rdata
        self.data = data

    @property
    def rtype_name(self) -> str:
        return qtype_name(self.rtype)


@dataclass(slots=True, init=False)
class DnsMessage:
    """A parsed DNS message (header and the sections that could be read)."""

    id: Final[int]
    """Transaction id."""
    qr: Final[bool]
    """True for a response."""
    opcode: Final[int]
    """Kind of query (0 QUERY, 4 NOTIFY, 5 UPDATE, ...)."""
    aa: Final[bool]
    """Authoritative answer."""
    tc: Final[bool]
    """Truncated."""
    rd: Final[bool]
    """Recursion desired."""
    ra: Final[bool]
    """Recursion available."""
    z: Final[int]
    """The three bits between RA and RCODE (Z, AD, CD), as Zeek's dns.log shows them."""
    rcode: Final[int]
    """The 4-bit header response code (not merged with the EDNS extension)."""
    qdcount: Final[int]
    """Questions announced by the header."""
    ancount: Final[int]
    """Answers announced by the header."""
    nscount: Final[int]
    """Authority records announced by the header."""
    arcount: Final[int]
    """Additional records announced by the header."""
    questions: Final[tuple[DnsQuestion, ...]]
    """Questions read."""
    answers: Final[tuple[DnsRecord, ...]]
    """Answer records read."""
    authority: Final[tuple[DnsRecord, ...]]
    """Authority records read."""
    additional: Final[tuple[DnsRecord, ...]]
    """Additional records read."""
    size: Final[int]
    """Message length in bytes."""

    def __init__(
        self,
        id: int,  # named as in RFC 1035 and the JSON
        qr: bool,
        opcode: int,
        aa: bool,
        tc: bool,
        rd: bool,
        ra: bool,
        z: int,
        rcode: int,
        qdcount: int,
        ancount: int,
        nscount: int,
        arcount: int,
        questions: tuple[DnsQuestion, ...],
        answers: tuple[DnsRecord, ...],
        authority: tuple[DnsRecord, ...],
        additional: tuple[DnsRecord, ...],
        size: int,
    ) -> None:
        self.id = id
        self.qr = qr
        self.opcode = opcode
        self.aa = aa
        self.tc = tc
        self.rd = rd
        self.ra = ra
        self.z = z
        self.rcode = rcode
        self.qdcount = qdcount
        self.ancount = ancount
        self.nscount = nscount
        self.arcount = arcount
        self.questions = questions
        self.answers = answers
        self.authority = authority
        self.additional = additional
        self.size = size

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


@dataclass(slots=True, init=False)
class DnsMessageEvent:
    """One DNS, mDNS or LLMNR message seen on the wire."""

    ts: Final[float]
    """Packet time of the message (TCP: of the segment that completed it)."""
    uid: Final[str]
    """uid of the flow carrying it."""
    orig_h: Final[str]
    """Flow originator address."""
    orig_p: Final[int]
    """Flow originator port."""
    resp_h: Final[str]
    """Flow responder address."""
    resp_p: Final[int]
    """Flow responder port."""
    proto: Final[str]
    """Transport: udp or tcp."""
    service: Final[str]
    """dns, mdns or llmnr."""
    is_orig: Final[bool]
    """True when the flow's originator sent it."""
    message: Final[DnsMessage]
    """The parsed message (possibly partial, see `malformed`)."""
    malformed: Final[str | None]
    """Reason the message could not be read to its end, None when it parsed completely."""

    def __init__(
        self,
        ts: float,
        uid: str,
        orig_h: str,
        orig_p: int,
        resp_h: str,
        resp_p: int,
        proto: str,
        service: str,
        is_orig: bool,
        message: DnsMessage,
        malformed: str | None = None,
    ) -> None:
        self.ts = ts
        self.uid = uid
        self.orig_h = orig_h
        self.orig_p = orig_p
        self.resp_h = resp_h
        self.resp_p = resp_p
        self.proto = proto
        self.service = service
        self.is_orig = is_orig
        self.message = message
        self.malformed = malformed

    @property
    def src_h(self) -> str:
        """Sender address."""
        return self.orig_h if self.is_orig else self.resp_h

    @property
    def dst_h(self) -> str:
        """Receiver address."""
        return self.resp_h if self.is_orig else self.orig_h


@dataclass(slots=True, init=False)
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

    ts: Final[float]
    """Packet time."""
    uid: Final[str]
    """uid of the flow."""
    service: Final[str]
    """dns, mdns or llmnr."""
    reason: Final[str]
    """Short stable key, e.g. dns.tcp_gap."""
    detail: Final[str]
    """Human-readable detail."""

    def __init__(self, ts: float, uid: str, service: str, reason: str, detail: str) -> None:
        self.ts = ts
        self.uid = uid
        self.service = service
        self.reason = reason
        self.detail = detail


# --- names ------------------------------------------------------------------------------------------

_PLAIN_BYTES: Final = bytes(1 if 0x21 <= b <= 0x7E and b not in (0x2E, 0x5C) else 0 for b in range(256))
"""Label bytes printed as they are (1): printable ASCII except '.' and '\\' (and space)."""
_LABEL_CHARS: Final = [
    chr(b) if _PLAIN_BYTES[b] else {0x2E: "\\.", 0x5C: "\\\\"}.get(b, f"\\{b:03d}") for b in range(256)
]
"""Presentation of each label byte: itself when plain, "\\." and "\\\\" for the two specials, else \\DDD."""
_DOTTED: Final = bytes(b if _PLAIN_BYTES[b] else 0x2E for b in range(256))
"""`translate` table: plain bytes stay, every other byte becomes '.'."""
ROOT_NAME: Final = "<Root>"
"""Presentation of the root name (as Wireshark shows it)."""


def _label_text(data: bytes, start: int, stop: int) -> str:
    """Presentation form of the label bytes data[start:stop] (escaped as dig escapes them)."""
    plain = _PLAIN_BYTES
    for i in range(start, stop):
        if not plain[data[i]]:
            return "".join([_LABEL_CHARS[b] for b in data[start:stop]])
    return data[start:stop].decode("ascii")


def _run_text(data: bytes, start: int, stop: int) -> str:
    """Presentation form of the run of labels data[start:stop] (length bytes included, checked by
    the caller; at least one label), dot-separated.

    The common case costs three C-level passes over one copy (~1,600 instructions for a 4-label name
    against ~4,500 label by label, callgrind): `_DOTTED` turns every byte that is not plain into a
    dot; when no length byte is itself plain (labels of 1-32 or 46 bytes) and the copy then holds
    exactly one dot per label, those dots are the length bytes and every other byte was plain."""
    labels = 0
    pos = start
    while pos < stop:
        length = data[pos]
        if _PLAIN_BYTES[length]:  # a length byte that would stay itself: go label by label
            return _labels_text(data, start, stop)
        labels += 1
        pos += 1 + length
    text = data[start:stop].translate(_DOTTED).decode("ascii")
    if text.count(".") == labels:
        return text[1:]
    return _labels_text(data, start, stop)


def _labels_text(data: bytes, start: int, stop: int) -> str:
    """_run_text label by label (a byte to escape, or a length byte that is a plain character)."""
    labels: list[str] = []
    pos = start
    while pos < stop:
        after = pos + 1 + data[pos]
        labels.append(_label_text(data, pos + 1, after))
        pos = after
    return ".".join(labels)


NameCache = dict[int, tuple[str, int]]
"""Per-message cache: offset where a name was read, or a pointer led -> (the name from there in
presentation form, "" for the root; its wire length from there, root byte included)."""


def read_name(data: bytes, offset: int, cache: NameCache | None = None) -> tuple[str, int]:
    """Decode the (possibly compressed) name at `offset`: (presentation text, offset after it)."""
    text, end = _read_name(data, offset, {} if cache is None else cache)
    return text or ROOT_NAME, end


def _read_name(data: bytes, offset: int, cache: NameCache | None) -> tuple[str, int]:
    """read_name with "" for the root; see the module docstring for the pointer rules.

    The labels are checked as they are walked and turned into text once per run (the labels
    between two pointers). Every name read is cached by its offset, and so is the suffix at every
    pointer target it followed: decoding from an offset gives the same result whatever led there
    (the pointer rules depend only on where each run starts), so a pointer to a cached offset
    takes the text as it is, checking only the total length. No cache (None): a message with
    nothing after its only question, where no pointer can follow."""
    wire = 0  # bytes of the labels walked so far, length bytes included
    pos = run_start = offset
    end = -1  # offset after the name where it started (set at the first pointer or the root byte)
    runs: list[str] | None = None  # text of each run ended by a pointer (then the last run, or tail)
    jumps: list[tuple[int, int]] | None = None  # (target, wire before it) of each pointer followed
    size = len(data)
    while True:
        if pos >= size:
            raise Malformed("dns.name_truncated", f"name at {offset} runs past the end")
        length = data[pos]
        if length >= 0xC0:
            if pos + 1 >= size:
                raise Malformed("dns.name_truncated", f"pointer at {pos} cut")
            target = ((length & 0x3F) << 8) | data[pos + 1]
            if end < 0:
                end = pos + 2
            if target >= size:
                raise Malformed("dns.pointer_out_of_bounds", f"pointer at {pos} to {target} of {size}")
            if target > pos:
                raise Malformed("dns.pointer_forward", f"pointer at {pos} to {target}")
            if target >= run_start:
                raise Malformed("dns.pointer_loop", f"pointer at {pos} to {target}")
            if runs is None:
                runs = []
            runs.append(_run_text(data, run_start, pos) if pos > run_start else "")
            cached = cache.get(target) if cache is not None else None
            if cached is not None:
                tail, tail_wire = cached
                if wire + tail_wire > MAX_NAME_LEN:
                    raise Malformed("dns.name_too_long", f"name at {offset}")
                wire += tail_wire
                runs.append(tail)
                break
            if jumps is None:
                jumps = []
            jumps.append((target, wire))
            pos = run_start = target
            continue
        if length >= 0x40:
            raise Malformed("dns.bad_label_type", f"label type 0x{length & 0xC0:02x} at {pos}")
        if length == 0:
            wire += 1
            if end < 0:
                end = pos + 1
            if runs is not None:
                runs.append(_run_text(data, run_start, pos) if pos > run_start else "")
            break
        pos += 1 + length
        if pos > size:
            raise Malformed("dns.name_truncated", f"label at {pos - 1 - length} runs past the end")
        wire += 1 + length
        if wire + 1 > MAX_NAME_LEN:
            raise Malformed("dns.name_too_long", f"name at {offset} exceeds {MAX_NAME_LEN} bytes")
    if runs is None:  # no pointer: one run, from offset to the root byte
        text = _run_text(data, offset, pos) if pos > offset else ""
        if cache is not None:
            cache[offset] = (text, wire)
        return text, end
    text = _joined(runs, 0)
    if cache is not None:
        cache[offset] = (text, wire)
        if jumps is not None:
            for k, (target, wire_before) in enumerate(jumps):
                cache[target] = (_joined(runs, k + 1), wire - wire_before)
    return text, end


def _joined(runs: list[str], first: int) -> str:
    """The texts runs[first:] that are not empty, dot-separated."""
    return ".".join([run for run in runs[first:] if run])


# --- rdata ----------------------------------------------------------------------------------------

_SOA_NUMBERS: Final = struct.Struct("!IIIII")
_SRV_FIXED: Final = struct.Struct("!HHH")


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
    return MxData(_u16(data, start), exchange)


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
RDATA_DECODERS: Final[dict[int, RdataDecoder]] = {
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


def _u16(data: bytes, pos: int) -> int:
    """Big-endian 16-bit number at `pos` (the caller checked the bounds)."""
    return (data[pos] << 8) | data[pos + 1]


def _read_questions(
    data: bytes, count: int, pos: int, cache: NameCache | None, out: list[DnsQuestion]
) -> int:
    """Read `count` questions from `pos` into `out` (kept when a later one breaks); the offset after."""
    size = len(data)
    for _ in range(count):
        name, pos = _read_name(data, pos, cache)
        if pos + 4 > size:
            raise Malformed("dns.truncated", "question cut")
        out.append(DnsQuestion(name or ROOT_NAME, _u16(data, pos), _u16(data, pos + 2)))
        pos += 4
    return pos


def _read_records(data: bytes, count: int, pos: int, cache: NameCache, out: list[DnsRecord]) -> int:
    """Read `count` resource records from `pos` into `out` (kept when a later one breaks); the offset
    after them."""
    size = len(data)
    for _ in range(count):
        name, pos = _read_name(data, pos, cache)
        if pos + 10 > size:
            raise Malformed("dns.truncated", "record header cut")
        rtype = _u16(data, pos)
        rclass = _u16(data, pos + 2)
        ttl = (_u16(data, pos + 4) << 16) | _u16(data, pos + 6)
        rdlen = _u16(data, pos + 8)
        pos += 10
        end = pos + rdlen
        if end > size:
            raise Malformed("dns.truncated", f"rdata of {rdlen} bytes cut at {size - pos}")
        decoder = RDATA_DECODERS.get(rtype)
        decoded = decoder(data, pos, end, rtype, cache) if decoder is not None else None
        out.append(DnsRecord(name or ROOT_NAME, rtype, rclass, ttl, data[pos:end], decoded))
        pos = end
    return pos


def parse_message_partial(data: bytes) -> tuple[DnsMessage, Malformed | None]:
    """Parse as much of a message as possible: the message and the error that stopped it, if any.

    Raises Malformed only when the 12-byte header itself is missing.
    """
    size = len(data)
    if size < HEADER_LEN:
        raise Malformed("dns.short_header", f"{size} bytes")
    flags = _u16(data, 2)
    qdcount, ancount, nscount, arcount = _u16(data, 4), _u16(data, 6), _u16(data, 8), _u16(data, 10)
    qd, an, ns, ar = qdcount, ancount, nscount, arcount  # what will be read
    questions: list[DnsQuestion] = []
    answers: list[DnsRecord] | None = None  # a list only for a section that has records
    authority: list[DnsRecord] | None = None
    additional: list[DnsRecord] | None = None
    error: Malformed | None = None
    if qd + an + ns + ar > MAX_RECORDS_PER_MESSAGE:  # read up to the limit, then say why it stopped
        error = Malformed("dns.too_many_records", f"more than {MAX_RECORDS_PER_MESSAGE}")
        room = MAX_RECORDS_PER_MESSAGE
        qd = min(qd, room)
        room -= qd
        an = min(an, room)
        room -= an
        ns = min(ns, room)
        ar = min(ar, room - ns)
    try:
        if an or ns or ar or qd > 1:
            cache: NameCache = {}
            pos = _read_questions(data, qd, HEADER_LEN, cache, questions)
            if an:
                answers = []
                pos = _read_records(data, an, pos, cache, answers)
            if ns:
                authority = []
                pos = _read_records(data, ns, pos, cache, authority)
            if ar:
                additional = []
                _read_records(data, ar, pos, cache, additional)
        elif qd:  # one question and nothing after it: no pointer can follow, no cache
            _read_questions(data, 1, HEADER_LEN, None, questions)
    except Malformed as exc:
        error = exc
    message = DnsMessage(
        _u16(data, 0),
        bool(flags & 0x8000),
        (flags >> 11) & 0xF,
        bool(flags & 0x0400),
        bool(flags & 0x0200),
        bool(flags & 0x0100),
        bool(flags & 0x0080),
        (flags >> 4) & 0x7,
        flags & 0xF,
        qdcount,
        ancount,
        nscount,
        arcount,
        tuple(questions),
        tuple(answers) if answers else (),
        tuple(authority) if authority else (),
        tuple(additional) if additional else (),
        size,
    )
    return message, error


def parse_message(data: bytes) -> DnsMessage:
    """Parse one whole DNS message; any deviation raises Malformed."""
    message, error = parse_message_partial(data)
    if error is not None:
        raise error
    return message


# --- UDP ------------------------------------------------------------------------------------------


class _FlowTexts:
    """The endpoint texts of the last flow a DNS datagram came on: a response mostly follows its
    query on the same flow, and then costs a pointer comparison instead of two table lookups. (It
    holds that one flow object a little past its end; nothing else.)"""

    __slots__ = ("flow", "orig_h", "resp_h")

    def __init__(self) -> None:
        self.flow: Flow | None = None
        self.orig_h = ""
        self.resp_h = ""


_LAST_FLOW: Final = _FlowTexts()


def _service_of(flow_service: str | None, sport: int, dport: int) -> str:
    if flow_service in ("dns", "mdns", "llmnr"):
        return flow_service
    return SERVICE_BY_PORT.get(dport) or SERVICE_BY_PORT.get(sport) or "dns"


def parse(payload: bytes, pkt: Packet) -> list[object]:
    """Datagram parser for DNS, mDNS and LLMNR over UDP: one DnsMessageEvent per datagram."""
    message, error = parse_message_partial(payload)
    malformed = None if error is None else error.reason
    flow = pkt.flow
    if isinstance(flow, Flow):
        last = _LAST_FLOW
        if last.flow is not flow:
            last.flow = flow
            last.orig_h = ip_text(flow.orig_ip)
            last.resp_h = ip_text(flow.resp_ip)
        event = DnsMessageEvent(
            pkt.ts,
            flow.uid,
            last.orig_h,
            flow.orig_port,
            last.resp_h,
            flow.resp_port,
            "udp",
            _service_of(flow.service, pkt.sport, pkt.dport),
            flow.is_from_orig(pkt),
            message,
            malformed,
        )
    else:
        service = _service_of(None, pkt.sport, pkt.dport)
        event = DnsMessageEvent(
            pkt.ts, "", pkt.src, pkt.sport, pkt.dst, pkt.dport, "udp", service, True, message, malformed
        )
    return [event]


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
            ts,
            flow.uid,
            ip_text(flow.orig_ip),
            flow.orig_port,
            ip_text(flow.resp_ip),
            flow.resp_port,
            "tcp",
            "dns",
            from_client,
            message,
            None if error is None else error.reason,
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
