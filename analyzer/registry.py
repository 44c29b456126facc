"""Explicit tables that wire protocols together: ports to services, services to dissectors, trackers.

No registration by import side effects: to add a protocol, add its lines here.
Classification is hybrid (the port proposes, the payload confirms); see `analyzer/classify.py`. The
port tables live in `analyzer/ports.py` (a leaf module) and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from analyzer.decode import ICMP, ICMPV6
from analyzer.dissectors import dhcp as dhcp_dissector
from analyzer.dissectors import dns as dns_dissector
from analyzer.dissectors import ftp as ftp_dissector
from analyzer.dissectors import netbeui as netbeui_dissector
from analyzer.dissectors import smb as smb_dissector
from analyzer.dissectors.base import DatagramParser, FlowDatagramDissectorFactory, StreamDissectorFactory
from analyzer.dissectors.dbtls import MysqlDissector, PostgresqlDissector
from analyzer.dissectors.dhcp import DhcpMessage, Dhcpv6Message
from analyzer.dissectors.dns import DnsMessageEvent, DnsWeird
from analyzer.dissectors.http import HttpDissector
from analyzer.dissectors.icmp import IcmpMessage, parse_icmpv4, parse_icmpv6
from analyzer.dissectors.imap import ImapDissector
from analyzer.dissectors.pop3 import Pop3Dissector
from analyzer.dissectors.quic import QuicDissector, QuicWeird, looks_like_quic
from analyzer.dissectors.smb import SmbWeird
from analyzer.dissectors.smtp import SmtpDissector
from analyzer.dissectors.tls import TlsDissector, TlsMalformedMessage
from analyzer.ports import TCP_SERVICES, UDP_SERVICES  # the port tables live in a leaf module
from analyzer.trackers.conn import ConnTracker
from analyzer.trackers.dhcp import DhcpTracker, Dhcpv6Tracker
from analyzer.trackers.dns import DnsTracker
from analyzer.trackers.ftp import FtpTracker
from analyzer.trackers.http import HttpTracker
from analyzer.trackers.icmp import IcmpTracker
from analyzer.trackers.mail import MailTracker
from analyzer.trackers.ndp import NdpTracker
from analyzer.trackers.quic import QuicTracker
from analyzer.trackers.services import ServicesTracker
from analyzer.trackers.smb import SmbTracker
from analyzer.trackers.tls import TlsTracker
from analyzer.trackers.tunnels import TunnelTracker

DATAGRAM_PARSERS: Final[dict[str, DatagramParser]] = {
    "dhcp": dhcp_dissector.parse,
    "dhcpv6": dhcp_dissector.parse_v6,
    "dns": dns_dissector.parse,
    "mdns": dns_dissector.parse,
    "llmnr": dns_dissector.parse,
    "netbios-dgm": smb_dissector.parse_datagram,
}
"""UDP service -> datagram parser."""

UDP_DISSECTORS: Final[dict[str, FlowDatagramDissectorFactory]] = {
    "quic": QuicDissector,  # Initial keys, CRYPTO reassembly and connection IDs span datagrams
}
"""UDP service -> per-flow dissector (one instance per flow, fed each datagram whole): for
protocols whose state spans datagrams."""

UDP_SIGNATURES: Final[dict[str, Callable[[bytes], bool]]] = {
    "quic": looks_like_quic,  # a v1/v2 client Initial on any port
}
"""UDP service -> does the first datagram of a flow on a port no service claims look like it?"""

ICMP_PARSERS: Final[dict[int, DatagramParser]] = {
    ICMP: parse_icmpv4,
    ICMPV6: parse_icmpv6,  # also decodes Neighbor Discovery (types 133-137)
}
"""IP protocol (ICMP, ICMPv6) -> datagram parser of the whole ICMP message."""

CARRIER_PARSERS: Final[dict[str, DatagramParser]] = {
    "nbf": netbeui_dissector.parse_carried,
    "ipx": netbeui_dissector.parse_carried,
}
"""Non-IP carrier marked by the decoder (NetBIOS Frames, IPX) -> parser of the SMB it carries."""

STREAM_DISSECTORS: Final[dict[str, StreamDissectorFactory]] = {
    "dns": dns_dissector.DnsTcpDissector,
    "tls": TlsDissector,
    "smtps": TlsDissector,  # implicit TLS: the whole stream is TLS
    "pop3s": TlsDissector,
    "imaps": TlsDissector,
    "ftps": TlsDissector,
    "http": HttpDissector,
    "smtp": SmtpDissector,
    "pop3": Pop3Dissector,
    "imap": ImapDissector,
    "ftp": ftp_dissector.FtpDissector,
    "ftp-data": ftp_dissector.FtpDataDissector,
    "smb": smb_dissector.SmbDissector,
    "mysql": MysqlDissector,  # until its SSL request: then TLS on the same stream
    "postgresql": PostgresqlDissector,  # until SSLRequest/'S': then TLS on the same stream
}
"""TCP service -> stream dissector class (one instance per flow)."""

TRACKERS: Final[list[type]] = [
    ConnTracker,
    DhcpTracker,
    Dhcpv6Tracker,
    DnsTracker,
    IcmpTracker,
    NdpTracker,
    TlsTracker,
    HttpTracker,
    MailTracker,
    FtpTracker,
    SmbTracker,
    TunnelTracker,
    ServicesTracker,
    QuicTracker,
]
"""Every tracker the pipeline builds; each declares the event types it consumes."""

__all__ = [
    "CARRIER_PARSERS",
    "DATAGRAM_PARSERS",
    "ICMP",
    "ICMPV6",
    "ICMP_PARSERS",
    "STREAM_DISSECTORS",
    "TCP_SERVICES",
    "TRACKERS",
    "UDP_DISSECTORS",
    "UDP_SERVICES",
    "UDP_SIGNATURES",
]


Reasons = Callable[[Any], list[tuple[str, str]]]


def _field(name: str) -> Reasons:
    """(reason, "") for an event whose `name` field holds a malformed reason or None."""

    def reasons(event: Any) -> list[tuple[str, str]]:
        value = getattr(event, name)
        return [(value, "")] if value else []

    return reasons


def _each(name: str) -> Reasons:
    """(reason, "") for every reason in an event's tuple field `name`."""

    def reasons(event: Any) -> list[tuple[str, str]]:
        return [(r, "") for r in getattr(event, name)]

    return reasons


def _reason_detail(event: Any) -> list[tuple[str, str]]:
    return [(event.reason, event.detail)]


TOLERATED_MALFORMED: Final[dict[type, Reasons]] = {
    IcmpMessage: _field("malformed"),
    DnsMessageEvent: _field("malformed"),
    DnsWeird: _reason_detail,
    DhcpMessage: _each("problems"),
    Dhcpv6Message: _each("problems"),
    TlsMalformedMessage: _reason_detail,
    SmbWeird: _reason_detail,
    QuicWeird: _reason_detail,
}
"""Events that report a problem the dissector tolerated (the message is still counted, as tshark
counts it) -> the (reason, detail) pairs the pipeline adds to the summary's `malformed` counts and the
weird list, so every malformation is visible in one place whichever dissector met it."""
