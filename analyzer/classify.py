"""Hybrid service classification of TCP flows: the well-known port proposes, the payload confirms.

`classify(flow, payload, from_client)` is called with the first payload of a direction. It returns
(service, how) where how is "both" (port and payload agree), "payload" (payload recognised on
another port), or "port" (only the port speaks; the payload proved nothing either way). A payload
recognised as a different protocol than the port proposes wins, and the flow is a mismatch.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from analyzer.dissectors.dbtls import is_mysql_greeting, is_postgresql_start
from analyzer.dissectors.http import is_http_start
from analyzer.registry import TCP_SERVICES


def _is_tls(data: bytes, from_client: bool) -> bool:
    # record type handshake/alert/ccs/appdata, version 3.x
    if len(data) >= 3 and data[0] in (0x14, 0x15, 0x16, 0x17) and data[1] == 3 and data[2] <= 4:
        return True
    # SSLv2-compatible ClientHello: 2-byte length with the high bit set, then msg type 1
    return len(data) >= 3 and data[0] & 0x80 != 0 and data[2] == 1 and from_client


def _is_http(data: bytes, from_client: bool) -> bool:
    # any of Wireshark's request methods, or a status line; direction is not trusted (a flow whose
    # first packet was missed may have its client and server guessed the wrong way round)
    return is_http_start(data)


def _is_smb(data: bytes, from_client: bool) -> bool:
    # NetBIOS session message (type 0) carrying an SMB1 (0xFF), SMB2/3 (0xFE) or transform (0xFD) header
    if len(data) >= 8 and data[0] == 0x00 and data[4] in (0xFF, 0xFE, 0xFD) and data[5:8] == b"SMB":
        return True
    # NetBIOS session request (0x81) / positive response (0x82), as sent first on port 139
    return len(data) >= 4 and data[0] in (0x81, 0x82) and data[1] <= 1


SIGNATURE_WINDOW = 512
"""Bytes of a first payload the greeting patterns look at: a greeting line is far shorter, and the
regexes' work stays bounded whatever the segment size."""

_SMTP_GREETING = re.compile(rb"^220[ -].*(E?SMTP|mail|Postfix|Exim|Sendmail)", re.I)
_SMTP_STRONG = re.compile(rb"^220[ -].*(E?SMTP|Postfix|Exim|Sendmail)", re.I)
_FTP_GREETING = re.compile(rb"^220[ -].*(FTP|FileZilla|vsftpd|ProFTPD)", re.I)


def _is_smtp(data: bytes, from_client: bool) -> bool:
    if from_client:
        return data[:5].upper() in (b"EHLO ", b"HELO ")
    head = data[:SIGNATURE_WINDOW]
    if _SMTP_STRONG.match(head):
        return True
    # "mail" alone is weak: "220 ProFTPD Server (mail.example.com)" is an FTP greeting
    return bool(_SMTP_GREETING.match(head)) and not _FTP_GREETING.match(head)


def _is_ftp(data: bytes, from_client: bool) -> bool:
    # the client's USER is shared with POP3: only the server's greeting tells FTP apart
    return not from_client and bool(_FTP_GREETING.match(data[:SIGNATURE_WINDOW]))


def _is_pop3(data: bytes, from_client: bool) -> bool:
    return not from_client and data.startswith(b"+OK")


def _is_imap(data: bytes, from_client: bool) -> bool:
    return not from_client and data[:5].upper() in (b"* OK ", b"* PRE")


def _is_dns_tcp(data: bytes, from_client: bool) -> bool:
    return False  # recognised by port only: a 2-byte length prefix proves little


PAYLOAD_SIGNATURES: dict[str, Callable[[bytes, bool], bool]] = {
    "tls": _is_tls,
    "http": _is_http,
    "smb": _is_smb,
    "smtp": _is_smtp,
    "ftp": _is_ftp,
    "pop3": _is_pop3,
    "imap": _is_imap,
    "postgresql": is_postgresql_start,
    "mysql": is_mysql_greeting,
}
"""Service -> does this first payload look like it? Checked in this order."""

IMPLICIT_TLS = {"smtps": "smtp", "pop3s": "pop3", "imaps": "imap", "ftps": "ftp", "tls": "tls"}
"""Ports whose protocol runs inside TLS from the first byte: the payload says TLS."""


def port_service(orig_port: int, resp_port: int) -> str | None:
    """The service the responder's port proposes (or, failing that, the originator's)."""
    return TCP_SERVICES.get(resp_port) or TCP_SERVICES.get(orig_port)


def classify(port_label: str | None, payload: bytes, from_client: bool) -> tuple[str | None, str | None]:
    """(service, how) for a flow whose port proposes `port_label`, given a first payload."""
    port_signature = PAYLOAD_SIGNATURES.get(port_label or "")
    if port_signature is not None and port_signature(payload, from_client):
        return port_label, "both"  # the port's own protocol matches: it wins over any other match
    seen = next((name for name, sig in PAYLOAD_SIGNATURES.items() if sig(payload, from_client)), None)
    if seen is None:
        return (port_label, "port") if port_label else (None, None)
    if port_label is None:
        return seen, "payload"
    if seen == port_label or (seen == "tls" and port_label in IMPLICIT_TLS):
        return port_label, "both"
    return seen, "payload"
