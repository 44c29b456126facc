"""Payload signatures: does the first payload of a direction look like protocol X?

Each signature is a cheap test of a flow's first bytes (a few comparisons, at most one bounded regex or
a walk of a few length fields), listed in an explicit table with the transport it applies to and its
strength:

- strong: specific enough to name a flow on any port (a magic string, or several fields that must
  agree with each other and with the payload's length: random bytes pass it less than once in 2^32);
- weak: only confirms the service the flow's port proposes (a 1-byte type, a version nibble: random
  data passes often, so on an unusual port it would name noise).

Direction is passed (from_client is the flow originator's side) but most tests ignore it: a flow whose
first packets were missed may have its sides guessed the wrong way round.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from analyzer.dissectors.http_lines import is_http_start

SIGNATURE_WINDOW: Final = 512
"""Bytes of a first payload the text patterns look at: a greeting line is far shorter, and the
regexes' work stays bounded whatever the segment size."""
MAX_TLS_RECORD: Final = (1 << 14) + 2048
"""Largest TLS record length allowed (RFC 8446 5.2: 2^14 plus expansion)."""

Test = Callable[[bytes, bool], bool]


@dataclass(frozen=True, slots=True)
class Signature:
    """One protocol's first-payload test."""

    name: str
    """The service it names (a name of analyzer/ports.py's tables)."""
    transport: str
    """"tcp", "udp" or "any"."""
    strong: bool
    """Names a flow on any port; a weak one only confirms the port's proposal."""
    test: Test
    """(first payload, from the originator's side) -> does it look like this protocol?"""


def _u16(data: bytes, at: int) -> int:
    return (data[at] << 8) | data[at + 1]


def _u32(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 4], "big")


def _ber_length(data: bytes, at: int) -> tuple[int, int]:
    """(length, offset of the contents) of the BER length at `at`; (-1, 0) if unusable."""
    if at >= len(data):
        return -1, 0
    first = data[at]
    if first < 0x80:
        return first, at + 1
    n = first & 0x7F
    if n == 0 or n > 3 or at + 1 + n > len(data):
        return -1, 0
    return int.from_bytes(data[at + 1 : at + 1 + n], "big"), at + 1 + n


def _ber_sequence_fills(data: bytes, tag: int = 0x30) -> int:
    """Offset of the contents of a BER element with `tag` that spans exactly `data`; 0 if not one."""
    if len(data) < 2 or data[0] != tag:
        return 0
    length, at = _ber_length(data, 1)
    return at if length >= 0 and at + length == len(data) else 0


# -- TLS and DTLS ----------------------------------------------------------------------------------------


def is_tls_record(data: bytes, from_client: bool) -> bool:
    """Any TLS record header (handshake, alert, change cipher spec, application data), version 3.x,
    or an SSLv2-compatible ClientHello: enough to confirm a TLS port."""
    if len(data) >= 3 and data[0] in (0x14, 0x15, 0x16, 0x17) and data[1] == 3 and data[2] <= 4:
        return True
    return _is_sslv2_hello(data)


def _is_sslv2_hello(data: bytes) -> bool:
    # 2-byte length with the high bit set, msg type 1, version 0x0002 or 3.x, cipher specs of 3 bytes
    if len(data) < 11 or not data[0] & 0x80 or data[2] != 1:
        return False
    if not (data[3:5] == b"\x00\x02" or (data[3] == 3 and data[4] <= 4)):
        return False
    length = ((data[0] & 0x7F) << 8) | data[1]
    specs = _u16(data, 5)
    return specs % 3 == 0 and specs > 0 and 9 + specs <= length


def is_tls_hello(data: bytes, from_client: bool) -> bool:
    """A TLS handshake record opening with a ClientHello or ServerHello whose lengths agree: record
    type 0x16, version 0x0300-0x0304, handshake type 1 or 2, handshake length within the record (or
    the record spanning segments), hello version 3.x. Strong enough for any port."""
    if len(data) < 11 or data[0] != 0x16 or data[1] != 3 or data[2] > 4:
        return False
    rec_len = _u16(data, 3)
    if rec_len < 4 or rec_len > MAX_TLS_RECORD or data[5] not in (1, 2):
        return False
    hs_len = int.from_bytes(data[6:9], "big")
    if hs_len + 4 > rec_len:
        return False
    return hs_len >= 38 and data[9] == 3 and data[10] <= 4


def is_dtls(data: bytes, from_client: bool) -> bool:
    """A DTLS 1.0/1.2/1.3-compatible record: content type 20-23, version 0xFEFF or 0xFEFD, epoch and
    sequence, a length that fits the datagram."""
    if len(data) < 13 or data[0] not in (0x14, 0x15, 0x16, 0x17) or data[1] != 0xFE:
        return False
    if data[2] not in (0xFF, 0xFD):
        return False
    return 0 < _u16(data, 11) <= len(data) - 13


