"""IEEE 802.2 LLC and what rides on it without IP: NetBIOS Frames (NetBEUI, SAP 0xF0) and IPX.

An Ethernet frame whose type field is a length (<= 1500) is IEEE 802.3: either Novell "raw" IPX
(the payload starts with the IPX checksum 0xFFFF) or an 802.2 LLC header. The parsers here find the
SMB message such a frame carries, so the pipeline can hand it to the SMB parser: NetBIOS Frames
datagrams and session data, IPX direct SMB (sockets 0x0550/0x0552), NWLink mailslot datagrams
(0x0553) and NetBIOS-over-IPX datagrams (0x0455). They are pure functions of the bytes.
"""

from __future__ import annotations

from analyzer.errors import Malformed

SAP_SNAP, SAP_IPX, SAP_NETBIOS = 0xAA, 0xE0, 0xF0
"""LLC service access points: SNAP (an EtherType follows), IPX, NetBIOS (NetBEUI)."""
SMB1_MAGIC = b"\xffSMB"

NBF_DELIMITER = b"\xff\xef"
"""NetBIOS Frames header: length (little-endian), then this delimiter, then the command."""
NBF_SMB_COMMANDS = frozenset({0x08, 0x09, 0x15, 0x16})
"""NBF commands whose user data may be SMB: DATAGRAM, DATAGRAM_BROADCAST, DATA_FIRST_MIDDLE,
DATA_ONLY_LAST (the last two inside a session)."""

IPX_HEADER_LEN = 30
IPX_SOCKET_NETBIOS = 0x0455
"""NetBIOS over IPX: 2 bytes (connection control, data stream type), names, then user data."""
IPX_SOCKET_SMB_SERVER, IPX_SOCKET_SMB_REDIRECTOR = 0x0550, 0x0552
"""NWLink direct SMB: the SMB message starts right after the IPX header."""
IPX_SOCKET_MAILSLOT = 0x0553
"""NWLink SMB mailslot datagrams: 32-byte network list, opcode, name type, message id, two names."""
IPX_TYPE_WAN_BROADCAST = 0x14
"""IPX packet type of propagated NetBIOS broadcasts: NetBIOS over IPX carries a 32-byte network list."""
NBIPX_DIRECTED_DATAGRAM = 0x0B
"""NetBIOS-over-IPX data stream type of a datagram (32 bytes of names precede the data)."""


def llc(data: bytes, off: int, end: int) -> tuple[int, int, bool]:
    """The 802.2 LLC header: (DSAP, offset after it, whether it has an information field: an
    I-frame or a UI frame with data; supervisory and other unnumbered frames have none)."""
    if end < off + 3:
        raise Malformed("llc.truncated", f"{end - off} bytes")
    dsap, control = data[off], data[off + 2]
    if control & 0x03 == 0x03:  # unnumbered: one control byte
        return dsap, off + 3, control & 0xEF == 0x03 and end > off + 3
    if end < off + 4:
        raise Malformed("llc.truncated", "two-byte control cut")
    return dsap, off + 4, not control & 0x01 and end > off + 4  # I-frame carries data, S-frame none


def snap_ethertype(data: bytes, off: int, end: int) -> int:
    """The EtherType of a SNAP header (OUI then type)."""
    if end < off + 5:
        raise Malformed("llc.snap_truncated", f"{end - off} bytes")
    return (data[off + 3] << 8) | data[off + 4]


def nbf_smb(data: bytes, off: int, end: int) -> int:
    """Offset of the SMB message in a NetBIOS Frames PDU, or -1 when it carries none."""
    if end < off + 5 or data[off + 2 : off + 4] != NBF_DELIMITER:
        raise Malformed("netbios.bad_header", data[off : off + 5].hex())
    start = off + (data[off] | (data[off + 1] << 8))
    if data[off + 4] not in NBF_SMB_COMMANDS or data[start : start + 4] != SMB1_MAGIC:
        return -1
    return start


def ipx(data: bytes, off: int, end: int) -> tuple[int, int]:
    """The IPX header: (end of the packet by its length field, offset of an SMB message or -1)."""
    if end < off + IPX_HEADER_LEN:
        raise Malformed("ipx.truncated", f"{end - off} bytes")
    length = (data[off + 2] << 8) | data[off + 3]
    if length < IPX_HEADER_LEN:
        raise Malformed("ipx.bad_length", str(length))
    end = min(end, off + length)
    ptype = data[off + 5]
    dsock, ssock = (data[off + 16] << 8) | data[off + 17], (data[off + 28] << 8) | data[off + 29]
    body = off + IPX_HEADER_LEN
    start = -1
    if dsock in (IPX_SOCKET_SMB_SERVER, IPX_SOCKET_SMB_REDIRECTOR) or ssock == IPX_SOCKET_SMB_SERVER:
        start = body
    elif dsock == IPX_SOCKET_MAILSLOT:
        start = body + 32 + 4 + 32
    elif dsock == IPX_SOCKET_NETBIOS:
        if ptype == IPX_TYPE_WAN_BROADCAST:
            body += 32
        if end > body + 1 and data[body + 1] == NBIPX_DIRECTED_DATAGRAM:
            start = body + 2 + 32
    if start < 0 or data[start : start + 4] != SMB1_MAGIC or start >= end:
        return end, -1
    return end, start
