"""TCP framing of SMB: the NetBIOS session service header, protocol ids, and the per-direction state."""

from __future__ import annotations

from analyzer.dissectors.smb.constants import COMPRESSION_MAGIC, SMB1_MAGIC, SMB2_MAGIC, TRANSFORM_MAGIC

# -- TCP framing --------------------------------------------------------------------------------------

_HEADER, _BODY, _HUNT = 0, 1, 2
_KIND_NBSS, _KIND_SMB1, _KIND_SMB2, _KIND_TRANSFORM, _KIND_COMPRESSED = range(5)
_MAGIC_KINDS = {
    SMB1_MAGIC: _KIND_SMB1,
    SMB2_MAGIC: _KIND_SMB2,
    TRANSFORM_MAGIC: _KIND_TRANSFORM,
    COMPRESSION_MAGIC: _KIND_COMPRESSED,
}
_SMB_MARKERS = frozenset(m[0] for m in _MAGIC_KINDS)


class _Dir:
    """Framing state of one direction."""

    __slots__ = (
        "frozen",
        "hdr",
        "header_done",
        "hunted",
        "kind",
        "last_hdr",
        "msg_len",
        "msg_pos",
        "nbss_type",
        "pdu",
        "pdu_end",
        "pdu_start",
        "skip",
        "state",
        "synced",
        "tail",
    )

    def __init__(self) -> None:
        self.state = _HEADER
        self.hdr = bytearray()
        self.synced = False
        """A valid message was seen: framing errors are now Malformed, not a reason to hunt."""
        self.hunted = 0
        self.tail = b""
        self.nbss_type = 0
        self.last_hdr = b""
        """The NBSS header of the current message (re-scanned if its body proves bogus)."""
        self.msg_len = 0
        self.msg_pos = 0
        self.pdu = bytearray()
        self.pdu_start = 0
        self.pdu_end: int | None = None
        self.kind: int | None = None
        self.header_done = False
        self.skip = False
        """The rest of the current message is not parsed (lost in a gap, encrypted, or broken)."""
        self.frozen = False
        """A gap hit the current PDU: its kept bytes stop growing, offsets stay valid."""

    def start(self, nbss_type: int, length: int) -> None:
        self.state = _BODY
        self.nbss_type = nbss_type
        self.msg_len = length
        self.msg_pos = 0
        self.new_pdu()
        self.skip = False
        self.kind = None if nbss_type == 0 else _KIND_NBSS

    def new_pdu(self) -> None:
        self.pdu.clear()
        self.pdu_start = self.msg_pos
        self.pdu_end = None
        self.header_done = False
        self.frozen = False
        self.kind = None