# -- remote access, file and mail -------------------------------------------------------------------------

_SSH: Final = re.compile(rb"^SSH-(2\.0|1\.99|1\.5)-[\x21-\x7e]")


def is_ssh(data: bytes, from_client: bool) -> bool:
    return bool(_SSH.match(data[:64]))


def is_telnet_port(data: bytes, from_client: bool) -> bool:
    """An option negotiation (IAC WILL/WONT/DO/DONT) or subnegotiation (IAC SB): one is enough on
    port 23."""
    return len(data) >= 2 and data[0] == 0xFF and data[1] >= 0xFA


def is_telnet(data: bytes, from_client: bool) -> bool:
    """Two or more whole option negotiations (IAC WILL/WONT/DO/DONT option), nothing else: strong."""
    if len(data) < 6 or len(data) % 3:
        return False
    for at in range(0, len(data), 3):
        if data[at] != 0xFF or not 0xFB <= data[at + 1] <= 0xFE or data[at + 2] > 50:
            return False
    return True


def is_rdp(data: bytes, from_client: bool) -> bool:
    """TPKT (03 00, length = the payload) carrying an X.224 Connection Request (0xE0) or Confirm
    (0xD0) whose length indicator fills the TPKT."""
    if len(data) < 11 or data[0] != 3 or data[1] != 0 or _u16(data, 2) != len(data):
        return False
    return data[4] == len(data) - 5 and data[5] in (0xE0, 0xD0)


def is_vnc(data: bytes, from_client: bool) -> bool:
    return data[:4] == b"RFB " and data[7:8] == b"." and data[4:7].isdigit()


def is_rsync(data: bytes, from_client: bool) -> bool:
    return data.startswith(b"@RSYNCD: ")


def is_git(data: bytes, from_client: bool) -> bool:
    # pkt-line: four hex digits of length, then the service request
    return len(data) > 8 and data[4:8] == b"git-" and all(c in b"0123456789abcdef" for c in data[:4])


def is_smb(data: bytes, from_client: bool) -> bool:
    """NetBIOS session message (type 0) carrying an SMB1 (0xFF), SMB2/3 (0xFE) or transform (0xFD)
    header: strong."""
    return len(data) >= 8 and data[0] == 0x00 and data[4] in (0xFF, 0xFE, 0xFD) and data[5:8] == b"SMB"


def is_smb_port(data: bytes, from_client: bool) -> bool:
    """Also a NetBIOS session request (0x81) / positive response (0x82), as sent first on port 139."""
    return is_smb(data, from_client) or (len(data) >= 4 and data[0] in (0x81, 0x82) and data[1] <= 1)


_SMTP_GREETING: Final = re.compile(rb"^220[ -].*(E?SMTP|mail|Postfix|Exim|Sendmail)", re.I)
_SMTP_STRONG: Final = re.compile(rb"^220[ -].*(E?SMTP|Postfix|Exim|Sendmail)", re.I)
_FTP_GREETING: Final = re.compile(rb"^220[ -].*(FTP|FileZilla|vsftpd|ProFTPD)", re.I)


def is_smtp(data: bytes, from_client: bool) -> bool:
    if from_client:
        return data[:5].upper() in (b"EHLO ", b"HELO ")
    head = data[:SIGNATURE_WINDOW]
    if _SMTP_STRONG.match(head):
        return True
    # "mail" alone is weak: "220 ProFTPD Server (mail.example.com)" is an FTP greeting
    return bool(_SMTP_GREETING.match(head)) and not _FTP_GREETING.match(head)


def is_ftp(data: bytes, from_client: bool) -> bool:
    # the client's USER is shared with POP3: only the server's greeting tells FTP apart
    return not from_client and bool(_FTP_GREETING.match(data[:SIGNATURE_WINDOW]))


def is_pop3(data: bytes, from_client: bool) -> bool:
    return not from_client and data.startswith(b"+OK")


def is_imap(data: bytes, from_client: bool) -> bool:
    return not from_client and data[:5].upper() in (b"* OK ", b"* PRE")


_NNTP: Final = re.compile(rb"^20[01] .*(NNTP|news)", re.I)


def is_nntp(data: bytes, from_client: bool) -> bool:
    return bool(_NNTP.match(data[:SIGNATURE_WINDOW]))


# -- databases and message queues -------------------------------------------------------------------------

_MYSQL_VERSION: Final = re.compile(rb"^\d{1,2}\.\d{1,2}\.\d{1,3}[\x20-\x7e]{0,60}\x00")


