"""SMB2/3 command handlers (MS-SMB2 2.2): what each request and response tells the parser's state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from analyzer.dissectors.smb.constants import (
    MAX_CREATE_IDS,
    MAX_DIALECTS,
    PIPE_FSCTLS,
    RELATED_FILE_ID,
    SHARE_TYPES,
    SMB2_CREATE_ACTIONS,
    STATUS_SUCCESS,
    smb2_dialect_name,
    status_name,
)
from analyzer.dissectors.smb.events import SmbDialects
from analyzer.dissectors.smb.state import _File, _Pdu, _Request, _Tree
from analyzer.dissectors.smb.wire import _take, _u8, _u16, _u32, _u64, _utf16

if TYPE_CHECKING:
    from analyzer.dissectors.smb.parser import SmbParser


def _s2_negotiate_req(parser: SmbParser, p: _Pdu, ev: list[object]) -> None:
    count = min(_u16(p.pdu, 66), MAX_DIALECTS)
    offered = tuple(smb2_dialect_name(_u16(p.pdu, 100 + 2 * i)) for i in range(count))
    ev.append(SmbDialects(p.ts, parser.uid, 2, offered, None))


def _s2_negotiate_resp(parser: SmbParser, p: _Pdu, ev: list[object]) -> None:
    if _u16(p.pdu, 64) != 65:  # an error response carries a 9-byte body, no dialect
        return
    chosen = smb2_dialect_name(_u16(p.pdu, 68))
    if parser.session.dialect is None or _u16(p.pdu, 68) != 0x02FF:
        parser.session.dialect = chosen
    ev.append(SmbDialects(p.ts, parser.uid, 2, (), chosen))


def _s2_session_setup_req(parser: SmbParser, p: _Pdu, ev: list[object]) -> None:
    off, length = _u16(p.pdu, 76), _u16(p.pdu, 78)
    ntlm = parser._saw_blob(_take(p.pdu, off, length)) if length else None
    parser._remember((2, p.msg_id), _Request(p.ts, "SESSION_SETUP", p.tree_id, ntlm=ntlm))


def _s2_session_setup_resp(parser: SmbParser, p: _Pdu, ev: list[object]) -> None:
    parser._authenticated(p.req.ntlm if p.req else None, p.status, p.status == STATUS_SUCCESS)


def _s2_tree_connect_req(parser: SmbParser, p: _Pdu, ev: list[object]) -> None:
    off, length = _u16(p.pdu, 68), _u16(p.pdu, 70)
    path = _utf16(_take(p.pdu, off, length)) if length else None
    parser._remember((2, p.msg_id), _Request(p.ts, "TREE_CONNECT", p.tree_id, name=path))


def _s2_tree_connect_resp(parser: SmbParser, p: _Pdu, ev: list[object]) -> None:
    if p.req is None:
        return
    share = SHARE_TYPES.get(_u8(p.pdu, 66)) if p.status == STATUS_SUCCESS and _u16(p.pdu, 64) == 16 else None
    tree = _Tree(p.req.name, share)
    if p.status == STATUS_SUCCESS and p.tree_id is not None:
        parser._set_tree(2, p.tree_id, tree)
    ev.append(parser._tree_record(p.req, tree, None, status_name(p.status)))


def _s2_tree_disconnect_resp(parser: SmbParser, p: _Pdu, ev: list[object]) -> None:
    if p.status == STATUS_SUCCESS and p.tree_id is not None:
        parser.trees.pop((2, p.tree_id), None)


def _s2_create_req(parser: SmbParser, p: _Pdu, ev: list[object]) -> None:
    off, length = _u16(p.pdu, 108), _u16(p.pdu, 110)
    name = _utf16(_take(p.pdu, off, length)) if length else ""
    parser.last_create = p.msg_id
    parser._remember((2, p.msg_id), _Request(p.ts, "CREATE", p.tree_id, name=name))


def _s2_create_resp(parser: SmbParser, p: _Pdu, ev: list[object]) -> None:
    if p.req is None:
        return
    tree = parser._tree(2, p.req.tree_id)
    path = tree.path if tree else None
    if p.status != STATUS_SUCCESS or _u16(p.pdu, 64) != 89:
        f = _File(p.req.ts, 2, p.req.name, path, None, None, status_name(p.status))
        parser._file_record(f, p.ts, False, ev)
        return
    action = SMB2_CREATE_ACTIONS.get(_u32(p.pdu, 68))
    size = _u64(p.pdu, 112)
    fid = _take(p.pdu, 128, 16)
    if len(parser.create_fids) >= MAX_CREATE_IDS:
        del parser.create_fids[next(iter(parser.create_fids))]
    parser.create_fids[p.msg_id] = fid
    parser._open(fid, _File(p.req.ts, 2, p.req.name, path, action, size, status_name(p.status)), p.ts, ev)


def _file_ref(parser: SmbParser, pdu: bytes, at: int) -> bytes | int | None:
    fid = _take(pdu, at, 16)
    if fid == RELATED_FILE_ID:
        return parser.last_create
    return fid


def _s2_read_req(parser: SmbParser, p: _Pdu, ev: list[object]) -> None:
    parser._remember((2, p.msg_id), _Request(p.ts, "READ", p.tree_id, file_ref=_file_ref(parser, p.pdu, 80)))


def _s2_read_resp(parser: SmbParser, p: _Pdu, ev: list[object]) -> None:
    if p.status == STATUS_SUCCESS and _u16(p.pdu, 64) == 17:
        parser._moved(p.req.file_ref if p.req else None, _u32(p.pdu, 68), 0)


def _s2_write_req(parser: SmbParser, p: _Pdu, ev: list[object]) -> None:
    parser._remember((2, p.msg_id), _Request(p.ts, "WRITE", p.tree_id, file_ref=_file_ref(parser, p.pdu, 80)))


def _s2_write_resp(parser: SmbParser, p: _Pdu, ev: list[object]) -> None:
    if p.status == STATUS_SUCCESS and _u16(p.pdu, 64) == 17:
        parser._moved(p.req.file_ref if p.req else None, 0, _u32(p.pdu, 68))


def _s2_close_req(parser: SmbParser, p: _Pdu, ev: list[object]) -> None:
    parser._remember((2, p.msg_id), _Request(p.ts, "CLOSE", p.tree_id, file_ref=_file_ref(parser, p.pdu, 72)))


def _s2_close_resp(parser: SmbParser, p: _Pdu, ev: list[object]) -> None:
    fid = parser._resolve(p.req.file_ref) if p.req else None
    if p.status == STATUS_SUCCESS and fid is not None and fid in parser.files:
        parser._file_record(parser.files.pop(fid), p.ts, True, ev)


def _s2_ioctl_req(parser: SmbParser, p: _Pdu, ev: list[object]) -> None:
    if _u32(p.pdu, 68) in PIPE_FSCTLS:
        parser._mark_pipe(2, p.tree_id)
    parser._remember((2, p.msg_id), _Request(p.ts, "IOCTL", p.tree_id))


_SMB2_HANDLERS = {
    ("NEGOTIATE", False): _s2_negotiate_req,
    ("NEGOTIATE", True): _s2_negotiate_resp,
    ("SESSION_SETUP", False): _s2_session_setup_req,
    ("SESSION_SETUP", True): _s2_session_setup_resp,
    ("TREE_CONNECT", False): _s2_tree_connect_req,
    ("TREE_CONNECT", True): _s2_tree_connect_resp,
    ("TREE_DISCONNECT", True): _s2_tree_disconnect_resp,
    ("CREATE", False): _s2_create_req,
    ("CREATE", True): _s2_create_resp,
    ("READ", False): _s2_read_req,
    ("READ", True): _s2_read_resp,
    ("WRITE", False): _s2_write_req,
    ("WRITE", True): _s2_write_resp,
    ("CLOSE", False): _s2_close_req,
    ("CLOSE", True): _s2_close_resp,
    ("IOCTL", False): _s2_ioctl_req,
}
"""(SMB2 command, is response) -> what it tells. Requests not listed are remembered with their tree."""
