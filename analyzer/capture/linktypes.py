"""Link-layer header type numbers (LINKTYPE_* as stored in pcap and pcapng files) and their names.

Names follow libpcap's `pcap_datalink_val_to_name()` (the DLT_ names without the prefix), which is
what tcpdump prints, so analysts recognise them: 1 is "EN10MB", not "ETHERNET". The one deliberate
exception is 50, named after its LINKTYPE_ name "PPP_HDLC" (libpcap calls the DLT "PPP_SERIAL").
"""

LINKTYPE_NULL = 0
"""BSD loopback: a 4-byte address family in the capturing host's byte order, then IP."""
LINKTYPE_ETHERNET = 1
"""Ethernet II / 802.3."""
LINKTYPE_PPP = 9
"""PPP, RFC 1661 (optionally HDLC-framed)."""
LINKTYPE_RAW = 101
"""Raw IPv4 or IPv6, no link header."""
LINKTYPE_IEEE802_11 = 105
"""IEEE 802.11 without a radio header (frames carry no FCS, as tshark assumes by default)."""
LINKTYPE_IEEE802_11_RADIOTAP = 127
"""radiotap header (variable length, little-endian; its Flags field says whether an FCS follows the
frame), then IEEE 802.11."""
LINKTYPE_PPI = 192
"""Per-Packet Information header (its DLT field names the frame after it, usually 105), then the frame."""
LINKTYPE_LOOP = 108
"""OpenBSD loopback: like NULL but the address family is big-endian."""
LINKTYPE_LINUX_SLL = 113
"""Linux "cooked" capture, version 1 (16-byte header)."""
LINKTYPE_IPV4 = 228
"""Raw IPv4, no link header."""
LINKTYPE_IPV6 = 229
"""Raw IPv6, no link header."""
LINKTYPE_LINUX_SLL2 = 276
"""Linux "cooked" capture, version 2 (20-byte header)."""

LINKTYPE_NAMES: dict[int, str] = {
    0: "NULL",
    1: "EN10MB",
    2: "EN3MB",
    3: "AX25",
    4: "PRONET",
    5: "CHAOS",
    6: "IEEE802",
    7: "ARCNET",
    8: "SLIP",
    9: "PPP",
    10: "FDDI",
    # 12 and 14 are DLT_RAW on some BSDs; files written there may carry them instead of 101.
    12: "RAW",
    14: "RAW",
    50: "PPP_HDLC",
    51: "PPP_ETHER",
    100: "ATM_RFC1483",
    101: "RAW",
    104: "C_HDLC",
    105: "IEEE802_11",
    107: "FRELAY",
    108: "LOOP",
    113: "LINUX_SLL",
    114: "LTALK",
    117: "PFLOG",
    119: "PRISM_HEADER",
    122: "IP_OVER_FC",
    123: "SUNATM",
    127: "IEEE802_11_RADIO",
    129: "ARCNET_LINUX",
    138: "APPLE_IP_OVER_IEEE1394",
    139: "MTP2_WITH_PHDR",
    140: "MTP2",
    141: "MTP3",
    142: "SCCP",
    143: "DOCSIS",
    144: "LINUX_IRDA",
    163: "IEEE802_11_RADIO_AVS",
    166: "PPP_PPPD",
    169: "GPRS_LLC",
    177: "LINUX_LAPD",
    187: "BLUETOOTH_HCI_H4",
    189: "USB_LINUX",
    192: "PPI",
    195: "IEEE802_15_4_WITHFCS",
    197: "ERF",
    201: "BLUETOOTH_HCI_H4_WITH_PHDR",
    202: "AX25_KISS",
    204: "PPP_WITH_DIR",
    220: "USB_LINUX_MMAPPED",
    224: "FC_2",
    226: "IPNET",
    227: "CAN_SOCKETCAN",
    228: "IPV4",
    229: "IPV6",
    230: "IEEE802_15_4_NOFCS",
    231: "DBUS",
    239: "NFLOG",
    240: "NETANALYZER",
    241: "NETANALYZER_TRANSPARENT",
    242: "IPOIB",
    243: "MPEG_2_TS",
    247: "INFINIBAND",
    248: "SCTP",
    249: "USBPCAP",
    251: "BLUETOOTH_LE_LL",
    253: "NETLINK",
    254: "BLUETOOTH_LINUX_MONITOR",
    256: "BLUETOOTH_LE_LL_WITH_PHDR",
    258: "PKTAP",
    266: "USB_DARWIN",
    271: "VSOCK",
    272: "NORDIC_BLE",
    274: "ETHERNET_MPACKET",
    276: "LINUX_SLL2",
}
"""LINKTYPE number -> libpcap DLT name (without the `DLT_` prefix)."""


def linktype_name(linktype: int) -> str:
    """The DLT-style name of a link type, or `LINKTYPE_<n>` for a number this table does not know."""
    return LINKTYPE_NAMES.get(linktype, f"LINKTYPE_{linktype}")