def is_mysql(data: bytes, from_client: bool) -> bool:
    """The server's greeting: 3-byte little-endian length that spans the packet, sequence 0, protocol
    10, then a NUL-terminated version string such as "8.0.36"."""
    if len(data) < 20 or data[3] != 0 or data[4] != 10:
        return False
    length = int.from_bytes(data[0:3], "little")
    return length + 4 == len(data) and bool(_MYSQL_VERSION.match(data[5:80]))


def is_mysql_port(data: bytes, from_client: bool) -> bool:
    """Also any packet header whose length spans the segment (a greeting we missed, an error)."""
    return is_mysql(data, from_client) or (
        len(data) >= 5 and int.from_bytes(data[0:3], "little") + 4 == len(data) and data[3] <= 3
    )


_PG_CODES: Final = (0x00030000, 0x04D2162F, 0x04D21630, 0x04D2162E)
"""Protocol 3.0 StartupMessage, SSLRequest, GSSENCRequest, CancelRequest."""


def is_postgresql(data: bytes, from_client: bool) -> bool:
    """A startup packet: 4-byte length equal to the payload, then protocol 3.0 (with "user" in its
    parameters) or an SSL/GSS encryption or cancel request code."""
    if len(data) < 8 or _u32(data, 0) != len(data):
        return False
    code = _u32(data, 4)
    if code == 0x00030000:
        return b"user\x00" in data[8:]
    return code in _PG_CODES and len(data) in (8, 16)


def is_redis(data: bytes, from_client: bool) -> bool:
    """A RESP array of bulk strings: `*N\\r\\n$M\\r\\n`."""
    return bool(re.match(rb"^\*\d{1,4}\r\n\$\d{1,9}\r\n", data[:32]))


_MONGO_OPCODES: Final = (1, 2004, 2012, 2013)
"""OP_REPLY, OP_QUERY, OP_COMPRESSED, OP_MSG."""


def is_mongodb(data: bytes, from_client: bool) -> bool:
    """A message header: little-endian length equal to the payload, request id, response-to and an
    opcode of the current protocol."""
    if len(data) < 21 or int.from_bytes(data[0:4], "little") != len(data):
        return False
    return int.from_bytes(data[12:16], "little") in _MONGO_OPCODES


def is_mqtt(data: bytes, from_client: bool) -> bool:
    """CONNECT (0x10) with the protocol name "MQTT" (3.1.1, 5) or "MQIsdp" (3.1)."""
    if len(data) < 12 or data[0] != 0x10:
        return False
    at = 1
    while at < 5 and data[at] & 0x80:  # remaining-length varint
        at += 1
    name = data[at + 1 : at + 9]
    return name.startswith(b"\x00\x04MQTT") or name.startswith(b"\x00\x06MQIsdp")


def is_amqp(data: bytes, from_client: bool) -> bool:
    return data.startswith(b"AMQP") and len(data) == 8


def is_zabbix(data: bytes, from_client: bool) -> bool:
    return data.startswith(b"ZBXD")


def is_nats(data: bytes, from_client: bool) -> bool:
    return data.startswith(b"INFO {") or data.startswith(b"CONNECT {")


def is_stomp(data: bytes, from_client: bool) -> bool:
    return data.startswith((b"CONNECT\n", b"STOMP\n", b"CONNECT\r\n", b"STOMP\r\n", b"CONNECTED\n"))


def is_java_rmi(data: bytes, from_client: bool) -> bool:
    return data.startswith(b"JRMI\x00")


# -- directory, RPC, infrastructure -----------------------------------------------------------------------


def is_ldap(data: bytes, from_client: bool) -> bool:
    """An LDAPMessage: a BER sequence spanning the payload, an INTEGER message id, then an application
    tag (BindRequest 0x60 ... ExtendedResponse 0x78, UnbindRequest 0x42, DelRequest 0x4A)."""
    at = _ber_sequence_fills(data)
    if not at or at + 3 > len(data) or data[at] != 0x02 or not 1 <= data[at + 1] <= 4:
        return False
    op = at + 2 + data[at + 1]
    return op < len(data) and (0x60 <= data[op] <= 0x79 or data[op] in (0x42, 0x4A, 0x50))


_KERBEROS_TAGS: Final = (0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F, 0x7E)
"""AS-REQ, AS-REP, TGS-REQ, TGS-REP, AP-REQ, AP-REP, KRB-ERROR (ASN.1 application tags)."""


def is_kerberos_udp(data: bytes, from_client: bool) -> bool:
    return len(data) > 4 and data[0] in _KERBEROS_TAGS and _ber_sequence_fills(data, data[0]) > 0


def is_kerberos_tcp(data: bytes, from_client: bool) -> bool:
    """A 4-byte record length, then a Kerberos message whose BER length agrees (or a record spanning
    segments)."""
    if len(data) < 8 or data[4] not in _KERBEROS_TAGS:
        return False
    length, at = _ber_length(data, 5)
    return length >= 0 and at + length - 4 == _u32(data, 0)


