"""The SMB stream dissector (TCP 139/445) and the NetBIOS datagram service parser (UDP 138)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from analyzer.dissectors.smb.constants import (
    HUNT_TAIL,
    MAX_HUNT_BYTES,
    MAX_KEPT,
    MAX_MESSAGE_LENGTH,
    NBSS_HEADER_LEN,
    NBSS_TYPES,
    SMB1_MAGIC,
    SMB2_HEADER_LEN,
    SMB2_MAGIC,
)
from analyzer.dissectors.smb.framing import (
    _BODY,
    _HEADER,
    _HUNT,
    _KIND_COMPRESSED,
    _KIND_NBSS,
    _KIND_SMB1,
    _KIND_SMB2,
    _KIND_TRANSFORM,
    _MAGIC_KINDS,
    _SMB_MARKERS,
    _Dir,
)
from analyzer.dissectors.smb.parser import SmbParser
from analyzer.dissectors.smb.wire import _Short
from analyzer.errors import Malformed
from analyzer.flows import Flow

if TYPE_CHECKING:
    from analyzer.decode import Packet


class SmbDissector:
    """Stream dissector for SMB over TCP (445 direct, 139 NetBIOS session service)."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.uid = flow.uid
        low = min(flow.orig_port, flow.resp_port)
        self.parser = SmbParser(
            flow.uid, (flow.orig_h, flow.orig_port, flow.resp_h, flow.resp_port), f"tcp/{low}"
        )
        self._dirs = {True: _Dir(), False: _Dir()}

    # -- the stream contract --

    def feed(self, data: bytes, from_client: bool, ts: float) -> list[object]:
        d = self._dirs[from_client]
        events: list[object] = []
        pos = 0
        while pos < len(data):
            if d.state == _HUNT:
                found = self._hunt(d, data, pos)
                if found is None:
                    break
                data, pos = found, 0
            elif d.state == _HEADER:
                take = min(NBSS_HEADER_LEN - len(d.hdr), len(data) - pos)
                d.hdr += data[pos : pos + take]
                pos += take
                if len(d.hdr) == NBSS_HEADER_LEN:
                    self._header(d, ts, events)
            else:
                pos = self._body(d, data, pos, from_client, ts, events)
        return events

    def opaque(self, from_client: bool) -> int:
        """Reads every byte (message framing is in the stream)."""
        return 0

    def skipped(self, size: int, from_client: bool, ts: float) -> list[object]:
        return []

    def gap(self, size: int, from_client: bool, ts: float) -> list[object]:
        d = self._dirs[from_client]
        events: list[object] = []
        if d.state == _BODY and size <= d.msg_len - d.msg_pos:
            d.msg_pos += size
            header_kept = d.kind in (_KIND_SMB1, _KIND_NBSS) or (d.kind == _KIND_SMB2 and d.header_done)
            if header_kept and (d.pdu_end is None or d.msg_pos <= d.pdu_end):
                d.frozen = True  # offsets stay right: the PDU keeps what it has, the compound goes on
            else:
                d.skip = True
            if d.msg_pos == d.msg_len:
                self._message_done(d, from_client, ts, events)
            return events
        d.state = _HUNT  # the next message start is somewhere after the hole
        d.hdr.clear()
        d.tail = b""
        return events

    def close(self, ts: float) -> list[object]:
        events = self.parser.close_files(ts)
        record = self.parser.session_record(ts)
        if record is not None:
            events.append(record)
        return events

    # -- framing --

    def _desync(self, d: _Dir, reason: str, detail: str, consumed: bytes) -> None:
        """Broken framing: Malformed once in sync, else hunt from the byte after the bogus start."""
        if d.synced:
            raise Malformed(reason, detail)
        d.state = _HUNT
        d.tail = consumed[1:]
        d.hdr.clear()

    def _header(self, d: _Dir, ts: float, events: list[object]) -> None:
        hdr = bytes(d.hdr)
        nbss_type = hdr[0]
        length = (hdr[1] << 16) | (hdr[2] << 8) | hdr[3]
        if nbss_type not in NBSS_TYPES:
            self._desync(d, "nbss.bad_type", f"type 0x{nbss_type:02x}", hdr)
            return
        if length > MAX_MESSAGE_LENGTH:
            self._desync(d, "smb.message_too_long", f"{length} bytes", hdr)
            return
        d.hdr.clear()
        d.last_hdr = hdr
        d.start(nbss_type, length)
        if length == 0:
            self._message_done(d, True, ts, events)

    def _hunt(self, d: _Dir, data: bytes, pos: int) -> bytes | None:
        """Look for a message start; return the bytes from there on (None: not found in this chunk)."""
        buf = d.tail + data[pos:]
        at = 5
        while True:
            j = buf.find(b"SMB", at)
            if j < 0:
                break
            start = j - 5
            if buf[start] == 0 and buf[j - 1] in _SMB_MARKERS:
                length = (buf[start + 1] << 16) | (buf[start + 2] << 8) | buf[start + 3]
                minimum = SMB2_HEADER_LEN if buf[j - 1] == SMB2_MAGIC[0] else NBSS_HEADER_LEN
                if minimum <= length <= MAX_MESSAGE_LENGTH:
                    d.state = _HEADER
                    d.tail = b""
                    return buf[start:]
            at = j + 1
        d.hunted += len(data) - pos
        d.tail = buf[-HUNT_TAIL:]
        if not d.synced and d.hunted > MAX_HUNT_BYTES:
            raise Malformed("smb.no_sync", f"no SMB message start in {d.hunted} bytes")
        return None

    def _body(
        self, d: _Dir, data: bytes, pos: int, from_client: bool, ts: float, events: list[object]
    ) -> int:
        end = pos + min(len(data) - pos, d.msg_len - d.msg_pos)
        while pos < end:
            if d.skip:
                d.msg_pos += end - pos
                pos = end
                break
            if d.kind is None or (d.kind == _KIND_SMB2 and not d.header_done):
                need = (4 if d.kind is None else SMB2_HEADER_LEN) - len(d.pdu)
                piece = min(need, end - pos)
                d.pdu += data[pos : pos + piece]
                pos += piece
                d.msg_pos += piece
                if d.kind is None and len(d.pdu) == 4:
                    self._magic(d, ts, events)
                    if d.state == _HUNT:
                        return pos
                if d.kind == _KIND_SMB2 and len(d.pdu) == SMB2_HEADER_LEN:
                    self._next_command(d, ts, events)
                continue
            limit = (d.pdu_end if d.pdu_end is not None else d.msg_len) - d.msg_pos
            piece = min(limit, end - pos)
            room = 0 if d.frozen else MAX_KEPT - len(d.pdu)
            if room > 0:
                d.pdu += data[pos : pos + min(piece, room)]
            pos += piece
            d.msg_pos += piece
            if d.pdu_end is not None and d.msg_pos == d.pdu_end:
                self._pdu_done(d, from_client, ts, events)
                d.new_pdu()
        if d.state == _BODY and d.msg_pos == d.msg_len:
            self._message_done(d, from_client, ts, events)
        return pos

    def _magic(self, d: _Dir, ts: float, events: list[object]) -> None:
        """Decide the kind of the PDU from its protocol id (the stream may go to HUNT)."""
        magic = bytes(d.pdu[:4])
        kind = _MAGIC_KINDS.get(magic)
        if d.pdu_start > 0:  # inside an SMB2 compound only SMB2 headers may follow
            if kind != _KIND_SMB2:
                self.parser._weird(ts, "smb2.bad_compound", f"protocol id {magic.hex()}", events)
                d.skip = True
                return
        elif kind is None:
            self._desync(d, "smb.bad_protocol_id", magic.hex(), d.last_hdr + magic)
            return
        d.kind = kind
        d.synced = True
        if kind in (_KIND_TRANSFORM, _KIND_COMPRESSED):
            is_response = d is self._dirs[False]
            label = "encrypted" if kind == _KIND_TRANSFORM else "compressed"
            self.parser.transform(label, is_response, d.msg_len, ts, events)
            d.skip = True

    def _next_command(self, d: _Dir, ts: float, events: list[object]) -> None:
        d.header_done = True
        nxt = int.from_bytes(d.pdu[20:24], "little")
        if not nxt:
            return
        if nxt % 8 or nxt < SMB2_HEADER_LEN or d.pdu_start + nxt >= d.msg_len:
            self.parser._weird(ts, "smb2.bad_next_command", f"NextCommand {nxt} at {d.pdu_start}", events)
            return
        d.pdu_end = d.pdu_start + nxt

    def _pdu_done(self, d: _Dir, from_client: bool, ts: float, events: list[object]) -> None:
        if d.kind == _KIND_SMB2:
            self.parser.smb2(bytes(d.pdu), ts, events)
        elif d.kind == _KIND_SMB1:
            self.parser.smb1(bytes(d.pdu), ts, events)
        elif d.kind == _KIND_NBSS and d.nbss_type == 0x81:
            self.parser.nbss_session_request(bytes(d.pdu))

    def _message_done(self, d: _Dir, from_client: bool, ts: float, events: list[object]) -> None:
        if not d.skip:
            if d.kind is None and d.nbss_type == 0 and d.msg_len:
                self.parser._weird(ts, "smb.short_message", f"{d.msg_len} bytes", events)
            elif d.kind is not None:
                self._pdu_done(d, from_client, ts, events)
        if d.nbss_type != 0 or d.kind is not None:
            d.synced = True
        d.state = _HEADER
        d.pdu.clear()


