"""SmbParser: one connection's (or datagram's) SMB messages and PDUs, and the state that pairs requests
with responses; the command handlers live in smb1.py and smb2.py."""

from __future__ import annotations

from analyzer.dissectors.smb.constants import (
    FILE,
    MAX_ANDX_CHAIN,
    MAX_OPEN_FILES,
    MAX_PENDING,
    MAX_SESSION_TREES,
    MAX_TREES,
    MESSAGING,
    NTLMSSP_AUTHENTICATE,
    SMB1_ANDX_COMMANDS,
    SMB1_FLAGS2_NT_STATUS,
    SMB1_FLAGS2_UNICODE,
    SMB1_FLAGS_REPLY,
    SMB1_FUNCTIONS,
    SMB1_HEADER_LEN,
    SMB1_NO_COMMAND,
    SMB2_FLAGS_ASYNC,
    SMB2_FLAGS_RESPONSE,
    SMB2_FLAGS_SIGNED,
    SMB2_FUNCTIONS,
    SMB2_HEADER_LEN,
    STATUS_PENDING,
    STATUS_SUCCESS,
    smb1_command_name,
    smb2_command_name,
    status_name,
)
from analyzer.dissectors.smb.events import (
    SmbCommand,
    SmbFileRecord,
    SmbSessionRecord,
    SmbTransform,
    SmbTreeRecord,
    SmbWeird,
)
from analyzer.dissectors.smb.ntlmssp import NtlmAuth, _auth_mechanism, parse_ntlmssp
from analyzer.dissectors.smb.smb1 import _SMB1_HANDLERS
from analyzer.dissectors.smb.smb2 import _SMB2_HANDLERS
from analyzer.dissectors.smb.state import _File, _Pdu, _Request, _Session, _smb1_block, _Smb1Context, _Tree
from analyzer.dissectors.smb.wire import _nb_names, _Short, _u16, _u32, _u64