_RPC_PROGRAMS: Final = {100000: "portmap", 100003: "nfs", 100005: "mount", 100021: "nlm", 100024: "status"}
"""ONC RPC program numbers a call names (portmapper, NFS and its side protocols)."""


def _rpc_call(data: bytes, at: int) -> int:
    """The program number of an ONC RPC call at `at` (xid, type 0, RPC version 2); -1 if not one."""
    if len(data) < at + 24 or _u32(data, at + 4) != 0 or _u32(data, at + 8) != 2:
        return -1
    return _u32(data, at + 12)


def _rpc_record(data: bytes) -> int:
    """Offset of an RPC message behind a TCP record mark (last fragment, length = the rest)."""
    if len(data) < 28 or not data[0] & 0x80:
        return -1
    return 4 if _u32(data, 0) & 0x7FFFFFFF == len(data) - 4 else -1


def is_nfs(data: bytes, from_client: bool) -> bool:
    at = _rpc_record(data) if data[:1] and data[0] & 0x80 else 0
    return at >= 0 and _rpc_call(data, at) == 100003


def is_sunrpc(data: bytes, from_client: bool) -> bool:
    at = _rpc_record(data) if data[:1] and data[0] & 0x80 else 0
    return at >= 0 and _rpc_call(data, at) in _RPC_PROGRAMS


def is_dcerpc(data: bytes, from_client: bool) -> bool:
    """A DCE/RPC connection-oriented PDU: version 5.0/5.1, a known packet type, little- or big-endian
    data representation, fragment length equal to the payload."""
    if len(data) < 16 or data[0] != 5 or data[1] > 1 or data[2] > 19 or data[4] not in (0x10, 0x00):
        return False
    frag = int.from_bytes(data[8:10], "little" if data[4] == 0x10 else "big")
    return frag == len(data)


def is_bgp(data: bytes, from_client: bool) -> bool:
    return len(data) >= 19 and data[:16] == b"\xff" * 16 and 1 <= data[18] <= 5


def is_pptp(data: bytes, from_client: bool) -> bool:
    return len(data) >= 12 and data[2:4] == b"\x00\x01" and data[4:8] == b"\x1a\x2b\x3c\x4d"


def is_socks(data: bytes, from_client: bool) -> bool:
    """SOCKS5 greeting (05, N, N methods) or SOCKS4 CONNECT/BIND ending in a NUL user id."""
    if len(data) >= 3 and data[0] == 5 and data[1] == len(data) - 2:
        return all(m <= 9 or m >= 0x80 for m in data[2:])
    return len(data) >= 9 and data[0] == 4 and data[1] in (1, 2) and data[-1] == 0


def is_modbus(data: bytes, from_client: bool) -> bool:
    """MBAP header: protocol id 0, length = the rest, a public function code."""
    return len(data) >= 8 and data[2:4] == b"\x00\x00" and _u16(data, 4) == len(data) - 6 and data[7] < 0x80


def is_tpkt(data: bytes, from_client: bool) -> bool:
    return len(data) >= 7 and data[0] == 3 and data[1] == 0 and _u16(data, 2) == len(data)


def is_iec104(data: bytes, from_client: bool) -> bool:
    return len(data) >= 6 and data[0] == 0x68 and data[1] == len(data) - 2


def is_dnp3(data: bytes, from_client: bool) -> bool:
    return len(data) >= 10 and data[0] == 0x05 and data[1] == 0x64


def is_openvpn_tcp(data: bytes, from_client: bool) -> bool:
    # 2-byte packet length, then opcode P_CONTROL_HARD_RESET_CLIENT/SERVER_V2/V3 (7, 8, 10) << 3
    return len(data) >= 16 and _u16(data, 0) == len(data) - 2 and data[2] >> 3 in (7, 8, 10)


def is_openvpn_udp(data: bytes, from_client: bool) -> bool:
    return len(data) >= 14 and data[0] >> 3 in (7, 8, 10, 4, 5)


def is_bittorrent(data: bytes, from_client: bool) -> bool:
    return data.startswith(b"\x13BitTorrent protocol")


_IRC: Final = re.compile(rb"^(NICK [^\s]+\r?\n|CAP LS|:[^\s]+ NOTICE [^\s]+ :)")


def is_irc(data: bytes, from_client: bool) -> bool:
    return bool(_IRC.match(data[:SIGNATURE_WINDOW]))


def is_xmpp(data: bytes, from_client: bool) -> bool:
    head = data[:SIGNATURE_WINDOW]
    return (head.startswith(b"<?xml") or head.startswith(b"<stream:stream")) and b"jabber" in head


