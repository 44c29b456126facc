"""Explicit tables that wire protocols together: ports to services, services to dissectors, trackers.

No registration by import side effects: to add a protocol, add its lines here.
Classification is hybrid (the port proposes, the payload confirms); see `analyzer/classify.py`.
"""

from __future__ import annotations

from analyzer.decode import ICMP, ICMPV6
from analyzer.dissectors.base import DatagramParser, StreamDissectorFactory
from analyzer.trackers.conn import ConnTracker

UDP_SERVICES: dict[int, str] = {
    53: "dns",
    5353: "mdns",
    5355: "llmnr",
    67: "dhcp",
    68: "dhcp",
}
"""Well-known UDP ports and the service they propose."""

TCP_SERVICES: dict[int, str] = {
    53: "dns",
    80: "http",
    8080: "http",
    443: "tls",
    25: "smtp",
    587: "smtp",
    465: "smtps",
    110: "pop3",
    995: "pop3s",
    143: "imap",
    993: "imaps",
    21: "ftp",
    20: "ftp-data",
    990: "ftps",
    445: "smb",
    139: "smb",
}
"""Well-known TCP ports and the service they propose."""

DATAGRAM_PARSERS: dict[str, DatagramParser] = {}
"""UDP service -> datagram parser."""

ICMP_PARSERS: dict[int, DatagramParser] = {}
"""IP protocol (ICMP, ICMPv6) -> datagram parser of the whole ICMP message."""

STREAM_DISSECTORS: dict[str, StreamDissectorFactory] = {}
"""TCP service -> stream dissector class (one instance per flow)."""

TRACKERS: list[type] = [ConnTracker]
"""Every tracker the pipeline builds; each declares the event types it consumes."""

__all__ = [
    "DATAGRAM_PARSERS",
    "ICMP",
    "ICMPV6",
    "ICMP_PARSERS",
    "STREAM_DISSECTORS",
    "TCP_SERVICES",
    "TRACKERS",
    "UDP_SERVICES",
]