class SmbParser:
    """Parses whole SMB messages and PDUs for one connection (or one datagram) and keeps the state that
    pairs requests with responses. Used by SmbDissector (TCP) and by `parse_datagram` (UDP 138)."""

    def __init__(self, uid: str, endpoints: tuple[str, int, str, int], transport: str) -> None:
        self.uid = uid
        self.endpoints = endpoints
        self.transport = transport
        self.pending: dict[tuple[int, int], _Request] = {}
        self.trees: dict[tuple[int, int], _Tree] = {}
        self.files: dict[bytes, _File] = {}
        self.create_fids: dict[int, bytes] = {}
        self.smb1_offered: tuple[str, ...] = ()
        self.session = _Session()
        self.last_create: int | None = None
        """Message id of the last SMB2 CREATE request (related compound operations refer to it)."""

    # -- shared bookkeeping --

    def _weird(self, ts: float, reason: str, detail: str, events: list[object]) -> None:
        events.append(SmbWeird(ts, self.uid, reason, detail))

    def _remember(self, key: tuple[int, int], req: _Request) -> None:
        if key not in self.pending and len(self.pending) >= MAX_PENDING:
            del self.pending[next(iter(self.pending))]
        self.pending[key] = req

    def _tree(self, version: int, tree_id: int | None) -> _Tree | None:
        return None if tree_id is None else self.trees.get((version, tree_id))

    def _set_tree(self, version: int, tree_id: int, tree: _Tree) -> None:
        key = (version, tree_id)
        if key not in self.trees and len(self.trees) >= MAX_TREES:
            del self.trees[next(iter(self.trees))]
        self.trees[key] = tree

    def _function(self, base: str, version: int, tree_id: int | None) -> str:
        if base == FILE:
            tree = self._tree(version, tree_id)
            if tree is not None and tree.share_type == "PIPE":
                return MESSAGING
        return base

    def _mark_pipe(self, version: int, tree_id: int | None) -> None:
        if tree_id is not None and self._tree(version, tree_id) is None:
            self._set_tree(version, tree_id, _Tree(None, "PIPE"))

    def _open(self, fid: bytes, f: _File, ts: float, events: list[object]) -> None:
        self.session.files_opened += 1
        if fid in self.files:
            self._file_record(self.files.pop(fid), ts, False, events)
        elif len(self.files) >= MAX_OPEN_FILES:
            old = next(iter(self.files))
            self._file_record(self.files.pop(old), ts, False, events)
        self.files[fid] = f

    def _file_record(self, f: _File, ts: float, closed: bool, events: list[object]) -> None:
        orig_h, orig_p, resp_h, resp_p = self.endpoints
        events.append(
            SmbFileRecord(
                ts=f.ts,
                uid=self.uid,
                orig_h=orig_h,
                orig_p=orig_p,
                resp_h=resp_h,
                resp_p=resp_p,
                version=f.version,
                name=f.name,
                path=f.path,
                action=f.action,
                size=f.size,
                status=f.status,
                bytes_read=f.bytes_read,
                bytes_written=f.bytes_written,
                closed=closed,
            )
        )

    def _tree_record(
        self, req: _Request, tree: _Tree, service: str | None, status: str | None
    ) -> SmbTreeRecord:
        orig_h, orig_p, resp_h, resp_p = self.endpoints
        if tree.path and len(self.session.trees) < MAX_SESSION_TREES and tree.path not in self.session.trees:
            self.session.trees.append(tree.path)
        return SmbTreeRecord(
            req.ts, self.uid, orig_h, orig_p, resp_h, resp_p, tree.path, tree.share_type, service, status
        )

    def _resolve(self, ref: bytes | int | None) -> bytes | None:
        if isinstance(ref, int):
            return self.create_fids.get(ref)
        return ref

    def _moved(self, ref: bytes | int | None, read: int, written: int) -> None:
        self.session.bytes_read += read
        self.session.bytes_written += written
        fid = self._resolve(ref)
        f = self.files.get(fid) if fid is not None else None
        if f is not None:
            f.bytes_read += read
            f.bytes_written += written

    def _authenticated(self, ntlm: NtlmAuth | None, status: int, is_ok: bool) -> None:
        authenticate = ntlm is not None and ntlm.message_type == NTLMSSP_AUTHENTICATE
        if authenticate or (is_ok and self.session.auth_status is None and self.session.auth is not None):
            self.session.auth_status = status_name(status)

    def _saw_blob(self, blob: bytes) -> NtlmAuth | None:
        mech = _auth_mechanism(blob)
        if mech is not None:
            self.session.auth = mech
        ntlm = parse_ntlmssp(blob)
        if ntlm is not None and ntlm.message_type == NTLMSSP_AUTHENTICATE:
            self.session.user, self.session.domain, self.session.host = ntlm.user, ntlm.domain, ntlm.host
        return ntlm

    def close_files(self, ts: float) -> list[object]:
        events: list[object] = []
        for f in self.files.values():
            self._file_record(f, ts, False, events)
        self.files.clear()
        return events

    def session_record(self, ts: float) -> SmbSessionRecord | None:
        s = self.session
        if s.first_ts is None:
            return None
        orig_h, orig_p, resp_h, resp_p = self.endpoints
        return SmbSessionRecord(
            ts=s.first_ts,
            uid=self.uid,
            orig_h=orig_h,
            orig_p=orig_p,
            resp_h=resp_h,
            resp_p=resp_p,
            versions=tuple(sorted(s.versions)),
            dialect=s.dialect,
            auth=s.auth,
            user=s.user,
            domain=s.domain,
            host=s.host,
            auth_status=s.auth_status,
            called_name=s.called_name,
            calling_name=s.calling_name,
            trees=tuple(s.trees),
            files_opened=s.files_opened,
            bytes_read=s.bytes_read,
            bytes_written=s.bytes_written,
            requests=s.requests,
            encrypted=s.encrypted,
            signed=s.signed,
        )

    # -- entry points for whole units --

    def transform(self, kind: str, is_response: bool, size: int, ts: float, events: list[object]) -> None:
        if self.session.first_ts is None:
            self.session.first_ts = ts
        if kind == "encrypted":
            self.session.encrypted += 1
        events.append(SmbTransform(ts, self.uid, kind, is_response, size))

    def nbss_session_request(self, body: bytes) -> None:
        names = _nb_names(body, 2)
        if names:
            self.session.called_name = names[0]
        if len(names) > 1:
            self.session.calling_name = names[1]

    def smb2(self, pdu: bytes, ts: float, events: list[object]) -> None:
        """One SMB2 PDU (header + body, possibly cut to MAX_KEPT or by a gap)."""
        if len(pdu) < SMB2_HEADER_LEN:
            self._weird(ts, "smb2.short_header", f"{len(pdu)} bytes", events)
            return
        if self.session.first_ts is None:
            self.session.first_ts = ts
        self.session.versions.add("SMB2")
        status = _u32(pdu, 8)
        command = _u16(pdu, 12)
        flags = _u32(pdu, 16)
        msg_id = _u64(pdu, 24)
        tree_id = None if flags & SMB2_FLAGS_ASYNC else _u32(pdu, 36)
        is_response = bool(flags & SMB2_FLAGS_RESPONSE)
        if flags & SMB2_FLAGS_SIGNED:
            self.session.signed = True
        name = smb2_command_name(command)
        req = None
        if is_response:
            req = self.pending.get((2, msg_id))
            if req is not None and tree_id is None:
                tree_id = req.tree_id
            if req is not None and not (status == STATUS_PENDING and flags & SMB2_FLAGS_ASYNC):
                del self.pending[(2, msg_id)]
        else:
            self.session.requests += 1
        handler = _SMB2_HANDLERS.get((name, is_response))
        if handler is not None:
            try:
                handler(self, _Pdu(pdu, status, msg_id, tree_id, req, ts), events)
            except _Short as exc:
                self._weird(ts, f"smb2.{name.lower()}_short", f"field at offset {exc.args[0]}", events)
        function = self._function(SMB2_FUNCTIONS.get(name, FILE), 2, tree_id)
        events.append(
            SmbCommand(
                ts=ts,
                uid=self.uid,
                version=2,
                command=name,
                is_response=is_response,
                status=status_name(status) if is_response else None,
                function=function,
                chained=(),
                transport=self.transport,
            )
        )

    def smb1(self, msg: bytes, ts: float, events: list[object]) -> None:
        """One SMB1 message (possibly cut to MAX_KEPT)."""
        if len(msg) < SMB1_HEADER_LEN + 1:
            self._weird(ts, "smb1.short_header", f"{len(msg)} bytes", events)
            return
        if self.session.first_ts is None:
            self.session.first_ts = ts
        self.session.versions.add("SMB1")
        cmd = msg[4]
        flags = msg[9]
        flags2 = _u16(msg, 10)
        is_response = bool(flags & SMB1_FLAGS_REPLY)
        if flags2 & SMB1_FLAGS2_NT_STATUS:
            status_text = status_name(_u32(msg, 5))
            ok = _u32(msg, 5) == STATUS_SUCCESS
        else:
            err_class, err_code = msg[5], _u16(msg, 7)
            ok = err_class == 0
            status_text = "STATUS_SUCCESS" if ok else f"DOS 0x{err_class:02X}/0x{err_code:04X}"
        tid, mid = _u16(msg, 24), _u16(msg, 30)
        unicode = bool(flags2 & SMB1_FLAGS2_UNICODE)
        name = smb1_command_name(cmd)
        key = (1, mid)
        req = None
        if is_response:
            req = self.pending.pop(key, None)
        else:
            self.session.requests += 1
        chain: list[str] = []
        ctx = _Smb1Context(msg, unicode, tid, ok, _u32(msg, 5), status_text, req, ts)
        offset, command, steps = SMB1_HEADER_LEN, cmd, 0
        while True:
            block = _smb1_block(msg, offset)
            if block is None:
                self._weird(ts, "smb1.bad_block", f"{smb1_command_name(command)} at offset {offset}", events)
                break
            words, ctx.data, ctx.data_at = block
            ctx.words, ctx.command = words, command
            handler = _SMB1_HANDLERS.get((command, is_response))
            if handler is not None:
                try:
                    handler(self, ctx, events)
                except _Short as exc:
                    self._weird(
                        ts, "smb1.short_field", f"{smb1_command_name(command)} at {exc.args[0]}", events
                    )
            if command not in SMB1_ANDX_COMMANDS or len(words) < 4:
                break
            nxt, nxt_off = words[0], _u16(words, 2)
            if nxt == SMB1_NO_COMMAND:
                break
            steps += 1
            if steps >= MAX_ANDX_CHAIN or nxt_off <= offset or nxt_off >= len(msg):
                if not (is_response and nxt_off == 0):  # some servers leave the offset 0 in errors
                    self._weird(ts, "smb1.bad_andx", f"offset {nxt_off} after {offset}", events)
                break
            chain.append(smb1_command_name(nxt))
            offset, command = nxt_off, nxt
        if not is_response:
            self._remember(key, ctx.new_request or _Request(ts, name, tid))
        function = self._function(SMB1_FUNCTIONS.get(name, FILE), 1, tid)
        events.append(
            SmbCommand(
                ts=ts,
                uid=self.uid,
                version=1,
                command=name,
                is_response=is_response,
                status=status_text if is_response else None,
                function=function,
                chained=tuple(chain),
                transport=self.transport,
            )
        )