_RTSP: Final = re.compile(rb"^([A-Z_]{3,13} rtsp://|RTSP/1\.0 \d{3})")


def is_rtsp(data: bytes, from_client: bool) -> bool:
    return bool(_RTSP.match(data[:64]))


def is_http(data: bytes, from_client: bool) -> bool:
    # any of Wireshark's request methods, or a status line; direction is not trusted
    return is_http_start(data)


_SIP: Final = re.compile(
    rb"^((INVITE|REGISTER|OPTIONS|ACK|BYE|CANCEL|SUBSCRIBE|NOTIFY|MESSAGE|INFO|PRACK|UPDATE|REFER|PUBLISH)"
    rb" sips?:|SIP/2\.0 \d{3} )"
)


def is_sip(data: bytes, from_client: bool) -> bool:
    return bool(_SIP.match(data[:64]))


# -- UDP --------------------------------------------------------------------------------------------------


def _dns_name_end(data: bytes, at: int) -> int:
    """Offset after an uncompressed DNS name at `at` (labels of 1-63 bytes, at most 255 bytes); -1."""
    start = at
    while at < len(data) and at - start <= 255:
        n = data[at]
        if n == 0:
            return at + 1
        if n > 63:
            return -1
        at += 1 + n
    return -1


def is_dns(data: bytes, from_client: bool) -> bool:
    """A DNS message: opcode 0 (QUERY), small section counts, and either one question with a
    well-formed name followed by its type and class IN (or mDNS's unicast-response bit), or (a
    response without question, as mDNS announces) a first answer whose name and fixed fields fit."""
    if len(data) < 17 or (data[2] >> 3) & 0x0F != 0:
        return False
    qd, an = _u16(data, 4), _u16(data, 6)
    if an > 100 or _u16(data, 8) > 100 or _u16(data, 10) > 100:
        return False
    end = _dns_name_end(data, 12)
    if qd == 1:
        return end > 0 and end + 4 <= len(data) and _u16(data, end + 2) & 0x7FFF in (1, 255)
    if qd == 0 and an >= 1 and data[2] & 0x80:
        return end > 0 and end + 10 + _u16(data, end + 8) <= len(data) if end + 10 <= len(data) else False
    return False


def is_ntp(data: bytes, from_client: bool) -> bool:
    """48 bytes (or with a key id and digest) whose first byte has version 1-4 and mode 1-5."""
    if len(data) not in (48, 52, 60, 68, 72):
        return False
    version, mode = (data[0] >> 3) & 7, data[0] & 7
    return 1 <= version <= 4 and 1 <= mode <= 5


def is_ntp_port(data: bytes, from_client: bool) -> bool:
    """Also NTP control (mode 6) and private (mode 7, ntpdc) messages."""
    return is_ntp(data, from_client) or (
        len(data) >= 8 and (data[0] & 7) in (6, 7) and 1 <= (data[0] >> 3) & 7 <= 4
    )


def is_stun(data: bytes, from_client: bool) -> bool:
    """RFC 5389: first two bits 0, the magic cookie 0x2112A442, attribute length (a multiple of 4) equal
    to the rest."""
    return (
        len(data) >= 20
        and data[0] < 0x40
        and data[4:8] == b"\x21\x12\xa4\x42"
        and _u16(data, 2) == len(data) - 20
        and _u16(data, 2) % 4 == 0
    )


def is_stun_port(data: bytes, from_client: bool) -> bool:
    """Also classic STUN (RFC 3489, no cookie): binding request/response with a consistent length."""
    return is_stun(data, from_client) or (
        len(data) >= 20 and data[0] in (0, 1) and data[1] in (0x01, 0x11) and _u16(data, 2) == len(data) - 20
    )


_SSDP: Final = re.compile(
    rb"^(M-SEARCH \* HTTP/1\.1\r\n|NOTIFY \* HTTP/1\.1\r\n|HTTP/1\.1 200 OK\r\n.*\r\nST: )", re.S
)


def is_ssdp(data: bytes, from_client: bool) -> bool:
    return bool(_SSDP.match(data[:SIGNATURE_WINDOW]))


def is_nbns(data: bytes, from_client: bool) -> bool:
    """NetBIOS name service: a DNS-like header whose single question (or answer) is a 32-character
    first-level-encoded NetBIOS name (letters A-P)."""
    if len(data) < 50 or data[12] != 0x20 or _u16(data, 4) + _u16(data, 6) != 1:
        return False
    return all(0x41 <= c <= 0x50 for c in data[13:45])


def is_netbios_dgm(data: bytes, from_client: bool) -> bool:
    # direct unique/group/broadcast datagram, error, query; its length field covers the rest
    return len(data) >= 14 and 0x10 <= data[0] <= 0x16


