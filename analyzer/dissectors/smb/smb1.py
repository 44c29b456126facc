"""SMB1 command handlers (MS-CIFS 2.2.4): what each request and response tells the parser's state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from analyzer.dissectors.smb.constants import (
    MAX_DIALECTS,
    NTLMSSP_AUTHENTICATE,
    SMB1_SERVICES,
    SMB2_CREATE_ACTIONS,
    smb1_command_name,
)
from analyzer.dissectors.smb.events import SmbDialects
from analyzer.dissectors.smb.ntlmssp import NtlmAuth
from analyzer.dissectors.smb.state import _File, _Request, _Smb1Context, _Tree
from analyzer.dissectors.smb.wire import _cstring, _oem, _take, _u16, _u32, _u64, _utf16

if TYPE_CHECKING:
    from analyzer.dissectors.smb.parser import SmbParser


def _s1_negotiate_req(parser: SmbParser, c: _Smb1Context, ev: list[object]) -> None:
    offered: list[str] = []
    pos = 0
    while pos < len(c.data) and len(offered) < MAX_DIALECTS:
        if c.data[pos] != 0x02:  # BufferFormat "dialect"
            break
        text, pos = _cstring(c.data, pos + 1, False)
        offered.append(text)
    parser.smb1_offered = tuple(offered)
    ev.append(SmbDialects(c.ts, parser.uid, 1, parser.smb1_offered, None))


def _s1_negotiate_resp(parser: SmbParser, c: _Smb1Context, ev: list[object]) -> None:
    if len(c.words) < 2:
        return
    index = _u16(c.words, 0)
    chosen = parser.smb1_offered[index] if index < len(parser.smb1_offered) else None
    if chosen is not None:
        parser.session.dialect = chosen
    ev.append(SmbDialects(c.ts, parser.uid, 1, (), chosen))


def _s1_session_setup_req(parser: SmbParser, c: _Smb1Context, ev: list[object]) -> None:
    ntlm = None
    if len(c.words) == 24:  # extended security: a security blob
        ntlm = parser._saw_blob(_take(c.data, 0, _u16(c.words, 14)))
    elif len(c.words) in (20, 26):  # LANMAN (10 words) / NT LM 0.12 (13 words): names in clear
        oem_len = _u16(c.words, 14)
        uni_len = _u16(c.words, 16) if len(c.words) == 26 else 0
        pos = oem_len + uni_len
        if c.unicode and (c.data_at + pos) % 2:
            pos += 1
        user, pos = _cstring(c.data, pos, c.unicode)
        domain, _ = _cstring(c.data, pos, c.unicode)
        parser.session.auth, parser.session.user, parser.session.domain = "plain", user, domain
        ntlm = NtlmAuth(NTLMSSP_AUTHENTICATE, user, domain, None)
    c.new_request = _Request(c.ts, "SESSION_SETUP_ANDX", c.tid, ntlm=ntlm)


def _s1_session_setup_resp(parser: SmbParser, c: _Smb1Context, ev: list[object]) -> None:
    parser._authenticated(c.req.ntlm if c.req else None, c.status, c.ok)


def _s1_tree_connect_req(parser: SmbParser, c: _Smb1Context, ev: list[object]) -> None:
    pos = _u16(c.words, 6)  # password length
    if c.unicode and (c.data_at + pos) % 2:
        pos += 1
    path, _ = _cstring(c.data, pos, c.unicode)
    c.new_request = _Request(c.ts, "TREE_CONNECT_ANDX", c.tid, name=path)


def _s1_tree_connect_resp(parser: SmbParser, c: _Smb1Context, ev: list[object]) -> None:
    req = c.req
    if req is None:
        return
    service = _cstring(c.data, 0, False)[0] if c.ok and c.data else None
    tree = _Tree(req.name, SMB1_SERVICES.get(service or ""))
    if c.ok:
        parser._set_tree(1, c.tid, tree)
    ev.append(parser._tree_record(req, tree, service, c.status_text))


def _s1_tree_disconnect_resp(parser: SmbParser, c: _Smb1Context, ev: list[object]) -> None:
    if c.ok:
        parser.trees.pop((1, c.tid), None)


def _s1_nt_create_req(parser: SmbParser, c: _Smb1Context, ev: list[object]) -> None:
    length = _u16(c.words, 5)
    pos = 1 if c.unicode and c.data_at % 2 else 0
    raw = c.data[pos : pos + length]
    name = _utf16(raw).rstrip("\x00") if c.unicode else _oem(raw).rstrip("\x00")
    c.new_request = _Request(c.ts, "NT_CREATE_ANDX", c.tid, name=name)


def _s1_open_andx_req(parser: SmbParser, c: _Smb1Context, ev: list[object]) -> None:
    pos = 1 if c.unicode and c.data_at % 2 else 0
    name, _ = _cstring(c.data, pos, c.unicode)
    c.new_request = _Request(c.ts, "OPEN_ANDX", c.tid, name=name)


def _s1_open_resp(parser: SmbParser, c: _Smb1Context, ev: list[object]) -> None:
    req = c.req
    if req is None:
        return
    tree = parser._tree(1, req.tree_id)
    path = tree.path if tree else None
    if not c.ok or len(c.words) < 7:
        parser._file_record(_File(req.ts, 1, req.name, path, None, None, c.status_text), c.ts, False, ev)
        return
    if req.command == "NT_CREATE_ANDX":
        fid = _take(c.words, 5, 2)
        action = SMB2_CREATE_ACTIONS.get(_u32(c.words, 7))
        size = _u64(c.words, 55) if len(c.words) >= 63 else None
    else:
        fid = _take(c.words, 4, 2)
        action, size = "OPENED", _u32(c.words, 12) if len(c.words) >= 16 else None
    parser._open(b"\x01" + fid, _File(req.ts, 1, req.name, path, action, size, c.status_text), c.ts, ev)


def _s1_fid_req(parser: SmbParser, c: _Smb1Context, ev: list[object]) -> None:
    """READ_ANDX / WRITE_ANDX (fid after the AndX block) and CLOSE / READ / WRITE (fid first)."""
    at = 4 if c.command in (0x2E, 0x2F) else 0
    fid = b"\x01" + _take(c.words, at, 2)
    c.new_request = _Request(c.ts, smb1_command_name(c.command), c.tid, file_ref=fid)


def _s1_read_andx_resp(parser: SmbParser, c: _Smb1Context, ev: list[object]) -> None:
    if c.ok and len(c.words) >= 12:
        high = _u16(c.words, 14) if len(c.words) >= 16 else 0
        parser._moved(c.req.file_ref if c.req else None, (high << 16) | _u16(c.words, 10), 0)


def _s1_write_andx_resp(parser: SmbParser, c: _Smb1Context, ev: list[object]) -> None:
    if c.ok and len(c.words) >= 6:
        high = _u16(c.words, 8) if len(c.words) >= 10 else 0
        parser._moved(c.req.file_ref if c.req else None, 0, (high << 16) | _u16(c.words, 4))


def _s1_read_resp(parser: SmbParser, c: _Smb1Context, ev: list[object]) -> None:
    if c.ok and len(c.words) >= 2:
        parser._moved(c.req.file_ref if c.req else None, _u16(c.words, 0), 0)


def _s1_write_resp(parser: SmbParser, c: _Smb1Context, ev: list[object]) -> None:
    if c.ok and len(c.words) >= 2:
        parser._moved(c.req.file_ref if c.req else None, 0, _u16(c.words, 0))


def _s1_close_resp(parser: SmbParser, c: _Smb1Context, ev: list[object]) -> None:
    fid = parser._resolve(c.req.file_ref) if c.req else None
    if c.ok and fid is not None and fid in parser.files:
        parser._file_record(parser.files.pop(fid), c.ts, True, ev)


def _s1_transaction_req(parser: SmbParser, c: _Smb1Context, ev: list[object]) -> None:
    pos = 1 if c.unicode and c.data_at % 2 else 0
    name, _ = _cstring(c.data, pos, c.unicode)
    if name.upper().startswith("\\PIPE\\"):
        parser._mark_pipe(1, c.tid)


_SMB1_HANDLERS = {
    (0x72, False): _s1_negotiate_req,
    (0x72, True): _s1_negotiate_resp,
    (0x73, False): _s1_session_setup_req,
    (0x73, True): _s1_session_setup_resp,
    (0x75, False): _s1_tree_connect_req,
    (0x75, True): _s1_tree_connect_resp,
    (0x71, True): _s1_tree_disconnect_resp,
    (0xA2, False): _s1_nt_create_req,
    (0xA2, True): _s1_open_resp,
    (0x2D, False): _s1_open_andx_req,
    (0x2D, True): _s1_open_resp,
    (0x2E, False): _s1_fid_req,
    (0x2E, True): _s1_read_andx_resp,
    (0x2F, False): _s1_fid_req,
    (0x2F, True): _s1_write_andx_resp,
    (0x0A, False): _s1_fid_req,
    (0x0A, True): _s1_read_resp,
    (0x0B, False): _s1_fid_req,
    (0x0B, True): _s1_write_resp,
    (0x04, False): _s1_fid_req,
    (0x04, True): _s1_close_resp,
    (0x25, False): _s1_transaction_req,
}
"""(SMB1 command code, is response) -> what it tells."""
