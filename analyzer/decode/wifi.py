"""IEEE 802.11 headers and the radio headers in front of them (radiotap, PPI).

Only unprotected Data frames are followed down to LLC/SNAP and IP, as tshark does without keys.
Management and control frames, protected (encrypted) frames, frames without a body (Null data) and
A-MSDU aggregates are named, not decoded. The parsers are pure functions of the bytes.
"""

from __future__ import annotations

from analyzer.errors import Malformed

RADIOTAP_FLAGS_FCS = 0x10
"""radiotap Flags field: the frame ends with a 4-byte FCS."""
RADIOTAP_FLAGS_DATA_PAD = 0x20
"""radiotap Flags field: padding after the 802.11 header up to a multiple of 4 bytes."""
PPI_COMMON_FCS = 0x0001
"""PPI 802.11-Common flags: the frame ends with a 4-byte FCS."""
PPI_FIELD_80211_COMMON = 2
"""PPI field type of 802.11-Common (TSF, flags, rate, channel, ...)."""
MAX_RADIOTAP_PRESENT_WORDS = 16
"""radiotap presence bitmaps followed (each extends the next with bit 31); real headers have 1-3."""
MAX_PPI_FIELDS = 32
"""PPI fields walked looking for the 802.11-Common one (real headers have 1-4)."""
FCS_LEN = 4

WLAN_MANAGEMENT, WLAN_CONTROL, WLAN_DATA = 0, 1, 2
"""802.11 frame types (Frame Control bits 2-3)."""
WLAN_OTHER = 3
"""A frame the decoder does not follow (extension type, no body, A-MSDU)."""
WLAN_PROTECTED = 4
"""A protected (encrypted) Data frame: counted, not decoded."""
FC_TO_DS, FC_FROM_DS, FC_PROTECTED, FC_ORDER = 0x01, 0x02, 0x40, 0x80
"""Frame Control flags (second byte)."""


def radiotap(data: bytes, off: int) -> tuple[int, int]:
    """radiotap header: (its length, its Flags field or 0). The Flags field (bit 1) comes after TSFT
    (bit 0, 8 bytes aligned to 8) and after every extended presence bitmap."""
    if len(data) < off + 8:
        raise Malformed("radiotap.truncated", f"{len(data) - off} bytes")
    length = data[off + 2] | (data[off + 3] << 8)  # the version byte is not checked: tshark reads on
    if length < 8 or len(data) < off + length:
        raise Malformed("radiotap.bad_length", str(length))
    present = int.from_bytes(data[off + 4 : off + 8], "little")
    pos = 8
    word = present
    for _ in range(MAX_RADIOTAP_PRESENT_WORDS):
        if not word & 0x80000000:
            break
        if pos + 4 > length:
            raise Malformed("radiotap.bad_length", "presence bitmaps past the header")
        word = int.from_bytes(data[off + pos : off + pos + 4], "little")
        pos += 4
    else:
        raise Malformed("radiotap.too_many_bitmaps", f"more than {MAX_RADIOTAP_PRESENT_WORDS}")
    flags = 0
    if present & 0x02:
        if present & 0x01:
            pos = (pos + 7) & ~7
            pos += 8
        if pos < length:
            flags = data[off + pos]
    return length, flags


def ppi(data: bytes, off: int) -> tuple[int, int, bool]:
    """PPI header: (its length, the DLT of the frame after it, whether that frame carries an FCS)."""
    if len(data) < off + 8:
        raise Malformed("ppi.truncated", f"{len(data) - off} bytes")
    if data[off] != 0:
        raise Malformed("ppi.bad_version", str(data[off]))
    length = data[off + 2] | (data[off + 3] << 8)
    if length < 8 or len(data) < off + length:
        raise Malformed("ppi.bad_length", str(length))
    dlt = int.from_bytes(data[off + 4 : off + 8], "little")
    pos = off + 8
    fcs = False
    for _ in range(MAX_PPI_FIELDS):
        if pos + 4 > off + length:
            break
        ftype = data[pos] | (data[pos + 1] << 8)
        flen = data[pos + 2] | (data[pos + 3] << 8)
        if ftype == PPI_FIELD_80211_COMMON and flen >= 10 and pos + 4 + 10 <= off + length:
            fcs = bool((data[pos + 12] | (data[pos + 13] << 8)) & PPI_COMMON_FCS)
        pos += 4 + flen
    return length, dlt, fcs


def wlan(data: bytes, off: int) -> tuple[int, int, bytes, bytes]:
    """An 802.11 MAC header: (kind, body offset, source, destination). `kind` is WLAN_DATA only for an
    unprotected Data frame with a body (Data, QoS Data and their +CF variants, not A-MSDU); the
    addresses follow the ToDS/FromDS table of IEEE 802.11-2020 9.3.2.1."""
    if len(data) < off + 10:
        raise Malformed("wlan.truncated", f"{len(data) - off} bytes")
    fc0, fc1 = data[off], data[off + 1]
    if fc0 & 0x03:
        raise Malformed("wlan.bad_version", str(fc0 & 0x03))
    ftype, subtype = (fc0 >> 2) & 0x03, fc0 >> 4
    if ftype != WLAN_DATA:
        return ftype if ftype != 3 else WLAN_OTHER, 0, b"", b""
    four = fc1 & (FC_TO_DS | FC_FROM_DS) == FC_TO_DS | FC_FROM_DS
    qos = bool(subtype & 0x08)
    hlen = 24 + (6 if four else 0) + (2 if qos else 0) + (4 if qos and fc1 & FC_ORDER else 0)
    if len(data) < off + hlen:
        raise Malformed("wlan.truncated", f"{len(data) - off} of {hlen} header bytes")
    if fc1 & FC_PROTECTED:
        return WLAN_PROTECTED, 0, b"", b""
    if subtype & 0x04 or (qos and data[off + 24 + (6 if four else 0)] & 0x80):
        return WLAN_OTHER, 0, b"", b""  # no body (Null), or an A-MSDU aggregate
    a1, a2, a3 = data[off + 4 : off + 10], data[off + 10 : off + 16], data[off + 16 : off + 22]
    ds = fc1 & (FC_TO_DS | FC_FROM_DS)
    if ds == 0:
        src, dst = a2, a1
    elif ds == FC_TO_DS:
        src, dst = a2, a3
    elif ds == FC_FROM_DS:
        src, dst = a3, a1
    else:
        src, dst = data[off + 24 : off + 30], a3
    return WLAN_DATA, off + hlen, src, dst