def is_snmp(data: bytes, from_client: bool) -> bool:
    """A BER sequence spanning the datagram, INTEGER version 0 (v1), 1 (v2c) or 3, then an OCTET
    STRING community (v1/v2c) or the v3 header sequence."""
    at = _ber_sequence_fills(data)
    if not at or data[at : at + 2] != b"\x02\x01" or at + 3 >= len(data):
        return False
    version, nxt = data[at + 2], data[at + 3]
    return (version in (0, 1) and nxt == 0x04) or (version == 3 and nxt == 0x30)


_SYSLOG: Final = re.compile(
    rb"^<\d{1,3}>(1 \d{4}-\d\d-\d\dT|1 - |[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d |\d{4}-\d\d-\d\dT)"
)
_SYSLOG_PRI: Final = re.compile(rb"^<\d{1,3}>")


def is_syslog(data: bytes, from_client: bool) -> bool:
    """<PRI> followed by an RFC 5424 version and timestamp or an RFC 3164 timestamp: strong."""
    return bool(_SYSLOG.match(data[:64]))


def is_syslog_port(data: bytes, from_client: bool) -> bool:
    return bool(_SYSLOG_PRI.match(data[:8]))


_QUIC_VERSIONS: Final = (0x00000001, 0x6B3343CF, 0x00000000)
"""QUIC v1, v2 and version negotiation (drafts, 0xff0000xx, and 0xfaceb00x are matched apart)."""


def is_quic(data: bytes, from_client: bool) -> bool:
    """A QUIC long header (fixed bit set) of a known version with connection-ID lengths that fit, or a
    Google QUIC packet carrying its "Q0xx" version."""
    if len(data) >= 7 and data[0] & 0xC0 == 0xC0:
        version = _u32(data, 1)
        known = (
            version in _QUIC_VERSIONS
            or version >> 8 == 0xFF0000
            or version >> 4 == 0xFACEB00
            or data[1:3] in (b"Q0", b"T0")
        )
        dcid = data[5]
        return known and dcid <= 20 and 6 + dcid < len(data) and data[6 + dcid] <= 20
    return len(data) >= 13 and data[0] & 0x01 == 1 and data[9:11] == b"Q0" and data[11:13].isdigit()


def is_quic_port(data: bytes, from_client: bool) -> bool:
    """Also a short-header packet (fixed bit set, long-header bit clear) on the QUIC port."""
    return is_quic(data, from_client) or (len(data) >= 20 and data[0] & 0xC0 == 0x40)


def is_tftp(data: bytes, from_client: bool) -> bool:
    """A read/write request: opcode 1 or 2, a NUL-terminated file name, a transfer mode."""
    if len(data) < 9 or data[0] != 0 or data[1] not in (1, 2):
        return False
    end = data.find(b"\x00", 2)
    return end > 2 and data[end + 1 :].lower().startswith((b"octet\x00", b"netascii\x00", b"mail\x00"))


def is_bittorrent_dht(data: bytes, from_client: bool) -> bool:
    """A bencoded KRPC message: a dictionary whose first keys are a query's arguments or a reply."""
    return data.startswith((b"d1:ad2:id20:", b"d1:rd2:id20:", b"d1:eli", b"d2:ip", b"d1:ad2:id"))


def is_radius(data: bytes, from_client: bool) -> bool:
    return (
        len(data) >= 20
        and data[0] in (1, 2, 3, 4, 5, 11, 12, 13, 40, 41, 42, 43, 44, 45)
        and _u16(data, 2) == len(data)
    )


def is_isakmp(data: bytes, from_client: bool) -> bool:
    """IKE header (behind the 4-byte non-ESP marker on 4500): version 1.0 or 2.0, length = the rest."""
    at = 4 if data[:4] == b"\x00\x00\x00\x00" else 0
    return len(data) >= at + 28 and data[at + 17] in (0x10, 0x20) and _u32(data, at + 24) == len(data) - at


def is_wireguard(data: bytes, from_client: bool) -> bool:
    """Handshake initiation (148 bytes), response (92) or cookie reply (64): type, three zero bytes."""
    if len(data) < 32 or data[1:4] != b"\x00\x00\x00":
        return False
    return (data[0], len(data)) in ((1, 148), (2, 92), (3, 64))


def is_wireguard_port(data: bytes, from_client: bool) -> bool:
    return is_wireguard(data, from_client) or (
        len(data) >= 32 and data[0] == 4 and data[1:4] == b"\x00\x00\x00" and len(data) % 16 == 0
    )


