"""SMB without IP: messages carried by NetBIOS Frames (NetBEUI, 802.2 LLC) or by IPX.

The decoder marks such a frame with its carrier ("nbf" or "ipx") and delimits the SMB message; this
parser names the conversation by the two MAC addresses (direction-independent uid, like a flow's)
and hands the message to the SMB parser, which counts its command as tshark does. There is no
stream here: a NetBEUI/IPX SMB session is not reassembled and yields no session record.
"""

from __future__ import annotations

from analyzer.decode import Packet, mac_text
from analyzer.dissectors.smb import parse_message
from analyzer.flows import flow_key, make_uid

CARRIER_TRANSPORTS = {"nbf": "nbf", "ipx": "ipx"}
"""Decoder carrier -> the SMB `by_transport` key (tshark's `no-tcp-udp` covers both)."""


def parse_carried(payload: bytes, pkt: Packet) -> list[object]:
    """The SMB1 message of a NetBIOS Frames or IPX frame, as SMB events."""
    src, dst = pkt.l2_src, pkt.l2_dst
    uid = make_uid(0.0, flow_key(0, src, 0, dst, 0))
    transport = CARRIER_TRANSPORTS.get(pkt.carrier, pkt.carrier)
    return parse_message(payload, pkt.ts, uid, (mac_text(src), 0, mac_text(dst), 0), transport)
