"""Header decoding: link layers, IP (with tunnels and fragments), TCP, UDP, ICMP and ICMPv6.

The package keeps the names of the former `analyzer/decode.py`: import them from `analyzer.decode`.
`core` holds the Decoder (the layer walk), `packet` the Packet view and constants, `fragments` IP
reassembly, `quoted` ICMP-quoted datagrams; `tunnels`, `wifi` and `llc` parse the headers of UDP/GRE
tunnels, 802.11 with its radio headers, and 802.2 LLC with NetBIOS Frames and IPX.
"""

from analyzer.decode.core import Decoder
from analyzer.decode.fragments import FragmentReassembler
from analyzer.decode.packet import (
    ACK,
    ETHERTYPE_IPV4,
    ETHERTYPE_IPV6,
    FIN,
    FRAGMENT_TIMEOUT,
    ICMP,
    ICMPV4_COUNTERPARTS,
    ICMPV4_ERROR_TYPES,
    ICMPV6,
    ICMPV6_COUNTERPARTS,
    ICMPV6_ERROR_TYPES,
    MAX_ENCAPSULATION_DEPTH,
    MAX_FRAGMENT_BYTES,
    MAX_FRAGMENTED_DATAGRAMS,
    MAX_IP_DATAGRAM,
    MAX_IPV6_EXT_HEADERS,
    MAX_MPLS_LABELS,
    MAX_VLAN_TAGS,
    PSH,
    RST,
    SYN,
    TCP,
    TEREDO_PORT,
    UDP,
    Packet,
    TunnelHop,
    ip_text,
    mac_text,
)
from analyzer.decode.quoted import QuotedDatagram, decode_quoted

__all__ = [
    "ACK",
    "ETHERTYPE_IPV4",
    "ETHERTYPE_IPV6",
    "FIN",
    "FRAGMENT_TIMEOUT",
    "ICMP",
    "ICMPV4_COUNTERPARTS",
    "ICMPV4_ERROR_TYPES",
    "ICMPV6",
    "ICMPV6_COUNTERPARTS",
    "ICMPV6_ERROR_TYPES",
    "MAX_ENCAPSULATION_DEPTH",
    "MAX_FRAGMENTED_DATAGRAMS",
    "MAX_FRAGMENT_BYTES",
    "MAX_IPV6_EXT_HEADERS",
    "MAX_IP_DATAGRAM",
    "MAX_MPLS_LABELS",
    "MAX_VLAN_TAGS",
    "PSH",
    "RST",
    "SYN",
    "TCP",
    "TEREDO_PORT",
    "UDP",
    "Decoder",
    "FragmentReassembler",
    "Packet",
    "QuotedDatagram",
    "TunnelHop",
    "decode_quoted",
    "ip_text",
    "mac_text",
]