def is_rtcp(data: bytes, from_client: bool) -> bool:
    """An RTCP compound packet opening with a sender (200) or receiver (201) report of version 2
    whose length in 32-bit words is exactly that of its report blocks (RC of them), within the
    datagram."""
    if len(data) < 8 or data[0] >> 6 != 2 or data[1] not in (200, 201) or len(data) % 4:
        return False
    size = (_u16(data, 2) + 1) * 4
    blocks = 24 * (data[0] & 0x1F)
    return size <= len(data) and size == (28 if data[1] == 200 else 8) + blocks


def is_bitcoin(data: bytes, from_client: bool) -> bool:
    """A Bitcoin P2P message: main-network magic, then a NUL-padded command such as "version"."""
    return data.startswith(b"\xf9\xbe\xb4\xd9") and len(data) >= 24 and data[4:16].rstrip(b"\x00").isalpha()


def is_bittorrent_lsd(data: bytes, from_client: bool) -> bool:
    return data.startswith(b"BT-SEARCH * HTTP/1.1\r\n")


def is_source_engine(data: bytes, from_client: bool) -> bool:
    return data.startswith(b"\xff\xff\xff\xffTSource Engine Query")


_RTP_STATIC_TYPES: Final = frozenset((0, 3, 4, 8, 9, 13, 18, 26, 31, 32, 33, 34))
"""Static RTP payload types in use (PCMU, GSM, G723, PCMA, G722, CN, G729, JPEG, H261, MPV, MP2T,
H263); 96-127 are dynamic."""
RTP_HEADER: Final = 12
"""Bytes of the fixed RTP header two datagrams are compared on."""
MAX_RTP_SEQ_STEP: Final = 8
"""Largest sequence-number step between the first two datagrams of one RTP stream (a few lost)."""


def is_rtp_header(data: bytes) -> bool:
    """Version 2, no padding, no CSRC, a static or dynamic payload type, a non-zero SSRC: weak alone
    (about one random datagram in a thousand passes), so RTP is named only when two datagrams agree
    (see `rtp_pair`)."""
    return len(data) >= RTP_HEADER + 8 and _rtp_fields(data)


def _rtp_fields(data: bytes) -> bool:
    if len(data) < RTP_HEADER or data[0] not in (0x80, 0x90):
        return False
    pt = data[1] & 0x7F
    return (pt in _RTP_STATIC_TYPES or pt >= 96) and data[8:12] != b"\x00\x00\x00\x00"


def rtp_pair(first: bytes, second: bytes) -> bool:
    """Two datagrams of one RTP stream (`first` may be only its header): both RTP headers, the same
    SSRC and payload type, the sequence number a few steps on and the timestamp not going back.
    Random data passes less than once in 2^40."""
    if not (_rtp_fields(first) and is_rtp_header(second)):
        return False
    if first[8:12] != second[8:12] or first[1] & 0x7F != second[1] & 0x7F:
        return False
    step = (_u16(second, 2) - _u16(first, 2)) & 0xFFFF
    return 0 < step <= MAX_RTP_SEQ_STEP and (_u32(second, 4) - _u32(first, 4)) & 0xFFFFFFFF < 1 << 24


def is_spotify(data: bytes, from_client: bool) -> bool:
    return data.startswith(b"SpotUdp")


def is_dropbox(data: bytes, from_client: bool) -> bool:
    return data.startswith(b'{"host_int"')


def is_coap(data: bytes, from_client: bool) -> bool:
    return len(data) >= 4 and data[0] >> 6 == 1 and data[0] & 0x0F <= 8


def is_ws_discovery(data: bytes, from_client: bool) -> bool:
    return data.lstrip()[:5] == b"<?xml" or data.lstrip()[:6] == b"<soap:"


