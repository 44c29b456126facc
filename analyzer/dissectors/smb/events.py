"""SMB events and records: what the SMB dissector reports (re-exported by the package)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SmbCommand:
    """One SMB1 message or one SMB2 PDU (each header of a compound)."""

    ts: float
    """Time of the segment that completed it."""
    uid: str
    """Connection uid."""
    version: int
    """1 (0xFF 'SMB') or 2 (0xFE 'SMB', SMB 2.x and 3.x)."""
    command: str
    """Command name (SMB1: of the header; AndX-chained ones are in `chained`)."""
    is_response: bool
    """Sent by the server."""
    status: str | None
    """Status of a response (NTSTATUS name, hex, or SMB1 DOS class/code); None for requests."""
    function: str
    """session, file or messaging."""
    chained: tuple[str, ...]
    """SMB1 AndX commands chained after the first one."""
    transport: str
    """tcp/445, tcp/139 or udp/138 (lower port of the flow)."""


@dataclass(frozen=True, slots=True)
class SmbDialects:
    """A NEGOTIATE: dialects offered (request) or chosen (response)."""

    ts: float
    """Time of the message."""
    uid: str
    """Connection uid."""
    version: int
    """SMB version of the message carrying them (an SMB1 NEGOTIATE may get an SMB2 answer)."""
    offered: tuple[str, ...]
    """Dialects in a request, in order."""
    chosen: str | None
    """Dialect of a response (None for requests, or an answer choosing none)."""


@dataclass(frozen=True, slots=True)
class SmbTransform:
    """An SMB3 transform message: encrypted (0xFD) or compressed (0xFC); its content is not seen."""

    ts: float
    """Time of the message."""
    uid: str
    """Connection uid."""
    kind: str
    """encrypted or compressed."""
    is_response: bool
    """Sent by the server."""
    size: int
    """Message length."""


@dataclass(frozen=True, slots=True)
class SmbWeird:
    """One message whose contents break the protocol; parsing went on."""

    @staticmethod
    def log_path() -> str:
        """Log (`_path`) of this event in `events`."""
        return "weird"

    @staticmethod
    def log_renames() -> tuple[tuple[str, str], ...]:
        """Fields renamed to the names weird.log uses."""
        return (("reason", "name"), ("detail", "addl"))

    ts: float
    """Time of the message."""
    uid: str
    """Connection uid."""
    reason: str
    """Short stable key, e.g. smb2.bad_next_command."""
    detail: str
    """Free-form detail."""


@dataclass(frozen=True, slots=True)
class SmbTreeRecord:
    """A tree connect (Zeek's smb_mapping.log)."""

    ts: float
    """Time of the request."""
    uid: str
    """Connection uid."""
    orig_h: str
    """Client address."""
    orig_p: int
    """Client port."""
    resp_h: str
    """Server address."""
    resp_p: int
    """Server port."""
    path: str | None
    """Share path, e.g. \\\\server\\IPC$."""
    share_type: str | None
    """DISK, PIPE, PRINT or COMM (from the response)."""
    service: str | None
    """SMB1 service string of the response (A:, IPC, ...)."""
    status: str | None
    """Response status (None if unanswered)."""


@dataclass(frozen=True, slots=True)
class SmbFileRecord:
    """A file opened (or an open that failed), summed up at its close (Zeek's smb_files.log)."""

    ts: float
    """Time of the open request."""
    uid: str
    """Connection uid."""
    orig_h: str
    """Client address."""
    orig_p: int
    """Client port."""
    resp_h: str
    """Server address."""
    resp_p: int
    """Server port."""
    version: int
    """1 or 2."""
    name: str | None
    """File name as sent in the open."""
    path: str | None
    """Share path of its tree, when known."""
    action: str | None
    """SMB2 create action (OPENED, CREATED, ...) or SMB1 equivalent."""
    size: int | None
    """End of file reported by the open response."""
    status: str | None
    """Open response status."""
    bytes_read: int
    """Bytes returned by READ responses on it."""
    bytes_written: int
    """Bytes acknowledged by WRITE responses on it."""
    closed: bool
    """A CLOSE response was seen (False: still open at the end of the connection or capture)."""


@dataclass(frozen=True, slots=True)
class SmbSessionRecord:
    """An SMB connection summed up when it ends."""

    ts: float
    """Time of its first message."""
    uid: str
    """Connection uid."""
    orig_h: str
    """Client address."""
    orig_p: int
    """Client port."""
    resp_h: str
    """Server address."""
    resp_p: int
    """Server port."""
    versions: tuple[str, ...]
    """SMB1 and/or SMB2 seen."""
    dialect: str | None
    """Last dialect chosen by the server (not the SMB2 wildcard when a real one followed)."""
    auth: str | None
    """Authentication seen: ntlmssp, kerberos, plain (SMB1 clear names) or None."""
    user: str | None
    """NTLMSSP (or SMB1) user name of the last authentication."""
    domain: str | None
    """Its domain."""
    host: str | None
    """Its workstation name."""
    auth_status: str | None
    """Status of the session setup response that answered it."""
    called_name: str | None
    """NetBIOS name called in a session request (port 139)."""
    calling_name: str | None
    """NetBIOS name of the caller (port 139)."""
    trees: tuple[str, ...]
    """Share paths connected (at most MAX_SESSION_TREES)."""
    files_opened: int
    """Successful opens."""
    bytes_read: int
    """Bytes returned by READ responses."""
    bytes_written: int
    """Bytes acknowledged by WRITE responses."""
    requests: int
    """Requests seen (SMB1 messages and SMB2 PDUs)."""
    encrypted: int
    """Transform (encrypted) messages."""
    signed: bool
    """An SMB2 PDU carried the signed flag."""
