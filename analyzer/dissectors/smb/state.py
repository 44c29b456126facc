"""Per-connection SMB state: pending requests, trees, open files, the session, the message being parsed."""

from __future__ import annotations

from dataclasses import dataclass, field

from analyzer.dissectors.smb.ntlmssp import NtlmAuth

# -- per-connection SMB state -------------------------------------------------------------------------


@dataclass(slots=True)
class _Request:
    """A request waiting for its response."""

    ts: float
    command: str
    tree_id: int | None = None
    name: str | None = None
    file_ref: bytes | int | None = None
    """The file it works on: a file id, or the message id of the CREATE it is related to."""
    ntlm: NtlmAuth | None = None


@dataclass(slots=True)
class _Tree:
    path: str | None
    share_type: str | None


@dataclass(slots=True)
class _File:
    ts: float
    version: int
    name: str | None
    path: str | None
    action: str | None
    size: int | None
    status: str | None
    bytes_read: int = 0
    bytes_written: int = 0


@dataclass(slots=True)
class _Session:
    """Facts for the connection's SmbSessionRecord."""

    first_ts: float | None = None
    versions: set[str] = field(default_factory=set)
    dialect: str | None = None
    auth: str | None = None
    user: str | None = None
    domain: str | None = None
    host: str | None = None
    auth_status: str | None = None
    called_name: str | None = None
    calling_name: str | None = None
    trees: list[str] = field(default_factory=list)
    files_opened: int = 0
    bytes_read: int = 0
    bytes_written: int = 0
    requests: int = 0
    encrypted: int = 0
    signed: bool = False


@dataclass(frozen=True, slots=True)
class _Pdu:
    """The SMB2 PDU being parsed, as its command handler sees it."""

    pdu: bytes
    status: int
    msg_id: int
    tree_id: int | None
    req: _Request | None
    """The request this response answers (None for requests and unmatched responses)."""
    ts: float


@dataclass(slots=True)
class _Smb1Context:
    """Facts of the SMB1 message being parsed, shared by the blocks of its AndX chain."""

    msg: bytes
    unicode: bool
    tid: int
    ok: bool
    status: int
    status_text: str
    req: _Request | None
    ts: float
    command: int = 0
    """Command of the block being parsed (the header's, then each AndX-chained one)."""
    words: bytes = b""
    """Parameter words of the block being parsed."""
    data: bytes = b""
    """Data bytes of the block being parsed."""
    data_at: int = 0
    """Offset of `data` from the SMB header (for UTF-16 alignment)."""
    new_request: _Request | None = None


def _smb1_block(msg: bytes, offset: int) -> tuple[bytes, bytes, int] | None:
    """(parameter words, data bytes, offset of the data) of the SMB1 block at `offset`, or None."""
    if offset >= len(msg):
        return None
    wc = msg[offset]
    words_end = offset + 1 + 2 * wc
    if words_end + 2 > len(msg):
        return None
    bc = msg[words_end] | msg[words_end + 1] << 8
    data_at = words_end + 2
    return msg[offset + 1 : words_end], msg[data_at : data_at + bc], data_at