SIGNATURES: Final[tuple[Signature, ...]] = (
    # strong: magic strings, or several fields that agree with each other and with the length.
    # Order matters where two could match: SIP and RTSP before HTTP (they share request-line shapes).
    Signature("tls", "tcp", True, is_tls_hello),
    Signature("ssh", "tcp", True, is_ssh),
    Signature("sip", "any", True, is_sip),
    Signature("rtsp", "tcp", True, is_rtsp),
    Signature("http", "tcp", True, is_http),
    Signature("smb", "tcp", True, is_smb),
    Signature("smtp", "tcp", True, is_smtp),
    Signature("ftp", "tcp", True, is_ftp),
    Signature("pop3", "tcp", True, is_pop3),
    Signature("imap", "tcp", True, is_imap),
    Signature("bittorrent", "tcp", True, is_bittorrent),
    Signature("rdp", "tcp", True, is_rdp),
    Signature("mysql", "tcp", True, is_mysql),
    Signature("postgresql", "tcp", True, is_postgresql),
    Signature("redis", "tcp", True, is_redis),
    Signature("mqtt", "tcp", True, is_mqtt),
    Signature("vnc", "tcp", True, is_vnc),
    Signature("telnet", "tcp", True, is_telnet),
    Signature("rsync", "tcp", True, is_rsync),
    Signature("git", "tcp", True, is_git),
    Signature("amqp", "tcp", True, is_amqp),
    Signature("zabbix", "tcp", True, is_zabbix),
    Signature("java-rmi", "tcp", True, is_java_rmi),
    Signature("pptp", "tcp", True, is_pptp),
    Signature("bgp", "tcp", True, is_bgp),
    Signature("dcerpc", "tcp", True, is_dcerpc),
    Signature("irc", "tcp", True, is_irc),
    Signature("xmpp", "tcp", True, is_xmpp),
    Signature("nfs", "any", True, is_nfs),
    Signature("sunrpc", "any", True, is_sunrpc),
    Signature("stun", "udp", True, is_stun),
    Signature("dtls", "udp", True, is_dtls),
    Signature("quic", "udp", True, is_quic),
    Signature("ssdp", "udp", True, is_ssdp),
    Signature("netbios-ns", "udp", True, is_nbns),
    Signature("snmp", "udp", True, is_snmp),
    Signature("syslog", "udp", True, is_syslog),
    Signature("tftp", "udp", True, is_tftp),
    Signature("bittorrent", "udp", True, is_bittorrent_dht),
    Signature("wireguard", "udp", True, is_wireguard),
    Signature("dropbox", "udp", True, is_dropbox),
    Signature("spotify", "udp", True, is_spotify),
    Signature("bitcoin", "tcp", True, is_bitcoin),
    Signature("bittorrent", "udp", True, is_bittorrent_lsd),
    Signature("source-engine", "udp", True, is_source_engine),
    Signature("rtcp", "udp", True, is_rtcp),
    # weak: only confirm the port's proposal
    Signature("tls", "tcp", False, is_tls_record),
    Signature("smb", "tcp", False, is_smb_port),
    Signature("telnet", "tcp", False, is_telnet_port),
    Signature("mysql", "tcp", False, is_mysql_port),
    Signature("mongodb", "tcp", False, is_mongodb),
    Signature("ldap", "any", False, is_ldap),
    Signature("kerberos", "udp", False, is_kerberos_udp),
    Signature("kerberos", "tcp", False, is_kerberos_tcp),
    Signature("socks", "tcp", False, is_socks),
    Signature("modbus", "tcp", False, is_modbus),
    Signature("s7comm", "tcp", False, is_tpkt),
    Signature("h323", "tcp", False, is_tpkt),
    Signature("iec104", "tcp", False, is_iec104),
    Signature("dnp3", "tcp", False, is_dnp3),
    Signature("nntp", "tcp", False, is_nntp),
    Signature("stomp", "tcp", False, is_stomp),
    Signature("nats", "tcp", False, is_nats),
    Signature("openvpn", "tcp", False, is_openvpn_tcp),
    Signature("openvpn", "udp", False, is_openvpn_udp),
    Signature("dns", "udp", False, is_dns),
    Signature("mdns", "udp", False, is_dns),
    Signature("llmnr", "udp", False, is_dns),
    Signature("ntp", "udp", False, is_ntp_port),
    Signature("stun", "udp", False, is_stun_port),
    Signature("quic", "udp", False, is_quic_port),
    Signature("netbios-dgm", "udp", False, is_netbios_dgm),
    Signature("syslog", "udp", False, is_syslog_port),
    Signature("radius", "udp", False, is_radius),
    Signature("isakmp", "udp", False, is_isakmp),
    Signature("wireguard", "udp", False, is_wireguard_port),
    Signature("coap", "udp", False, is_coap),
    Signature("ws-discovery", "udp", False, is_ws_discovery),
)
"""Every payload signature, strong ones first, in the order they are tried."""


def _table(transport: str, strong: bool) -> tuple[tuple[str, Test], ...]:
    return tuple(
        (s.name, s.test) for s in SIGNATURES if s.strong == strong and s.transport in (transport, "any")
    )


def _confirmers(transport: str) -> dict[str, tuple[Test, ...]]:
    out: dict[str, tuple[Test, ...]] = {}
    for s in SIGNATURES:
        if s.transport in (transport, "any"):
            out[s.name] = (*out.get(s.name, ()), s.test)
    return out


STRONG_TCP: Final = _table("tcp", True)
"""(service, test) of the strong TCP signatures, in order."""
STRONG_UDP: Final = _table("udp", True)
"""(service, test) of the strong UDP signatures, in order."""
CONFIRM_TCP: Final = _confirmers("tcp")
"""TCP service -> every test (strong or weak) that confirms it."""
CONFIRM_UDP: Final = _confirmers("udp")
"""UDP service -> every test (strong or weak) that confirms it."""