# -- UDP 138: NetBIOS datagram service ------------------------------------------------------------------

NBDS_DIRECT_TYPES = frozenset({0x10, 0x11, 0x12})
"""NetBIOS datagram types that carry user data: direct unique, direct group, broadcast (RFC 1002 4.4)."""
NBDS_HEADER_LEN = 14
"""Type, flags, id, source IP, source port, datagram length, packet offset."""
NBDS_MORE_FRAGMENTS = 0x01
"""Flags bit M: more fragments follow (only the first fragment starts with an SMB header)."""


def parse_datagram(payload: bytes, pkt: Packet) -> list[object]:
    """SMB1 carried in a NetBIOS datagram (browser announcements, mailslots): counted, no session."""
    if len(payload) < NBDS_HEADER_LEN:
        raise Malformed("nbds.short", f"{len(payload)} bytes")
    if payload[0] not in NBDS_DIRECT_TYPES:
        return []  # error or name-query datagrams carry no SMB
    if int.from_bytes(payload[12:14], "big"):
        return []  # a later fragment
    pos = NBDS_HEADER_LEN
    for _ in range(2):  # source and destination names
        labels = 0
        while pos < len(payload) and payload[pos]:
            if payload[pos] & 0xC0:
                raise Malformed("nbds.bad_name", f"label byte 0x{payload[pos]:02x}")
            pos += 1 + payload[pos]
            labels += 1
            if labels > 64:
                raise Malformed("nbds.bad_name", "too many labels")
        pos += 1
    if pos > len(payload):
        raise Malformed("nbds.short", "names run past the datagram")
    smb = payload[pos:]
    if not smb.startswith(SMB1_MAGIC):
        return []
    flow = pkt.flow
    if not isinstance(flow, Flow):
        return []
    parser = SmbParser(flow.uid, (flow.orig_h, flow.orig_port, flow.resp_h, flow.resp_port), "udp/138")
    events: list[object] = []
    try:
        parser.smb1(smb[:MAX_KEPT], pkt.ts, events)
    except _Short as exc:
        raise Malformed("smb1.short", f"field at {exc.args[0]}") from None
    return events


def parse_message(
    msg: bytes, ts: float, uid: str, endpoints: tuple[str, int, str, int], transport: str
) -> list[object]:
    """One SMB1 message carried outside TCP and UDP (NetBIOS Frames, IPX): counted, no session."""
    parser = SmbParser(uid, endpoints, transport)
    events: list[object] = []
    try:
        parser.smb1(msg[:MAX_KEPT], ts, events)
    except _Short as exc:
        raise Malformed("smb1.short", f"field at {exc.args[0]}") from None
    return events
